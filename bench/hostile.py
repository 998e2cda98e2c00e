"""Hostile checks of the studio (issue 12's closing note), printing what each found.

    .venv/bin/python bench/hostile.py [--skip-load]

On a throwaway studio (SQLite in a temporary data folder, the demo loaded, DEBUG off):

1. authorization walk: every URL, GET and POST (with the CSRF token), as a stranger and as
   each role; a POST a role may not make that is answered 2xx/3xx is a bypass; every POST
   without the token must be refused (403); what a viewer posts changes nothing;
2. XSS: a `<script>` payload planted in every editable field (stream names, objects, SQL,
   descriptions, tags, env, hooks, meta, connection fields, downstream assets, a run's error),
   then every page and fragment read as an admin: the payload must never come back unescaped;
3. bad inputs: each value of a corpus of hostile values posted to every POST URL in every
   field name the forms use, and as query parameters of every GET URL: no 5xx, and a refused
   request (4xx) leaves the database as it was;
4. kill -9 of a worker mid-run and of sling mid-run (separate processes, as in production):
   each run ends failed, its locks are released, the stream runs again;
5. the 20-client load check (bench/load.py, 60 s);
6. the kernel's fence (issue 22): as an editor saving through the pages and an operator pressing
   Run (Test and Discover too), each attack in several spellings, once with the text checks off
   (the kernel alone) and once with them on: what stopped it, or that it got through.

The exit status is 1 when any check finds something.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
os.environ.update(
    STUDIO_DATA_DIR=str(DATA / "data"),
    STUDIO_FILE_ROOTS=f"demo/data,{DATA}/data/files,{DATA}/kill",
    DEBUG="false",
    SECRET_KEY=secrets.token_urlsafe(40),
    SECURE_SSL_REDIRECT="false",
    ALLOWED_HOSTS="testserver",
    DJANGO_SETTINGS_MODULE="studio.settings",
    LOG_LEVEL="CRITICAL",  # a refused request is the expected answer here: no warning each
)
os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import URLPattern, URLResolver, get_resolver, resolve  # noqa: E402

from studio import models  # noqa: E402
from studio.roles import can  # noqa: E402
from studio.services.alerts import channel_create  # noqa: E402
from studio.services.connections import connection_save  # noqa: E402
from studio.services.downstream import downstream_save  # noqa: E402
from studio.services.replications import replication_save  # noqa: E402
from studio.services.runs import run_create  # noqa: E402
from studio.services.schedules import schedule_create  # noqa: E402

READ_ONLY_POSTS = {"stream-check", "settings-check"}
ROLES = ("stranger", "viewer", "editor", "operator", "demo")
FIELDS = [
    *("name", "source", "target", "env", "hooks", "key", "deps", "description", "group", "tags", "type"),
    *("url", "host", "port", "other", "pattern", "streams", "replication", "text", "version", "mode"),
    *("object", "sql", "action", "value", "confirm", "base", "id", "primary_key", "update_key", "select"),
    *("where", "files", "columns", "transforms", "source_options", "target_options", "meta", "other_keys"),
    *("defaults-mode", "defaults-object", "password", "database", "schema"),
]
BAD = [
    "",
    " ",
    "\x00",
    "9" * 30,
    "-1",
    "1e308",
    "abc",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "file:///proc/self/environ",
    "::::",
    "1: 2",
    "a: &a [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "{{ 7*7 }}",
    "$SECRET_KEY",
    "'; drop table studio_connection; --",
    "\u202e\ufffe",
    "x" * 20_000,
    "- [\n",
    "%00%0a%0d",
]
PAYLOAD = "<script>alert('xss-{}')</script>"


def studio_urls() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if not route.startswith("admin/"):
                    walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and pattern.name not in ("login", "logout"):
                found.append((pattern.name, route))

    walk(get_resolver().url_patterns, "")
    return found


def fill(route: str) -> str:
    stream = models.Stream.objects.filter(replication__name="demo").order_by("position").first()
    values = {
        "name": "DEMO_SQLITE" if route.startswith("connections/") else "demo",
        "pk": str(
            models.Run.objects.order_by("pk").first().pk
            if route.startswith("runs/")
            else models.DownstreamAsset.objects.order_by("pk").first().pk
            if "downstream" in route
            else models.Schedule.objects.order_by("pk").last().pk
            if "/schedules/" in route
            else models.AlertChannel.objects.order_by("pk").last().pk
            if "/alerts/" in route
            else stream.pk
        ),
        "version": "1",
        "fmt": "json",
    }
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "demo"), route)


def browser(role: str) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    if role != "stranger":
        client.force_login(get_user_model().objects.get(username=role))
    client.get("/login/")  # the CSRF cookie
    return client


def post(client: Client, path: str, data: dict[str, Any], **headers: str) -> Any:
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    return client.post(path, {**data, "csrfmiddlewaretoken": token}, headers=headers)


def state() -> tuple:
    return (
        list(
            models.Replication.objects.order_by("pk").values_list(
                "name", "version", "source", "target", "env"
            )
        ),
        list(models.Stream.objects.order_by("pk").values_list("name", "config")),
        list(models.Connection.objects.order_by("pk").values_list("name", "type", "params", "version")),
        list(
            models.DownstreamAsset.objects.order_by("pk").values_list("key", "deps", "description", "version")
        ),
        list(models.Run.objects.order_by("pk").values_list("pk", "status", "cancel_requested")),
        models.Revision.objects.count(),
    )


def setup() -> None:
    call_command("migrate", "-v0")
    demo_again()
    demo = models.Replication.objects.get(name="demo")
    models.Run.objects.create(replication=demo, replication_name="demo", status="succeeded")


def demo_again() -> None:
    """The demo as `manage.py demo` makes it, with a schedule and an alert channel to walk."""
    call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    demo = models.Replication.objects.get(name="demo")
    schedule_create(replication=demo, cron_expression="0 3 * * *")
    channel_create(replication=demo, events=["failure"], email="ops@example.com")


# --- 1. authorization ---------------------------------------------------------------------


def authorization() -> int:
    urls = studio_urls()
    requests = bypasses = server_errors = csrf_refused = csrf_posts = 0
    found: list[str] = []
    for role in ROLES:
        client = browser(role)
        user = get_user_model().objects.filter(username=role).first()
        before = state()
        for name, route in urls:
            path = fill(route)
            # The action the view declares (`role_required`); a view declaring none is held
            # to the editor's.
            allowed = user is not None and can(user, getattr(resolve(path).func, "role_action", "edit"))
            get = client.get(path)
            if name.endswith("delete") and allowed:
                continue  # allowed, and it would delete what the walk goes on with
            sent = post(client, path, {"version": "1", "name": "x", "streams": ["1"]})
            requests += 2
            for method, response in (("GET", get), ("POST", sent)):
                if response.status_code >= 500:
                    server_errors += 1
                    found.append(f"{role} {method} {path}: {response.status_code}")
            if role == "stranger":
                ok = all(r.status_code == 302 and "/login/" in r["Location"] for r in (get, sent))
            elif name in READ_ONLY_POSTS or sent.status_code == 405:
                ok = True
            else:
                ok = allowed or sent.status_code == 403
            if not ok:
                bypasses += 1
                found.append(f"bypass: {role} POST {path} -> {sent.status_code}")
        if role in ("stranger", "viewer") and state() != before:
            bypasses += 1
            found.append(f"{role}: the database changed")
        demo_again()  # as it was, for the next role
        if role == "demo":
            fresh = browser("demo")
            for _name, route in urls:
                response = fresh.post(fill(route), {"version": "1"})  # no CSRF token
                if response.status_code != 405:
                    csrf_posts += 1
                    csrf_refused += response.status_code == 403
            requests += len(urls)
    print(f"1. authorization walk: {requests} requests over {len(urls)} URLs as {len(ROLES)} roles")
    print(
        f"   bypasses: {bypasses}, 5xx: {server_errors}, "
        f"POSTs without CSRF token refused: {csrf_refused}/{csrf_posts}"
    )
    for line in found[:10]:
        print("   ", line)
    return bypasses + server_errors + (csrf_posts - csrf_refused)


# --- 2. XSS ---------------------------------------------------------------------------------


def plant() -> list[str]:
    n = iter(range(1000))
    mark = lambda: PAYLOAD.format(next(n))  # noqa: E731
    stream = {
        "object": mark(),
        "description": mark(),
        "tags": [mark()],
        "sql": mark(),
        "where": mark(),
        "primary_key": [mark()],
        "columns": {mark(): "string"},
        "source_options": {"delimiter": mark()},
        "meta": {"dagster": {"description": mark(), "group": mark()}},
        mark(): mark(),  # an unknown key
    }
    from replication.config import ReplicationConfig

    config = ReplicationConfig(
        source="DEMO_SQLITE",
        target="DEMO_SQLITE",
        streams={mark(): stream, "main.plain": {"object": "main.copy", "description": mark()}},
        defaults={"mode": "full-refresh", "description": mark()},
        env={"X": mark()},
        hooks={"start": [{"type": mark()}]},
    )
    replication_save(name="xss", config=config)
    connection_save(
        name="XSS_CONN",
        fields={"type": "postgres", "host": mark(), "user": mark(), "database": mark(), "x": mark()},
    )
    downstream_save(key="xss/asset", deps=["target/main/copy"], description=mark(), tags=[mark()])
    run_create(replication="xss", streams=[mark()])  # refused: its error names the stream
    return [PAYLOAD.format(i) for i in range(next(n))]


def xss() -> int:
    marks = plant()
    client = browser("demo")
    paths: set[str] = set()
    for _name, route in studio_urls():
        paths.add(fill(route).replace("/r/demo/", "/r/xss/").replace("DEMO_SQLITE", "XSS_CONN"))
        paths.add(fill(route))
    for stream in models.Stream.objects.all():
        paths.add(f"/r/{stream.replication.name}/streams/{stream.pk}/")
    for run in models.Run.objects.all():
        paths |= {f"/runs/{run.pk}/", f"/runs/{run.pk}/status/", f"/runs/{run.pk}/log/"}
    for asset in models.DownstreamAsset.objects.all():
        paths.add(f"/lineage/downstream/{asset.pk}/")
    paths |= {
        "/lineage/?replication=xss",
        "/lineage/node/?key=xss/asset",
        "/runs/?replication=xss",
        "/admin/studio/connection/",
    }
    pages = found = 0
    where: list[str] = []
    for path in sorted(paths):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(path, headers=headers)
            if "html" not in response.get("Content-Type", ""):
                continue
            pages += 1
            text = response.content.decode(errors="replace")
            hits = [m for m in marks if m in text]
            if hits:
                found += 1
                where.append(f"{path} {headers}: {hits[0]}")
    print(f"2. XSS: {len(marks)} planted payloads, {pages} HTML pages and fragments read; unescaped: {found}")
    for line in where[:10]:
        print("   ", line)
    return found


# --- 3. bad inputs --------------------------------------------------------------------------


def bad_inputs() -> int:
    client = browser("demo")
    sent = server_errors = partial = 0
    where: list[str] = []
    for name, route in studio_urls():
        if name.endswith("delete"):
            continue  # no input: they delete, as the walk saw
        path = fill(route)
        for value in BAD:
            data = {field: value for field in FIELDS}
            for headers in ({}, {"HX-Request": "true"}):
                before = state()
                sent_post = post(client, path, data, **headers)
                # Only a refused request must leave the database alone: a valid one may save.
                if 400 <= sent_post.status_code < 500 and state() != before:
                    partial += 1
                    where.append(f"{path} {value[:20]!r}: refused ({sent_post.status_code}), yet saved")
                for response in (sent_post, client.get(path, data, headers=headers)):
                    sent += 1
                    if response.status_code >= 500:
                        server_errors += 1
                        where.append(f"{path} {value[:20]!r}: {response.status_code}")
    print(
        f"3. bad inputs: {len(BAD)} hostile values, {sent} requests; "
        f"5xx: {server_errors}, partial saves: {partial}"
    )
    for line in where[:10]:
        print("   ", line)
    return server_errors + partial


# --- 4. kill -9 -----------------------------------------------------------------------------


def kill_nine() -> int:
    folder = DATA / "kill"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.update(STUDIO_DATA_DIR=str(folder / "data"), DEBUG="true")

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout + done.stderr

    def run(pk: int) -> dict[str, Any]:
        with sqlite3.connect(folder / "data" / "studio.sqlite3") as db:
            row = db.execute("select status, error, sling_pid from studio_run where id = ?", (pk,)).fetchone()
            locks = db.execute("select count(*) from studio_streamlock where run_id = ?", (pk,)).fetchone()[0]
        return {"status": row[0], "error": row[1], "sling_pid": row[2], "locks": locks} if row else {}

    def wait(condition: Any, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := condition():
                return value
            time.sleep(0.2)
        return None

    manage("migrate", "-v0")
    (folder / "env.yaml").write_text(f"connections:\n  TARGET_DB: sqlite://{folder}/target.sqlite\n")
    manage("import_connections", str(folder / "env.yaml"))
    with (folder / "big.csv").open("w") as out:
        out.write("id,name\n" + "".join(f"{i},name {i}\n" for i in range(300_000)))
    (folder / "shop.yaml").write_text(
        "source: LOCAL\ntarget: TARGET_DB\ndefaults:\n  mode: full-refresh\n"
        f"streams:\n  file://{folder}/big.csv:\n    object: main.big\n"
    )
    manage("import_replication", str(folder / "shop.yaml"), "--name", "shop")
    checks: Counter[str] = Counter()

    def worker(*args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--interval", "0.2", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    # A worker killed mid-run.
    first = worker()
    manage("run_replication", "shop", "--queue")
    sling_pid = wait(lambda: run(1).get("sling_pid"))
    first.send_signal(signal.SIGKILL)
    first.wait()
    worker("--batch").wait(timeout=60)
    after = run(1)
    checks["worker kill -9: run failed, reaped"] += (
        after["status"] == "failed" and "worker stopped" in after["error"]
    )
    checks["worker kill -9: locks released"] += after["locks"] == 0
    checks["worker kill -9: its sling stopped"] += bool(wait(lambda: not _alive(sling_pid), 10))
    # sling killed mid-run.
    second = worker()
    manage("run_replication", "shop", "--queue")
    sling_pid = wait(lambda: run(2).get("sling_pid"))
    os.kill(sling_pid, signal.SIGKILL)
    ended = wait(lambda: run(2)["status"] in ("failed", "succeeded") and run(2))
    checks["sling kill -9: run failed"] += bool(ended) and ended["status"] == "failed"
    checks["sling kill -9: locks released"] += bool(ended) and ended["locks"] == 0
    checks["sling kill -9: worker still up"] += second.poll() is None
    # The stream runs again.
    manage("run_replication", "shop", "--queue")
    again = wait(lambda: run(3)["status"] in ("failed", "succeeded") and run(3), 90)
    checks["the stream runs again"] += bool(again) and again["status"] == "succeeded"
    second.send_signal(signal.SIGTERM)
    second.wait(timeout=30)
    failed = [name for name, ok in checks.items() if not ok]
    print(f"4. kill -9: {len(checks) - len(failed)} of {len(checks)} recovery checks held")
    for name in failed:
        print("    failed:", name)
    return len(failed)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def load() -> int:
    print("5. load (bench/load.py, 20 clients, 60 s):")
    done = subprocess.run(
        [sys.executable, "bench/load.py", "--seconds", "60", "--clients", "20"], cwd=ROOT, check=False
    )
    return done.returncode


# Each attack: (what, a replication's text or a connection's fields, how to tell it got through).
# `{open}` is a folder open to sling (writable), `{db}` the studio's database (a decoy with a
# secret row, at the path the data folder holds it), `{key}` a key file, `{mark}` a file a
# started program would create.
def _attacks() -> list[tuple[str, dict[str, Any]]]:
    reads = {
        "sqlite URL": "sqlite://{db}",
        "sqlite URL with a fragment": "sqlite://{db}#/../../../open/t.db",
        "sqlite URL, %2E in the name": "sqlite://{db_pct}",
        "sqlite URL with ?mode=ro": "sqlite://{db}?mode=ro",
        "sqlite instance field": "{db}",
    }
    attacks: list[tuple[str, dict[str, Any]]] = []
    for label, url in reads.items():
        field = "instance" if "instance" in label else "url"
        attacks.append(
            (
                f"read the studio's database: {label}",
                {
                    "connection": {field: url, "type": "sqlite"},
                    "yaml": "source: EVIL\ntarget: LOCAL\nstreams:\n  main.auth_user:\n"
                    "    object: file://{open}/stolen.csv\n",
                    "got": "{open}/stolen.csv",
                },
            )
        )
    for label, path in {
        "the studio's database as a CSV": "{db}",
        "a key file": "{key}",
        "/etc/shadow": "/etc/shadow",
        "/proc/1/environ": "/proc/1/environ",
        "a link planted in an open folder": "{open}/link.csv",
        "`..` out of an open folder": "{open}/../keys/secret.key",
    }.items():
        attacks.append(
            (
                f"read {label}",
                {
                    "yaml": "source: LOCAL\ntarget: LOCAL\nstreams:\n  file://" + path + ":\n"
                    "    object: file://{open}/copied.csv\n    source_options: {format: csv}\n",
                    "got": "{open}/copied.csv",
                },
            )
        )
    attacks.append(
        (
            "read the studio's database as SQL (sql: file://)",
            {
                "yaml": "source: LOCAL\ntarget: LOCAL\nstreams:\n  file://{open}/people.csv:\n"
                "    sql: file://{db}\n    object: file://{open}/copied.csv\n",
                "got": "{open}/copied.csv",
            },
        )
    )
    for label, env in {
        "SQLITE_PATH": "SQLITE_PATH: {program}",
        "DUCKDB_PATH": "DUCKDB_PATH: {program}",
        "SQLITE_PATH (a system program)": "SQLITE_PATH: /usr/bin/touch",
    }.items():
        target = "{open}/t.duckdb" if "DUCKDB" in label else "{open}/t.db"
        kind = "duckdb" if "DUCKDB" in label else "sqlite"
        attacks.append(
            (
                f"run a program through env: {label}",
                {
                    "connection": {"type": kind, "instance": target},
                    "yaml": "source: LOCAL\ntarget: EVIL\nenv:\n  " + env + "\n"
                    "streams:\n  file://{open}/people.csv:\n    object: main.people\n",
                    "got": "{mark}",
                },
            )
        )
    for label, target in {
        "the studio's database as a sqlite target": None,
        "a file in the data folder (`..`)": "file://{open}/../data/planted.csv",
        "sling's home through $HOME": "file://{BASE}{open}/home.csv",
    }.items():
        spec: dict[str, Any] = {}
        if target is None:
            spec["connection"] = {"type": "sqlite", "url": "sqlite://{db}"}
            text = "source: LOCAL\ntarget: EVIL\nstreams:\n  file://{open}/people.csv:\n"
            text += "    object: main.planted\n"
            spec["got"] = "db-changed"
        else:
            env = "env:\n  BASE: $HOME\n" if "HOME" in label else ""
            text = (
                "source: LOCAL\ntarget: LOCAL\n"
                + env
                + "streams:\n  file://{open}/people.csv:\n    object: "
                + target
                + "\n"
            )
            spec["got"] = "data-written"
        spec["yaml"] = text
        attacks.append((f"write {label}", spec))
    return attacks


def _written_in_data(data: Path) -> bool:
    """Whether sling wrote a planted file into the data folder, outside its run's own folder
    (`runs/<id>/`, with the run's home: sling writes there)."""
    return any(
        found.relative_to(data).parts[:1] != ("runs",)
        for pattern in ("planted.csv", "home.csv")
        for found in data.rglob(pattern)
    )


def put(text: str, values: dict[str, Any]) -> str:
    """`text` with each `{name}` of `values` put in (the rest of its braces left as they are)."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def kernel_fence() -> int:
    """Check 6: each attack with the text checks off, then on."""
    from django.conf import settings

    from studio.services.executor import run_execute

    print("6. the kernel's fence: each attack through the pages, kernel alone / with the text checks")
    base = DATA / "fence"
    opened, keys = base / "open", DATA / "keys"
    database = Path(settings.DATA_DIR) / "decoy.sqlite3"
    problems = 0
    rows: list[tuple[str, str, str]] = []
    for name, spec in _attacks():
        outcome: list[str] = []
        for text_checks in (False, True):
            shutil.rmtree(base, ignore_errors=True)
            opened.mkdir(parents=True)
            keys.mkdir(exist_ok=True)
            (opened / "people.csv").write_text("id,name\n1,a\n")
            (keys / "secret.key").write_text("decoy-key\n")
            database.unlink(missing_ok=True)
            with sqlite3.connect(database) as db:
                db.execute("create table auth_user (username text, password text)")
                db.execute("insert into auth_user values ('admin', 'decoy-hash')")
            before = database.read_bytes()
            (opened / "link.csv").symlink_to(database)
            program = base / "evil"
            mark = base / "ran"
            program.write_text(f"#!/bin/sh\ntouch {mark}\n")
            program.chmod(0o755)
            values = {
                "open": opened,
                "db": database,
                "db_pct": str(database).replace(".sqlite3", "%2Esqlite3"),
                "key": keys / "secret.key",
                "program": program,
                "mark": mark,
            }
            shutil.rmtree(Path(settings.DATA_DIR) / "runs", ignore_errors=True)
            settings.STUDIO_TEXT_CHECKS = text_checks
            settings.STUDIO_FILE_ROOTS = [opened, *settings.STUDIO_FILE_ROOTS[:2]]
            settings.STUDIO_WRITABLE_ROOTS = [opened]
            models.Replication.objects.filter(name="evil").delete()
            models.Connection.objects.filter(name="EVIL").delete()
            editor, operator = browser("editor"), browser("operator")
            said = ""
            if "connection" in spec:
                fields = {k: put(str(v), values) for k, v in spec["connection"].items()}
                answer = post(editor, "/connections/new/", {"name": "EVIL", **fields})
                if answer.status_code != 302:
                    said = "refused at save"
                else:
                    post(editor, "/connections/EVIL/discover/", {})
            if not said:
                text = put(spec["yaml"], values)
                post(editor, "/new/", {"name": "evil", "source": "LOCAL", "target": "LOCAL"})
                preview = post(editor, "/r/evil/import/", {"text": text})
                if preview.status_code != 200:
                    said = "refused at save"
                else:
                    version = str(models.Replication.objects.get(name="evil").version)
                    post(editor, "/r/evil/import/", {"text": text, "confirm": "yes", "version": version})
                    post(operator, "/r/evil/run/", {})
                    run = run_execute(models.Run.objects.filter(replication_name="evil").latest("pk"))
                    log = "".join(run.log_chunks.values_list("text", flat=True)).lower()
                    if run.started is None or run.error.startswith(("env.", "streams[", "connection ")):
                        said = "refused before sling started"
                    elif "permission denied" in log:
                        said = "kernel: permission denied"
                    else:
                        said = f"run {run.status}"
            got = spec["got"]
            through = (
                database.read_bytes() != before
                if got == "db-changed"
                else _written_in_data(Path(settings.DATA_DIR))
                if got == "data-written"
                else Path(put(got, values)).exists()
            )
            if through:
                said, problems = "GOT THROUGH", problems + 1
            outcome.append(said)
        rows.append((name, *outcome))
    settings.STUDIO_TEXT_CHECKS = True
    width = max(len(name) for name, *_ in rows)
    print(f"    {'attack':{width}}  {'kernel alone':30}  with the text checks")
    for name, alone, checked in rows:
        print(f"    {name:{width}}  {alone:30}  {checked}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-load", action="store_true")
    checks = {"authorization": authorization, "xss": xss, "inputs": bad_inputs, "kill": kill_nine}
    checks |= {"fence": kernel_fence, "load": load}
    parser.add_argument("--only", choices=checks, action="append", help="these checks alone")
    args = parser.parse_args()
    chosen = args.only or [name for name in checks if name != "load" or not args.skip_load]
    try:
        setup()
        problems = sum(checks[name]() for name in chosen)
    finally:
        shutil.rmtree(DATA, ignore_errors=True)
    print(f"found: {problems}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
