"""The artifact proxy: the stock client uploads and downloads through the server; runyard reads them too."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import mlflow
import pytest
from mlflow import MlflowClient
from runyard import TrackingClient
from server_helpers import ServerProcess

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def test_log_and_download_artifacts_with_the_stock_client(
    server: ServerProcess, mlflow_uri: str, tmp_path: Path
) -> None:
    mlflow.set_experiment("/artifacts/stock")
    (tmp_path / "model.txt").write_text("weights")
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text("x,y\n1,2\n")
    (folder / "sub" / "b.txt").write_bytes(b"\x00\x01binary")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(tmp_path / "model.txt"))
        mlflow.log_artifacts(str(folder), artifact_path="plots")
        mlflow.log_dict({"lr": 0.1}, "config/params.json")
    run_id = run.info.run_id

    listed = MlflowClient().list_artifacts(run_id)
    assert sorted((f.path, f.is_dir) for f in listed) == [
        ("config", True),
        ("model.txt", False),
        ("plots", True),
    ]
    downloaded = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "dl")))
    assert (downloaded / "plots" / "sub" / "b.txt").read_bytes() == b"\x00\x01binary"
    assert json.loads((downloaded / "config" / "params.json").read_text()) == {"lr": 0.1}

    local = TrackingClient(server.store_uri, must_exist=True)
    assert [(f.path, f.is_dir) for f in local.list_artifacts(run_id, "plots")] == [
        ("plots/sub", True),
        ("plots/a.csv", False),
    ]
    head, size = local.read_artifact_head(run_id, "model.txt")
    assert (head, size) == (b"weights", 7)
    root = Path(local.get_run(run_id).info.artifact_uri)
    assert root.is_relative_to(server.artifacts)  # under --artifacts-destination


def test_proxy_upload_list_download_delete(server: ServerProcess, api: httpx.Client) -> None:
    path = f"{ARTIFACTS}/loose/dir/file.bin"
    payload = bytes(range(256)) * 4096  # 1 MiB, sent in one streamed body
    assert api.put(path, content=payload).json() == {}
    assert api.get(path).content == payload
    listing = api.get(ARTIFACTS, params={"path": "loose/dir"}).json()
    assert listing == {"files": [{"path": "file.bin", "is_dir": False, "file_size": len(payload)}]}
    assert (server.artifacts / "loose" / "dir" / "file.bin").stat().st_size == len(payload)
    assert api.delete(f"{ARTIFACTS}/loose/dir").json() == {}
    assert api.get(ARTIFACTS, params={"path": "loose/dir"}).json() == {}
    missing = api.get(f"{ARTIFACTS}/loose/dir/file.bin")
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize(
    "raw_path",
    [
        "/api/2.0/mlflow-artifacts/artifacts/a/%2E%2E/%2E%2E/escape.txt",
        "/api/2.0/mlflow-artifacts/artifacts/..%2F..%2Fescape.txt",
        "/api/2.0/mlflow-artifacts/artifacts/%2Fetc%2Fescape.txt",
    ],
)
def test_path_traversal_is_refused_and_writes_nothing(server: ServerProcess, raw_path: str) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for method in ("PUT", "GET", "DELETE"):
            request = client.build_request(method, server.url, content=b"x" if method == "PUT" else None)
            request.url = httpx.URL(server.url + raw_path)
            response = client.send(request)
            assert response.status_code == 400, (method, response.text)
            assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    listing = httpx.get(f"{server.url}{ARTIFACTS}", params={"path": "../"})
    assert listing.status_code == 400
    assert not (server.artifacts.parent / "escape.txt").exists()
    assert not Path("/etc/escape.txt").exists()
    assert not list(server.artifacts.parent.glob("**/escape.txt"))
