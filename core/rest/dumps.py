"""Dumps over HTTP: upload a part of a dump to a runyard server; stream artifact files for an export."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..exceptions import InvalidInput, StoreError
from . import mlflow_compat as compat
from .artifacts import PROXY
from .protocol import RUNYARD_API as RUNYARD

if TYPE_CHECKING:
    from .artifacts import RemoteArtifacts
    from .store import RestStore

IMPORT_PATH = f"{RUNYARD}/dumps/import"
UPLOAD_TIMEOUT_SECONDS = 600.0  # the server imports the whole part before it answers


def runyard_server(uri: str, what: str) -> RestStore:
    """The RestStore of uri, refusing a stock MLflow server (its API has no call for `what`)."""
    from .store import RestStore

    store = RestStore(uri)
    if not store.is_runyard:
        raise InvalidInput(compat.limitation(what) + " Use a `runyard server` (or its database) instead.")
    return store


def upload_dump(store: RestStore, tar_path: Path) -> dict[str, Any]:
    """Send one part (a dump packed as tar) to the server's import; returns what the server imported.

    Sent once: when the connection breaks the part may be partly imported (whole runs only), and
    running the import again skips the runs already there.
    """
    with open(tar_path, "rb") as body:
        response = store.transport.request(
            "POST", IMPORT_PATH, content=body, retries=0, timeout=UPLOAD_TIMEOUT_SECONDS
        )
    try:
        answer = json.loads(response.content)
    except ValueError:
        raise StoreError(
            f"The tracking server answered {IMPORT_PATH} with something that is not JSON."
        ) from None
    return answer if isinstance(answer, dict) else {}


def download_file(artifacts: RemoteArtifacts, relative: str, target: Path) -> None:
    """Stream one artifact file of a run to target (written to a temporary name, then renamed)."""
    path = f"{PROXY}/{quote(artifacts._remote(relative))}"
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".download-")
    try:
        with os.fdopen(handle, "wb") as out, artifacts.transport.client.stream("GET", path) as response:
            if response.status_code >= 400:
                from .transport import error_for

                response.read()
                raise error_for(response, artifacts.transport.base_url)
            for block in response.iter_bytes(1 << 20):
                out.write(block)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
