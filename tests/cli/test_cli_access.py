"""`runyard users`, `runyard permissions` and `runyard tokens` on a store file."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from runyard import TrackingClient
from runyard.passwords import verify_password
from runyard.store import auth


def _run(*args: str, stdin: str | None = None) -> Result:
    from runyard.cli import cli

    return CliRunner().invoke(cli, list(args), input=stdin)


def test_users_from_stdin_and_prompt_never_from_argv(tmp_path: Path) -> None:
    store = str(tmp_path / "r.db")
    added = _run(
        "users", "add", "--admin", "alice", "--password-stdin", "--store", store, stdin="s3cret pass\n"
    )
    assert added.exit_code == 0, added.output
    assert "s3cret" not in added.output
    prompted = _run("users", "add", "bob", "--store", store, stdin="bobpass\nbobpass\n")
    assert prompted.exit_code == 0, prompted.output
    mismatch = _run("users", "add", "carol", "--store", store, stdin="one\ntwo\none\none\n")
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output.lower()
    sqlstore = TrackingClient(f"sqlite:///{store}").store
    credential = auth.get_credential(sqlstore, "alice")
    assert credential is not None and credential.user.is_admin
    assert verify_password("s3cret pass", credential.password_hash)
    assert "--password" not in " ".join(_run("users", "add", "--help").output.split("--password-stdin"))

    listing = _run("users", "list", "--store", store)
    assert "alice" in listing.output and "yes" in listing.output and "$" not in listing.output
    assert (
        _run("users", "passwd", "bob", "--password-stdin", "--store", store, stdin="newpass\n").exit_code == 0
    )
    credential = auth.get_credential(sqlstore, "bob")
    assert credential is not None and verify_password("newpass", credential.password_hash)
    assert _run("users", "admin", "bob", "--store", store).exit_code == 0
    assert auth.get_user(sqlstore, "bob").is_admin
    assert _run("users", "remove", "bob", "--yes", "--store", store).exit_code == 0
    assert [u.username for u in auth.list_users(sqlstore)] == ["alice", "carol"]
    unknown = _run("users", "passwd", "zed", "--password-stdin", "--store", store, stdin="x\n")
    assert unknown.exit_code == 1 and "No user 'zed'" in unknown.output and "Traceback" not in unknown.output
    audit = _run("users", "audit", "--store", store)
    assert "user.delete" in audit.output and "user.password" in audit.output and "newpass" not in audit.output


def test_permissions_by_experiment_name_and_the_default(tmp_path: Path) -> None:
    store = str(tmp_path / "r.db")
    client = TrackingClient(f"sqlite:///{store}")
    experiment_id = client.create_experiment("/vision/resnet")
    _run("users", "add", "alice", "--password-stdin", "--store", store, stdin="pw\n")
    granted = _run("permissions", "grant", "/vision/resnet", "alice", "edit", "--store", store)
    assert granted.exit_code == 0, granted.output
    assert auth.get_permission(client.store, experiment_id, "alice") == "EDIT"
    listing = _run("permissions", "list", "--store", store)
    assert "/vision/resnet" in listing.output and "EDIT" in listing.output and "Default" in listing.output
    bad = _run("permissions", "grant", "/vision/resnet", "alice", "OWNER", "--store", store)
    assert bad.exit_code == 2 and "OWNER" in bad.output
    assert _run("permissions", "default", "NO_PERMISSIONS", "--store", store).exit_code == 0
    revoked = _run("permissions", "revoke", "/vision/resnet", "alice", "--store", store)
    assert "default (NO_PERMISSIONS)" in revoked.output
    assert auth.list_permissions(client.store) == []


def test_a_token_is_printed_once_listed_by_id_and_revoked(tmp_path: Path) -> None:
    store = str(tmp_path / "r.db")
    _run("users", "add", "ci", "--password-stdin", "--store", store, stdin="pw\n")
    whose = _run("tokens", "create", "--store", store)  # a database has no caller: --user says whose
    assert whose.exit_code == 2 and "--user NAME" in whose.output
    created = _run("tokens", "create", "--user", "ci", "--expires", "90d", "--store", store)
    assert created.exit_code == 0, created.output
    value = created.stdout.strip()  # stdout holds the value alone: export T=$(runyard tokens create ...)
    assert "\n" not in value and "shown only now" in created.stderr
    sqlstore = TrackingClient(f"sqlite:///{store}").store
    assert auth.user_of_token(sqlstore, value) is not None
    listing = _run("tokens", "list", "--store", store)
    token_id = auth.list_tokens(sqlstore)[0].id
    assert token_id in listing.output and value not in listing.output
    assert _run("tokens", "revoke", token_id, "--store", store).exit_code == 0
    assert auth.user_of_token(sqlstore, value) is None
