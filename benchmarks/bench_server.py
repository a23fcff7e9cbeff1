"""Tracking server speed: `runyard server` side by side with `mlflow server`, same store kind (SQLite).

Run: python benchmarks/bench_server.py [--runs 20000] [--requests 200] [--ingest-batches 30]
     [--history-points 100000] [--no-mlflow] [--with-auth]

Both servers serve a copy of a store holding the same generated runs (build_store.py for runyard;
the same rows written into MLflow's own tables, as bench_search.py does), one worker each, artifacts
proxied. A plain HTTP load generator (http.client, one process per client, request bodies serialized
before the clock starts) sends:
- CreateRun, LogMetric, LogBatch of 500 metrics: each client to its own run;
- SearchRuns: 1,000 of the 20,000 runs, `params.optimizer = 'adam' AND metrics.accuracy > 0.3 AND
  tags.team != 'rl'` ordered by `metrics.val_loss DESC`;
- GetMetricHistory of one metric of 100,000 points;
with 1 and with 8 concurrent clients, and reports per-request latency median and p99 (client side),
the load generator's own CPU, the server's CPU per request (process and children, with psutil: a
figure the machine's load sways less than latencies), and for runyard the server-side time from its
access log. Ingestion: 8 clients sending log-batch of 1,000 points, in points per second and server
CPU per point.

--with-auth also runs `runyard server --auth` with a non-admin user logging in by HTTP Basic (its
permission looked up on every request), reports auth/no-auth ratios, and times the password KDF for
an unknown user and for a wrong password (the two must cost the same: no timing side channel).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    cleanup,
    header,
    mlflow_python,
    mlflow_version,
    row,
    run_python,
    scratch_dir,
    skip_mlflow_note,
)
from build_store import CACHE_DIR, EXPERIMENT_NAME, build_store  # noqa: E402

FILTER = "params.optimizer = 'adam' AND metrics.accuracy > 0.3 AND tags.team != 'rl'"
ORDER = ["metrics.val_loss DESC"]
API = "/api/2.0/mlflow"
BENCH_USER, BENCH_PASSWORD = "bench", "bench-password"
# The Authorization header of every request (set before the load generator forks its clients).
AUTH_HEADERS: dict[str, str] = {}
_ACCESS = re.compile(r" (GET|POST|PUT|DELETE) (\S+) (\d{3}) ([\d.]+) ms$")

_MLFLOW_BUILD = r"""
import sys
sys.path.insert(0, {bench_dir!r})
from build_store import build_mlflow_store
build_mlflow_store({path!r}, {n_runs})
print("built")
"""


@dataclass
class Server:
    """A running server process: its name, URL, log file and process."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_offset(self) -> int:
        """The log's current size (server-side times are read after this offset)."""
        return self.log_path.stat().st_size

    def server_ms(self, offset: int, path_part: str) -> list[float]:
        """Milliseconds of the requests logged since offset whose path contains path_part (runyard only)."""
        with open(self.log_path, errors="replace") as log:
            log.seek(offset)
            return [
                float(m.group(4))
                for m in (_ACCESS.search(line.rstrip()) for line in log)
                if m is not None and path_part in m.group(2)
            ]

    def cpu_seconds(self) -> float | None:
        """User + system CPU seconds of the server process and its children so far (None without psutil)."""
        try:
            import psutil
        except ImportError:
            return None
        try:
            processes = [psutil.Process(self.process.pid)]
            processes += processes[0].children(recursive=True)
            return sum(times.user + times.system for times in (p.cpu_times() for p in processes))
        except psutil.Error:
            return None

    def stop(self) -> None:
        """Terminate the server (kill after a bounded wait)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(name: str, command: list[str], port: int, log_path: Path, env: dict[str, str]) -> Server:
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = Server(name, f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            if request(server.url, "GET", "/health", None)[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not start:\n{log_path.read_text(errors='replace')[-3000:]}")


def start_runyard(store: Path, work: Path, auth: bool = False) -> Server:
    """`runyard server` on the store (one process; writes grouped), with --auth if asked."""
    port = _free_port()
    command = [sys.executable, "-m", "runyard.cli", "server", "--store", str(store)]
    command += ["--artifacts-destination", str(work / "ry-artifacts"), "--port", str(port)]
    command += ["--auth"] if auth else []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNYARD_TRACKING", "MLFLOW_"))}
    name = "runyard --auth" if auth else "runyard"
    return _start(name, command, port, work / f"runyard-server{'-auth' if auth else ''}.log", env)


def add_bench_user(store: Path) -> None:
    """A non-admin user on the store (READ by default; it creates, so manages, its own experiments)."""
    command = [sys.executable, "-m", "runyard.cli", "users", "add", BENCH_USER, "--password-stdin"]
    command += ["--store", str(store)]
    subprocess.run(command, input=BENCH_PASSWORD + "\n", text=True, check=False, capture_output=True)


def basic_header(username: str, password: str) -> dict[str, str]:
    """An HTTP Basic Authorization header."""
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def start_mlflow(python: str, store: Path, work: Path) -> Server:
    """`mlflow server` on its SQLite store, one worker, artifacts proxied."""
    port = _free_port()
    command = [python, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{store}"]
    command += ["--serve-artifacts", "--artifacts-destination", str(work / "ml-artifacts")]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return _start("mlflow", command, port, work / "mlflow-server.log", env)


def request(url: str, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
    """One request on a new connection (setup only; the load generator keeps its connections)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=600)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers={**headers, **AUTH_HEADERS})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def call(url: str, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """A setup request that must succeed; its JSON answer."""
    status, data = request(url, method, path, json.dumps(payload).encode() if payload is not None else None)
    if status != 200:
        raise RuntimeError(f"{method} {path}: {status} {data[:500]!r}")
    return json.loads(data or b"{}")


# ----------------------------------------------------------------------------- the load generator
def _client(args: tuple[str, str, str, list[bytes], int]) -> tuple[list[float], float, list[int]]:
    url, method, path, bodies, count = args
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=600)
    headers = {"Content-Type": "application/json", **AUTH_HEADERS}
    latencies = []
    failures = []
    cpu_start = time.process_time()
    for index in range(count):
        body = bodies[index % len(bodies)] if bodies else None
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers if body is not None else AUTH_HEADERS)
        response = conn.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            failures.append(response.status)
    conn.close()
    return latencies, time.process_time() - cpu_start, failures


@dataclass
class Load:
    """Latencies of every request, wall time, the load generator's CPU seconds, failed statuses."""

    latencies: list[float]
    wall: float
    cpu: float
    failures: list[int]

    def median_ms(self) -> float:
        """Median latency in ms."""
        return statistics.median(self.latencies) * 1000

    def p99_ms(self) -> float:
        """99th percentile latency in ms."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def load(url: str, method: str, path: str, bodies_per_client: list[list[bytes]], per_client: int) -> Load:
    """Every client (a process) sends per_client requests at once; bodies are already serialized."""
    jobs = [(url, method, path, bodies, per_client) for bodies in bodies_per_client]
    with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
        started = time.perf_counter()
        results = pool.map(_client, jobs)
        wall = time.perf_counter() - started
    return Load(
        [x for lat, _, _ in results for x in lat],
        wall,
        sum(cpu for _, cpu, _ in results),
        [status for _, _, failed in results for status in failed],
    )


# ----------------------------------------------------------------------------- scenarios
def _metric_batch(count: int, first_step: int) -> list[dict[str, Any]]:
    return [
        {
            "key": f"m{i % 10}",
            "value": i * 0.5,
            "timestamp": 1_700_000_000_000 + i,
            "step": first_step + i // 10,
        }
        for i in range(count)
    ]


def run_scenarios(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    """Every figure for one server: {(name, clients): Load}, server-side ms, ingestion points/s."""
    url = server.url
    search_experiment = call(url, "GET", f"{API}/experiments/get-by-name?experiment_name={EXPERIMENT_NAME}")
    big_id = search_experiment["experiment"]["experiment_id"]
    experiment_id = call(
        url, "POST", f"{API}/experiments/create", {"name": f"bench-server-{time.time_ns()}"}
    )["experiment_id"]

    def new_run() -> str:
        answer = call(url, "POST", f"{API}/runs/create", {"experiment_id": experiment_id, "start_time": 1})
        return str(answer["run"]["info"]["run_id"])

    history_run = new_run()
    for start in range(0, args.history_points, 1000):
        steps = range(start, min(start + 1000, args.history_points))
        metrics = [
            {"key": "loss", "value": s * 0.001, "timestamp": 1_700_000_000_000 + s, "step": s} for s in steps
        ]
        call(url, "POST", f"{API}/runs/log-batch", {"run_id": history_run, "metrics": metrics})
    history_path = f"{API}/metrics/get-history?run_id={history_run}&metric_key=loss"
    got = call(url, "GET", history_path)
    assert len(got["metrics"]) == args.history_points, len(got.get("metrics", []))
    search_body = json.dumps(
        {"experiment_ids": [big_id], "filter": FILTER, "max_results": 1000, "order_by": ORDER}
    ).encode()
    assert len(json.loads(request(url, "POST", f"{API}/runs/search", search_body)[1])["runs"]) == 1000

    figures: dict[str, Any] = {"loads": {}, "server_ms": {}, "server_cpu": {}}
    n = args.requests
    for clients in (1, 8):
        runs = [new_run() for _ in range(clients)]
        create = [[json.dumps({"experiment_id": experiment_id, "start_time": 1}).encode()]] * clients
        log_metric = [
            [
                json.dumps(
                    {
                        "run_id": r,
                        "key": "single",
                        "value": i * 0.1,
                        "timestamp": 1_700_000_000_000,
                        "step": i,
                    }
                ).encode()
                for i in range(n)
            ]
            for r in runs
        ]
        log_batch = [
            [json.dumps({"run_id": r, "metrics": _metric_batch(500, b * 50)}).encode() for b in range(4)]
            for r in runs
        ]
        scenarios = [
            ("CreateRun", "POST", f"{API}/runs/create", create, max(n // clients, 5)),
            ("LogMetric", "POST", f"{API}/runs/log-metric", log_metric, max(n // clients, 5)),
            ("LogBatch(500)", "POST", f"{API}/runs/log-batch", log_batch, max(n // (4 * clients), 5)),
            (
                "SearchRuns",
                "POST",
                f"{API}/runs/search",
                [[search_body]] * clients,
                max(args.search_requests // clients, 2),
            ),
            (
                "GetMetricHistory",
                "GET",
                history_path,
                [[]] * clients,
                max(args.history_requests // clients, 1),
            ),
        ]
        for name, method, path, bodies, per_client in scenarios:
            offset = server.log_offset()
            cpu_before = server.cpu_seconds()
            figures["loads"][(name, clients)] = load(url, method, path, bodies, per_client)
            cpu_after = server.cpu_seconds()
            if cpu_before is not None and cpu_after is not None:
                figures["server_cpu"][(name, clients)] = cpu_after - cpu_before
            served = server.server_ms(offset, path.split("?")[0].rsplit("/", 1)[-1])
            if served:
                figures["server_ms"][(name, clients)] = statistics.median(served)
            print(f"   .. {server.name} {name} x{clients} done", flush=True)
    ingest_runs = [new_run() for _ in range(8)]
    ingest = [
        [
            json.dumps({"run_id": r, "metrics": _metric_batch(1000, b * 100)}).encode()
            for b in range(args.ingest_batches)
        ]
        for r in ingest_runs
    ]
    cpu_before = server.cpu_seconds()
    ingestion = load(url, "POST", f"{API}/runs/log-batch", ingest, args.ingest_batches)
    cpu_after = server.cpu_seconds()
    stored = 8 * args.ingest_batches - len(ingestion.failures)
    if cpu_before is not None and cpu_after is not None and stored:
        figures["ingest_server_cpu_us"] = (cpu_after - cpu_before) / (stored * 1000) * 1e6
    figures["ingest_points_per_s"] = stored * 1000 / ingestion.wall
    figures["ingest_cpu"] = ingestion.cpu
    figures["ingest_failures"] = ingestion.failures
    return figures


def _mlflow_store(python: str, n_runs: int) -> Path:
    """MLflow's SQLite store with the generated rows (cached, shared with bench_search.py)."""
    path = CACHE_DIR / f"mlflow-v1-runs{n_runs}-seed7.db"
    if not path.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        code = _MLFLOW_BUILD.format(
            bench_dir=str(Path(__file__).resolve().parent), path=str(path), n_runs=n_runs
        )
        result = run_python(code, python, timeout=3600)
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-3000:])
    return path


def access_check_timing(store: Path) -> None:
    """The store part of one authenticated request's check (user, run's experiment, entries), in process."""
    from runyard.store import auth
    from runyard.tracking.client import TrackingClient

    sql_store = TrackingClient(f"sqlite:///{store}").store
    user = auth.get_user(sql_store, BENCH_USER)
    experiment = sql_store.get_experiment_by_name(EXPERIMENT_NAME)
    assert experiment is not None
    run_id = sql_store.create_run(experiment.experiment_id, None, BENCH_USER).info.run_id
    times = []
    for _ in range(500):
        started = time.perf_counter()
        auth.access_facts(sql_store, user_id=user.id, run_ids=[run_id])
        times.append(time.perf_counter() - started)
    row(
        "access check, store part",
        f"median {statistics.median(times) * 1000:8.3f} ms",
        "in process, 500 runs",
    )


def kdf_timings(server: Server) -> None:
    """The KDF's cost for an unknown user and for a wrong password, in process and over HTTP."""
    from runyard.passwords import hash_password, verify_password

    stored, dummy = hash_password(BENCH_PASSWORD), hash_password("the server's dummy")
    for label, password, against in (("unknown user", "guess", dummy), ("wrong password", "guess", stored)):
        times = []
        for _ in range(20):
            started = time.perf_counter()
            verify_password(password, against)
            times.append(time.perf_counter() - started)
        row(
            f"KDF verify, {label}", f"median {statistics.median(times) * 1000:8.2f} ms", "in process, 20 runs"
        )
    for label, username in (("unknown user", "nobody-here"), ("wrong password", BENCH_USER)):
        times = []
        for _ in range(4):  # 8 failures in all: under the 10-a-minute lockout of one address
            AUTH_HEADERS.update(basic_header(username, "guess"))
            started = time.perf_counter()
            status, _ = request(server.url, "GET", f"{API}/experiments/search", None)
            times.append(time.perf_counter() - started)
            assert status == 401, status
        row(f"401 over HTTP, {label}", f"median {statistics.median(times) * 1000:8.2f} ms", "4 requests")
    AUTH_HEADERS.update(basic_header(BENCH_USER, BENCH_PASSWORD))


def _print_auth_ratio(plain: dict[str, Any], authed: dict[str, Any]) -> None:
    print("-- runyard server --auth / without auth (median latency; ingestion: without / with)")
    for key, measured in authed["loads"].items():
        base = plain["loads"].get(key)
        if base is not None:
            ratio = measured.median_ms() / base.median_ms()
            row(f"{key[0]:<17} {key[1]} client{'s' if key[1] > 1 else ' '}", f"{ratio:5.2f}x", "")
    ingest = plain["ingest_points_per_s"] / max(authed["ingest_points_per_s"], 1e-9)
    row("ingestion, 8 clients x log-batch(1000)", f"{ingest:5.2f}x", "")


def _print(name: str, figures: dict[str, Any], other: dict[str, Any] | None) -> None:
    print(f"-- {name}")
    for (scenario, clients), measured in figures["loads"].items():
        note = f"{len(measured.latencies)} requests, load generator CPU {measured.cpu:.2f} s"
        if measured.failures:
            note += f", {len(measured.failures)} FAILED (status {sorted(set(measured.failures))})"
        server_ms = figures["server_ms"].get((scenario, clients))
        if server_ms is not None:
            note += f", server-side median {server_ms:.2f} ms"
        server_cpu = figures["server_cpu"].get((scenario, clients))
        if server_cpu is not None:  # CPU, not wall time: less swayed by the machine's load
            note += f", server CPU {server_cpu / len(measured.latencies) * 1000:.2f} ms/request"
        if other is not None and (scenario, clients) in other["loads"]:
            theirs = other["loads"][(scenario, clients)]
            note += f"; MLflow/runyard median {theirs.median_ms() / measured.median_ms():.1f}x"
        row(
            f"{scenario:<17} {clients} client{'s' if clients > 1 else ' '}",
            f"median {measured.median_ms():8.2f} ms   p99 {measured.p99_ms():8.2f} ms",
            note,
        )
    ingest = figures["ingest_points_per_s"]
    note = f"load generator CPU {figures['ingest_cpu']:.2f} s"
    if figures.get("ingest_server_cpu_us") is not None:
        note += f", server CPU {figures['ingest_server_cpu_us']:.2f} us/point"
    if figures["ingest_failures"]:
        failed = figures["ingest_failures"]
        note += f", {len(failed)} batches FAILED (status {sorted(set(failed))}), counted as not stored"
    if other is not None and other["ingest_points_per_s"]:
        note += f"; runyard/MLflow {ingest / other['ingest_points_per_s']:.1f}x"
    row("ingestion, 8 clients x log-batch(1000)", f"{ingest:,.0f} points/s", note)


def main() -> None:
    """Measure both servers and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20_000, help="runs in the searched experiment")
    parser.add_argument("--requests", type=int, default=200, help="CreateRun/LogMetric requests per scenario")
    parser.add_argument("--search-requests", type=int, default=16)
    parser.add_argument("--history-requests", type=int, default=8)
    parser.add_argument("--history-points", type=int, default=100_000)
    parser.add_argument("--ingest-batches", type=int, default=30, help="log-batch(1000) requests per client")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--with-auth", action="store_true", help="also measure runyard server --auth")
    args = parser.parse_args()
    header("runyard server vs mlflow server (SQLite store, one worker each)")
    work = scratch_dir("server")
    try:
        runyard_store = work / "runyard.db"
        build_store(str(runyard_store), n_runs=args.runs)
        upgrade = [sys.executable, "-m", "runyard.cli", "db", "upgrade", "--store", str(runyard_store)]
        subprocess.run(upgrade, check=False, capture_output=True)  # the cached store may predate the schema
        server = start_runyard(runyard_store, work)
        try:
            ours = run_scenarios(server, args)
        finally:
            server.stop()
        _print("runyard server", ours, None)
        if args.with_auth:
            add_bench_user(runyard_store)
            access_check_timing(runyard_store)
            server = start_runyard(runyard_store, work, auth=True)
            try:
                AUTH_HEADERS.update(basic_header(BENCH_USER, BENCH_PASSWORD))
                kdf_timings(server)
                authed = run_scenarios(server, args)
            finally:
                AUTH_HEADERS.clear()
                server.stop()
            _print(
                "runyard server --auth (user 'bench', HTTP Basic, permission checked per request)",
                authed,
                None,
            )
            _print_auth_ratio(ours, authed)
        theirs = None
        python = None if args.no_mlflow else mlflow_python()
        if python is None:
            if not args.no_mlflow:
                skip_mlflow_note()
        else:
            print(f"   mlflow {mlflow_version(python)}")
            store = work / "mlflow.db"
            shutil.copyfile(_mlflow_store(python, args.runs), store)
            mlflow_server = start_mlflow(python, store, work)
            try:
                theirs = run_scenarios(mlflow_server, args)
            finally:
                mlflow_server.stop()
        if theirs is not None:
            _print("mlflow server", theirs, None)
            _print("runyard server, with MLflow/runyard ratios", ours, theirs)
    finally:
        cleanup(work)


if __name__ == "__main__":
    main()
