"""A check that reuses what it found for the streams that did not change (`validate(...,
memo=)`, what the editor does on every save) says exactly what the whole check says: the
same problems in the same order, after each of many random edits of real files."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from replication.context import ConnectionInfo, Context
from replication.validate import Memo, validate
from replication.yamlio import parse

CORPUS = Path(__file__).parents[1] / "corpus"
FILES = sorted(p for folder in ("real", "valid", "invalid") for p in (CORPUS / folder).glob("*.yaml"))
CONTEXTS = [
    Context(),
    Context(
        connections={"PG": ConnectionInfo("postgres"), "SNOW": ConnectionInfo("snowflake")},
        complete=True,
        process_env={"SLING_STATE": "file://state"},
    ),
]
VALUES: list[Any] = [
    "full-refresh",
    "incremental",
    "backfill",
    "truncate",
    "no-such-mode",
    "raw.{stream_table}",
    "raw.same",
    "file://out/{stream_file_name}.csv",
    "${PG}",
    "$PG",
    ["id"],
    ["-a", "b"],
    {"range": "1,2"},
    {"dagster": {"asset_key": "one/key"}},
    {"dagster": {"asset_key": 7}},
    {"pre": [{"type": "query", "connection": "PG", "query": "select 1"}]},
    {"end": [{"type": "log", "message": "hi"}]},
    True,
    "y",
    None,
    float("nan"),
]
KEYS = [
    "mode",
    "object",
    "primary_key",
    "update_key",
    "source_options",
    "meta",
    "hooks",
    "disabled",
    "sql",
    "select",
]


def documents() -> list[Any]:
    found = []
    for path in FILES:
        document = parse(path.read_bytes()) if path.parent.name != "invalid" else _readable(path)
        rep = document.replication if document is not None else None
        if (
            rep is not None
            and isinstance(rep.streams, dict)
            and rep.streams
            and isinstance(rep.defaults, dict)
        ):
            found.append((path.stem, rep))
    return found


def _readable(path: Path) -> Any:
    """An invalid file's document, or None for one YAML itself refuses."""
    try:
        return parse(path.read_bytes())
    except ValueError:
        return None


def edited(rep: Any, rng: random.Random) -> Any:
    streams = dict(rep.streams)
    names = list(streams)
    name = rng.choice(names)
    what = rng.random()
    if what < 0.45:  # set or remove one key of one stream
        own = dict(streams[name]) if isinstance(streams[name], dict) else {}
        key = rng.choice(KEYS)
        value = rng.choice(VALUES)
        if value is None:
            own.pop(key, None)
        else:
            own[key] = value
        streams[name] = own or None
    elif what < 0.55:  # rename, maybe onto a name like another's
        new = rng.choice([f"{name}_x", f"public.t{rng.randrange(5)}", "file://data/*.csv", "main.*"])
        if new not in streams:
            streams = {new if n == name else n: c for n, c in streams.items()}
    elif what < 0.65 and len(streams) > 1:  # delete
        del streams[name]
    elif what < 0.75:  # add one, maybe a twin of another (asset keys clash)
        new = f"{name}_{rng.randrange(1000)}"
        streams[new] = rng.choice([streams[name], None, {"object": "raw.same"}])
    elif what < 0.85:  # move a stream to the end: the order of the problems
        streams[name] = streams.pop(name)
    elif what < 0.93:  # the rest of the replication: the kept results no longer apply
        defaults = dict(rep.defaults)
        key = rng.choice(KEYS)
        value = rng.choice(VALUES)
        if value is None:
            defaults.pop(key, None)
        else:
            defaults[key] = value
        return replace(rep, streams=streams, defaults=defaults)
    else:
        return replace(rep, streams=streams, source=rng.choice(["PG", "LOCAL", "SNOW", None]))
    return replace(rep, streams=streams)


@pytest.mark.parametrize("seed", range(6))
def test_checking_again_with_what_was_kept_finds_what_a_whole_check_finds(seed):
    rng = random.Random(seed)
    corpus = documents()
    assert len(corpus) > 200
    compared = 0
    for stem, rep in rng.sample(corpus, 40):
        context = rng.choice(CONTEXTS)
        memo = Memo()
        for _ in range(25):
            whole = validate(rep, None, None, context)
            assert validate(rep, None, None, context, memo=memo) == whole, (stem, rep.streams)
            compared += 1
            rep = edited(rep, rng)
    assert compared == 40 * 25


def changed_names(before: Any, after: Any) -> set[Any]:
    """The streams an edit changed, as the editor knows them: added, removed or edited."""
    old, new = before.streams, after.streams
    return {
        name
        for name in old.keys() | new.keys()
        if name not in old or name not in new or old[name] != new[name]
    }


@pytest.mark.parametrize("seed", range(6))
def test_checking_again_told_what_changed_finds_what_a_whole_check_finds(seed):
    """The editor's way: each check says the version it edits and the streams it changed;
    half the edits are saved (the next version), half only checked (a live check), and now
    and then a check of something else says nothing (an import's preview)."""
    rng = random.Random(1000 + seed)
    corpus = documents()
    compared = told = 0
    for stem, rep in rng.sample(corpus, 40):
        context = rng.choice(CONTEXTS)
        memo, version = Memo(), 0
        validate(rep, None, None, context, memo=memo, basis=version)
        for _ in range(25):
            candidate = edited(rep, rng)
            touched = changed_names(rep, candidate)
            whole = validate(candidate, None, None, context)
            told += memo.basis == version and list(candidate.streams) == memo.order
            found = validate(candidate, None, None, context, memo=memo, basis=version, edited=touched)
            assert found == whole, (stem, candidate.streams)
            compared += 1
            if rng.random() < 0.5:
                memo.rebase(version, version + 1, touched)
                rep, version = candidate, version + 1
            elif rng.random() < 0.1:
                validate(edited(candidate, rng), None, None, context, memo=memo)
    assert compared == 40 * 25
    assert told > compared // 4  # the path that looks at the changed streams only was taken


def test_what_was_kept_is_used_for_the_streams_that_did_not_change():
    rep = parse(
        b"source: PG\ntarget: SNOW\nstreams:\n  a.b: {mode: nope}\n  c.d: {object: x.y}\n"
    ).replication
    memo = Memo()
    validate(rep, memo=memo)
    kept = memo.streams["a.b"][1]

    changed = replace(rep, streams={**rep.streams, "c.d": {"object": "x.z"}})
    problems = validate(changed, memo=memo)

    assert memo.streams["a.b"][1] is kept
    assert problems == validate(changed)
    assert any("unknown mode `nope`" in p.message for p in problems)
