"""How to reproduce a run: its captured environment as facts, and the exact shell commands to recreate it.

Pure functions of a Run entity (tags runyard.python.version, runyard.platform, runyard.command,
runyard.source.git.*) so the run-details screen and its tests share them; no store access here.
"""

from __future__ import annotations

import re
import shlex
from pathlib import PurePosixPath

from runyard import Run
from runyard.tracking.context import (
    COMMAND,
    GIT_BRANCH,
    GIT_COMMIT,
    GIT_DIRTY,
    GIT_REPO_URL,
    PLATFORM,
    PYTHON_VERSION,
    REQUIREMENTS_ARTIFACT,
)

VENV_DIR = ".venv-reproduce"


def is_dirty(run: Run) -> bool:
    """True when the run started from a git working tree with uncommitted changes."""
    return run.data.tags.get(GIT_DIRTY, "").lower() == "true"


def environment_facts(run: Run) -> list[tuple[str, str]]:
    """(label, value) pairs of what was captured at start ('' for unknown)."""
    tags = run.data.tags
    commit = tags.get(GIT_COMMIT) or run.info.source_version or ""
    return [
        ("Python", tags.get(PYTHON_VERSION, "")),
        ("Platform", tags.get(PLATFORM, "")),
        ("Command", tags.get(COMMAND, "")),
        ("Git commit", commit),
        ("Git branch", tags.get(GIT_BRANCH, "")),
        ("Repository", tags.get(GIT_REPO_URL, "")),
        ("Working tree", ("dirty (uncommitted changes)" if is_dirty(run) else "clean") if commit else ""),
    ]


def _python_executable(version: str) -> str:
    match = re.match(r"(\d+)\.(\d+)", version)
    return f"python{match.group(1)}.{match.group(2)}" if match else "python3"


def _command_in_venv(command: str) -> str:
    """The captured command with its interpreter replaced by the venv's `python`."""
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    if words and PurePosixPath(words[0]).name.startswith("python"):
        words[0] = "python"
    return shlex.join(words)


def _clone_directory(repo_url: str) -> str:
    name = repo_url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    name = name[:-4] if name.endswith(".git") else name
    return re.sub(r"[^\w.-]", "_", name) or "repository"


def reproduce_script(run: Run, experiment_name: str, requirements_path: str | None) -> str:
    """A bash script that recreates the run: checkout, venv, packages, command.

    requirements_path is the local path of the run's environment/requirements.txt artifact (None when
    the run has none).
    """
    tags = run.data.tags
    info = run.info
    commit = tags.get(GIT_COMMIT) or info.source_version
    repo_url = tags.get(GIT_REPO_URL)
    python_version = tags.get(PYTHON_VERSION, "")
    command = tags.get(COMMAND)
    q = shlex.quote
    lines = [
        "#!/usr/bin/env bash",
        f"# Reproduce run {info.run_name!r} ({info.run_id}) of experiment {experiment_name!r}.",
        "set -euo pipefail",
        "",
        "# 1. The code at the run's commit",
    ]
    if repo_url:
        directory = _clone_directory(repo_url)
        lines += [f"git clone {q(repo_url)} {q(directory)}", f"cd {q(directory)}"]
    else:
        lines.append("# No remote URL was recorded: run this inside your clone of the repository.")
    if commit:
        lines.append(f"git checkout {q(commit)}")
        if is_dirty(run):
            lines.append(
                "# WARNING: the working tree had uncommitted changes when the run started; "
                "they are not in this commit."
            )
    else:
        lines.append("# No git commit was recorded: the code version is unknown.")
    lines += [
        "",
        f"# 2. A fresh virtual environment with the run's Python ({python_version or 'version unknown'})",
        f"{_python_executable(python_version)} -m venv {VENV_DIR}",
        f". {VENV_DIR}/bin/activate",
        "",
        "# 3. The packages installed when the run started",
    ]
    if requirements_path:
        lines += [
            "mkdir -p environment",
            f"cp {q(requirements_path)} {REQUIREMENTS_ARTIFACT}",
            f"python -m pip install -r {REQUIREMENTS_ARTIFACT}",
        ]
    else:
        lines.append(f"# The run has no {REQUIREMENTS_ARTIFACT} artifact: install its dependencies by hand.")
    lines += ["", "# 4. The command that started the run"]
    lines.append(_command_in_venv(command) if command else "# No command line was recorded.")
    return "\n".join(lines) + "\n"


def script_filename(run_name: str) -> str:
    """reproduce-<run name>.sh with the name made safe for a file name."""
    safe = re.sub(r"[^\w.-]+", "-", run_name).strip("-.") or "run"
    return f"reproduce-{safe}.sh"
