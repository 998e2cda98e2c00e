"""Text benchmark (issue 13): a commented 10,000-stream replication.yaml imported, exported
unchanged, and exported after one stream is edited. Prints numbers; it is not a test.

Run with `make bench` or `.venv/bin/python bench/text.py --streams N --repeat R`.
`canonical emit` is what an export cost before the studio kept the text (it re-emitted
the whole document); the target is an export within 1.5x of it. The same script runs on
an older checkout (it uses only services that existed before) to measure "before".
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from foundation import replication_yaml, setup_django, stream_name, timed  # noqa: E402

from replication import yamlio  # noqa: E402


def commented(streams: int) -> str:
    """The foundation benchmark's file, with the comments a team writes: a header, one
    line above every tenth stream, and one after a value of every seventh."""
    out = ["# Nightly load from the shop's database. Owner: data team (#data-eng).", ""]
    for i, line in enumerate(replication_yaml(streams).split("\n")):
        if line.startswith("  schema_") and line.endswith(":"):
            n = int(line.split("table_")[1].rstrip(":")) if "table_" in line else 0
            if n % 10 == 0:
                out.append(f"  # {line.strip()[:-1]}: reviewed with its owner")
        if line.startswith("    mode:") and i % 7 == 0:
            line += "  # see the runbook"
        out.append(line)
    return "\n".join(out)


def run(streams: int, repeat: int) -> None:
    text = commented(streams)
    data_dir = setup_django()
    rows: list[tuple[str, list[float]]] = []
    try:
        from studio import models
        from studio.selectors.replications import replication_yaml as exported
        from studio.services.replications import replication_import, stream_update

        times, _ = timed(lambda: replication_import(name="bench", text=text), repeat)
        rows.append(("import (parse+validate+store)", times))
        times, same = timed(lambda: exported(name="bench"), repeat)
        rows.append(("export, unchanged", times))
        replication = models.Replication.objects.get(name="bench")
        times, _ = timed(lambda: yamlio.emit(replication.as_config()), repeat)
        rows.append(("canonical emit (export before)", times))

        name = stream_name(streams // 2)
        edits, first_reads = [], []
        for n in range(repeat):
            replication = models.Replication.objects.get(name="bench")
            config = replication.as_config()
            own = {**config.streams[name], "description": f"edit {n}"}
            edit_times, _ = timed(
                lambda own=own, r=replication, c=config: stream_update(
                    replication=r, config=c, old=name, new=name, own=own
                ),
                1,
            )
            edits += edit_times
            read_times, edited = timed(lambda: exported(name="bench"), 1)
            first_reads += read_times
        rows.append(("stream save (request path)", edits))
        rows.append(("export after the save (first read)", first_reads))
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(data_dir, ignore_errors=True)

    diff = [
        d
        for d in difflib.unified_diff(text.splitlines(), edited.splitlines(), n=0, lineterm="")
        if d[:1] in "+-" and d[:3] not in ("+++", "---")
    ]
    print(f"streams {streams:,}; YAML {len(text.encode()) / 1024:,.0f} KB with {text.count('#'):,} comments")
    print(f"export unchanged identical to the file: {'yes' if same == text else 'NO'}")
    print(f"one description edited: {len(diff)} line(s) of the export differ from the file")
    print(f"repetitions: {repeat} (median and min of each)")
    print()
    width = max(len(row[0]) for row in rows) + 2
    print(f"{'step':<{width}}{'median s':>10}{'min s':>10}")
    print("-" * (width + 20))
    for step, times in rows:
        print(f"{step:<{width}}{statistics.median(times):>10.3f}{min(times):>10.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if args.streams < 1 or args.repeat < 1:
        parser.error("--streams and --repeat must be at least 1")
    run(args.streams, args.repeat)


if __name__ == "__main__":
    main()
