"""Ask dagster and dagster-sling what they make of the studio's files; print JSON.

Run with the Python of .venv-dagster (scripts/dagster-check.sh makes it), never the studio's:

    python scripts/dagster_probe.py graph LOCATION/definitions.py
        the code location's asset graph: {"assets": [{"key", "deps", "group",
        "materializable"}]}, sorted by key; deps no asset defines are there as external assets.
    python scripts/dagster_probe.py specs REPLICATION.yaml...
        dagster-sling's default key and deps of each stream: {file: {stream: {"key", "deps"}
        or {"error"}}}.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_sling import DagsterSlingTranslator
from dagster_sling.asset_decorator import get_streams_from_replication, streams_with_default_dagster_meta
from dagster_sling.sling_replication import validate_replication


def graph(path: str) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("definitions", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    defs = module.defs
    dg.Definitions.validate_loadable(defs)
    asset_graph = defs.resolve_asset_graph()
    assets = []
    for key in sorted(asset_graph.get_all_asset_keys(), key=lambda k: k.path):
        node = asset_graph.get(key)
        assets.append(
            {
                "key": list(key.path),
                "deps": sorted(list(parent.path) for parent in node.parent_keys),
                "group": node.group_name,
                "materializable": node.is_materializable,
            }
        )
    return {"assets": assets}


def specs(paths: list[str]) -> dict[str, Any]:
    translator = DagsterSlingTranslator()
    out: dict[str, Any] = {}
    for path in paths:
        config = validate_replication(Path(path))  # read as @sling_assets reads it
        streams = streams_with_default_dagster_meta(get_streams_from_replication(config), config)
        found = out[path] = {}
        for stream in streams:
            try:
                asset = translator.get_asset_spec(stream)
            except ValueError as exc:
                found[str(stream["name"])] = {"error": str(exc)}
                continue
            found[str(stream["name"])] = {
                "key": list(asset.key.path),
                "deps": [list(dep.asset_key.path) for dep in asset.deps],
            }
    return out


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    result = graph(args[0]) if command == "graph" else specs(args)
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
