"""The exported code location, loaded by real dagster and dagster-sling: its asset graph has
the keys and edges of the studio's `lineage` JSON.

Dagster never enters the studio's environment: it lives in .venv-dagster, made by
scripts/dagster-check.sh (which `make test` runs), and loads the location in a process
of its own (scripts/dagster_probe.py). Without that environment these tests are
skipped, unless DAGSTER_PYTHON names it (then it must be there).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from test_import_dagster_files import DAGSTER_PROJECT

from replication.sling import find_binary
from replication.translator import DagsterSlingTranslator, TranslationError, stream_definitions
from replication.yamlio import parse
from studio import models
from studio.services.connections import connection_save
from studio.services.replications import replication_import

pytestmark = pytest.mark.dagster

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RawTranslator(DagsterSlingTranslator):
    """A team's own naming: tables under `raw/`, sources under `src/`."""

    target_prefix: str = "raw"

    def get_deps_asset_key(self, stream_definition: dict[str, Any]) -> list[tuple[str, ...]]:
        return [("src", *key) for key in super().get_deps_asset_key(stream_definition)]


@pytest.fixture
def dagster_python() -> str:
    named = os.environ.get("DAGSTER_PYTHON")
    python = Path(named or ROOT / ".venv-dagster" / "bin" / "python")
    if not python.exists():
        if named:
            pytest.fail(f"DAGSTER_PYTHON={named} does not exist")
        if os.environ.get("CI"):
            pytest.fail("no .venv-dagster: CI must run the Dagster tests through scripts/dagster-check.sh")
        pytest.skip("no .venv-dagster: scripts/dagster-check.sh makes it")
    return str(python)


@pytest.fixture
def studio(demo):
    """The demo, a replication reading the demo's tables back (joined by the studio), a
    dagster-sling user's file with meta.dagster blocks, secrets, and downstream assets."""
    connection_save(
        name="WAREHOUSE",
        fields={"type": "postgres", "host": "db.example.com", "user": "loader", "password": "pw-Secret-1"},
    )
    connection_save(name="APP_DB", fields={"url": "postgres://app:pw-Secret-2@app.example.com/app"})
    replication_import(
        name="marts",
        text="source: DEMO_SQLITE\ntarget: WAREHOUSE\ndefaults: {mode: full-refresh}\n"
        "streams:\n  main.orders: {object: marts.orders}\n  main.customers: {object: marts.customers}\n",
    )
    replication_import(name="app", text=DAGSTER_PROJECT)
    models.DownstreamAsset.objects.create(
        key="marts/customer_value",
        deps=["target/marts/orders", "target/marts/customers", "raw/app/orders"],
        group="marts",
        tags=["finance", "not a dagster tag!"],
    )


def probe(python: str, *args: str, cwd: Path) -> Any:
    """What scripts/dagster_probe.py, run by dagster's Python, prints."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    # The `sling` package looks for its binary at import (and would download one): give it ours.
    env["SLING_BINARY"] = find_binary(settings.SLING_BINARY or None)
    done = subprocess.run(
        [python, str(ROOT / "scripts" / "dagster_probe.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def load(python: str, location: Path) -> dict[str, Any]:
    """The asset graph of `location` as dagster loads it."""
    return probe(python, "graph", str(location / "definitions.py"), cwd=location)


def studio_lineage(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("lineage", *args, stdout=out)
    return json.loads(out.getvalue())


def export(*args: str, output: Path) -> Path:
    call_command("export_dagster", *args, "-o", str(output), stdout=io.StringIO())
    return output


def keys_and_edges(graph: dict[str, Any]) -> tuple[set[str], set[tuple[str, str]]]:
    """Node keys and edges (upstream, downstream), from either side's JSON. Kinds are not
    compared: dagster-sling's sources are external assets, the studio's are `source` nodes."""
    if "assets" in graph:
        keys = {"/".join(a["key"]) for a in graph["assets"]}
        edges = {("/".join(dep), "/".join(a["key"])) for a in graph["assets"] for dep in a["deps"]}
    else:
        keys = {"/".join(n["key"]) for n in graph["nodes"]}
        edges = {("/".join(a), "/".join(b)) for a, b in graph["edges"]}
    return keys, edges


def test_dagster_sees_the_studios_lineage(dagster_python, studio, tmp_path):
    dagster = load(dagster_python, export("--all", output=tmp_path / "location"))

    lineage = studio_lineage()
    assert keys_and_edges(dagster) == keys_and_edges(lineage)
    # The studio joins marts to the demo's tables: dagster draws the same edge.
    assert ("target/main/orders", "target/marts/orders") in keys_and_edges(dagster)[1]
    groups = {"/".join(a["key"]): a["group"] for a in dagster["assets"] if a["materializable"]}
    assert groups["target/main/orders"] == "shop"
    assert groups["raw/app/orders"] == "app_raw"
    assert groups["target/raw/app_events"] == "app_events"
    # Only the replications' assets are materialized by Dagster; the rest are external.
    materialized = {"/".join(n["key"]) for n in lineage["nodes"] if n["kind"] == "target"}
    assert {"/".join(a["key"]) for a in dagster["assets"] if a["materializable"]} == materialized


def test_one_replication_is_a_location_of_its_own(dagster_python, studio, tmp_path):
    dagster = load(dagster_python, export("demo", output=tmp_path / "demo"))

    # The demo's whole lineage, and no other replication's assets (the studio draws those that
    # read the demo's tables as context: they are their own replication's, not this location's).
    lineage = studio_lineage("demo", "--select", "+kind:target+")
    theirs = {tuple(n["key"]) for n in lineage["nodes"] if n.get("context")}
    lineage["nodes"] = [n for n in lineage["nodes"] if tuple(n["key"]) not in theirs]
    lineage["edges"] = [e for e in lineage["edges"] if not {tuple(e[0]), tuple(e[1])} & theirs]
    assert keys_and_edges(dagster) == keys_and_edges(lineage)


def test_a_custom_translators_keys_carry_over(dagster_python, studio, tmp_path, settings):
    settings.SLING_STUDIO_TRANSLATOR = f"{__name__}.RawTranslator"

    dagster = load(dagster_python, export("--all", output=tmp_path / "location"))

    assert keys_and_edges(dagster) == keys_and_edges(studio_lineage())
    assert "raw/main/orders" in keys_and_edges(dagster)[0]
    assert ("src/file_demo_data_orders/csv", "raw/main/orders") in keys_and_edges(dagster)[1]


def test_the_studios_translator_names_the_corpus_as_dagster_sling_does(dagster_python, tmp_path):
    files = sorted((ROOT / "tests" / "corpus" / "valid").glob("*.yaml"))

    theirs = probe(dagster_python, "specs", *map(str, files), cwd=tmp_path)

    translator = DagsterSlingTranslator()
    for path in files:
        ours = {}
        for definition in stream_definitions(parse(path.read_bytes()).replication):
            try:
                spec = translator.get_asset_spec(definition)
            except TranslationError:
                ours[str(definition["name"])] = "refused"
                continue
            ours[str(definition["name"])] = {"key": list(spec.key), "deps": [list(d) for d in spec.deps]}
        expected = {name: "refused" if "error" in s else s for name, s in theirs[str(path)].items()}
        assert ours == expected, path.name
