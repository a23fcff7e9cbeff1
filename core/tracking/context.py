"""What start_run captures about where it runs: user, source, git, Python, platform, packages."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from runyard.entities import (
    COMMAND,
    EXPERIMENT_SOURCE_TYPE,
    GIT_BRANCH,
    GIT_COMMIT,
    GIT_DIRTY,
    GIT_REPO_URL,
    HEARTBEAT_FROM_WRITES,
    HEARTBEAT_SOURCE,
    NOTE,
    PARENT_RUN_ID,
    PLATFORM,
    PYTHON_VERSION,
    RUN_NAME,
    SOURCE_NAME,
    SOURCE_TYPE,
    TAG_PREFIX,
    USER,
    SourceType,
)

# The system tag names live in entities; callers that capture context find them here too.
__all__ = [
    "HEARTBEAT_FROM_WRITES",
    "HEARTBEAT_SOURCE",
    "TAG_PREFIX",
    "PARENT_RUN_ID",
    "NOTE",
    "USER",
    "SOURCE_NAME",
    "SOURCE_TYPE",
    "GIT_COMMIT",
    "GIT_BRANCH",
    "GIT_REPO_URL",
    "GIT_DIRTY",
    "PYTHON_VERSION",
    "PLATFORM",
    "COMMAND",
    "RUN_NAME",
    "EXPERIMENT_SOURCE_TYPE",
]

REQUIREMENTS_ARTIFACT = "environment/requirements.txt"


@dataclass
class RunContext:
    """Everything captured about a run's launch."""

    user: str
    source_type: str
    source_name: str
    entry_point: str | None
    git_commit: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


def current_user() -> str:
    """The login name of the process owner."""
    import getpass  # the process-context modules load at start_run, not at `import runyard`

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return os.environ.get("USER") or "unknown"


def notebook_name() -> str | None:
    """The running notebook's path or name, when inside Jupyter/IPython kernel; else None."""
    if "ipykernel" not in sys.modules:
        return None
    for variable in ("JPY_SESSION_NAME", "VSCODE_NOTEBOOK_NAME"):
        value = os.environ.get(variable)
        if value:
            return value
    return "notebook"


def script_path() -> str | None:
    """Absolute path of the launching script, or None in an interactive interpreter."""
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    # `python - < file` sets __file__ to "<stdin>": that is an interactive-style launch, not a script.
    if main_file and not str(main_file).startswith("<") and not sys.flags.interactive:
        return str(Path(main_file).absolute())
    return None


def default_experiment_name() -> tuple[str, str | None]:
    """Experiment for runs with none set: the script's or notebook's path, else 'Default'."""
    notebook = notebook_name()
    if notebook:
        return notebook, SourceType.NOTEBOOK
    script = script_path()
    if script:
        return script, SourceType.SCRIPT
    return "Default", None


def _git_dir(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():  # worktree or submodule: "gitdir: <path>"
            text = candidate.read_text(errors="replace").strip()
            if text.startswith("gitdir:"):
                return (directory / text.split(":", 1)[1].strip()).resolve()
    return None


def git_info(path: Path) -> dict[str, str]:
    """Commit, branch, remote URL and dirty flag of the repository holding path (empty if none)."""
    import subprocess

    git_dir = _git_dir(path if path.is_dir() else path.parent)
    if git_dir is None:
        return {}
    work_tree = git_dir.parent
    info: dict[str, str] = {}
    try:
        result = subprocess.run(
            ["git", "-C", str(work_tree), "rev-parse", "HEAD", "--abbrev-ref", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        lines = result.stdout.split()
        if result.returncode == 0 and len(lines) >= 2:
            info[GIT_COMMIT] = lines[0]
            if lines[1] != "HEAD":
                info[GIT_BRANCH] = lines[1]
        remote = subprocess.run(
            ["git", "-C", str(work_tree), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        if remote.returncode == 0 and remote.stdout.strip():
            from runyard.redact import mask_secrets

            info[GIT_REPO_URL] = mask_secrets(remote.stdout.strip())  # https://TOKEN@host/... is common
        if GIT_COMMIT in info:
            status = subprocess.run(
                ["git", "-C", str(work_tree), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=10,
            )
            if status.returncode == 0:
                info[GIT_DIRTY] = "true" if status.stdout.strip() else "false"
    except (OSError, subprocess.SubprocessError):
        return info
    return info


def capture_context() -> RunContext:
    """Capture user, source, git and environment of the current process."""
    import platform

    user = current_user()
    notebook = notebook_name()
    script = script_path()
    if notebook:
        source_type, source_name, entry_point = SourceType.NOTEBOOK, notebook, None
    elif script:
        source_type, source_name = SourceType.SCRIPT, script
        entry_point = Path(script).name
    else:
        source_type, source_name, entry_point = SourceType.LOCAL, "<interactive>", None
    tags = {
        USER: user,
        SOURCE_NAME: source_name,
        SOURCE_TYPE: source_type,
        PYTHON_VERSION: platform.python_version(),
        PLATFORM: platform.platform(),
        COMMAND: _fit_tag(_masked(command_line())),
    }
    git = git_info(Path(script)) if script else git_info(Path.cwd())
    tags.update(git)
    return RunContext(user, source_type, source_name, entry_point, git.get(GIT_COMMIT), tags)


def command_line() -> str:
    """The interpreter and argv of this process as one shell-quoted line (credentials not yet masked)."""
    import shlex

    return shlex.join([sys.executable, *sys.argv]) if sys.argv and sys.argv[0] else sys.executable


def _fit_tag(text: str) -> str:
    """Shorten a captured value to the tag limit (a long command line must not make start_run fail)."""
    from runyard.validation import MAX_TAG_VALUE_LENGTH

    if len(text) <= MAX_TAG_VALUE_LENGTH:
        return text
    return text[: MAX_TAG_VALUE_LENGTH - 3] + "..."


def installed_requirements() -> str:
    """`name==version` of every installed distribution, sorted, from importlib.metadata (no pip call)."""
    from importlib import metadata

    seen: dict[str, str] = {}
    for distribution in metadata.distributions():
        # Read Name and Version from the header lines ourselves: `distribution.metadata` runs the
        # email parser over the whole file (twice with .version), ~0.2-1 s for 350 packages.
        text = distribution.read_text("METADATA") or distribution.read_text("PKG-INFO") or ""
        name = version = None
        for line in text.splitlines():
            if not line.strip():
                break  # end of the headers
            if line.startswith("Name:"):
                name = line[5:].strip()
            elif line.startswith("Version:"):
                version = line[8:].strip()
            if name and version:
                break
        if name and name.lower() not in seen:
            seen[name.lower()] = f"{name}=={version}"
    return "\n".join(seen[key] for key in sorted(seen)) + "\n"


def _masked(text: str) -> str:
    from runyard.redact import mask_secrets

    return mask_secrets(text)
