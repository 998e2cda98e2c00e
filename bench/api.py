"""The HTTP API's throughput: requests per second, and latency, of reading a replication of
100 and of 10,000 streams, starting runs, and reading a run's status, with a token, against
gunicorn on loopback (as README's "Deploying" runs the studio).

    .venv/bin/python bench/api.py [--sizes 100,10000] [--seconds 10] [--clients 3]

For each size it migrates a throwaway data folder, imports the replication of bench/editor.py,
defines its two connections (nothing connects: runs stay queued, no worker runs here), makes
an admin and a token, and starts gunicorn; then each action is asked by `--clients` threads for
`--seconds` (after a warm-up that fills each server process's caches). Any answer but the one
expected counts as an error; the exit status is 1 when there is any.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from editor import replication_yaml
from load import HOST, free_port, manage, request

ROOT = Path(__file__).resolve().parent.parent
NAME = "bench"
CONNECTIONS = (
    "connections:\n  PG: postgresql://bench@127.0.0.1:9/db\n  WAREHOUSE: postgresql://bench@127.0.0.1:9/dw\n"
)


@contextmanager
def served(data_dir: Path, streams: int) -> Iterator[tuple[int, str]]:
    """The studio with the replication, served by gunicorn: (port, an admin's token)."""
    env = {
        **os.environ,
        "STUDIO_DATA_DIR": str(data_dir),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": HOST,
        "DJANGO_SUPERUSER_PASSWORD": secrets.token_urlsafe(12),
    }
    env.pop("DATABASE_URL", None)
    manage(env, "migrate", "--noinput", "-v0")
    (data_dir / "bench.yaml").write_text(replication_yaml(streams))
    (data_dir / "env.yaml").write_text(CONNECTIONS)
    manage(env, "import_replication", str(data_dir / "bench.yaml"), "--name", NAME)
    manage(env, "import_connections", str(data_dir / "env.yaml"))
    manage(env, "createsuperuser", "--noinput", "--username", "bench", "--email", "bench@example.com")
    make = "from django.contrib.auth.models import User; from studio.services.tokens import token_create; "
    make += "print(token_create(user=User.objects.get(username='bench'), name='bench')[1])"
    token = manage(env, "shell", "-v0", "-c", make).strip()
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "studio.wsgi", "-b", f"{HOST}:{port}", "--timeout", "60"]
    command += ["--workers", str((os.cpu_count() or 1) + 1)]
    with (data_dir / "server.log").open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if request(port, "GET", "/login/", {})[0] == 200:
                        break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"the server did not start:\n{(data_dir / 'server.log').read_text()[-3000:]}"
                    )
                time.sleep(0.2)
            yield port, token
        finally:
            process.terminate()
            process.wait(timeout=30)


def measure(
    name: str, ask: Callable[[int], bool], seconds: float, clients: int, limit: int = 10**9
) -> dict[str, float]:
    """`ask(i)` from `clients` threads for `seconds` (or `limit` requests): requests per second,
    p50 and p95 in ms."""
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    counter = iter(range(limit))

    def client() -> None:
        while time.monotonic() < stop:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            started = time.perf_counter()
            ok = ask(i)
            took = time.perf_counter() - started
            with lock:
                times.append(took)
                errors[0] += not ok

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    quantiles = statistics.quantiles(times, n=20) if len(times) > 1 else [times[0]] * 19
    result = {
        "rps": len(times) / elapsed,
        "p50": statistics.median(times) * 1000,
        "p95": quantiles[18] * 1000,
        "requests": len(times),
        "errors": errors[0],
    }
    print(
        f"  {name:<28} {result['rps']:7.1f} req/s   p50 {result['p50']:6.1f} ms   p95 {result['p95']:6.1f} ms"
        f"   ({result['requests']} requests, {result['errors']} errors)"
    )
    return result


def bench(streams: int, seconds: float, clients: int) -> int:
    with (
        tempfile.TemporaryDirectory(prefix="studio-bench-api-") as folder,
        served(Path(folder), streams) as (port, token),
    ):
        headers = {"Authorization": f"Bearer {token}"}
        posted = {**headers, "Content-Type": "application/json"}
        names = [f"schema_{i // 100}.table_{i}" for i in range(streams)]
        print(f"{streams} streams, {clients} clients, {seconds:g} s each:")

        def read(_: int) -> bool:
            status, _, body = request(port, "GET", f"/api/v1/replications/{NAME}/", headers)
            return status == 200 and len(json.loads(body)["streams"]) == streams

        runs: list[int] = []

        def start(i: int) -> bool:
            # Each run a stream of its own: a stream already queued would be refused (busy).
            body = json.dumps({"replication": NAME, "streams": [names[i % len(names)]]}).encode()
            status, _, answer = request(port, "POST", "/api/v1/runs/", posted, body)
            if status == 201:
                runs.append(json.loads(answer)["id"])
            return status == 201

        def status(i: int) -> bool:
            code, _, body = request(port, "GET", f"/api/v1/runs/{runs[i % len(runs)]}/", headers)
            return code == 200 and json.loads(body)["status"] == "queued"

        for _ in range(clients * 3):  # every server process reads (and keeps) the version once
            read(0)
        errors = measure("read the replication", read, seconds, clients)["errors"]
        # As many runs as there are streams at most: a stream already queued is refused (busy).
        errors += measure("start a run", start, seconds, clients, limit=streams)["errors"]
        errors += measure("read a run's status", status, seconds, clients)["errors"]
        return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,10000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=3)
    args = parser.parse_args()
    errors = sum(bench(int(size), args.seconds, args.clients) for size in args.sizes.split(","))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
