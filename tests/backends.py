"""Test store backends: which run, and a fresh PostgreSQL schema per store (for conftest and tests)."""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote

POSTGRES_ENV = "RUNYARD_TEST_POSTGRES_URL"


def backend_names() -> list[str]:
    """The store backends the tests run on: SQLite, and PostgreSQL when RUNYARD_TEST_POSTGRES_URL is set."""
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


def make_postgres_uri(database_url: str) -> str:
    """A URI on a brand-new schema of the session database (tables are unqualified: search_path isolates)."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{database_url}?options={quote(f'-csearch_path={schema}')}"
