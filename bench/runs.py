"""Run overhead benchmark: a 300,000-row CSV -> SQLite replication run by bare
`sling run -r` and by `manage.py run_replication`, alternately, and the ratio of
their median wall times (target < 1.05). Prints numbers; it is not a test.

A 1-row replication, run the same way, gives the fixed cost apart (Python and
Django start-up, the run's records): the ratio at 300,000 rows is that cost over
sling's time, and this machine's noise on top (target < 0.25 s). Then a worker
(`manage.py worker`) is started and the 1-row replication queued again and again,
each once the worker is idle: the time from each run's queueing to its start
(target < 0.3 s).

Run with `make bench` or `.venv/bin/python bench/runs.py --rows N --repeat R`.
Both sides run the same replication file's content into the same SQLite target,
as subprocesses, with the same Sling home; each run's row count is checked in
the target itself. Everything lives in a temporary folder (the studio's
database too), so the real data folder and any DATABASE_URL are never touched.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from replication.sling import find_binary  # noqa: E402

RATIO_TARGET = 1.05
FIXED_TARGET = 0.25
PICKUP_TARGET = 0.3
NAME = "bench"
CONNECTION = "BENCH_SQLITE"


def write_csv(path: Path, rows: int) -> None:
    with path.open("w") as out:
        out.write("id,name,amount,created_at\n")
        for start in range(0, rows, 100_000):
            out.write(
                "".join(
                    f"{i},customer {i},{i % 1000}.25,2024-01-{i % 28 + 1:02d}\n"
                    for i in range(start, min(rows, start + 100_000))
                )
            )


def replication_yaml(csv: Path) -> str:
    return (
        f"source: LOCAL\ntarget: {CONNECTION}\n"
        "defaults:\n  mode: full-refresh\n  source_options: {format: csv, header: true}\n"
        f"streams:\n  file://{csv}:\n    object: main.bench\n"
    )


def count(target: Path) -> int:
    with sqlite3.connect(target) as db:
        return db.execute("select count(*) from main.bench").fetchone()[0]


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return elapsed


BARE, STUDIO = "bare sling run -r", "manage.py run_replication"


def studio_environment(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONDONTWRITEBYTECODE")}
    env["STUDIO_DATA_DIR"] = str(tmp / "data")
    env["STUDIO_FILE_ROOTS"] = f"{tmp / 'files'}:rw"  # the CSV and the target are open to sling
    # Compiled once, as on a deployed studio (not every start, as PYTHONDONTWRITEBYTECODE would).
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


def pickup(tmp: Path, name: str, repeat: int) -> list[float]:
    """Seconds from a run queued (as the browser's Run button queues it) to an idle worker
    starting it, read from the run's own times: `created` and `started`."""
    env = studio_environment(tmp)
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    queue = [sys.executable, str(ROOT / "manage.py"), "run_replication", name, "--queue"]
    database = tmp / "data" / "studio.sqlite3"
    delays = []
    try:
        for _ in range(repeat):
            done = subprocess.run(queue, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
            run_id = int(done.stdout.split("#")[1])
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                time.sleep(0.5)  # queued apart: the worker is idle when the next comes
                with sqlite3.connect(database) as db:
                    sql = (
                        "select julianday(started) - julianday(created), finished from studio_run where id=?"
                    )
                    row = db.execute(sql, (run_id,)).fetchone()
                if row and row[1]:
                    delays.append(row[0] * 86_400)
                    break
            else:
                raise RuntimeError(f"run #{run_id} did not end within 60 s")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return delays


def compare(tmp: Path, name: str, rows: int, repeat: int) -> tuple[dict[str, list[float]], list[int]]:
    """Import a CSV -> SQLite replication `name` of `rows` rows, then time both commands alternately."""
    # Beside the data folder, not around it (the kernel cannot fence a folder inside an open one).
    (tmp / "files").mkdir(exist_ok=True)
    csv, target, config = (
        tmp / "files" / f"{name}.csv",
        tmp / "files" / f"{name}.sqlite",
        tmp / f"{name}.yaml",
    )
    write_csv(csv, rows)
    config.write_text(replication_yaml(csv))
    connection = {"type": "sqlite", "url": f"sqlite://{target}"}
    (tmp / "env.yaml").write_text(json.dumps({"connections": {CONNECTION: connection}}))
    studio_env = studio_environment(tmp)
    manage = [sys.executable, str(ROOT / "manage.py")]
    for args in (
        ["migrate", "-v0"],
        ["import_connections", str(tmp / "env.yaml")],
        ["import_replication", str(config), "--name", name],
    ):
        subprocess.run([*manage, *args], env=studio_env, cwd=ROOT, check=True, capture_output=True)

    # Bare sling as a user would run it: the connection in the environment, the studio's Sling home
    # (HOME too, as the studio gives it: the Snowflake driver's cache goes there, not in ~).
    home = str(tmp / "data" / "sling")
    bare_env = dict(os.environ, SLING_HOME_DIR=home, HOME=home)
    bare_env[CONNECTION] = json.dumps(connection)
    commands = {
        BARE: ([find_binary(os.environ.get("SLING_BINARY")), "run", "-r", str(config)], bare_env),
        STUDIO: ([*manage, "run_replication", name], studio_env),
    }
    times: dict[str, list[float]] = {label: [] for label in commands}
    counts = []
    for _ in range(repeat):
        for label, (argv, env) in commands.items():
            times[label].append(timed(argv, env))
            counts.append(count(target))
    return times, counts


def report(title: str, times: dict[str, list[float]]) -> float:
    print(title)
    width = max(len(label) for label in times) + 2
    print(f"{'command':<{width}}{'median s':>10}{'min s':>10}{'max s':>10}")
    print("-" * (width + 30))
    for label, values in times.items():
        print(f"{label:<{width}}{statistics.median(values):>10.2f}{min(values):>10.2f}{max(values):>10.2f}")
    return statistics.median(times[STUDIO]) / statistics.median(times[BARE])


def confinement_cost(repeat: int = 200) -> list[float]:
    """Seconds the kernel's confinement adds to starting sling, `repeat` times: its rules made (the
    binary's loader found, each path opened) and a thread restricted, as for every run; the
    process it then starts costs what it costs unconfined."""
    from replication.sling import sandbox

    binary = Path(find_binary(os.environ.get("SLING_BINARY")))
    costs = []
    for _ in range(repeat):
        start = time.perf_counter()
        rules = sandbox.for_sling(
            binary=binary, read=[ROOT / "demo" / "data"], write=[Path(tempfile.gettempdir())]
        )
        sandbox.confined(rules, lambda: None)
        costs.append(time.perf_counter() - start)
    return costs


def run(rows: int, repeat: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="studio-bench-runs-"))
    try:
        times, counts = compare(tmp, "bench", rows, repeat)
        fixed, _ = compare(tmp, "one-row", 1, repeat)
        delays = pickup(tmp, "one-row", repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ratio = report(f"CSV -> SQLite, {rows:,} rows, {repeat} runs each, alternating", times)
    verdict = "PASS" if ratio < RATIO_TARGET else "MISS"
    print(f"ratio run_replication / bare: {ratio:.3f} (target < {RATIO_TARGET}) {verdict}")
    right = sum(1 for c in counts if c == rows)
    print(f"rows in the target after each run: {right} of {len(counts)} runs had {rows:,}")
    print()
    report(f"the same with 1 row: the fixed cost of the studio, {repeat} runs each", fixed)
    overhead = statistics.median(fixed[STUDIO]) - statistics.median(fixed[BARE])
    share = overhead / statistics.median(times[BARE])
    print(f"fixed cost: {overhead:.2f} s per run, {share:.1%} of bare sling's time at {rows:,} rows")
    print(
        f"fixed cost target < {FIXED_TARGET} s: {'PASS' if overhead < FIXED_TARGET else 'MISS'}"
        f" (this machine's load counts in it: compare with a run of the same bench on main)"
    )
    print()
    print(f"a run queued while the worker is idle, to its start ({repeat} runs, s):")
    print(f"median {statistics.median(delays):.3f}, max {max(delays):.3f} (target < {PICKUP_TARGET} s)")
    costs = sorted(confinement_cost())
    median, p95 = statistics.median(costs), costs[int(len(costs) * 0.95)]
    print()
    print(
        f"the kernel's confinement (Landlock) of a sling, {len(costs)} times: median {median * 1000:.2f} ms,"
    )
    print(f"p95 {p95 * 1000:.2f} ms (target < 10 ms)")
    if right != len(counts):
        raise SystemExit(f"row counts in the target: {counts}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000, help="rows in the CSV file")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    run(args.rows, args.repeat)


if __name__ == "__main__":
    main()
