"""Streams side by side (issue 23): the same replication run by bare `sling run -r` (one process,
its streams one after another) and by the studio's workers (`manage.py worker`, 1 and 4 of them,
the run's streams in batches of processes), timed in one go on the same PostgreSQL server.

- **wait**: 32 streams from PostgreSQL whose query waits 1 s on the server (`pg_sleep`) before
  returning 20,000 rows, into PostgreSQL (what a warehouse load mostly is: waiting).
- **cpu**: 64 CSV files of 20,000 rows into PostgreSQL (sling busy reading and writing).
- **dagster-sling** materializing the wait workload's assets (dagster's `materialize`, in
  `.venv-dagster` as `make dagster-check` makes it, pointed at the same sling binary): its one
  `sling run -r` for the whole replication, timed around `materialize` alone (not dagster's
  import).
- **sqlite**: 16 CSV files of 20,000 rows into one SQLite file with 4 workers: the connection's
  limit (one writer) serialises them; no "database is locked", every row lands.

A studio run's time is from its queueing to its end as the database records them. Every case's
rows are counted in its target. Needs PostgreSQL: `scripts/with-postgres.sh .venv/bin/python
bench/parallel.py` (POSTGRES_URL). Everything else lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from replication.sling import find_binary  # noqa: E402

ROWS = 20_000


def write_csv(path: Path, rows: int) -> None:
    path.write_text("id,name,amount\n" + "".join(f"{i},name {i},{i % 100}.5\n" for i in range(rows)))


def database(server: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as db:
        db.execute(f"create database {name}")
    return server.rsplit("/", 1)[0] + "/" + name


def drop(url: str) -> None:
    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as db:
        db.execute(f"drop database if exists {name} with (force)")


def workload(kind: str, folder: Path, streams: int) -> tuple[str, str]:
    """(source, the streams' YAML) of a workload."""
    if kind == "wait":
        sql = (
            f"select g as id, md5(g::text) as name from generate_series(1, {ROWS}) g, "  # noqa: S608 - the bench's own
            "(select pg_sleep(1)) pause"
        )
        body = "".join(f'  s{n}:\n    sql: "{sql}"\n    object: public.wait_{n}\n' for n in range(streams))
        return "SOURCE_PG", body
    for n in range(streams):
        write_csv(folder / f"f{n}.csv", ROWS)
    body = "".join(f"  file://{folder}/f{n}.csv:\n    object: main.f{n}\n" for n in range(streams))
    return "LOCAL", body.replace("main.", "public.") if kind == "cpu" else body


def replication(kind: str, folder: Path, streams: int, target: str) -> str:
    source, body = workload(kind, folder, streams)
    options = "  source_options: {format: csv, header: true}\n" if source == "LOCAL" else ""
    return f"source: {source}\ntarget: {target}\ndefaults:\n  mode: full-refresh\n{options}streams:\n{body}"


def bare(text: str, folder: Path, env: dict[str, str]) -> float:
    config = folder / "bare.yaml"
    config.write_text(text)
    started = time.monotonic()
    done = subprocess.run(
        [find_binary(), "run", "-r", str(config)], env=env, capture_output=True, text=True, check=False
    )
    took = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"bare sling failed: {done.stderr[-2000:]}")
    return took


DAGSTER = ROOT / ".venv-dagster" / "bin" / "python"

DAGSTER_RUN = """
import os, sys, time
import dagster as dg
from dagster_sling import SlingConnectionResource, SlingResource, sling_assets

@sling_assets(replication_config=sys.argv[1])
def assets(context, sling: SlingResource):
    yield from sling.replicate(context=context)

names = sys.argv[2:]
sling = SlingResource(connections=[
    SlingConnectionResource(name=n, type="postgres", connection_string=os.environ[n]) for n in names
])
started = time.monotonic()
result = dg.materialize([assets], resources={"sling": sling}, raise_on_error=False)
print(time.monotonic() - started)
sys.exit(0 if result.success else 1)
"""


def dagster(text: str, folder: Path, env: dict[str, str]) -> float | None:
    """Seconds dagster-sling's `materialize` took for the replication; None without .venv-dagster."""
    if not DAGSTER.exists():
        print("dagster-sling: skipped (.venv-dagster is missing: `make dagster-check` makes it)")
        return None
    config = folder / "dagster.yaml"
    config.write_text(text)
    names = [n for n in env if n.endswith("_PG")]
    done = subprocess.run(
        [str(DAGSTER), "-c", DAGSTER_RUN, str(config), *names],
        env={**env, "SLING_BINARY": find_binary(), "DAGSTER_HOME": str(folder)},
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
    )
    if done.returncode != 0:
        raise SystemExit(f"dagster-sling failed: {done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def studio(
    text: str, folder: Path, workers: int, connections: dict[str, str], server: str
) -> tuple[float, str]:
    """One run of `text` on `workers` workers: (seconds from queueing to end, its log)."""
    url = database(server)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=url,
        STUDIO_DATA_DIR=str(folder.parent / f"{folder.name}-data-{uuid.uuid4().hex[:6]}"),
        STUDIO_FILE_ROOTS=f"{folder}:rw",
        STUDIO_RUN_PARALLEL=str(max(4, workers)),
    )
    manage = [sys.executable, "manage.py"]
    started: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        saves = "".join(
            f"connection_save(name={n!r}, fields={{'url': {u!r}}})\n" for n, u in connections.items()
        )
        setup = (
            "from studio.services.connections import connection_save\n"
            "from studio.services.replications import replication_import\n"
            f"{saves}replication_import(name='bench', text={text!r})\n"
        )
        subprocess.run([*manage, "shell", "-c", setup], cwd=ROOT, env=env, check=True, capture_output=True)
        for _ in range(workers):
            started.append(
                subprocess.Popen(
                    [*manage, "worker", "--interval", "0.1"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        with psycopg.connect(url, autocommit=True) as db:  # the workers up and idle: their start is not timed
            while db.execute("select count(*) from studio_workerbeat").fetchone()[0] < workers:
                time.sleep(0.1)
        queue = "from studio.services.runs import run_queue\nrun_queue(replication='bench', parallel=4)"
        subprocess.run([*manage, "shell", "-c", queue], cwd=ROOT, env=env, check=True, capture_output=True)
        with psycopg.connect(url, autocommit=True) as db:
            while True:
                status, created, finished = db.execute(
                    "select status, created, finished from studio_run order by id desc limit 1"
                ).fetchone()
                if status not in ("queued", "running"):
                    break
                time.sleep(0.1)
            log = "".join(r[0] for r in db.execute("select text from studio_runlogchunk order by seq"))
            spans = db.execute("select started_at, ended_at from studio_runstream").fetchall()
        if status != "succeeded":
            raise SystemExit(f"studio run {status}: {log[-3000:]}")
        processes = sum(1 for line in log.splitlines() if "] $ " in line or line.startswith("$ "))
        print(
            f"  {workers} worker(s): {(finished - created).total_seconds():.1f} s, "
            f"{processes} sling processes, at most {most_at_once(spans)} streams at once",
            flush=True,
        )
        return (finished - created).total_seconds(), log
    finally:
        for worker in started:
            worker.terminate()
        for worker in started:
            worker.wait()
        drop(url)


def most_at_once(spans: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans], key=lambda e: e)
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def count_pg(url: str, tables: list[str]) -> int:
    with psycopg.connect(url) as db:
        return sum(db.execute(f"select count(*) from {t}").fetchone()[0] for t in tables)  # noqa: S608


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wait-streams", type=int, default=32)
    parser.add_argument("--cpu-streams", type=int, default=64)
    parser.add_argument("--sqlite-streams", type=int, default=16)
    args = parser.parse_args()
    server = os.environ.get("POSTGRES_URL")
    if not server:
        raise SystemExit("POSTGRES_URL is not set: run it with scripts/with-postgres.sh")
    target = database(server)
    target_url = f"{target}?sslmode=disable"
    connections = {"TARGET_PG": target_url, "SOURCE_PG": target_url}
    sling_env = {
        "PATH": os.environ["PATH"],
        "SLING_HOME_DIR": tempfile.mkdtemp(prefix="bench-sling-"),
        **connections,
    }
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for kind, streams in (("wait", args.wait_streams), ("cpu", args.cpu_streams)):
                folder = Path(tmp) / kind
                folder.mkdir()
                text = replication(kind, folder, streams, "TARGET_PG")
                prefix = "wait_" if kind == "wait" else "f"
                tables = [f"public.{prefix}{n}" for n in range(streams)]
                row = {
                    "case": f"{kind}: {streams} streams x {ROWS:,} rows",
                    "bare": bare(text, folder, sling_env),
                }
                assert count_pg(target, tables) == streams * ROWS
                if kind == "wait":
                    with psycopg.connect(target, autocommit=True) as db:
                        for table in tables:
                            db.execute(f"drop table if exists {table}")
                    row["dagster"] = dagster(text, folder, sling_env)
                    if row["dagster"] is not None:
                        assert count_pg(target, tables) == streams * ROWS, "dagster-sling"
                for workers in (1, 4):
                    with psycopg.connect(target, autocommit=True) as db:
                        for table in tables:
                            db.execute(f"drop table if exists {table}")
                    row[workers], _ = studio(text, folder, workers, connections, server)
                    assert count_pg(target, tables) == streams * ROWS, (kind, workers)
                results.append(row)
                print(row, flush=True)
            folder = Path(tmp) / "sqlite"
            folder.mkdir()
            lite = folder / "target.sqlite"
            text = replication("sqlite", folder, args.sqlite_streams, "TARGET_LITE")
            took, log = studio(text, folder, 4, {"TARGET_LITE": f"sqlite://{lite}"}, server)
            with sqlite3.connect(lite) as db:
                landed = sum(
                    db.execute(f"select count(*) from f{n}").fetchone()[0]  # noqa: S608
                    for n in range(args.sqlite_streams)
                )
            print(
                f"sqlite: {args.sqlite_streams} streams x {ROWS:,} rows, 4 workers: {took:.1f} s, "
                f"{landed:,} of {args.sqlite_streams * ROWS:,} rows, "
                f"'database is locked' {'seen' if 'database is locked' in log else 'never'}"
            )
    finally:
        drop(target)
    print(
        "\n| workload | bare `sling run -r` | dagster-sling | studio, 1 worker | studio, 4 workers "
        "| 4 workers vs bare |"
    )
    print("|---|---|---|---|---|---|")
    for row in results:
        took = row.get("dagster")
        print(
            f"| {row['case']} | {row['bare']:.1f} s | {'-' if took is None else f'{took:.1f} s'} | "
            f"{row[1]:.1f} s | {row[4]:.1f} s | {row['bare'] / row[4]:.2f}x faster |"
        )


if __name__ == "__main__":
    main()
