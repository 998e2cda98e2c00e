"""Lineage page benchmark: 10,000 streams and 2,000 downstream assets.

Server time of the graph page (full page and htmx partial), of its JSON export
and of a node's panel, measured in-process with Django's test client, first
with the graph cache empty ("cold") and then warm; then the first interactive
render in Chromium (Playwright): from navigation start to cytoscape's first
frame, cold and warm. Prints numbers; it is not a test.

Run with `make bench` or `.venv/bin/python bench/lineage.py --streams N
--downstream M --repeat R`. Targets (informative, the exit status is 0 unless
something raises): server < 1 s, first render < 2 s.

Django runs on a throwaway SQLite database in a temporary folder, so the real
data folder (and any DATABASE_URL) is never touched.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from foundation import downstream_assets, replication_yaml, setup_django  # noqa: E402

from replication.translator import key_to_string  # noqa: E402

# The biggest view the page draws here: a target schema opened (about 250 nodes, server layout).
OPENED = "expand=MY_SNOWFLAKE&expand=MY_SNOWFLAKE%23%40MY_SNOWFLAKE.raw_schema_3"
SERVER_TARGET_S = 1.0
BROWSER_TARGET_S = 2.0
# A throwaway user of a throwaway database.
PASSWORD = secrets.token_urlsafe(16)
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def load(streams: int, downstream: int) -> None:
    from studio import models
    from studio.services.replications import replication_import

    replication_import(name="bench", text=replication_yaml(streams))
    models.DownstreamAsset.objects.bulk_create(
        (
            models.DownstreamAsset(
                key=key_to_string(asset.key),
                deps=[key_to_string(dep) for dep in asset.deps],
                description=asset.description,
                group=asset.group or "",
                tags=list(asset.tags),
            )
            for asset in downstream_assets(streams, downstream)
        ),
        batch_size=1000,
    )


def timed(fn: Callable[[], Any], repeat: int, *, cold: bool = False) -> list[float]:
    from django.core.cache import caches

    from studio.selectors.lineage import CACHE

    times = []
    for _ in range(repeat):
        if cold:
            caches[CACHE].clear()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def server_rows(repeat: int, downstream: int) -> tuple[list[tuple[str, list[float], float]], Any]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_user("bench", password=PASSWORD)
    client = Client()
    client.force_login(user)

    def get(url: str, **headers: str) -> Callable[[], Any]:
        def fetch() -> None:
            response = client.get(url, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code}")

        return fetch

    selector = f"%2Banalytics/model_{downstream - 1}"
    rows = []
    for cold in (True, False):
        label = "cold" if cold else "warm"
        rows += [
            (
                f"page, a schema opened ({label})",
                timed(get(f"/lineage/?{OPENED}"), repeat, cold=cold),
                SERVER_TARGET_S,
            ),
            (f"page /lineage/ ({label})", timed(get("/lineage/"), repeat, cold=cold), SERVER_TARGET_S),
            (
                f"htmx graph partial ({label})",
                timed(get("/lineage/", hx_request="true"), repeat, cold=cold),
                SERVER_TARGET_S,
            ),
            (
                f"JSON export, whole graph ({label})",
                timed(get("/lineage/export/json/"), repeat, cold=cold),
                SERVER_TARGET_S,
            ),
            (
                f"page ?select=+model_{downstream - 1} ({label})",
                timed(get(f"/lineage/?select={selector}"), repeat, cold=cold),
                SERVER_TARGET_S,
            ),
            (
                f"node panel ({label})",
                timed(
                    get("/lineage/node/?key=target/raw_schema_3/table_7", hx_request="true"),
                    repeat,
                    cold=cold,
                ),
                SERVER_TARGET_S,
            ),
        ]
    return rows, client


def browser_rows(repeat: int, downstream: int) -> list[tuple[str, list[float], float]]:
    if not shutil.which(CHROMIUM):
        print(f"(no Chromium at {CHROMIUM}: browser timings skipped)")
        return []
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.cache import caches
    from django.core.wsgi import get_wsgi_application
    from playwright.sync_api import sync_playwright

    from studio.selectors.lineage import CACHE

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    server = make_server(
        "127.0.0.1", 0, StaticFilesHandler(get_wsgi_application()), _Server, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(f"{base}/login/")
            page.fill("#id_username", "bench")
            page.fill("#id_password", PASSWORD)
            page.click("button.primary")
            page.wait_for_url(f"{base}/")

            def first_render(url: str, cold: bool) -> float:
                if cold:
                    caches[CACHE].clear()
                page.goto("about:blank")
                page.goto(url)
                page.wait_for_selector("body[data-lineage-rendered]")
                drawn = page.get_attribute("body", "data-lineage-rendered")
                return float(drawn or 0) / 1000

            selector = f"%2Banalytics/model_{downstream - 1}"
            for cold in (True, False):
                label = "cold" if cold else "warm"
                for name, url in (
                    ("/lineage/", f"{base}/lineage/"),
                    ("a schema opened", f"{base}/lineage/?{OPENED}"),
                    (f"?select=+model_{downstream - 1}", f"{base}/lineage/?select={selector}"),
                ):
                    times = [first_render(url, cold) for _ in range(repeat)]
                    rows.append((f"first render {name} ({label})", times, BROWSER_TARGET_S))
            browser.close()
    finally:
        server.shutdown()
    return rows


def run(streams: int, downstream: int, repeat: int) -> None:
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    data_dir = setup_django()
    try:
        from django.conf import settings

        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        load(streams, downstream)
        from studio.selectors.lineage import lineage_joined, lineage_view

        graph = lineage_joined()
        print(
            f"streams {streams:,}, downstream {downstream:,}: graph {graph.number_of_nodes():,} nodes, "
            f"{graph.number_of_edges():,} edges"
        )
        for name, expand in (("the page", []), ("a schema opened", ["MY_SNOWFLAKE", OPENED.split("=")[-1]])):
            view = lineage_view(graph, expand=[e.replace("%23", "#").replace("%40", "@") for e in expand])
            print(f"{name} draws {len(view.nodes)} nodes, {len(view.edges)} edges")
        rows, _ = server_rows(repeat, downstream)
        rows += browser_rows(repeat, downstream)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"repetitions: {repeat} (median and min of each)")
    print()
    width = max(len(row[0]) for row in rows) + 2
    print(f"{'step':<{width}}{'median ms':>10}{'min ms':>10}  {'target':<10}result")
    print("-" * (width + 36))
    for name, times, target in rows:
        median = statistics.median(times)
        verdict = "PASS" if median < target else "MISS"
        print(
            f"{name:<{width}}{median * 1000:>10.0f}{min(times) * 1000:>10.0f}  < {target:.0f} s     {verdict}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=10_000, help="streams in the replication")
    parser.add_argument("--downstream", type=int, default=2_000, help="downstream assets")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each step")
    args = parser.parse_args(argv)
    if args.streams < 1 or args.downstream < 1 or args.repeat < 1:
        parser.error("--streams, --downstream and --repeat must be at least 1")
    run(args.streams, args.downstream, args.repeat)


if __name__ == "__main__":
    main()
