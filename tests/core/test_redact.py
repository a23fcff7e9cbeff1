"""Credentials are masked in every URL and command line runyard prints or stores."""

from __future__ import annotations

import pytest
from runyard.config import mask_uri
from runyard.redact import mask_secrets

CASES = [
    # (text, masked) - the odd cases first
    (
        "postgresql+psycopg://postgres:my secret@db.example:5432/runs",
        "postgresql+psycopg://postgres:***@db.example:5432/runs",
    ),
    ("postgresql://user:p@ss@host/db", "postgresql://user:***@host/db"),
    (
        "postgresql://user:p@ss@w@rd@host:5432/db?sslmode=require",
        "postgresql://user:***@host:5432/db?sslmode=require",
    ),
    ("postgresql://user:p@ss@host", "postgresql://user:***@host"),
    ("postgresql://user:secret@host/db", "postgresql://user:***@host/db"),
    ("postgresql://user:p?ss#w@host/db", "postgresql://user:***@host/db"),
    ("postgresql://user@host/db", "postgresql://user@host/db"),
    (
        "postgresql://host/db?user=u&password=hunter2&sslmode=require",
        "postgresql://host/db?user=u&password=***&sslmode=require",
    ),
    ("postgresql://host/db?PASSWORD=hunter2", "postgresql://host/db?PASSWORD=***"),
    (
        "https://x-access-token:ghs_TOKEN123@github.com/org/repo.git",
        "https://x-access-token:***@github.com/org/repo.git",
    ),
    ("https://ghp_TOKEN123@github.com/org/repo.git", "https://***@github.com/org/repo.git"),
    ("git+https://ghp_TOKEN123@github.com/org/repo.git", "git+https://***@github.com/org/repo.git"),
    ("https://api.example/x?access_token=abc123&page=2", "https://api.example/x?access_token=***&page=2"),
    ("ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"),
    ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
    ("https://github.com/org/repo.git", "https://github.com/org/repo.git"),
    ("https://github.com/org/user@example.com", "https://github.com/org/user@example.com"),
    ("sqlite:////tmp/runs/runyard.db", "sqlite:////tmp/runs/runyard.db"),
    ("sqlite:///runyard.db", "sqlite:///runyard.db"),
    # inside messages and command lines
    (
        "Cannot open store postgresql+psycopg://postgres:my secret@127.0.0.1:1/x: connection refused",
        "Cannot open store postgresql+psycopg://postgres:***@127.0.0.1:1/x: connection refused",
    ),
    (
        "python train.py --tracking-uri postgresql+psycopg://user:PASSWORD@db/runs --epochs 3",
        "python train.py --tracking-uri postgresql+psycopg://user:***@db/runs --epochs 3",
    ),
    (
        "python train.py 'postgresql://user:my secret@db/runs' --lr 0.1",
        "python train.py 'postgresql://user:***@db/runs' --lr 0.1",
    ),
    (
        "From postgresql://a:pw1@h1 into postgresql://b:pw2@h2/db:",
        "From postgresql://a:***@h1 into postgresql://b:***@h2/db:",
    ),
    (
        "python train.py --token=abc123 --password hunter2 --lr 0.1",
        "python train.py --token=*** --password *** --lr 0.1",
    ),
    ("MLFLOW_TRACKING_PASSWORD=hunter2 python x.py", "MLFLOW_TRACKING_PASSWORD=*** python x.py"),
    ("python train.py --lr 0.1 --epochs 3", "python train.py --lr 0.1 --epochs 3"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "masked"), CASES)
def test_mask_secrets(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked
    assert mask_uri(text) == masked  # the old name is the same function
    assert mask_secrets(masked) == masked  # masking twice changes nothing


@pytest.mark.parametrize("password", ["my secret", "p@ss", "p@ss word", "a:b", "ends@", "%40encoded"])
def test_password_never_survives(password: str) -> None:
    for uri in (f"postgresql+psycopg://user:{password}@db.example:5432/runs", f"mysql://user:{password}@h"):
        assert password not in mask_secrets(f"Error: cannot open {uri}: timeout")
