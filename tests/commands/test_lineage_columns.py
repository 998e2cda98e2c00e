"""`manage.py lineage --columns`: each target with its columns and the source column each comes
from, by the columns sling read; a custom `sql:` stream says the studio cannot know."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest
from django.core.management import call_command

from studio.services.columns import columns_discover
from tests.run_support import replication, sqlite_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _lineage(*args: str) -> dict:
    out = io.StringIO()
    call_command("lineage", "orders", *args, stdout=out)
    return json.loads(out.getvalue())


def test_targets_list_their_columns_and_where_each_comes_from(tmp_path, data_dir):
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("create table orders (id integer primary key, Customer text, total real, secret text)")
    sqlite_connection("SHOP", tmp_path / "shop.db")
    sqlite_connection("TARGET_DB", tmp_path / "target.db")
    replication(
        "orders",
        "source: SHOP\ntarget: TARGET_DB\nstreams:\n"
        "  main.orders:\n    object: main.orders\n    select: [-secret]\n"
        "    columns: {total: 'decimal(10,2)'}\n"
        "    target_options: {column_casing: lower}\n"
        "  main.totals:\n    object: main.totals\n    sql: select sum(total) as total from orders\n",
    )
    columns_discover(connection="SHOP", streams=["main.orders"])
    plain = _lineage()
    assert all("columns" not in node for node in plain["nodes"])  # only when asked
    nodes = {tuple(node["key"]): node for node in _lineage("--columns")["nodes"]}
    assert nodes["target", "main", "orders"]["columns"] == [
        {"name": "id", "type": "bigint", "from": "id", "how": "same"},
        {"name": "customer", "type": "text", "from": "Customer", "how": "renamed"},
        {"name": "total", "type": "decimal(10,2)", "from": "total", "how": "cast"},
        {"name": None, "type": None, "from": "secret", "how": "excluded"},
    ]
    totals = nodes["target", "main", "totals"]
    assert totals["columns"] is None
    assert totals["columns_unknown"].startswith("custom sql: the studio cannot know")
