"""The editor at 100, 10,000 and 50,000 streams: each action timed in Chromium against a live
server, and on the server alone.

For each size, a throwaway data folder (SQLite) gets one replication of that many streams;
a live server (`manage.py runserver --noreload` on 127.0.0.1:8016, DEBUG off) serves it and
Debian's Chromium, driven by Playwright, does what a user does:

- first paint: open the editor page (first contentful paint, from the navigation's start);
- filter and sort the streams table (from the request htmx sends, after its debounce, to the
  swapped table on screen);
- open a stream's panel, type in it (the live check), save it (until the page parts the save
  refreshes are on screen too), tick three streams and disable or enable them (bulk edit).

Then the same requests through Django's test client in this process: the server's work only.
Prints p50 and p95 (ms) per action and size. Timings are printed, never asserted.

    .venv/bin/python bench/editor.py [--sizes 100,10000,50000] [--repeat 5] [--port 8016] [--server-only]
                                     [--beside 10000]

`--beside N`: another replication of N streams (writing the same objects) is in the studio too,
as when a day's work goes from one replication to another.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TARGET_MS = 150.0  # p95 of filter, panel and save in Chromium at 10,000 streams
PAINT_TARGET_MS = 500.0
BROWSER_ACTIONS = ["first paint", "filter", "sort", "open a stream panel", "live check", "save", "bulk edit"]
SERVER_ACTIONS = [
    "editor page",
    "filter",
    "sort",
    "open a stream panel",
    "live check",
    "save",
    "bulk edit",
    "problems",
]
PASSWORD = "bench-password"  # noqa: S105 - a throwaway user of a throwaway database

# Counts the page's requests (htmx's are XMLHttpRequests); `done` turns true two frames after
# the last one has answered and its answer is swapped in (htmx swaps in `load`, before `loadend`).
INSTRUMENT = """
window.__bench = {pending: 0, start: null, end: null, done: false};
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (...args) {
  const b = window.__bench;
  if (b.start === null) b.start = performance.now();
  b.pending += 1;
  b.done = false;
  this.addEventListener("loadend", () => {
    b.pending -= 1;
    if (b.pending > 0) return;
    requestAnimationFrame(() => requestAnimationFrame(() => {
      if (b.pending === 0) { b.end = performance.now(); b.done = true; }
    }));
  });
  return send.apply(this, args);
};
"""


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


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


# --- one size, in a process of its own (settings are read once per process) --------------------


def environment(data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        STUDIO_DATA_DIR=data_dir,
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        SECRET_KEY="bench-only",  # noqa: S106 - a throwaway server
        ALLOWED_HOSTS="127.0.0.1,testserver",
        DJANGO_SETTINGS_MODULE="studio.settings",
    )
    return env


def one_size(streams: int, repeat: int, port: int, browser: bool, beside: int = 0) -> dict[str, Any]:
    data_dir = tempfile.mkdtemp(prefix="bench-editor-")
    os.environ.update(environment(data_dir))
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from studio.services.replications import replication_import

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    replication_import(name="bench", text=replication_yaml(streams))
    imported = time.perf_counter() - started
    if beside:
        replication_import(name="beside", text=replication_yaml(beside))
    get_user_model().objects.create_superuser("bench", password=PASSWORD)
    result: dict[str, Any] = {"streams": streams, "import_s": imported, "browser": {}, "server": {}}
    try:
        if browser:
            result["browser"] = browser_times(data_dir, streams, repeat, port)
        result["server"] = server_times(streams, repeat)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def start_server(data_dir: str, port: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"]
    server = subprocess.Popen(
        [*argv, "--insecure", "--skip-checks"],
        cwd=ROOT,
        env=environment(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"the server on port {port} exited ({server.returncode})") from None
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"no server on port {port} after 60 s")


def browser_times(data_dir: str, streams: int, repeat: int, port: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    server = start_server(data_dir, port)
    base = f"http://127.0.0.1:{port}"
    times: dict[str, list[float]] = {action: [] for action in BROWSER_ACTIONS}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)
            context.add_init_script(INSTRUMENT)
            page = context.new_page()
            page.set_default_timeout(float(os.environ.get("BENCH_TIMEOUT_MS", "300000")))
            page.goto(f"{base}/login/")
            page.fill("#id_username", "bench")
            page.fill("#id_password", PASSWORD)
            page.click("button.primary")
            page.wait_for_url(f"{base}/")
            editor = f"{base}/r/bench/"
            page.goto(editor)  # warm up: templates, caches
            for _ in range(repeat):
                page.goto(editor, wait_until="load")
                page.wait_for_function("performance.getEntriesByName('first-contentful-paint').length > 0")
                paint = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
                times["first paint"].append(paint)
            act = _actor(page)
            filters = ["table_1", "schema_3", "table_42", "table_77", "schema_1", "table_"]
            sorts = ["name", "-name", "mode", "object", "position"]
            for i in range(repeat + 1):
                sample = act(lambda i=i: page.fill("input[name=q]", filters[i % len(filters)]))
                if i:  # the first of each is a warm-up
                    times["filter"].append(sample)
            act(lambda: page.fill("input[name=q]", ""))
            for i in range(repeat + 1):
                sample = act(lambda i=i: page.select_option("select[name=sort]", sorts[i % len(sorts)]))
                if i:
                    times["sort"].append(sample)
            for i in range(repeat + 1):
                rows = page.locator("#streams tbody tr td.stream-name a")
                row = rows.nth((i * 37) % rows.count())
                panel = act(row.click)
                check = act(lambda i=i: page.fill("#stream-panel #id_description", f"checked {i}"))
                page.fill("#stream-panel #id_description", f"saved {i} {time.time()}")
                save = act(lambda: page.click("#stream-panel button.primary"))
                if i:
                    times["open a stream panel"].append(panel)
                    times["live check"].append(check)
                    times["save"].append(save)
            for i in range(repeat + 1):
                boxes = page.locator("#streams tbody input[name=streams]")
                for n in range(3):
                    boxes.nth((i * 3 + n * 11) % boxes.count()).check()
                page.select_option("#bulk select[name=action]", "disable" if i % 2 == 0 else "enable")
                sample = act(lambda: page.click("#bulk .bulk-bar button:not([type=button])"))
                if i:
                    times["bulk edit"].append(sample)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return times


def _actor(page: Any) -> Callable[[Callable[[], object]], float]:
    """`act(do)`: do something that sends htmx requests; the ms from the first request to the
    last swap on screen."""

    def act(do: Callable[[], object]) -> float:
        page.evaluate("Object.assign(window.__bench, {start: null, done: false, end: null})")
        do()
        try:
            page.wait_for_function("window.__bench.done && window.__bench.start !== null")
        except Exception:
            print(page.evaluate("JSON.stringify(window.__bench)"), file=sys.stderr)
            raise
        return page.evaluate("window.__bench.end - window.__bench.start")

    return act


def server_times(streams: int, repeat: int) -> dict[str, list[float]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from replication.util import tune_gc_for_server
    from studio import models

    tune_gc_for_server()  # as the server does (studio/wsgi.py)
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    htmx = {"HTTP_HX_REQUEST": "true"}
    replication = models.Replication.objects.get(name="bench")
    stream = replication.streams.get(position=streams // 2)
    ticked = list(replication.streams.filter(position__in=[1, streams // 3, streams - 2]).values_list("pk"))
    base = "/r/bench/"
    form = {"name": stream.name, "object": stream.object, "mode": "incremental", "update_key": "updated_at"}
    counter = iter(range(10**9))

    def version() -> int:
        return models.Replication.objects.values_list("version", flat=True).get(pk=replication.pk)

    def ok(response: Any) -> None:
        assert response.status_code == 200, (response.status_code, response.content[:300])

    def get(url: str, **headers: str) -> Callable[[], None]:
        return lambda: ok(client.get(url, **headers))

    def check() -> None:
        ok(client.post(f"{base}streams/{stream.pk}/check/", {**form, "description": "x"}, **htmx))

    def save() -> None:
        edited = {**form, "description": f"edited {next(counter)}", "version": version()}
        ok(client.post(f"{base}streams/{stream.pk}/", edited, **htmx))

    def bulk() -> None:
        action = "disable" if next(counter) % 2 else "enable"
        data = {"action": action, "streams": [pk for (pk,) in ticked], "version": version()}
        ok(client.post(f"{base}streams/bulk/", data, **htmx))

    steps = {
        "editor page": get(base),
        # A filter matching 100 streams at every size: the same page of 50 rows to show.
        "filter": get(f"{base}streams/?q=schema_0.", **htmx),
        "sort": get(f"{base}streams/?page=5&sort=name", **htmx),
        "open a stream panel": get(f"{base}streams/{stream.pk}/", **htmx),
        "live check": check,
        "save": save,
        "bulk edit": bulk,
        "problems": get(f"{base}problems/", **htmx),
    }
    times: dict[str, list[float]] = {}
    for label, call in steps.items():
        call()  # warm up
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            call()
            samples.append((time.perf_counter() - start) * 1000)
        times[label] = samples
    return times


# --- the report ------------------------------------------------------------------------------


def report(results: list[dict[str, Any]]) -> None:
    sizes = [r["streams"] for r in results]
    header = f"{'action':24}" + "".join(f"{f'{n:,} p50':>12}{'p95':>8}" for n in sizes)
    for title, kind, actions in (
        (
            "In Chromium (ms; filter, sort and checks from the request, after htmx's debounce)",
            "browser",
            BROWSER_ACTIONS,
        ),
        ("On the server (ms; Django test client, this process)", "server", SERVER_ACTIONS),
    ):
        if not any(r[kind] for r in results):
            continue
        print(f"\n{title}\n{header}\n" + "-" * len(header))
        for action in actions:
            cells = ""
            for r in results:
                samples = r[kind].get(action)
                if samples:
                    p50, p95 = percentiles(samples)
                    cells += f"{p50:12.0f}{p95:8.0f}"
                else:
                    cells += f"{'-':>12}{'-':>8}"
            print(f"{action:24}{cells}")
    print("\nimport (s): " + ", ".join(f"{r['streams']:,}: {r['import_s']:.1f}" for r in results))
    for r in results:
        if r["streams"] == 10_000 and r["browser"]:
            verdicts = []
            for action in ("filter", "open a stream panel", "save"):
                p95 = percentiles(r["browser"][action])[1]
                verdicts.append(f"{action} p95 {p95:.0f} ms {'PASS' if p95 < TARGET_MS else 'MISS'}")
            paint = percentiles(r["browser"]["first paint"])[1]
            verdicts.append(f"first paint p95 {paint:.0f} ms {'PASS' if paint < PAINT_TARGET_MS else 'MISS'}")
            print(f"targets at 10,000 streams (p95 < {TARGET_MS:.0f} ms; paint < {PAINT_TARGET_MS:.0f}): ")
            print("  " + "; ".join(verdicts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,10000,50000", help="stream counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=5, help="samples per action and size")
    parser.add_argument("--port", type=int, default=8016, help="the live server's port")
    parser.add_argument("--server-only", action="store_true", help="no browser: the server's times only")
    parser.add_argument("--json", help="also write the samples to this file")
    parser.add_argument("--beside", type=int, default=0, help="streams of another replication beside it")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: one size, JSON out
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one, args.repeat, args.port, not args.server_only, args.beside)))
        return
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        argv = [
            sys.executable,
            __file__,
            "--one",
            str(size),
            "--repeat",
            str(args.repeat),
            "--beside",
            str(args.beside),
        ]
        argv += ["--port", str(args.port)] + (["--server-only"] if args.server_only else [])
        print(f"{size:,} streams ...", file=sys.stderr, flush=True)
        done = subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if args.json:
        Path(args.json).write_text(json.dumps(results))
    report(results)


if __name__ == "__main__":
    main()
