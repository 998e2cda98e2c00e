from __future__ import annotations

import pytest

from replication.config import effective_config
from replication.resolve import is_file_stream, resolve_object, split_table_name, unresolved


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("public.users", ("public", "users")),
        ('"Sales"."Order Lines"', ("Sales", "Order Lines")),
        ("db.schema.table", ("schema", "table")),
        ("users", ("", "users")),
    ],
)
def test_table_names_split_into_schema_and_table(name, expected):
    assert split_table_name(name) == expected


@pytest.mark.parametrize(
    ("name", "is_file"),
    [
        ("public.users", False),
        ("file://data/a.csv", True),
        ("s3://b/x/*.parquet", True),
        ("data/a.csv", True),
    ],
)
def test_file_streams_are_told_from_tables(name, is_file):
    assert is_file_stream(name) is is_file


def test_db_stream_variables_are_expanded():
    effective = {"object": "{target_schema}.{stream_schema}_{stream_table}_{run_timestamp}"}
    text = resolve_object("Public.Users", effective, target_name="SF", target_schema="raw")
    assert text == "raw.Public_Users_{run_timestamp}"
    assert unresolved(text) == ["run_timestamp"]


def test_file_stream_variables_are_expanded():
    effective = {"object": "main.{stream_file_name}_{stream_file_ext}_{stream_file_folder}"}
    assert resolve_object("file://demo/data/orders.csv", effective) == "main.orders_csv_data"


def test_env_keys_are_variables_too():
    assert resolve_object("a.b", {"object": "{schema}.{stream_table}"}, env={"schema": "stage"}) == "stage.b"


def test_no_object_resolves_to_none():
    assert resolve_object("a.b", {}) is None


def test_defaults_merge_as_sling_merges_them():
    defaults = {
        "mode": "full-refresh",
        "object": "x.{stream_table}",
        "source_options": {"format": "csv", "header": True},
        "columns": {"id": "bigint"},
        "hooks": {"post": [{"type": "log"}]},
        "meta": {"dagster": {"group": "g", "deps": ["a"]}},
        "tags": ["d"],
    }
    own = {
        "mode": "incremental",
        "source_options": {"header": False},
        "columns": {"+name": "string"},
        "hooks": {},
        "meta": {"dagster": {"group": "own"}},
        "tags": [],
    }
    assert effective_config(defaults, own) == {
        "mode": "incremental",
        "object": "x.{stream_table}",
        "source_options": {"format": "csv", "header": False},
        "columns": {"id": "bigint", "name": "string"},
        "hooks": {"post": [{"type": "log"}]},
        "meta": {"dagster": {"group": "own", "deps": ["a"]}},
        # A key the stream has, even empty, is not taken from defaults.
        "tags": [],
    }


def test_columns_without_plus_replace_the_defaults():
    assert effective_config({"columns": {"id": "bigint"}}, {"columns": {"x": "int"}})["columns"] == {
        "x": "int"
    }
