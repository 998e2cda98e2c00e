from __future__ import annotations

import pytest

from replication.config import ReplicationConfig
from replication.translator import (
    DagsterSlingTranslator,
    TranslationError,
    load_translator,
    stream_definitions,
)

translator = DagsterSlingTranslator()


def spec(name, config=None):
    return translator.get_asset_spec({"name": name, "config": config})


@pytest.mark.parametrize(
    ("name", "config", "key", "dep"),
    [
        # The examples of shared/reference/sling_spec.md §2.2, as dagster-sling 0.29 names them:
        # a run of unsafe characters (`://`) is one `_` (scripts/dagster-check.sh checks the corpus).
        ("public.users", None, ("target", "public", "users"), ("public", "users")),
        ('"Sales"."Orders"', {}, ("target", "sales", "orders"), ("sales", "orders")),
        ("file://data/a.csv", None, ("target", "file_data_a", "csv"), ("file_data_a", "csv")),
        ("public.my--table", None, ("target", "public", "my_table"), ("public", "my_table")),
        (
            "public.users",
            {"object": "{target_schema}.{stream_table}"},
            ("target", "_target_schema_", "_stream_table_"),
            ("public", "users"),
        ),
        ("public.*", None, ("target", "public", "_"), ("public", "_")),
        ("public.finance_departments", {"object": "departments"}, ("target", "departments"), None),
    ],
)
def test_keys_and_deps_match_dagster_sling(name, config, key, dep):
    result = spec(name, config)
    assert result.key == key
    assert result.deps == ((dep or tuple(name.split("."))),)
    assert result.kinds == frozenset({"sling"})
    assert result.tags == {}


def test_meta_dagster_overrides_key_deps_group_and_description():
    result = spec(
        "public.users",
        {
            "object": "x.y",
            "meta": {
                "dagster": {
                    "asset_key": "warehouse.users",
                    "deps": ["raw.users", "raw.accounts"],
                    "group": "crm",
                    "description": "All users",
                    "auto_materialize_policy": {},
                }
            },
        },
    )
    assert result.key == ("warehouse", "users")
    assert result.deps == (("raw", "users"), ("raw", "accounts"))
    assert result.group_name == "crm"
    assert result.description == "All users"
    assert result.auto_materialize_policy == "eager"


def test_sql_is_the_description_even_beside_a_meta_description():
    result = spec("q", {"sql": "select 1", "meta": {"dagster": {"description": "ignored"}}})
    assert result.description == "select 1"


def test_an_unsanitized_asset_key_is_refused_like_dagster_sling():
    with pytest.raises(TranslationError, match="not sanitized"):
        spec("s.t", {"meta": {"dagster": {"asset_key": "Has-Caps"}}})


def test_defaults_meta_is_merged_under_the_streams_and_defaults_object_is_not_used():
    replication = ReplicationConfig(
        source="A",
        target="B",
        defaults={"object": "other.{stream_table}", "meta": {"dagster": {"group": "g", "description": "d"}}},
        streams={
            "s.a": None,
            "s.b": {"meta": {"dagster": {"group": "own"}}},
            "s.c": {"disabled": True},
        },
    )
    definitions = list(stream_definitions(replication))
    assert [d["name"] for d in definitions] == ["s.a", "s.b"]
    specs = [translator.get_asset_spec(d) for d in definitions]
    assert [s.key for s in specs] == [("target", "s", "a"), ("target", "s", "b")]
    assert [s.group_name for s in specs] == ["g", "own"]
    assert [s.description for s in specs] == ["d", "d"]


class PrefixedTranslator(DagsterSlingTranslator):
    def get_asset_key(self, stream_definition):
        return ("lake", *super().get_asset_key(stream_definition))


def test_a_translator_class_is_loaded_by_its_dotted_path():
    loaded = load_translator(f"{__name__}.PrefixedTranslator")
    assert loaded.get_asset_spec({"name": "a.b", "config": None}).key == ("lake", "target", "a", "b")
    assert type(load_translator("")) is DagsterSlingTranslator
    with pytest.raises(ValueError, match=r"cannot load translator `no\.such\.Class`"):
        load_translator("no.such.Class")
