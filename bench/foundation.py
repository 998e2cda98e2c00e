"""Foundation benchmark: a 10,000-stream replication through parse, validate, emit,
import, lineage and selection, with peak memory. Prints numbers; it is not a test.

Run with `make bench` or `.venv/bin/python bench/foundation.py --streams N
--downstream M --repeat R`. The targets (import < 1 s, lineage < 0.5 s, memory
< 300 MB) are informative: the exit status is 0 unless something raises.

Django runs on a throwaway SQLite database in a temporary folder, so the real
data folder (and any DATABASE_URL) is never touched.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from replication import validate, yamlio  # noqa: E402
from replication.lineage.export import to_json  # noqa: E402
from replication.lineage.graph import TARGET, Downstream, build_graph  # noqa: E402
from replication.lineage.select import select  # noqa: E402
from replication.translator import key_to_string  # noqa: E402

IMPORT_TARGET_S = 1.0
LINEAGE_TARGET_S = 0.5
MEMORY_TARGET_MB = 300.0
TABLES_PER_SCHEMA = 200
REPLICATION_NAME = "bench"


# --- generated input ------------------------------------------------------------


def stream_name(i: int) -> str:
    return f"schema_{i // TABLES_PER_SCHEMA}.table_{i % TABLES_PER_SCHEMA}"


def target_key(i: int) -> tuple[str, ...]:
    """The dagster asset key of stream `i` (its explicit `object`, prefixed by `target`)."""
    return ("target", f"raw_schema_{i // TABLES_PER_SCHEMA}", f"table_{i % TABLES_PER_SCHEMA}")


def is_disabled(i: int) -> bool:
    return i % 97 == 96


def stream_yaml(i: int) -> list[str]:
    """One stream as a person would write it; the kind of stream rotates with `i`."""
    schema, table = f"schema_{i // TABLES_PER_SCHEMA}", f"table_{i % TABLES_PER_SCHEMA}"
    lines = [f"  {schema}.{table}:"]
    kind = i % 10
    if kind in (0, 1, 2, 4, 6):
        lines += ["    mode: incremental", f"    object: raw_{schema}.{table}"]
        lines += ["    primary_key: [id]", "    update_key: updated_at"]
    elif kind == 3:
        lines += ["    mode: full-refresh", f"    object: raw_{schema}.{table}"]
        lines += [f"    tags: [nightly, {schema}]"]
    elif kind == 5:
        lines += ["    mode: incremental", f"    object: raw_{schema}.{table}"]
        lines += ["    primary_key: [id, version]", "    update_key: modified_at"]
        lines += [
            "    sql: |",
            "      select id, version, amount, status, modified_at",
            f"      from {schema}.{table}",
            "      where {incremental_where_cond}",
        ]
        lines += ["    columns:", "      amount: decimal(18,2)", "      status: string(32)"]
    elif kind == 7:
        lines += ["    mode: backfill", f"    object: raw_{schema}.{table}"]
        lines += ["    primary_key: [id]", "    update_key: created_at"]
        lines += ["    source_options:", "      range: '2024-01-01,2024-12-31'", "      chunk_size: 1m"]
        lines += ["    meta:", "      dagster:", f"        group: backfill_{schema}"]
    elif kind == 8:
        lines += ["    mode: snapshot", f"    object: raw_{schema}.{table}"]
        lines += ["    select: [id, name, -internal_notes]"]
        lines += ["    target_options:", "      table_keys:", "        index: [id]"]
        lines += ["    meta:", "      dagster:", "        group: snapshots", f"        description: {table}"]
    else:
        lines += [f"    object: raw_{schema}.{table}", "    where: deleted_at is null"]
    if is_disabled(i):
        lines.append("    disabled: true")
    return lines


def replication_yaml(streams: int) -> str:
    lines = [
        "source: MY_POSTGRES",
        "target: MY_SNOWFLAKE",
        "",
        "defaults:",
        "  mode: full-refresh",
        "  object: '{stream_schema}.{stream_table}'",
        "  target_options:",
        "    column_casing: snake",
        "    add_new_columns: true",
        "  meta:",
        "    dagster:",
        "      group: raw",
        "",
        "streams:",
    ]
    for i in range(streams):
        lines += stream_yaml(i)
    lines += ["", "env:", "  SLING_THREADS: 4", ""]
    return "\n".join(lines)


def downstream_assets(streams: int, count: int, seed: int = 7) -> list[Downstream]:
    """A DAG of dbt-like models, each reading 1-3 assets: the first 30% (staging)
    read enabled target tables only, the rest mostly (80%) earlier models."""
    rng = random.Random(seed)
    enabled = [i for i in range(streams) if not is_disabled(i)]
    staging = int(count * 0.3)
    assets: list[Downstream] = []
    for i in range(count):
        deps: set[tuple[str, ...]] = set()
        for _ in range(rng.randint(1, 3)):
            if i >= max(staging, 1) and rng.random() < 0.8:
                deps.add(("analytics", f"model_{rng.randrange(i)}"))
            else:
                deps.add(target_key(rng.choice(enabled)))
        assets.append(
            Downstream(
                key=("analytics", f"model_{i}"),
                deps=tuple(sorted(deps)),
                description=f"dbt model {i}",
                group="analytics",
                tags=("dbt",) if i % 2 else ("dbt", "finance"),
            )
        )
    return assets


# --- measuring ------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Seconds of each of `repeat` calls of `fn`, and the last call's result."""
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def setup_django() -> str:
    """Point the studio at a fresh temporary data folder, set Django up and migrate."""
    data_dir = tempfile.mkdtemp(prefix="sling-studio-bench-")
    os.environ["STUDIO_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return data_dir


def max_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 / 1024 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KB on Linux


def verdict(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return "PASS" if value < target else "MISS"


def run(streams: int, downstream_count: int, repeat: int) -> None:
    text = replication_yaml(streams)
    downstream = downstream_assets(streams, downstream_count)
    selector = f"+analytics/model_{downstream_count - 1}"
    rows: list[tuple[str, list[float], float | None, str]] = []

    times, doc = timed(lambda: yamlio.parse(text), repeat)
    rows.append(("parse", times, None, ""))
    times, problems = timed(lambda: validate.validate(doc.replication, doc.line_of), repeat)
    rows.append(("validate", times, None, ""))
    errors = [p for p in problems if p.severity == validate.ERROR]
    if errors:
        raise RuntimeError(f"the generated replication has {len(errors)} errors, first: {errors[0]}")
    times, emitted = timed(lambda: yamlio.emit(doc.replication), repeat)
    rows.append(("emit", times, None, ""))

    def domain_lineage() -> tuple[Any, str]:
        graph = build_graph([(REPLICATION_NAME, doc.replication)], downstream)
        return graph, to_json(graph)

    times, (graph, graph_json) = timed(domain_lineage, repeat)
    rows.append(("lineage JSON (domain)", times, LINEAGE_TARGET_S, "< 0.5 s"))
    targets = sum(1 for _, kind in graph.nodes(data="kind") if kind == TARGET)
    enabled = sum(1 for i in range(streams) if not is_disabled(i))
    if targets != enabled:
        raise RuntimeError(f"{targets} target assets for {enabled} enabled streams: keys are not distinct")
    times, selected = timed(lambda: select(graph, selector), repeat)
    rows.append((f"select {selector}", times, None, ""))

    domain_rss_mb = max_rss_mb()  # ru_maxrss only grows: this is the peak before Django
    data_dir = setup_django()
    try:
        from studio import models
        from studio.selectors.lineage import lineage_graph
        from studio.services.replications import replication_import

        times, _ = timed(lambda: replication_import(name=REPLICATION_NAME, text=text), repeat)
        rows.append(("import (parse+validate+store)", times, IMPORT_TARGET_S, "< 1 s"))
        models.DownstreamAsset.objects.bulk_create(
            (
                models.DownstreamAsset(
                    key=key_to_string(asset.key),
                    deps=[key_to_string(dep) for dep in asset.deps],
                    description=asset.description,
                    group=asset.group or "",
                    tags=list(asset.tags),
                )
                for asset in downstream
            ),
            batch_size=1000,
        )

        def db_lineage() -> str:
            return to_json(lineage_graph([REPLICATION_NAME]))

        times, db_json = timed(db_lineage, repeat)
        rows.append(("lineage JSON (database)", times, LINEAGE_TARGET_S, "< 0.5 s"))
        stored = models.Stream.objects.count()
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(data_dir, ignore_errors=True)

    # Memory of one cycle, measured apart: tracemalloc slows everything it watches.
    gc.collect()
    tracemalloc.start()
    cycle_doc = yamlio.parse(text)
    validate.validate(cycle_doc.replication, cycle_doc.line_of)
    to_json(build_graph([(REPLICATION_NAME, cycle_doc.replication)], downstream))
    peak_mb = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    del cycle_doc
    rss_mb = max_rss_mb()

    print(
        f"streams {streams:,} ({streams - enabled:,} disabled, {len(problems):,} warnings), "
        f"downstream {downstream_count:,}, stored stream rows {stored:,}"
    )
    print(
        f"graph: {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges; "
        f"selection {selector}: {len(selected):,} nodes"
    )
    print(
        f"YAML {len(text.encode()) / 1024:,.0f} KB in, {len(emitted.encode()) / 1024:,.0f} KB emitted; "
        f"lineage JSON {len(graph_json.encode()) / 1024:,.0f} KB "
        f"(database graph {'identical' if db_json == graph_json else 'DIFFERS'})"
    )
    print(f"repetitions: {repeat} (median and min of each)")
    print()
    width = max(len(row[0]) for row in rows) + 2
    print(f"{'step':<{width}}{'median s':>10}{'min s':>10}  {'target':<10}result")
    print("-" * (width + 36))
    for name, times, target, label in rows:
        median = statistics.median(times)
        line = f"{name:<{width}}{median:>10.3f}{min(times):>10.3f}  {label:<10}{verdict(median, target)}"
        print(line.rstrip())
    print()
    print(f"{'memory':<{width}}{'MB':>10}{'':>10}  {'target':<10}result")
    print("-" * (width + 36))
    memory = (
        ("tracemalloc peak (one cycle)", peak_mb),
        ("max RSS before Django", domain_rss_mb),
        ("max RSS at the end", rss_mb),
    )
    for name, value in memory:
        print(f"{name:<{width}}{value:>10.1f}{'':>10}  {'< 300 MB':<10}{verdict(value, MEMORY_TARGET_MB)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=10_000, help="streams in the replication")
    parser.add_argument("--downstream", type=int, default=2_000, help="downstream assets")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of each step")
    args = parser.parse_args(argv)
    if args.streams < 1 or args.downstream < 1 or args.repeat < 1:
        parser.error("--streams, --downstream and --repeat must be at least 1")
    run(args.streams, args.downstream, args.repeat)


if __name__ == "__main__":
    main()
