"""Import preview benchmark (issue 22, finding 8): the editor's "Import YAML" preview of big
files, through the view as the browser posts them. Prints seconds and the answer's size; it is
not a test. A 60,000-stream file held a server thread for 14 s before the limits
(`studio.services.replications.PREVIEW_WRITTEN`, `PREVIEW_STREAMS`).

Run with `make bench` or `.venv/bin/python bench/preview.py --repeat R`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from foundation import replication_yaml, setup_django, timed  # noqa: E402


def wide(streams: int, keys: int) -> str:
    """`streams` streams of `keys` keys each: more to read than the benchmark's usual file."""
    own = "".join(f"    k{k}: v\n" for k in range(keys))
    body = "".join(f"  public.t{i:06d}:\n    object: raw.t{i:06d}\n{own}" for i in range(streams))
    return f"source: PG\ntarget: SNOW\nstreams:\n{body}"


def run(repeat: int) -> None:
    data_dir = setup_django()
    try:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.test import Client, override_settings

        from studio.services.replications import replication_import

        replication_import(name="bench", text=replication_yaml(10))
        user = get_user_model().objects.create_user("bench", "bench@example.com", "bench")
        user.groups.add(Group.objects.get_or_create(name="editor")[0])
        client = Client()
        client.force_login(user)
        cases = {
            "60,000 streams (refused)": replication_yaml(60_000),
            "10,000 streams": replication_yaml(10_000),
            "10,000 streams of 12 keys (refused)": wide(10_000, 10),
            "8,000 streams of 12 keys": wide(8_000, 10),
            "20,000 streams of 2 keys (refused)": wide(20_000, 0),
        }
        print(f"{'file':<38} {'MB':>6} {'status':>6} {'answer MB':>9} {'median s':>9} {'max s':>7}")
        with override_settings(ALLOWED_HOSTS=["*"]):
            for label, text in cases.items():
                times, answer = timed(lambda t=text: client.post("/r/bench/import/", {"text": t}), repeat)
                print(
                    f"{label:<38} {len(text) / 2**20:>6.2f} {answer.status_code:>6} "
                    f"{len(answer.content) / 2**20:>9.2f} {statistics.median(times):>9.2f} {max(times):>7.2f}"
                )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    run(parser.parse_args().repeat)
