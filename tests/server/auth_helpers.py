"""Helpers of the access-control tests: an in-process app with --auth, its users, and a store fingerprint."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from runyard.passwords import hash_password
from runyard.server.app import create_app
from runyard.store import auth
from starlette.applications import Starlette

PASSWORD = "correct horse battery staple"
# The roles of the matrix, weakest first: (username, permission on the experiment under test, admin).
ROLES: tuple[tuple[str, str | None, bool], ...] = (
    ("anonymous", None, False),
    ("nobody", "NO_PERMISSIONS", False),
    ("reader", "READ", False),
    ("editor", "EDIT", False),
    ("manager", "MANAGE", False),
    ("admin", None, True),
)


@dataclass
class AuthApp:
    """An app served with auth on, the SQLite file behind it and its artifact root."""

    app: Starlette
    database: Path
    artifacts: Path

    @property
    def store(self):  # type: ignore[no-untyped-def]
        """The app's SqlStore."""
        return self.app.state.runyard.store


def make_auth_app(directory: Path) -> AuthApp:
    """An app on a new SQLite store with auth on and a user for every role of ROLES."""
    database = directory / "runyard.db"
    app = create_app(f"sqlite:///{database}", directory / "artifacts", auth=True)
    store = app.state.runyard.store
    store.db.create_if_missing()
    hashed = hash_password(PASSWORD)
    for username, _permission, is_admin in ROLES:
        if username != "anonymous":
            auth.add_user(store, username, hashed, is_admin=is_admin)
    return AuthApp(app, database, directory / "artifacts")


def fingerprint(database: Path, artifacts: Path) -> str:
    """A digest of every row of every table and of every artifact file: equal means nothing changed."""
    digest = hashlib.sha256()
    with sqlite3.connect(database) as conn:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        ]
        for table in tables:
            rows = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{table}"'))
            digest.update(f"{table}:{rows}".encode())
    for path in sorted(artifacts.rglob("*")):
        digest.update(str(path.relative_to(artifacts)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()
