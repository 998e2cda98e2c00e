"""Server time of the editor's htmx swaps on a 1,000-stream replication.

Requests go through Django's test client in this process, so the numbers are
the server's work (URL routing, view, queries, template), not the network's.
Target for the main swaps: p95 < 50 ms.

    .venv/bin/python bench/editor.py [--streams 1000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 50.0


def setup_django() -> str:
    data_dir = tempfile.mkdtemp(prefix="bench-editor-")
    os.environ["STUDIO_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["DEBUG"] = "false"
    os.environ["SECURE_SSL_REDIRECT"] = "false"  # the test client speaks plain HTTP
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def replication_yaml(streams: int) -> str:
    lines = [
        "source: PG",
        "target: WAREHOUSE",
        "defaults:",
        "  mode: incremental",
        "  object: 'raw.{stream_schema}_{stream_table}'",
        "  primary_key: [id]",
        "  target_options: {column_casing: snake}",
        "streams:",
    ]
    for i in range(streams):
        lines.append(f"  schema_{i // 100}.table_{i}:")
        lines.append(f"    object: raw.table_{i}")
        if i % 3 == 0:
            lines.append("    update_key: updated_at")
        if i % 7 == 0:
            lines.append("    tags: [finance]")
    return "\n".join(lines) + "\n"


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    call()  # warm up: template and URL caches
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    data_dir = setup_django()
    try:
        run(args.streams, args.repeat)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def run(streams: int, repeat: int) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from studio import models
    from studio.services.replications import replication_import

    replication_import(name="bench", text=replication_yaml(streams))
    user = get_user_model().objects.create_superuser("bench", password="x")  # noqa: S106
    client = Client()
    client.force_login(user)
    htmx = {"HTTP_HX_REQUEST": "true"}
    replication = models.Replication.objects.get(name="bench")
    stream = replication.streams.get(position=streams // 2)
    base = "/r/bench/"
    form = {
        "name": stream.name,
        "object": stream.object,
        "mode": "incremental",
        "update_key": "updated_at",
    }

    def check() -> None:
        response = client.post(f"{base}streams/{stream.pk}/check/", form, **htmx)
        assert response.status_code == 200, response.status_code

    def save() -> None:
        version = models.Replication.objects.values_list("version", flat=True).get(pk=replication.pk)
        toggled = {**form, "description": f"edited {time.perf_counter()}", "version": version}
        response = client.post(f"{base}streams/{stream.pk}/", toggled, **htmx)
        assert response.status_code == 200, response.status_code

    def get(url: str, **headers: str) -> Callable[[], None]:
        def call() -> None:
            response = client.get(url, **headers)
            assert response.status_code == 200, (url, response.status_code)

        return call

    steps = [
        ("streams table (filter 'table_5')", get(f"{base}streams/?q=table_5", **htmx), True),
        ("streams table (page 5, by name)", get(f"{base}streams/?page=5&sort=name", **htmx), True),
        ("stream panel (open a stream)", get(f"{base}streams/{stream.pk}/", **htmx), True),
        ("stream check (validate as you type)", check, True),
        ("problems panel", get(f"{base}problems/", **htmx), True),
        ("editor page (full)", get(base), False),
        ("save a stream (+ its revision)", save, True),
        ("YAML preview", get(f"{base}yaml/", **htmx), False),
    ]
    print(f"editor of a {streams:,}-stream replication, {repeat} requests per step (Django test client)\n")
    print(f"{'step':40} {'p50 ms':>8} {'p95 ms':>8}  target")
    print("-" * 72)
    for label, call, main_swap in steps:
        samples = sorted(timed(call, repeat))
        p50 = statistics.median(samples)
        p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
        verdict = ("PASS" if p95 < TARGET_MS else "MISS") if main_swap else ""
        target = f"< {TARGET_MS:.0f} ms {verdict}" if main_swap else "(not a swap target)"
        print(f"{label:40} {p50:8.1f} {p95:8.1f}  {target}")


if __name__ == "__main__":
    main()
