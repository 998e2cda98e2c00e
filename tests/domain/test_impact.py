"""What a change will do when it next runs (issue 26, part 4): the target tables and files it adds,
renames and stops writing, the asset keys and downstream assets it changes, the streams that
reload in full or change what they write. Checked against the lineage's own names of both
versions on edits of the real corpus: every change listed, none invented."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from replication.config import ReplicationConfig
from replication.context import Context
from replication.impact import impact, written
from replication.lineage.graph import TARGET, build_graph
from replication.translator import DagsterSlingTranslator, key_to_string
from replication.yamlio import YamlError, parse

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "real"
TRANSLATOR = DagsterSlingTranslator()
BEFORE = """\
source: PG
target: SNOW
defaults: {mode: incremental, primary_key: [id], update_key: ts}
streams:
  public.users: {object: raw.users}
  public.orders: {object: raw.orders}
  public.items: {object: raw.items}
  public.old: {object: raw.old}
"""
AFTER = """\
source: PG
target: SNOW
defaults: {mode: incremental, primary_key: [id], update_key: ts}
streams:
  public.users: {object: raw.users2}
  public.orders: {object: raw.orders, mode: full-refresh}
  public.items_renamed: {object: raw.items, meta: {dagster: {asset_key: target.raw.items}}}
  public.new: {object: raw.new, select: [a]}
"""


def change(before: str, after: str, downstream=None):
    context = Context()
    return impact(
        written(parse(before).replication, context, TRANSLATOR),
        written(parse(after).replication, context, TRANSLATOR),
        downstream,
    )


def test_every_kind_of_change_in_one_edit():
    found = change(BEFORE, AFTER, {"analytics/report": ["target/raw/old", "target/raw/users"]})

    assert found.lines() == [
        "adds `raw.new` (stream `public.new`)",
        "renames `raw.users` to `raw.users2` (stream `public.users`)",
        "stops writing `raw.old` (stream `public.old`)",
        "asset key of `public.users`: target/raw/users -> target/raw/users2",
        "asset key of `public.new`: none -> target/raw/new",
        "asset key of `public.old`: target/raw/old -> none",
        "downstream asset `analytics/report` reads target/raw/old, which no stream makes any more",
        "downstream asset `analytics/report` reads target/raw/users, which becomes target/raw/users2: "
        "change its deps",
        "`public.users` reloads in full: `raw.users2` is new, so its incremental starts empty",
        "`public.orders` reloads in full: mode incremental -> full-refresh",
        "`public.orders` changes what it writes: mode incremental -> full-refresh",
    ]
    assert found.destructive


def test_a_renamed_stream_that_writes_the_same_table_under_the_same_key_changes_nothing():
    renamed = BEFORE.replace(
        "public.items: {object: raw.items}",
        "public.items2: {object: raw.items, meta: {dagster: {asset_key: target.raw.items}}}",
    )

    assert change(BEFORE, renamed).lines() == []
    assert not change(BEFORE, BEFORE)


def test_a_disabled_stream_stops_writing_and_a_changed_select_changes_what_lands():
    edited = BEFORE.replace("public.old: {object: raw.old}", "public.old: {object: raw.old, disabled: true}")
    edited = edited.replace(
        "public.users: {object: raw.users}", "public.users: {object: raw.users, select: [id]}"
    )

    found = change(BEFORE, edited)

    assert found.dropped == [("public.old", "raw.old")]
    assert found.writes == [("public.users", "select unset -> ['id']")]
    assert found.destructive


def lineage_names(config: ReplicationConfig) -> tuple[set[str], set[str]]:
    """The objects and asset keys of the lineage's target nodes: the studio's names elsewhere."""
    graph = build_graph([("r", config)], translator=TRANSLATOR)
    targets = [a for a in graph.nodes.values() if a.get("kind") == TARGET]
    return {a["object"] for a in targets if a.get("object")}, {key_to_string(a["key"]) for a in targets}


def edit(config: ReplicationConfig, rng: random.Random) -> ReplicationConfig:
    streams = dict(config.streams)
    name = rng.choice(list(streams))
    own = dict(streams[name] or {})
    action = rng.choice(["object", "mode", "rename", "remove", "disable", "select"])
    if action == "object":
        own["object"] = f"edited.t_{rng.randrange(10**6)}"
    elif action == "mode":
        own["mode"] = rng.choice(["full-refresh", "incremental", "truncate", "snapshot"])
    elif action == "rename":
        streams = {(f"{name}_2" if n == name else n): c for n, c in streams.items()}
        name = f"{name}_2"
    elif action == "remove":
        del streams[name]
        return replace(config, streams=streams)
    elif action == "disable":
        own["disabled"] = True
    else:
        own["select"] = ["id"]
    streams[name] = own
    return replace(config, streams=streams)


@pytest.mark.parametrize("seed", range(3))
def test_on_edits_of_the_real_corpus_every_change_is_listed_and_none_invented(seed):
    rng = random.Random(seed)
    checked = 0
    for path in sorted(CORPUS.glob("*.yaml")):
        try:
            config = parse(path.read_bytes()).replication
        except YamlError:
            continue
        if (
            not isinstance(config.streams, dict)
            or not config.streams
            or not isinstance(config.defaults, dict)
        ):
            continue
        edited = edit(config, rng)
        found = impact(written(config, Context(), TRANSLATOR), written(edited, Context(), TRANSLATOR))
        (objects_before, keys_before), (objects_after, keys_after) = (
            lineage_names(config),
            lineage_names(edited),
        )

        new = {obj for _, obj in found.added} | {new for _, _, new in found.renamed}
        gone = {obj for _, obj in found.dropped} | {old for _, old, _ in found.renamed}
        assert new - objects_before == objects_after - objects_before, path.name
        assert gone - objects_after == objects_before - objects_after, path.name
        assert {n for _, _, n in found.asset_keys if n} == keys_after - keys_before, path.name
        assert {o for _, o, _ in found.asset_keys if o} == keys_before - keys_after, path.name
        checked += 1
    assert checked > 200
