"""Logging over HTTP from one process: points per second end to end, and the cost of logging one point.

Run: python benchmarks/bench_http_logging.py [--points 200000] [--keys 10] [--reps 3] [--in-flight 4]

A `runyard server` subprocess (one worker, a fresh SQLite store) and, in this process, the writer of
a remote tracking URI: MetricWriter -> OutboxSender (outbox on local disk, log-batch requests of
1,000 points, several in flight). For each repetition a new run is created on the server, then:
- call cost: `MetricWriter.add` per point over the whole loop (what `log_metric` does after checking
  its arguments; the background writer and sender threads run meanwhile and take the GIL too);
- end to end: from the first point to `flush()` returned, i.e. the server acknowledged every point
  (the script then checks every point is in the run's history on the server).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Stat, cleanup, header, row, scratch_dir  # noqa: E402

API = "/api/2.0/mlflow"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`runyard server` on a fresh SQLite store; returns it once /health answers."""
    import httpx

    port = free_port()
    command = [
        sys.executable, "-m", "runyard.cli", "server", "--store", f"sqlite:///{folder / 'runyard.db'}",
        "--artifacts-destination", str(folder / "artifacts"), "--port", str(port),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RUNYARD_TRACKING"))}
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - kept open for the server's lifetime
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"runyard server did not start: {(folder / 'server.log').read_text()}")


def one_repetition(url: str, points: int, keys: int, in_flight: int) -> tuple[float, float]:
    """(seconds per add, points per second end to end) for one new run."""
    from runyard.rest.sender import OutboxSender
    from runyard.rest.transport import Transport
    from runyard.tracking.writer import MetricWriter

    transport = Transport(url)
    run_id = transport.call("POST", f"{API}/runs/create", {"experiment_id": "0"})["run"]["info"]["run_id"]
    writer = MetricWriter(OutboxSender(url, in_flight=in_flight))
    names = [f"metric_{k}" for k in range(keys)]
    steps = points // keys
    now = int(time.time() * 1000)
    add = writer.add
    start = time.perf_counter()
    for step in range(steps):
        for name in names:
            add((run_id, name, step * 0.001, now, step))
    logged = time.perf_counter()
    writer.flush()
    done = time.perf_counter()
    writer.close()
    for name in names[:2]:
        answer = transport.call(
            "GET", f"{API}/metrics/get-history", {"run_id": run_id, "metric_key": name, "max_results": steps}
        )
        if len(answer.get("metrics", [])) != steps:
            raise SystemExit(f"{name}: {len(answer.get('metrics', []))} points on the server, {steps} logged")
    transport.close()
    return (logged - start) / (steps * keys), steps * keys / (done - start)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--in-flight", type=int, default=4)
    args = parser.parse_args()

    folder = scratch_dir("http-logging")
    os.environ["RUNYARD_OUTBOX_DIR"] = str(folder / "outbox")
    process, url = start_server(folder)
    try:
        header(f"Logging over HTTP: {args.points:,} points, {args.keys} keys, {args.in_flight} in flight")
        costs, rates = [], []
        for _ in range(args.reps):
            cost, rate = one_repetition(url, args.points, args.keys, args.in_flight)
            costs.append(cost)
            rates.append(rate)
        row("log call cost (MetricWriter.add, per point)", Stat(costs).fmt("us", scale=1e6))
        row("end to end (flush() returned: server acknowledged)", Stat(rates).fmt("points/s", digits=0))
        row("outbox files left", str(len(list((folder / "outbox").glob("*.sqlite")))))
    finally:
        process.terminate()
        process.wait(timeout=30)
        cleanup(folder)


if __name__ == "__main__":
    main()
