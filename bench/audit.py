"""Audit trail benchmark: the audit page and its export over a long trail.

- the first page, unfiltered; filtered by a person, by an object, by a time range; an older page;
- the JSON export of one person's entries (streamed; the whole body read).

Run with `make bench` or `.venv/bin/python bench/audit.py --entries N --repeat R`. Prints numbers;
it is not a test. A throwaway SQLite database in a temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from foundation import setup_django  # noqa: E402

PEOPLE = 50
OBJECTS = 2_000


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def run(entries: int, repeat: int) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from studio import models

    now = timezone.now()
    batch = []
    for i in range(entries):
        batch.append(
            models.AuditEntry(
                at=now - timedelta(seconds=entries - i),
                actor_kind="user",
                actor=f"person{i % PEOPLE}",
                via="page",
                action="changed",
                object_type="connection" if i % 3 else "replication",
                object_name=f"OBJECT_{i % OBJECTS}",
                summary="host, password (secret)",
                details={"fields": {"host": {"from": "a", "to": "b"}, "password": "changed"}},
            )
        )
        if len(batch) == 10_000:
            models.AuditEntry.objects.bulk_create(batch)
            batch = []
    models.AuditEntry.objects.bulk_create(batch)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password")
    client = Client()
    client.force_login(user)
    middle = (now - timedelta(seconds=entries // 2)).strftime("%Y-%m-%dT%H:%M")
    older = models.AuditEntry.objects.order_by("-id").values_list("id", flat=True)[entries // 2]

    def page(query: str) -> Callable[[], None]:
        def get() -> None:
            response = client.get(f"/audit/?{query}", HTTP_HOST="127.0.0.1")
            assert response.status_code == 200, response.status_code

        return get

    def export() -> None:
        response = client.get("/audit/export.json?person=person7", HTTP_HOST="127.0.0.1")
        assert sum(len(part) for part in response.streaming_content) > 0

    rows = [
        ("first page", timed(page(""), repeat)),
        ("a person", timed(page("person=person7"), repeat)),
        ("an object (type and name)", timed(page("object_type=replication&object=OBJECT_12"), repeat)),
        ("until the middle of the trail", timed(page(f"until={middle}"), repeat)),
        ("a page in the middle (before=)", timed(page(f"before={older}"), repeat)),
        (f"export one person's {entries // PEOPLE:,} entries", timed(export, repeat)),
    ]
    print(f"audit trail of {entries:,} entries")
    print(f"{'page':<42} {'median ms':>9} {'min ms':>9}")
    print("-" * 62)
    for name, times in rows:
        print(f"{name:<42} {statistics.median(times) * 1000:>9.0f} {min(times) * 1000:>9.0f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    data_dir = setup_django()
    try:
        run(args.entries, args.repeat)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
