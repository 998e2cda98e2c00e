"""The Dagster code location (`services.dagster.dagster_location`, `replication.dagster.location`),
read as text; tests/dagster/test_dagster_loads_the_export.py loads it with dagster itself."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import yaml

from replication.dagster.location import location_files, zip_bytes
from replication.lineage.graph import build_graph
from replication.translator import DagsterSlingTranslator
from replication.yamlio import parse
from studio import models
from studio.errors import NotFound
from studio.selectors.replications import replication_yaml
from studio.services.connections import connection_save
from studio.services.dagster import dagster_location
from studio.services.replications import replication_import

WAREHOUSE_PASSWORD = "whs-Pa55-9f3k"
LAKE_PASSWORD = "lake-Pa55-7q2z"


@dataclass
class RawTranslator(DagsterSlingTranslator):
    """A team's own naming: tables under `raw/`."""

    target_prefix: str = "raw"


@pytest.fixture
def warehouse(demo):
    """`demo`, and `marts`: the demo's orders (read back from DEMO_SQLITE) into a warehouse
    whose password, and the lake's URL password, must never be written out."""
    connection_save(
        name="WAREHOUSE",
        fields={
            "type": "postgres",
            "host": "db.example.com",
            "port": 5432,
            "user": "loader",
            "password": WAREHOUSE_PASSWORD,
            "database": "dw",
        },
    )
    connection_save(name="LAKE", fields={"url": f"postgres://lake:{LAKE_PASSWORD}@lake.example.com/l"})
    replication_import(
        name="marts",
        text="source: DEMO_SQLITE\ntarget: WAREHOUSE\ndefaults: {mode: full-refresh}\n"
        "streams:\n  main.orders:\n    object: marts.orders\n"
        "  main.customers:\n    object: marts.customers\n",
    )
    replication_import(
        name="lake", text="source: WAREHOUSE\ntarget: LAKE\nstreams:\n  marts.orders:\n    object: l.orders\n"
    )


def test_it_writes_the_yaml_of_each_replication_definitions_and_env_example(demo):
    files = dagster_location(names=["demo"])

    assert set(files) == {"replications/demo/replication.yaml", "definitions.py", ".env.example"}
    # The same canonical document as `export_replication`: what `sling run -r` accepts.
    assert files["replications/demo/replication.yaml"] == replication_yaml(name="demo")
    compile(files["definitions.py"], "definitions.py", "exec")
    assert "@sling_assets(" in files["definitions.py"]
    assert '"replications" / "demo" / "replication.yaml"' in files["definitions.py"]
    assert 'connection_string="sqlite://' in files["definitions.py"]
    # The downstream assets, with the studio's keys and deps.
    assert 'key=dg.AssetKey(["reports", "weekly_revenue"])' in files["definitions.py"]
    assert 'deps=[dg.AssetKey(["analytics", "revenue_by_product"])]' in files["definitions.py"]
    assert 'tags={"finance": ""}' in files["definitions.py"]


def test_secrets_are_read_from_the_environment_and_never_written(warehouse):
    files = dagster_location()

    text = "".join(files.values())
    assert WAREHOUSE_PASSWORD not in text
    assert LAKE_PASSWORD not in text
    definitions = files["definitions.py"]
    assert 'host="db.example.com"' in definitions
    assert "port=5432" in definitions
    assert 'password=dg.EnvVar("WAREHOUSE_PASSWORD")' in definitions
    # A URL with a password comes whole from the environment.
    assert 'connection_string=dg.EnvVar("LAKE_URL")' in definitions
    env = files[".env.example"].splitlines()
    assert "WAREHOUSE_PASSWORD=" in env
    assert "LAKE_URL=" in env
    assert "# LAKE's URL (postgres://lake@lake.example.com/l) with its password" in env


def test_only_the_connections_the_replications_name_are_written(warehouse):
    definitions = dagster_location(names=["demo"])["definitions.py"]

    assert 'name="DEMO_SQLITE"' in definitions
    assert "WAREHOUSE" not in definitions


def test_a_connection_the_studio_does_not_define_is_named(db):
    replication_import(
        name="ext",
        text="source: APP_DB\ntarget: LOCAL\nstreams:\n  public.users: {object: file:///tmp/u.csv}\n",
    )

    files = dagster_location(names=["ext"])

    assert "# `APP_DB`: not studio connections" in files["definitions.py"]
    assert "# APP_DB=" in files[".env.example"].splitlines()


def test_the_default_translator_needs_no_translator_of_its_own(demo):
    assert "Translator" not in dagster_location()["definitions.py"]


def test_a_stream_reading_anothers_table_depends_on_that_asset(warehouse):
    definitions = dagster_location()["definitions.py"]

    # As the studio joins them: marts reads the demo's tables, lake reads marts'.
    assert "class StudioTranslator(DagsterSlingTranslator):" in definitions
    assert '"main.orders": (["target", "marts", "orders"], [["target", "main", "orders"]]),' in definitions
    assert '"marts.orders": (["target", "l", "orders"], [["target", "marts", "orders"]]),' in definitions
    # The demo's own streams keep dagster-sling's defaults.
    assert '"file://demo/data/orders.csv"' not in definitions


def test_a_custom_translator_gives_its_keys(demo, settings):
    settings.SLING_STUDIO_TRANSLATOR = f"{__name__}.RawTranslator"

    definitions = dagster_location()["definitions.py"]

    assert f"its translator `{__name__}.RawTranslator`" in definitions
    assert (
        '"file://demo/data/orders.csv": (["raw", "main", "orders"], [["file_demo_data_orders", "csv"]]),'
        in definitions
    )
    # The downstream assets still read `target/main/orders`: their deps are kept as the studio has them.
    assert (
        'deps=[dg.AssetKey(["target", "main", "customers"]), dg.AssetKey(["target", "main", "orders"])]'
        in (definitions)
    )


def test_downstream_assets_of_other_replications_are_left_out(warehouse):
    models.DownstreamAsset.objects.create(key="books/ledger", deps=["target/l/orders"])

    assert "ledger" not in dagster_location(names=["demo"])["definitions.py"]
    assert 'dg.AssetKey(["books", "ledger"])' in dagster_location(names=["lake"])["definitions.py"]
    assert 'dg.AssetKey(["books", "ledger"])' in dagster_location()["definitions.py"]


def test_an_unknown_replication_is_not_found(db):
    with pytest.raises(NotFound):
        dagster_location(names=["nope"])


def test_replication_names_become_distinct_python_names():
    replications = [
        (name, parse(f"source: LOCAL\ntarget: LOCAL\nstreams:\n  {stream}:\n").replication)
        for name, stream in (("a-b", "a.csv"), ("a_b", "b.csv"), ("2024", "c.csv"))
    ]
    graph = build_graph(replications)

    definitions = location_files(replications, graph, [])["definitions.py"]

    assert "def a_b_assets(" in definitions
    assert "def a_b_2_assets(" in definitions
    assert "def r_2024_assets(" in definitions
    assert "assets=[a_b_assets, a_b_2_assets, r_2024_assets]" in definitions


def test_meta_dagster_blocks_are_kept_in_the_exported_yaml(db):
    text = (
        "source: LOCAL\ntarget: LOCAL\n"
        "defaults:\n  meta:\n    dagster: {group: raw, freshness_policy: {maximum_lag_minutes: 60}}\n"
        "streams:\n  a.csv:\n    object: file:///tmp/a.csv\n"
        "    meta:\n      dagster: {asset_key: raw.a, deps: [src.a]}\n"
    )
    replication_import(name="meta", text=text)

    exported = dagster_location()["replications/meta/replication.yaml"]

    assert yaml.safe_load(exported) == yaml.safe_load(text)


def test_the_zip_holds_the_files_under_one_folder():
    data = zip_bytes({"definitions.py": "x = 1\n", "replications/a/replication.yaml": "y"}, "a")

    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["a/definitions.py", "a/replications/a/replication.yaml"]
        assert archive.read("a/definitions.py") == b"x = 1\n"
