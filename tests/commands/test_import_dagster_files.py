"""`import_replication` takes the replication files dagster-sling users already have,
`meta.dagster` blocks and all, and gives them back on export."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from django.core.management import call_command

from studio import models

# As a dagster-sling project writes it: `meta.dagster` under defaults (merged into
# every stream by dagster-sling) and per stream, with each key the translator reads.
DAGSTER_PROJECT = """\
# Loaded by @sling_assets(replication_config="replication.yaml") in our Dagster project.
source: APP_DB
target: WAREHOUSE

defaults:
  mode: incremental
  object: 'raw.app_{stream_table}'
  primary_key: [id]
  update_key: updated_at
  meta:
    dagster:
      group: app_raw
      freshness_policy:
        maximum_lag_minutes: 120
        cron_schedule: '0 * * * *'
        cron_schedule_timezone: UTC

streams:
  public.customers:
    object: raw.app_customers
    meta:
      dagster:
        asset_key: raw.app.customers
        description: Customers, from the app database
  public.orders:
    object: raw.app_orders
    meta:
      dagster:
        asset_key: raw.app.orders
        deps:
          - app_db.public.orders
          - app_db.public.order_items
        freshness_policy:
          maximum_lag_minutes: 30
  public.events:
    object: raw.app_events
    mode: full-refresh
    meta:
      dagster:
        group: app_events
        deps: app_db.public.events
        description: Click stream, reloaded nightly
  public.legacy_orders:
    object: raw.app_legacy_orders
    disabled: true
    meta:
      dagster:
        asset_key: raw.app.legacy_orders
"""


@pytest.fixture
def imported(db, tmp_path):
    path = tmp_path / "replication.yaml"
    path.write_text(DAGSTER_PROJECT)
    out = io.StringIO()
    call_command("import_replication", str(path), "--name", "app", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_imports_a_dagster_sling_file(imported):
    assert imported.startswith("imported app: 4 streams")
    orders = models.Stream.objects.get(replication__name="app", name="public.orders")
    assert orders.config["meta"] == {
        "dagster": {
            "asset_key": "raw.app.orders",
            "deps": ["app_db.public.orders", "app_db.public.order_items"],
            "freshness_policy": {"maximum_lag_minutes": 30},
        }
    }
    assert models.Replication.objects.get(name="app").defaults["meta"]["dagster"]["group"] == "app_raw"


def test_it_keeps_the_meta_dagster_blocks_on_export(imported):
    out = io.StringIO()
    call_command("export_replication", "app", stdout=out)

    # Comments aside, the same document: every meta.dagster block as it was.
    assert yaml.safe_load(out.getvalue()) == yaml.safe_load(DAGSTER_PROJECT)


def test_its_lineage_follows_the_meta_dagster_blocks(imported):
    out = io.StringIO()
    call_command("lineage", "app", stdout=out)
    graph = json.loads(out.getvalue())

    targets = {"/".join(n["key"]): n.get("group") for n in graph["nodes"] if n["kind"] == "target"}
    # asset_key names the asset; group comes from defaults unless the stream has its own;
    # the disabled stream is no asset, as in dagster-sling.
    assert targets == {
        "raw/app/customers": "app_raw",
        "raw/app/orders": "app_raw",
        "target/raw/app_events": "app_events",
    }
    edges = {("/".join(a), "/".join(b)) for a, b in graph["edges"]}
    assert edges == {
        ("public/customers", "raw/app/customers"),
        ("app_db/public/orders", "raw/app/orders"),
        ("app_db/public/order_items", "raw/app/orders"),
        ("app_db/public/events", "target/raw/app_events"),
    }
