"""Columns read through the real sling binary (SQLite, PostgreSQL, CSV and JSON files): kept as
sling reports them, checked against the keys a stream names, shown as they will land, and the
first rows as a run writes them."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import threading

import pytest
from django.db import connection as django_db

from replication import sling
from replication.problems import WARNING
from studio import configured, models, validation
from studio.selectors.editing import Editor
from studio.selectors.replications import stored_streams
from studio.services.columns import columns_discover, columns_refresh_stale, stream_preview
from studio.services.executor import end_run
from studio.services.retries import policy_save
from studio.services.runs import run_create
from tests.run_support import command, replication, sqlite_connection, write_csv

pytestmark = pytest.mark.django_db(transaction=True)


def _orders(path) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "create table orders (id integer primary key, customer text, total real, placed_at timestamp)"
        )
        db.execute("insert into orders values (1, 'ann', 2.5, '2024-01-01'), (2, 'bob', 4.0, '2024-01-02')")


def _sling_reports(connection: str, pattern: str, env: dict[str, str]) -> list[list]:
    """What `sling conns discover --columns` prints for `pattern`, asked directly (no studio)."""
    done = subprocess.run(
        [configured.binary(), "conns", "discover", connection, "--pattern", pattern, "--columns"],
        env={**env, "SLING_OUTPUT": "json", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    table = json.loads(done.stdout.strip().splitlines()[-1])
    return [
        [row[table["fields"].index("Column")], row[table["fields"].index("General Type")]]
        for row in table["rows"]
    ]


def _unknown_columns(name: str) -> list[str]:
    return [p.message for p in _problems(name) if p.code == "unknown-column"]


def _problems(name: str) -> list:
    return validation.check(stored_streams(models.Replication.objects.get(name=name)).config)


def test_it_keeps_a_sqlite_tables_columns_as_sling_reports_them(tmp_path, data_dir):
    _orders(tmp_path / "shop.db")
    sqlite_connection("SHOP", tmp_path / "shop.db")
    found = columns_discover(connection="SHOP", streams=["orders"])
    reported = _sling_reports(
        "SHOP", "main.orders", {"SHOP": f"sqlite://{tmp_path / 'shop.db'}", "SLING_HOME_DIR": str(data_dir)}
    )
    assert [[c.name, c.type] for c in found["orders"].columns] == reported
    assert reported == [["id", "bigint"], ["customer", "text"], ["total", "decimal"], ["placed_at", "text"]]
    # Kept under the table's full name, on the connection.
    row = models.DiscoveredColumns.objects.get()
    assert (row.connection, row.stream) == ("SHOP", "main.orders")


def test_it_reads_the_columns_of_csv_and_json_files(tmp_path, data_dir):
    write_csv(tmp_path / "people.csv", 3)
    (tmp_path / "events.json").write_text('[{"id": 1, "kind": "x", "at": {"day": 1}}]')
    csv_stream, json_stream = f"file://{tmp_path}/people.csv", f"file://{tmp_path}/events.json"
    found = columns_discover(connection="LOCAL", streams=[csv_stream, json_stream])
    assert [(c.name, c.type) for c in found[csv_stream].columns] == [
        ("id", "bigint"),
        ("name", "text"),
        ("amount", "decimal"),
    ]
    # JSON objects are flattened as sling flattens them (`at__day`), in sling's order.
    reported = _sling_reports("LOCAL", f"{tmp_path}/events.json", {"SLING_HOME_DIR": str(data_dir)})
    assert [[c.name, c.type] for c in found[json_stream].columns] == reported
    assert sorted(name for name, _ in reported) == ["at__day", "id", "kind"]


def test_a_misspelt_update_key_is_a_warning_before_the_run_and_a_failure_in_it(tmp_path, data_dir):
    _orders(tmp_path / "shop.db")
    sqlite_connection("SHOP", tmp_path / "shop.db")
    sqlite_connection("TARGET_DB", tmp_path / "target.db")
    replication(
        "orders",
        "source: SHOP\ntarget: TARGET_DB\nstreams:\n  main.orders:\n    object: main.orders\n"
        "    mode: incremental\n    primary_key: [id]\n    update_key: custmer\n",
    )
    assert _unknown_columns("orders") == []  # columns not read yet: nothing to say
    columns_discover(connection="SHOP", streams=["main.orders"])
    [message] = _unknown_columns("orders")
    assert message.startswith(
        "`custmer` (update_key) is not a column of `main.orders` on SHOP as its columns"
    )
    assert "did you mean `customer`?" in message
    code, out, err = command("orders")
    assert code != 0
    assert "did not find update_key: custmer" in out + err


def test_a_cast_of_a_missing_column_and_a_select_of_one_are_warnings(tmp_path, data_dir):
    write_csv(tmp_path / "people.csv", 2)
    sqlite_connection("TARGET_DB", tmp_path / "target.db")
    stream = f"file://{tmp_path}/people.csv"
    replication(
        "people",
        f"source: LOCAL\ntarget: TARGET_DB\nstreams:\n  {stream}:\n    object: main.people\n"
        "    select: [id, nmae]\n    columns: {amount: decimal, amont: int}\n",
    )
    columns_discover(connection="LOCAL", streams=[stream])
    messages = _unknown_columns("people")
    assert [m.split(" is not")[0] for m in messages] == ["`nmae` (select)", "`amont` (columns)"]
    assert all("sling ignores it" in m for m in messages)
    assert all(p.severity == WARNING for p in _problems("people") if p.code == "unknown-column")


def test_what_will_land_follows_select_and_casts(tmp_path, data_dir):
    write_csv(tmp_path / "people.csv", 2)
    sqlite_connection("TARGET_DB", tmp_path / "target.db")
    stream = f"file://{tmp_path}/people.csv"
    stored = replication(
        "people",
        f"source: LOCAL\ntarget: TARGET_DB\nstreams:\n  {stream}:\n    object: main.people\n"
        "    select: [id, amount]\n    columns: {amount: 'decimal(10,2)'}\n",
    )
    columns_discover(connection="LOCAL", streams=[stream])
    editor = Editor.load(stored)
    shown = editor.preview(stream, stream, editor.config.streams[stream])
    landing = [(c.name, c.type, c.source) for c in shown["landing"]]
    # A `select` of the columns to keep leaves out the `_sling_loaded_at` sling adds otherwise.
    assert landing == [("id", "bigint", "id"), ("amount", "decimal(10,2)", "amount")]
    assert shown["excluded"] == ["name"]
    # The run makes exactly these columns.
    code, _, err = command("people")
    assert code == 0, err
    with sqlite3.connect(tmp_path / "target.db") as db:
        made = [row[1] for row in db.execute("pragma table_info(people)")]
    assert made == [name for name, _, _ in landing]


def test_what_will_land_has_the_loaded_at_column_sling_adds_from_a_file(tmp_path, data_dir):
    write_csv(tmp_path / "people.csv", 2)
    sqlite_connection("TARGET_DB", tmp_path / "target.db")
    stream = f"file://{tmp_path}/people.csv"
    stored = replication(
        "people", f"source: LOCAL\ntarget: TARGET_DB\nstreams:\n  {stream}:\n    object: main.people\n"
    )
    columns_discover(connection="LOCAL", streams=[stream])
    editor = Editor.load(stored)
    landing = editor.preview(stream, stream, editor.config.streams[stream])["landing"]
    code, _, err = command("people")
    assert code == 0, err
    with sqlite3.connect(tmp_path / "target.db") as db:
        made = [row[1] for row in db.execute("pragma table_info(people)")]
    assert made == [c.name for c in landing] == ["id", "name", "amount", "_sling_loaded_at"]


def test_the_first_rows_are_the_rows_a_run_writes(tmp_path, data_dir):
    write_csv(tmp_path / "people.csv", 30)
    stream = f"file://{tmp_path}/people.csv"
    preview = stream_preview(connection="LOCAL", stream=stream)
    assert preview.header == ["id", "name", "amount"]
    assert len(preview.rows) == 20  # STUDIO_PREVIEW_ROWS
    sqlite_connection("TARGET_DB", tmp_path / "target.db")
    replication(
        "people",
        f"source: LOCAL\ntarget: TARGET_DB\nstreams:\n  {stream}:\n    object: main.people\n"
        "    mode: full-refresh\n",
    )
    code, _, err = command("people")
    assert code == 0, err
    with sqlite3.connect(tmp_path / "target.db") as db:
        written = [
            [str(v) for v in row] for row in db.execute("select id, name, amount from people order by id")
        ]
    assert preview.rows == written[:20]


@pytest.fixture
def silent_port():
    """A local port that accepts connections and never says a word: sling waits on it."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for peer in held:
        peer.close()
    server.close()


def test_a_preview_and_a_discover_are_stopped_in_time_and_name_no_secret(data_dir, settings, silent_port):
    settings.STUDIO_SLING_CALL_SECONDS = 2
    models.Connection.objects.create(
        name="WAREHOUSE",
        type="postgres",
        params={"host": "127.0.0.1", "port": silent_port, "user": "u", "database": "d"},
        secrets={"password": "hunter2-secret"},
    )
    with pytest.raises(sling.SlingFailed) as previewed:
        stream_preview(connection="WAREHOUSE", stream="public.orders")
    with pytest.raises(sling.SlingFailed) as discovered:
        columns_discover(connection="WAREHOUSE", streams=["public.orders"])
    assert str(previewed.value) == str(discovered.value) == "sling did not answer within 2 s"


def test_a_database_sling_cannot_reach_is_said_as_could_not_connect(data_dir):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    models.Connection.objects.create(
        name="WAREHOUSE",
        type="postgres",
        params={"host": "127.0.0.1", "port": port, "user": "u", "database": "d"},
        secrets={"password": "hunter2-secret"},
    )
    with pytest.raises(sling.SlingFailed) as caught:
        stream_preview(connection="WAREHOUSE", stream="public.orders")
    assert str(caught.value) == "WAREHOUSE: could not connect"


def test_a_column_dropped_between_two_reads_is_reported_before_the_next_run(tmp_path, data_dir, settings):
    _orders(tmp_path / "shop.db")
    sqlite_connection("SHOP", tmp_path / "shop.db")
    sqlite_connection("TARGET_DB", tmp_path / "target.db")
    replication(
        "orders",
        "source: SHOP\ntarget: TARGET_DB\nstreams:\n  main.orders:\n    object: main.orders\n"
        "    mode: incremental\n    primary_key: [id]\n    update_key: placed_at\n",
    )
    assert columns_refresh_stale(connection="SHOP", streams=["main.orders"]) == 1
    assert columns_refresh_stale(connection="SHOP", streams=["main.orders"]) == 0  # fresh: not read again
    assert _unknown_columns("orders") == []
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("alter table orders drop column placed_at")
    settings.STUDIO_COLUMNS_MAX_AGE_MINUTES = 0
    assert columns_refresh_stale(connection="SHOP", streams=["main.orders"]) == 1
    [message] = _unknown_columns("orders")
    assert message.startswith("`placed_at` (update_key) is not a column of `main.orders`")


@pytest.mark.skipif(django_db.vendor != "postgresql", reason="the PostgreSQL pass reads its own database")
def test_it_reads_a_postgresql_tables_columns(data_dir, settings):
    with django_db.cursor() as cursor:
        cursor.execute(
            "create table public.column_probe (id bigint primary key, label varchar(20), at timestamptz)"
        )
    db = settings.DATABASES["default"]
    models.Connection.objects.create(
        name="PGSRC",
        type="postgres",
        params={
            "host": db["HOST"] or "127.0.0.1",
            "port": int(db["PORT"] or 5432),
            "user": db["USER"],
            "database": db["NAME"],
            "sslmode": "disable",
        },
        secrets={"password": db["PASSWORD"]} if db["PASSWORD"] else {},
    )
    found = columns_discover(connection="PGSRC", streams=["column_probe"])
    assert [(c.name, c.type, c.native) for c in found["column_probe"].columns] == [
        ("id", "bigint", "bigint"),
        ("label", "text", "character varying(20)"),
        ("at", "timestampz", "timestamp with time zone"),
    ]
    url = models.Connection.objects.get(name="PGSRC").sling_env()
    reported = _sling_reports("PGSRC", "public.column_probe", {"PGSRC": url, "SLING_HOME_DIR": str(data_dir)})
    assert [[c.name, c.type] for c in found["column_probe"].columns] == reported


def _changes(name: str, stream: str) -> list:
    editor = Editor.load(models.Replication.objects.get(name=name))
    return editor.preview(stream, stream, editor.config.streams[stream])["schema_changes"]


def test_a_column_dropped_from_the_source_is_listed_before_the_second_run(tmp_path, data_dir):
    _orders(tmp_path / "shop.db")
    sqlite_connection("SHOP", tmp_path / "shop.db")
    sqlite_connection("TARGET_DB", tmp_path / "target.db")
    replication(
        "orders",
        "source: SHOP\ntarget: TARGET_DB\nstreams:\n  main.orders:\n    object: main.orders_copy\n"
        "    mode: incremental\n    primary_key: [id]\n",
    )
    reading = {"connection": "SHOP", "streams": ["main.orders"], "target": ("TARGET_DB", "main.orders_copy")}
    columns_discover(**reading)
    assert _changes("orders", "main.orders") == []  # no table yet: nothing to compare
    assert command("orders")[0] == 0
    columns_discover(**reading)
    assert _changes("orders", "main.orders") == []  # the table is as the stream sends it
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("alter table orders drop column total")
        db.execute("alter table orders add column note text")
        db.execute("insert into orders values (3, 'cy', '2024-01-03', 'new')")
    columns_discover(**reading)
    changes = {(c.kind, c.column): c for c in _changes("orders", "main.orders")}
    assert set(changes) == {("removed", "total"), ("added", "note")}
    assert changes["removed", "total"].breaking
    assert changes["removed", "total"].outcome == "the column stays; new rows get NULL in it"
    assert changes["added", "note"].outcome == "sling adds it to the table"
    # And the run does what was said.
    assert command("orders")[0] == 0
    with sqlite3.connect(tmp_path / "target.db") as db:
        assert db.execute("select total, note from orders_copy where id = 3").fetchone() == (None, "new")


def test_a_new_column_without_add_new_columns_is_said_to_fail_the_run_and_does(tmp_path, data_dir):
    _orders(tmp_path / "shop.db")
    sqlite_connection("SHOP", tmp_path / "shop.db")
    sqlite_connection("TARGET_DB", tmp_path / "target.db")
    replication(
        "orders",
        "source: SHOP\ntarget: TARGET_DB\nstreams:\n  main.orders:\n    object: main.orders_copy\n"
        "    mode: incremental\n    primary_key: [id]\n    target_options: {add_new_columns: false}\n",
    )
    assert command("orders")[0] == 0
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("alter table orders add column note text")
    columns_discover(connection="SHOP", streams=["main.orders"], target=("TARGET_DB", "main.orders_copy"))
    [change] = _changes("orders", "main.orders")
    assert (change.kind, change.column) == ("added", "note")
    assert change.outcome.startswith("the run fails")
    code, out, err = command("orders")
    assert code != 0
    assert "source field 'note' is missing in target table" in out + err


def test_a_refusing_policy_refuses_a_run_that_would_lose_a_column_and_says_why(
    tmp_path, data_dir, client, user
):
    _orders(tmp_path / "shop.db")
    sqlite_connection("SHOP", tmp_path / "shop.db")
    sqlite_connection("TARGET_DB", tmp_path / "target.db")
    stored = replication(
        "orders",
        "source: SHOP\ntarget: TARGET_DB\nstreams:\n  main.orders:\n    object: main.orders_copy\n"
        "    mode: incremental\n    primary_key: [id]\n",
    )
    assert command("orders")[0] == 0
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("alter table orders drop column total")
    columns_discover(connection="SHOP", streams=["main.orders"], target=("TARGET_DB", "main.orders_copy"))
    # Under the default policy the run goes, and its page says what it met.
    warned = run_create(replication=stored)
    assert warned.status == models.Run.Status.QUEUED
    page = client.get(f"/runs/{warned.pk}/").content.decode()
    assert "<code>main.orders</code>: <code>total</code> no longer sent (decimal)" in page
    end_run(warned, models.Run.Status.CANCELLED)
    policy_save(
        replication=stored,
        base_version=0,
        retries=0,
        retry_backoff=60,
        freshness_minutes=None,
        schema_changes="refuse",
    )
    refused = run_create(replication=stored)
    assert refused.status == models.Run.Status.FAILED
    assert refused.error == (
        "refused by the replication's schema policy: stream `main.orders`: `total` is no longer sent; "
        "read the columns again if the tables changed, or set schema changes to warn"
    )
    assert "a run is refused" in client.get(f"/runs/{refused.pk}/").content.decode()
