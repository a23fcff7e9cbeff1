"""Environment capture at start_run: user, source, git, Python, platform, command line, packages."""

from __future__ import annotations

import getpass
import json
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from runyard import TrackingClient
from runyard.tracking import context as ctx

SCRIPT = textwrap.dedent(
    """
    import json, sys, runyard
    with runyard.start_run() as run:
        runyard.log_metric("m", 1.0)
    print(json.dumps({"run_id": run.info.run_id}))
    """
)


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env=dict(
            os.environ,
            GIT_AUTHOR_NAME="t",
            GIT_AUTHOR_EMAIL="t@example.com",
            GIT_COMMITTER_NAME="t",
            GIT_COMMITTER_EMAIL="t@example.com",
        ),
    )
    return result.stdout.strip()


def _run_script(script: Path, uri: str, *args: str, cwd: Path | None = None) -> str:
    env = dict(os.environ, RUNYARD_TRACKING_URI=uri, RUNYARD_ARTIFACT_ROOT=str(script.parent / "artifacts"))
    for variable in ("RUNYARD_EXPERIMENT_NAME", "RUNYARD_EXPERIMENT_ID"):
        env.pop(variable, None)
    result = subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        cwd=cwd or script.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout.strip().splitlines()[-1])["run_id"])


def test_capture_in_a_git_repository(sqlite_uri: str, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "feature-x")
    _git(repo, "remote", "add", "origin", "https://example.com/team/model.git")
    script = repo / "src" / "train.py"
    script.write_text(SCRIPT)
    (repo / "config.yaml").write_text("lr: 0.1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    commit = _git(repo, "rev-parse", "HEAD")

    clean_id = _run_script(script, sqlite_uri, "--epochs", "3", "a b", cwd=tmp_path)
    (repo / "config.yaml").write_text("lr: 0.2\n")  # a tracked file changed: dirty
    dirty_id = _run_script(script, sqlite_uri)

    client = TrackingClient(sqlite_uri)
    clean = client.get_run(clean_id)
    tags = clean.data.tags
    assert tags["runyard.user"] == getpass.getuser() == clean.info.user_id
    assert tags["runyard.source.name"] == str(script) == clean.info.source_name
    assert tags["runyard.source.type"] == "SCRIPT" == clean.info.source_type
    assert clean.info.entry_point == "train.py"
    assert tags["runyard.python.version"] == platform.python_version()
    assert tags["runyard.platform"] == platform.platform()
    assert tags["runyard.command"] == f"{sys.executable} {script} --epochs 3 'a b'"
    assert tags["runyard.source.git.commit"] == commit == clean.info.source_version
    assert tags["runyard.source.git.branch"] == "feature-x"
    assert tags["runyard.source.git.repoURL"] == "https://example.com/team/model.git"
    assert tags["runyard.source.git.dirty"] == "false"
    dirty = client.get_run(dirty_id)
    assert dirty.data.tags["runyard.source.git.dirty"] == "true"
    assert dirty.info.source_version == commit

    # No experiment set: the script's absolute path, typed SCRIPT.
    experiment = client.get_experiment(clean.info.experiment_id)
    assert experiment.name == str(script)
    assert experiment.tags["runyard.experimentType"] == "SCRIPT"
    assert dirty.info.experiment_id == clean.info.experiment_id

    requirements = Path(clean.info.artifact_uri) / "environment" / "requirements.txt"
    lines = requirements.read_text().splitlines()
    assert any(line.startswith("SQLAlchemy==") for line in lines)
    assert any(line.startswith("runyard==") for line in lines)
    names = [line.split("==")[0].lower() for line in lines]
    assert names == sorted(names)
    assert [f.path for f in client.list_artifacts(clean_id, "environment")] == [
        "environment/requirements.txt"
    ]


def test_capture_outside_git_and_detached_head(sqlite_uri: str, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    script = plain / "job.py"
    script.write_text(SCRIPT)
    assert ctx.git_info(script) == {}  # tmp_path is not inside a repository
    run = TrackingClient(sqlite_uri).get_run(_run_script(script, sqlite_uri))
    assert not [key for key in run.data.tags if key.startswith("runyard.source.git.")]
    assert run.info.source_version is None

    repo = tmp_path / "detached"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "f.txt").write_text("x")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "c")
    _git(repo, "checkout", "-q", "--detach")
    info = ctx.git_info(repo / "f.txt")
    assert info["runyard.source.git.commit"] == _git(repo, "rev-parse", "HEAD")
    assert "runyard.source.git.branch" not in info
    assert "runyard.source.git.repoURL" not in info
    assert info["runyard.source.git.dirty"] == "false"


def test_interactive_interpreter_uses_default_experiment(sqlite_uri: str, tmp_path: Path) -> None:
    # Regression (`python -`): __file__ is "<stdin>", which became an experiment named .../<stdin>.
    code = SCRIPT
    env = dict(os.environ, RUNYARD_TRACKING_URI=sqlite_uri, RUNYARD_ARTIFACT_ROOT=str(tmp_path / "a"))
    for command in ([sys.executable, "-c", code], [sys.executable, "-"]):
        result = subprocess.run(
            command,
            input=code if command[-1] == "-" else None,
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        run_id = json.loads(result.stdout.strip().splitlines()[-1])["run_id"]
        run = TrackingClient(sqlite_uri).get_run(run_id)
        experiment = TrackingClient(sqlite_uri).get_experiment(run.info.experiment_id)
        assert experiment.name == "Default"
        assert run.info.source_type == "LOCAL"
        assert run.data.tags["runyard.source.type"] == "LOCAL"


def test_experiment_from_environment_variable(sqlite_uri: str, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    env = dict(
        os.environ,
        RUNYARD_TRACKING_URI=sqlite_uri,
        RUNYARD_ARTIFACT_ROOT=str(tmp_path / "a"),
        RUNYARD_EXPERIMENT_NAME="/team/from-env",
    )
    result = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    run = TrackingClient(sqlite_uri).get_run(json.loads(result.stdout.strip().splitlines()[-1])["run_id"])
    assert TrackingClient(sqlite_uri).get_experiment(run.info.experiment_id).name == "/team/from-env"


def test_notebook_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ipykernel", sys)  # any module object: "inside a kernel"
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/analysis.ipynb")
    assert ctx.default_experiment_name() == ("/home/me/analysis.ipynb", "NOTEBOOK")
    captured = ctx.capture_context()
    assert (captured.source_type, captured.source_name) == ("NOTEBOOK", "/home/me/analysis.ipynb")


def test_log_system_info_false_skips_capture(tracking_uri: str) -> None:
    import runyard

    runyard.set_tracking_uri(tracking_uri)
    with runyard.start_run(log_system_info=False) as run:
        pass
    got = runyard.get_run(run.info.run_id)
    assert "runyard.platform" not in got.data.tags
    assert runyard.list_artifacts(run.info.run_id) == []
    assert got.info.user_id == getpass.getuser()


def test_requirements_are_name_equals_version() -> None:
    from importlib import metadata

    text = ctx.installed_requirements()
    lines = text.splitlines()
    assert f"SQLAlchemy=={metadata.version('SQLAlchemy')}" in lines
    assert len({line.split("==")[0].lower() for line in lines}) == len(lines)
    assert all(line.count("==") == 1 for line in lines)


def test_very_long_command_line_is_shortened_not_fatal(sqlite_uri: str, tmp_path: Path) -> None:
    # Regression: a command line over the 8000-character tag limit made start_run raise.
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    overrides = [f"model.layer_{i}.width=1024" for i in range(400)]  # about 10,000 characters
    run = TrackingClient(sqlite_uri).get_run(_run_script(script, sqlite_uri, *overrides))
    command = run.data.tags["runyard.command"]
    assert len(command) == 8000 and command.endswith("...")
    assert command.startswith(f"{sys.executable} {script} model.layer_0.width=1024")


def test_credentials_in_command_line_and_git_remote_are_masked_at_capture(
    sqlite_uri: str, tmp_path: Path
) -> None:
    from click.testing import CliRunner
    from runyard.cli import cli

    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "remote", "add", "origin", "https://x-access-token:ghs_SECRETTOKEN@github.com/org/model.git")
    script = repo / "train.py"
    script.write_text(SCRIPT)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    uri_arg = "postgresql+psycopg://trainer:my s3cret@db.example:5432/runs"
    run_id = _run_script(script, sqlite_uri, "--tracking-uri", uri_arg, "--token=tok123", cwd=repo)

    tags = TrackingClient(sqlite_uri).get_run(run_id).data.tags
    assert tags["runyard.command"] == (
        f"{sys.executable} {script} --tracking-uri "
        "'postgresql+psycopg://trainer:***@db.example:5432/runs' --token=***"
    )
    assert tags["runyard.source.git.repoURL"] == "https://x-access-token:***@github.com/org/model.git"

    listed = CliRunner().invoke(cli, ["runs", "list", "--json", "--store", sqlite_uri])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)[0]["tags"]["runyard.command"] == tags["runyard.command"]
    for secret in ("s3cret", "SECRETTOKEN", "tok123"):
        assert secret not in listed.output
