"""Load check: 20 concurrent clients browsing and editing a 1,000-stream replication
against a real local server for 60 s, printing throughput, latency and errors.

    .venv/bin/python bench/load.py [--seconds 60] [--clients 20] [--streams 1000]

It migrates a throwaway data folder, imports a generated replication, creates a
user, starts gunicorn on a free loopback port (DEBUG off), and lets
each client sign in with its own session (cookies and CSRF, as a browser) and
then loop: the replications list, the editor page, pages of the streams table,
a stream's panel, the YAML preview, checks as you type, and saves of the stream
with the version it last saw. Two clients saving one replication is a conflict
(409): counted apart, as the right answer, not as an error. Errors are 5xx,
connection failures and any other unexpected status; the target is 0, and the
exit status is 1 when there is any. The server is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from editor import replication_yaml  # bench/editor.py: the same 1,000-stream replication

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
NAME = "bench"
USER, PASSWORD = "bench", "bench-password"
# How often each client does what (weights).
MIX = {"list": 8, "editor": 8, "table": 20, "panel": 25, "yaml": 5, "check": 22, "save": 12}
TIMEOUT_S = 30.0


# --- the server ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@contextmanager
def server(data_dir: Path, streams: int, database_url: str | None) -> Iterator[tuple[int, list[int]]]:
    """A prepared studio served on a free port: (port, stream ids)."""
    env = {
        **os.environ,
        "STUDIO_DATA_DIR": str(data_dir),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": HOST,
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    started = time.perf_counter()
    manage(env, "migrate", "--noinput", "-v0")
    path = data_dir / "bench.yaml"
    path.write_text(replication_yaml(streams))
    manage(env, "import_replication", str(path), "--name", NAME)
    manage(env, "createsuperuser", "--noinput", "--username", USER, "--email", "bench@example.com")
    ids = manage(
        env,
        "shell",
        "-v0",
        "-c",
        f"from studio.models import Stream; print(*Stream.objects.filter(replication__name={NAME!r})"
        ".values_list('pk', flat=True))",
    )
    port = free_port()
    log = (data_dir / "server.log").open("w")
    # gunicorn, as README's "Deploying" runs the studio: one worker process per core plus one.
    server = [sys.executable, "-m", "gunicorn", "studio.wsgi", "-b", f"{HOST}:{port}"]
    server += ["--workers", str((os.cpu_count() or 1) + 1), "--timeout", "60"]
    process = subprocess.Popen(
        server,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server stopped:\n{(data_dir / 'server.log').read_text()[-3000:]}")
            try:
                status, _, _ = request(port, "GET", "/login/", {})
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not answer within 60 s")
            time.sleep(0.2)
        print(f"server ready on {HOST}:{port} in {time.perf_counter() - started:.1f} s ({streams} streams)")
        yield port, [int(pk) for pk in ids.split() if pk.isdigit()]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, dict[str, list[str]], bytes]:
    """One request on a fresh loopback connection: (status, headers, body)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT_S)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        received: dict[str, list[str]] = defaultdict(list)
        for name, value in response.getheaders():
            received[name.lower()].append(value)
        return response.status, received, data
    finally:
        connection.close()


# --- a client -------------------------------------------------------------------------


class FormReader(HTMLParser):
    """The fields of `<form id="stream-form">` as a browser would send them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.values: dict[str, str] = {}
        self.select: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and a.get("id") == "stream-form":
            self.inside = True
        if not self.inside or not a.get("name"):
            if tag == "option" and self.select and "selected" in a:
                self.values[self.select] = a.get("value") or ""
            return
        name = a["name"] or ""
        if tag == "input" and (a.get("type") or "text") not in ("checkbox", "radio", "submit", "file"):
            self.values[name] = a.get("value") or ""
        elif tag == "select":
            self.select = name
            self.values.setdefault(name, "")
        elif tag == "textarea":
            self.textarea, self.text = name, ""

    def handle_data(self, data: str) -> None:
        self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.values[self.textarea] = self.text.removeprefix("\n")
            self.textarea = None


VERSION = re.compile(rb'id="version" name="version" value="(\d+)"')


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    conflicts: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)

    def error(self, kind: str, what: str, detail: str = "") -> None:
        with self.lock:
            self.errors[f"{kind}: {what}"] += 1
            if len(self.samples) < 10:
                self.samples.append(f"{kind}: {what} {detail}"[:300])


class Client:
    """One browser: its own session cookie and CSRF token."""

    def __init__(self, port: int, ids: list[int], results: Results, seed: int) -> None:
        self.port, self.ids, self.results = port, ids, results
        self.random = random.Random(seed)
        self.cookies: dict[str, str] = {}
        self.version: int | None = None
        self.stream: tuple[int, dict[str, str]] | None = None  # the open panel's form
        self.pages = (len(ids) + 99) // 100

    def send(
        self, kind: str, method: str, path: str, data: dict[str, str] | None = None, *, htmx: bool = False
    ) -> tuple[int, bytes] | None:
        headers = {"Host": f"{HOST}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if htmx:
            headers["HX-Request"] = "true"
        body = None
        if data is not None:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        started = time.perf_counter()
        try:
            status, received, content = request(self.port, method, path, headers, body)
        except (OSError, http.client.HTTPException) as exc:
            self.results.error(kind, "connection error", f"{type(exc).__name__}: {exc}")
            return None
        self.results.record(kind, time.perf_counter() - started)
        for header in received.get("set-cookie", []):
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        if status >= 500:
            self.results.error(kind, f"HTTP {status}", _first_text(content))
        return status, content

    def expect(self, kind: str, answer: tuple[int, bytes] | None, *statuses: int) -> bytes | None:
        if answer is None:
            return None
        status, content = answer
        if status not in statuses:
            if status < 500:  # 5xx are counted by send()
                self.results.error(kind, f"unexpected HTTP {status}", _first_text(content))
            return None
        return content

    def sign_in(self) -> None:
        self.expect("login", self.send("login", "GET", "/login/"), 200)
        data = {
            "username": USER,
            "password": PASSWORD,
            "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
            "next": "/",
        }
        self.expect("login", self.send("login", "POST", "/login/", data), 302)

    def run(self, until: float) -> None:
        self.sign_in()
        kinds, weights = list(MIX), list(MIX.values())
        while time.monotonic() < until:
            getattr(self, self.random.choices(kinds, weights)[0])()

    # The actions, as the editor's buttons and htmx triggers do them.

    def list(self) -> None:
        self.expect("list", self.send("list", "GET", "/"), 200)

    def editor(self) -> None:
        content = self.expect("editor", self.send("editor", "GET", f"/r/{NAME}/"), 200)
        if content is not None and (found := VERSION.search(content)):
            self.version = int(found[1])

    def table(self) -> None:
        page = self.random.randint(1, self.pages)
        path = f"/r/{NAME}/streams/?page={page}&q=&sort=position"
        self.expect("table", self.send("table", "GET", path, htmx=True), 200)

    def panel(self) -> None:
        pk = self.random.choice(self.ids)
        content = self.expect("panel", self.send("panel", "GET", f"/r/{NAME}/streams/{pk}/", htmx=True), 200)
        if content is not None:
            reader = FormReader()
            reader.feed(content.decode("utf-8", "replace"))
            self.stream = (pk, reader.values)

    def yaml(self) -> None:
        self.expect("yaml", self.send("yaml", "GET", f"/r/{NAME}/yaml/", htmx=True), 200)

    def check(self) -> None:
        if self.stream is None:
            return self.panel()
        pk, values = self.stream
        data = {**values, "description": f"typing {self.random.random():.6f}"}
        self.expect(
            "check", self.send("check", "POST", f"/r/{NAME}/streams/{pk}/check/", data, htmx=True), 200
        )
        return None

    def save(self) -> None:
        if self.version is None:
            return self.editor()
        if self.stream is None:
            return self.panel()
        pk, values = self.stream
        data = {**values, "description": f"saved {self.random.random():.6f}", "version": str(self.version)}
        answer = self.send("save", "POST", f"/r/{NAME}/streams/{pk}/", data, htmx=True)
        if answer is not None and answer[0] == 409:
            with self.results.lock:
                self.results.conflicts += 1
            self.version = None  # someone saved first: reload the editor, as the conflict notice says
            return None
        content = self.expect("save", answer, 200)
        if content is not None and (found := VERSION.search(content)):
            self.version = int(found[1])
        return None


def _first_text(content: bytes) -> str:
    text = re.sub(rb"<[^>]+>", b" ", content[:4000]).decode("utf-8", "replace")
    return " ".join(text.split())[:200]


# --- report ---------------------------------------------------------------------------


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def report(results: Results, seconds: float) -> int:
    print(f"\n{'kind':<8} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    everything: list[float] = []
    for kind in [*MIX, "login"]:
        samples = results.latencies.get(kind, [])
        everything += samples
        if samples:
            print(
                f"{kind:<8} {len(samples):>9} {len(samples) / seconds:>8.1f} {percentile(samples, 50):>8.1f}"
                f" {percentile(samples, 95):>8.1f} {percentile(samples, 99):>8.1f}"
            )
    if everything:
        print(
            f"{'all':<8} {len(everything):>9} {len(everything) / seconds:>8.1f} "
            f"{percentile(everything, 50):>8.1f} {percentile(everything, 95):>8.1f} "
            f"{percentile(everything, 99):>8.1f}"
        )
        print(f"mean {statistics.fmean(everything) * 1000:.1f} ms")
    saves = len(results.latencies.get("save", []))
    print(f"conflicts (409, expected): {results.conflicts} of {saves} saves")
    total = sum(results.errors.values())
    print(f"errors: {total} (target 0)")
    for what, count in results.errors.most_common():
        print(f"  {count:>6}  {what}")
    for sample in results.samples:
        print(f"  e.g. {sample}")
    return 1 if total else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--database-url", help="a throwaway database to use instead of SQLite")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        with server(data_dir, args.streams, args.database_url) as (port, ids):
            results = Results()
            until = time.monotonic() + args.seconds
            clients = [Client(port, ids, results, seed) for seed in range(args.clients)]
            threads = [threading.Thread(target=c.run, args=(until,), daemon=True) for c in clients]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=args.seconds + TIMEOUT_S + 10)
            elapsed = time.monotonic() - started
            print(f"{args.clients} clients for {elapsed:.1f} s")
        status = report(results, elapsed)
    finally:
        if os.environ.get("KEEP"):
            print("kept", data_dir)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
