"""The reach rules on every address, through Test, Discover and a run, with the real sling
(issue 22, finding 4). tests/domain/test_reach_addresses.py has each field and spelling; here
the studio refuses before sling starts, and what it lets through is what sling 1.4.11 reaches:
loopback receivers stand for the servers (an S3 API, Elasticsearch, ClickHouse, PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from receivers import postgres_receiver
from run_support import sqlite_connection

from replication import sling
from studio import configured
from studio.services.connections import connection_discover, connection_save, connection_test, connection_try
from studio.services.executor import run_execute
from studio.services.replications import replication_import
from studio.services.runs import run_create

pytestmark = pytest.mark.django_db
METADATA = "169.254.169.254"
NEVER = "is a link-local or metadata address, never open to connections"


@contextmanager
def http_server() -> Iterator[tuple[int, list[str]]]:
    """A loopback HTTP server that records each request (`METHOD /path`) and answers 403."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(f"{self.command} {self.path}")
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_PUT = do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port, seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_sling(settings):
    settings.SLING_BINARY = "/nonexistent/sling"  # had sling been started, the answer would say so


@pytest.mark.parametrize(
    ("conn_type", "fields", "where"),
    [
        (
            "s3",
            {"bucket": "b", "endpoint": METADATA, "access_key_id": "AKIA1", "secret_access_key": "sk"},
            "endpoint",
        ),
        ("elasticsearch", {"http_url": f"http://127.0.0.1:9200,http://{METADATA}:9200"}, "http_url"),
        ("clickhouse", {"http_url": "http://2852039166:8123"}, "http_url"),
        ("oracle", {"tns": f"(DESCRIPTION=(ADDRESS=(HOST={METADATA})(PORT=1521)))", "user": "u"}, "tns"),
        (
            "postgres",
            {"host": "127.0.0.1", "user": f"u@{METADATA}:80/", "password": "pw"},
            MADE := "the URL sling makes of its fields",
        ),
    ],
)
def test_test_and_discover_refuse_an_address_in_any_field_before_sling_starts(
    no_sling, conn_type, fields, where
):
    connection = connection_save(name="META", fields={"type": conn_type, **fields})

    passed, message = connection_test(connection)
    typed = connection_try(name="META", fields={"type": conn_type, **fields})

    assert not passed and message.startswith(f"connection META, {where}: `") and message.endswith(NEVER)
    assert typed == (False, message)
    with pytest.raises(sling.RunError, match=f"connection META, {where}: .*{NEVER}"):
        connection_discover(connection)


@pytest.mark.sling
def test_with_studio_connection_hosts_sling_reaches_the_hosts_it_lists_and_no_other(data_dir, settings):
    settings.STUDIO_CONNECTION_HOSTS = ["127.0.0.1"]
    with http_server() as (port, seen):
        s3 = {"type": "s3", "bucket": "b", "access_key_id": "AKIA1", "secret_access_key": "sk"}
        listed = connection_save(name="LISTED", fields={**s3, "endpoint": f"http://127.0.0.1:{port}"})
        # 2130706433 spells 127.0.0.1, which sling asks DNS for as a name.
        spelled = connection_save(name="SPELLED", fields={**s3, "endpoint": f"http://2130706433:{port}"})
        search = connection_save(
            name="SEARCH",
            fields={"type": "elasticsearch", "http_url": f"http://127.0.0.1:{port},http://10.9.9.9:9200"},
        )

        answers = {c.name: connection_test(c)[1] for c in (listed, spelled, search)}

        not_listed = "is not among the hosts connections may reach (STUDIO_CONNECTION_HOSTS)"
        assert answers == {
            "LISTED": "LISTED: could not connect",  # sling went there: the receiver answered 403
            "SPELLED": "connection SPELLED, endpoint: `2130706433` is the address 127.0.0.1 written another "
            "way (sling asks DNS for it as a name)",
            "SEARCH": f"connection SEARCH, http_url: `10.9.9.9` {not_listed}",
        }
        assert seen == ["GET /b?delimiter=%2F&list-type=2&prefix="]


@pytest.mark.sling
def test_without_the_setting_only_metadata_and_what_is_no_host_are_refused(data_dir, settings):
    settings.STUDIO_CONNECTION_HOSTS = []
    with http_server() as (port, seen), postgres_receiver() as pg:
        search = connection_save(
            name="SEARCH", fields={"type": "elasticsearch", "http_url": f"http://127.0.0.1:{port}"}
        )
        pg_fields = {
            "type": "postgres",
            "host": "127.0.0.1",
            "port": pg.port,
            "sslmode": "disable",
            "password": "pw",
        }
        sent = connection_save(name="PG", fields={**pg_fields, "user": "alice"})
        moved = connection_save(name="MOVED", fields={**pg_fields, "user": f"alice@{METADATA}:{pg.port}/"})

        assert connection_test(search) == (True, "SEARCH: connection works")  # it answered GET / with 403...
        assert connection_test(sent) == (False, "PG: could not connect")
        assert connection_test(moved) == (
            False,
            f"connection MOVED, the URL sling makes of its fields: `{METADATA}` {NEVER}",
        )
        assert seen == ["GET /"]
        assert [(login["user"], login.get("password")) for login in pg.logins] == [("alice", "pw")]


@pytest.mark.sling
def test_what_the_studio_refuses_sling_does_not_reach_either(data_dir, settings):
    # The other side of the rule: the spellings refused are not IP addresses to sling 1.4.11,
    # which asks DNS for them and fails (so a refusal never takes a working connection away).
    settings.STUDIO_CONNECTION_HOSTS = []
    with postgres_receiver() as pg:
        for host in ("2130706433", "0x7f000001", "0177.0.0.1", "127.1", "127.0.0.1."):
            connection = {
                "type": "postgres",
                "host": host,
                "port": pg.port,
                "user": "u",
                "sslmode": "disable",
            }
            done = subprocess.run(
                [configured.binary(), "conns", "test", "SPELLED"],
                env={
                    "PATH": os.environ["PATH"],
                    "SLING_HOME_DIR": str(data_dir),
                    "SPELLED": json.dumps(connection),
                },
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 1
            assert f"lookup {host}" in done.stdout + done.stderr
        assert pg.logins == []


@pytest.mark.sling
@pytest.mark.parametrize("allowed", [[], ["127.0.0.0/8"]], ids=["unset", "set"])
def test_a_run_from_a_source_at_a_metadata_address_is_refused_before_sling_starts(
    data_dir, tmp_path, settings, allowed
):
    settings.STUDIO_CONNECTION_HOSTS = allowed
    connection_save(
        name="BUCKET",
        fields={
            "type": "s3",
            "bucket": "b",
            "endpoint": f"http://[::ffff:{METADATA}]:80",
            "access_key_id": "AKIA1",
            "secret_access_key": "sk",
        },
    )
    sqlite_connection("TARGET_DB", tmp_path / "t.sqlite")
    replication_import(
        name="meta", text="source: BUCKET\ntarget: TARGET_DB\nstreams:\n  s3://b/x.csv:\n    object: main.x\n"
    )

    run = run_execute(run_create(replication="meta"))

    assert (run.status, run.error) == (
        "failed",
        f"connection BUCKET, endpoint: `[::ffff:{METADATA}]` {NEVER}",
    )
    assert run.sling_pid is None
