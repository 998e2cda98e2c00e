"""A stream's target object as sling 1.4.11 names it (cases measured on the binary:
tests/corpus/oracle/)."""

from __future__ import annotations

import pytest

from replication.config import ReplicationConfig, effective_config
from replication.context import ConnectionInfo, Context
from replication.resolve import (
    Names,
    clean_name,
    expand_env,
    is_file_stream,
    resolve_object,
    runtime_variables,
    split_table_name,
)
from replication.versions import Sling

CONNECTIONS = {
    "DB": ConnectionInfo.of("sqlite"),
    "PG": ConnectionInfo.of("postgres", {"schema": "raw"}),
    "SRC": ConnectionInfo.of("sqlite"),
}


def names(source: str = "LOCAL", target: str = "DB", env: dict | None = None, environ: dict | None = None):
    config = ReplicationConfig(source=source, target=target, streams={}, env=env or {})
    return Names.of(config, Context(connections=CONNECTIONS, process_env=environ or {}))


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


@pytest.mark.parametrize(
    ("text", "clean"),
    [("my-file", "my_file"), ("My Data", "My_Data"), ("2024", "_2024"), ('"main"."users"', "_main_users_")],
)
def test_values_are_cleaned_as_sling_cleans_them(text, clean):
    assert clean_name(text) == clean


@pytest.mark.parametrize(
    ("stream", "template", "source", "expected"),
    [
        # Each case as sling 1.4.11 wrote it (tests/corpus/oracle/ has them run for real).
        ("main.users", "main.x_{stream_name}", "SRC", "main.x_main_users"),
        ("file://data/my-file.csv", "main.{stream_file_name}", "LOCAL", "main.my_file"),
        ("file://data/My Data.csv", "main.{stream_file_name}", "LOCAL", "main.My_Data"),
        (
            "file://data/x.csv.gz",
            "main.{stream_file_name}__{stream_file_ext}",
            "LOCAL",
            "main.x_csv_gz__csv_gz",
        ),
        ("file://data/2024/a.csv", "main.{stream_file_folder}", "LOCAL", "main._2024"),
        ("file://data/sub/c.csv", "main.{stream_file_path}", "LOCAL", "main.data_sub_c_csv"),
        ("file://data/a.csv", "main.x_{stream_schema}_y", "LOCAL", "main.x__y"),
        ("file://data/a.csv", "main.t_{nope}_x", "LOCAL", "main.t__x"),
        ("file://data/a.csv", "{target_schema}.users", "LOCAL", "main.users"),
        ("file://data/a.csv", "main.{source_type}_{target_kind}", "LOCAL", "main.file_database"),
        ("main.MyUsers", "main.{stream_table}", "SRC", "main.MyUsers"),
        ("main.users", "users_copy", "SRC", "main.users_copy"),
        ("file://data/a.csv", "main.t_{YYYY}_{run_timestamp}", "LOCAL", "main.t_{YYYY}_{run_timestamp}"),
    ],
)
def test_objects_are_named_as_sling_names_them(stream, template, source, expected):
    assert resolve_object(stream, {"object": template}, names(source)) == expected


def test_the_schema_of_the_target_connection_fills_in():
    assert resolve_object("main.users", {"object": "{target_schema}.{stream_table}"}, names("SRC", "PG")) == (
        "raw.users"
    )


def test_variables_only_a_run_knows_are_named():
    assert runtime_variables("main.t_{YYYY}_{MM}_{run_timestamp}_{part_day}") == [
        "YYYY",
        "MM",
        "run_timestamp",
        "part_day",
    ]


def test_env_keys_are_replaced_first_as_raw_text_and_shadow_variables():
    env = {"schema": "stage", "stream_file_name": "from_env", "X": "a-b"}
    found = names(env=env)
    assert resolve_object("file://d/a.csv", {"object": "{schema}.{stream_file_name}_{X}"}, found) == (
        "stage.from_env_a-b"
    )


def test_env_values_are_expanded_from_slings_environment_only():
    found = names(env={"X": "${SHELL_VAR}", "Z": "${UNSET}_end"}, environ={"SHELL_VAR": "fromshell"})
    assert resolve_object("file://d/a.csv", {"object": "main.t_{X}_{Z}"}, found) == "main.t_fromshell__end"
    # `${VAR}` written in the object itself is not expanded: `{VAR}` goes, the `$` stays.
    assert resolve_object("file://d/a.csv", {"object": "main.t_${SHELL_VAR}"}, found) == "main.t_$"
    assert expand_env("$A/${B}/$", {"A": "1", "B": "2"}) == "1/2/$"


def test_a_yaml_11_boolean_key_is_no_variable():
    assert (
        resolve_object("file://d/a.csv", {"object": "main.t_{N}_x"}, names(env={"N": "abc"})) == "main.t__x"
    )


def test_variables_newer_than_the_binary_are_deleted():
    effective = {"object": "main.t_{update_key}", "update_key": "updated_at"}
    old = names()
    assert resolve_object("file://d/a.csv", effective, old) == "main.t_"
    new = Names.of(ReplicationConfig("LOCAL", "DB", {}), Context(Sling("1.4.25"), CONNECTIONS))
    assert resolve_object("file://d/a.csv", effective, new) == "main.t_updated_at"


def test_a_wildcard_shows_its_stream_variables_as_stars():
    assert resolve_object("main.user*", {"object": "main.p_{stream_table}"}, names("SRC")) == "main.p_*"


def test_a_local_file_target_is_a_file_url():
    found = names(target="LOCAL")
    assert resolve_object("main.users", {"object": "out/{stream_table}.csv"}, names("SRC", "LOCAL")) == (
        "file://out/users.csv"
    )
    assert resolve_object("file://d/my-file.csv", {"object": "/o/{stream_file_name}.csv"}, found) == (
        "file:///o/my_file.csv"
    )


def test_no_object_resolves_to_none():
    assert resolve_object("a.b", {}) is None


DEFAULTS = {
    "mode": "full-refresh",
    "object": "x.{stream_table}",
    "source_options": {"format": "csv", "header": True, "delimiter": ";"},
    "columns": {"id": "bigint"},
    "hooks": {"post": [{"type": "log"}]},
    "meta": {"dagster": {"group": "g", "deps": ["a"]}},
    "tags": ["d"],
}
OWN = {
    "mode": "incremental",
    "source_options": {"header": False},
    "columns": {"+name": "string"},
    "hooks": {},
    "meta": {"dagster": {"group": "own"}},
    "tags": [],
}


def test_defaults_merge_as_sling_1_4_11_merges_them():
    assert effective_config(DEFAULTS, OWN) == {
        "mode": "incremental",
        "object": "x.{stream_table}",
        # With source_options of its own, a stream loses the defaults' `format` (SetDefaults).
        "source_options": {"header": False, "delimiter": ";"},
        # `+name` columns replace the defaults' before 1.5.12.
        "columns": {"+name": "string"},
        # A stream's `hooks: {}` is hooks of its own before 1.5.0.
        "hooks": {},
        "meta": {"dagster": {"group": "own", "deps": ["a"]}},
        # A key the stream has, even empty, is not taken from defaults.
        "tags": [],
    }


def test_later_versions_merge_columns_and_empty_hooks():
    merged = effective_config(DEFAULTS, OWN, Sling("1.5.12"))
    assert merged["columns"] == {"id": "bigint", "name": "string"}
    assert merged["hooks"] == {"post": [{"type": "log"}]}
    assert merged["source_options"] == {"header": False, "delimiter": ";"}


def test_columns_without_plus_replace_the_defaults():
    assert effective_config({"columns": {"id": "bigint"}}, {"columns": {"x": "int"}})["columns"] == {
        "x": "int"
    }
