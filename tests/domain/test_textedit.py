"""The text patcher (`replication.textedit`) on every real file of tests/corpus/real/ and on
the YAML features real files rarely use (tests/corpus/yaml_features/): an unchanged
document is its text; every edit reads back as intended and touches only its own lines."""

from __future__ import annotations

import copy
import difflib
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import yaml

from replication import textedit as patcher
from replication.textedit import PatchError, SharedNodeError, load, patch_text
from replication.yamlio import parse

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus", "real")
FEATURES = os.path.join(HERE, "..", "corpus", "yaml_features")
FILES = sorted(f for f in os.listdir(CORPUS) if f.endswith(".yaml"))


def read(name: str) -> str:
    with open(os.path.join(CORPUS, name), "rb") as f:
        return f.read().decode("utf-8")


def changed(a: str, b: str) -> tuple[int, int]:
    """(lines removed, lines added) in a unified diff of a -> b. A last line that only
    gains a line break (text added after it, in a file without a final newline) is not
    counted: a diff shows it as changed, but its text is the same."""
    if a and not a.endswith("\n") and b.startswith(a) and b[len(a) : len(a) + 1] in ("\n", "\r"):
        a += "\r\n" if b[len(a)] == "\r" else "\n"
    minus = plus = 0
    for line in difflib.unified_diff(a.splitlines(True), b.splitlines(True), n=0):
        if line.startswith("-") and not line.startswith("---"):
            minus += 1
        elif line.startswith("+") and not line.startswith("+++"):
            plus += 1
    return minus, plus


def mutate(v: Any) -> Any:
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        return v + 1
    if isinstance(v, float):
        return v + 1.5
    if v is None:
        return "x"
    if isinstance(v, list):
        return [*v, "x"]
    base = v.rstrip("\n")
    if "\n" in base:  # a block of text: edit its first non-blank line
        lines = v.split("\n")
        i = next(i for i, x in enumerate(lines) if x.strip())
        lines[i] += " -- edited"
        return "\n".join(lines)
    return base + "_x" + v[len(base) :] if v else "x"


def leaves(data: Any, path: tuple = ()) -> Iterator[tuple]:
    """Paths of every scalar, and of every list of scalars, in the document."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from leaves(v, (*path, k))
    elif isinstance(data, list) and any(isinstance(x, (dict, list)) for x in data):
        for i, v in enumerate(data):
            yield from leaves(v, (*path, i))
    elif path:
        yield path


def setpath(data: Any, path: tuple, value: Any) -> Any:
    data = copy.deepcopy(data)
    node = data
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return data


def same_order(a: dict, b: dict) -> bool:
    return list(a) == list(b) and list(a.get("streams") or ()) == list(b.get("streams") or ())


# --- every corpus file -------------------------------------------------------------------


@pytest.fixture(autouse=True, params=["sparse", "whole"])
def index_mode(request, monkeypatch):
    """Run each test with untouched streams indexed lightly (as big files are) and whole."""
    monkeypatch.setattr(patcher, "FULL_STREAMS", 0 if request.param == "sparse" else 10**9)


def patch(text, old, new, verify="local", **kw):
    """The patcher with its fast check; the tests read the result back whole themselves."""
    return patcher.patch(text, old, new, verify=verify, **kw)


@pytest.mark.parametrize("name", FILES)
def test_unchanged_export_is_the_text(name: str) -> None:
    text = read(name)
    old = load(text)
    assert patch(text, old, copy.deepcopy(old)) is text
    assert patcher.Patcher(text).apply() == text  # the index builds; no edits, same text


@pytest.mark.parametrize("name", FILES)
def test_single_field_edits(name: str) -> None:
    text = read(name)
    old = load(text)
    for path in leaves(old):
        node = old
        for k in path:
            node = node[k]
        new = setpath(old, path, mutate(node))
        out = patch(text, old, new)
        got = load(out)
        assert got == new and same_order(got, new), path
        minus, plus = changed(text, out)
        assert minus <= 1 and plus <= 2, (path, minus, plus)


@pytest.mark.parametrize("name", FILES)
def test_add_stream(name: str) -> None:
    text = read(name)
    old = load(text)
    new = copy.deepcopy(old)
    new["streams"]["studio.added_stream"] = {
        "mode": "incremental",
        "object": "raw.added",
        "primary_key": ["id"],
    }
    out = patch(text, old, new)
    # Read back equal, in order: so it is the last entry of `streams`, where the streams are.
    assert load(out) == new and same_order(load(out), new)
    minus, plus = changed(text, out)
    assert minus == 0 and plus in (4, 5)  # key + 3 values, and a blank line if streams have them
    col = patcher.Patcher(text).streams().items[0][0]
    indent = " " * (col.start - text.rfind("\n", 0, col.start) - 1)
    assert re.search(f"\n{indent}studio.added_stream:\r?\n", out)  # in the streams' own indentation


@pytest.mark.parametrize("name", FILES)
def test_delete_each_stream(name: str) -> None:
    text = read(name)
    old = load(text)
    for stream in old["streams"]:
        new = copy.deepcopy(old)
        del new["streams"][stream]
        if not new["streams"]:
            continue  # the last stream: `streams:` would be left empty
        out = patch(text, old, new)
        assert load(out) == new and same_order(load(out), new), stream
        minus, plus = changed(text, out)
        assert plus == 0 and minus >= 1
        # One block of whole lines went: comment lines, then the stream's own lines.
        before, after = text.splitlines(True), out.splitlines(True)
        i = next((i for i, (x, y) in enumerate(zip(before, after, strict=False)) if x != y), len(after))
        assert before[:i] + before[i + minus :] == after
        gone = [x.strip() for x in before[i : i + minus]]
        head = next(k for k, x in enumerate(gone) if x and not x.startswith("#"))
        assert all(not x or x.startswith("#") for x in gone[:head])
        assert yaml.safe_load("".join(before[i + head : i + minus])).keys() == {stream}


@pytest.mark.parametrize("name", FILES)
def test_rename_each_stream(name: str) -> None:
    text = read(name)
    old = load(text)
    for stream in old["streams"]:
        fresh = f"{stream}_renamed"
        new = copy.deepcopy(old)
        new["streams"] = {(fresh if k == stream else k): v for k, v in old["streams"].items()}
        out = patch(text, old, new, renames={stream: fresh})
        assert load(out) == new and same_order(load(out), new), stream
        assert changed(text, out) == (1, 1)


@pytest.mark.parametrize("name", FILES)
def test_add_key_to_null_stream(name: str) -> None:
    text = read(name)
    old = load(text)
    for stream, config in old["streams"].items():
        if config is None:
            new = setpath(old, ("streams", stream), {"mode": "full-refresh"})
            out = patch(text, old, new)
            assert load(out) == new
            assert changed(text, out) in ((0, 1), (1, 2))  # `name: ~` loses its `~`


# --- features -----------------------------------------------------------------------------

SAMPLE = """\
# header
source: PG   # the source
target: 'SF'

defaults: &defs
  mode: incremental
  primary_key: [ id ]
  meta: {dagster: {group: raw}}

streams:
  # about a
  public.a:
    <<: *defs
    sql: |
      select 1
      from a
  "public.b":
    object: "raw.b" # quoted
  public.c:
    primary_key: *pk_list
"""


def edit(text: str, fn, **kw) -> tuple[str, dict]:
    old = load(text)
    new = copy.deepcopy(old)
    fn(new)
    return patch(text, old, new, **kw), new


def test_quoted_key_and_trailing_comment() -> None:
    text = SAMPLE.replace("    primary_key: *pk_list\n", "    mode: full-refresh\n")
    out, _new = edit(text, lambda d: d["streams"]["public.b"].update(object="raw.bb"))
    assert '    object: "raw.bb" # quoted\n' in out and changed(text, out) == (1, 1)
    out, _ = edit(text, lambda d: d.update(source="MYSQL"))
    assert "source: MYSQL   # the source\n" in out


def test_flow_collections_keep_their_spacing() -> None:
    text = (
        "source: a\ntarget: b\nstreams:\n  s:\n    primary_key: [ id ]\n    meta: {dagster: {group: raw}}\n"
    )
    out, _ = edit(text, lambda d: d["streams"]["s"].update(primary_key=["id", "v"]))
    assert "    primary_key: [ id, v ]\n" in out
    out, _ = edit(text, lambda d: d["streams"]["s"]["meta"]["dagster"].update(group="x", asset_key="k"))
    assert "    meta: {dagster: {group: x, asset_key: k}}\n" in out and changed(text, out) == (1, 1)


def test_block_scalar_edit_changes_one_line() -> None:
    text = "source: a\ntarget: b\nstreams:\n  s:\n    sql: |\n      select 1\n      from a\n    object: x\n"
    out, _ = edit(text, lambda d: d["streams"]["s"].update(sql="select 2\nfrom a\n"))
    assert out == text.replace("select 1", "select 2")
    out, new = edit(text, lambda d: d["streams"]["s"].update(sql="select 1 from a"))
    assert load(out) == new  # a one-line value stays a block scalar: `|-`


def test_folded_scalar() -> None:
    text = "source: a\ntarget: b\nstreams:\n  s:\n    sql: >\n      select 1\n      from a\n"
    out, new = edit(text, lambda d: d["streams"]["s"].update(sql="select 2 from a\n"))
    assert load(out) == new and out == text.replace("select 1", "select 2")


def test_plain_value_becoming_multiline_keeps_comment_on_key_line() -> None:
    text = "source: a\ntarget: b\nstreams:\n  s:\n    sql: select 1  # short\n"
    out, new = edit(text, lambda d: d["streams"]["s"].update(sql="select 1\nfrom a\n"))
    assert load(out) == new and "    sql: |  # short\n      select 1\n      from a\n" in out


def test_null_stream_gets_a_key() -> None:
    text = "source: a\ntarget: b\nstreams:\n  s:   # later\n  t:\n"
    out, _new = edit(text, lambda d: d["streams"].update(s={"mode": "full-refresh"}))
    assert out == "source: a\ntarget: b\nstreams:\n  s:   # later\n    mode: full-refresh\n  t:\n"


def test_delete_stream_takes_its_comments_and_one_blank_line() -> None:
    text = (
        "source: a\ntarget: b\nstreams:\n  a:\n    mode: x\n\n  # about b\n"
        "  # more\n  b:\n    mode: y\n    # old: z\n\n  c:\n"
    )
    out, _ = edit(text, lambda d: d["streams"].pop("b"))
    assert out == "source: a\ntarget: b\nstreams:\n  a:\n    mode: x\n\n  c:\n"


def test_rename_keeps_comments_and_quotes() -> None:
    text = "source: a\ntarget: b\nstreams:\n  # about\n  'public.x':  # hi\n    mode: y\n"
    old = load(text)
    new = {**old, "streams": {"public.y": old["streams"]["public.x"]}}
    out = patch(text, old, new, renames={"public.x": "public.y"})
    assert out == text.replace("'public.x'", "'public.y'")


def test_new_stream_follows_the_files_style() -> None:
    text = (
        "source: a\ntarget: b\n\nstreams:\n    a:\n        mode: x\n\n"
        "    b:\n        hooks:\n            post:\n            - type: log\n\nenv:\n    K: 1\n"
    )
    out, new = edit(text, lambda d: d["streams"].update(c={"mode": "y", "hooks": {"pre": [{"type": "log"}]}}))
    assert load(out) == new
    assert (
        "            - type: log\n\n    c:\n        mode: y\n"
        "        hooks:\n            pre:\n            - type: log\n\nenv:" in out
    )


def test_crlf_file_stays_crlf() -> None:
    text = "source: a\r\ntarget: b\r\nstreams:\r\n  s:\r\n    mode: x\r\n"
    out, new = edit(text, lambda d: d["streams"].update(t={"mode": "y"}, s={"mode": "z", "sql": "a\nb\n"}))
    assert load(out) == new and "\n" not in out.replace("\r\n", "")


def test_missing_final_newline_stays_missing() -> None:
    text = "source: a\ntarget: b\nstreams:\n  s:\nenv:\n  K: 1"
    out, _new = edit(text, lambda d: d["env"].update(L=2))
    assert out == text + "\n  L: 2"


def test_document_marker_and_tabs_in_values() -> None:
    text = (
        '---\nsource: a\ntarget: b\nstreams:\n  s:\n    where: "a\\tb"\n    mode: x\t# tab before comment\n'
    )
    out, _new = edit(text, lambda d: d["streams"]["s"].update(mode="y"))
    assert out == text.replace("mode: x", "mode: y")


def test_value_reached_through_merge_is_set_locally() -> None:
    text = "source: a\ntarget: b\ndefaults: &d\n  mode: x\nstreams:\n  s:\n    <<: *d\n    object: o\n"
    out, new = edit(text, lambda d: d["streams"]["s"].update(mode="y"))
    assert load(out) == new and "    mode: y\n    <<: *d\n" in out and "  mode: x\n" in out


def test_keys_a_merge_gives_stay_with_the_merge() -> None:
    text = "source: a\ntarget: b\ndefaults: &d\n  mode: x\nstreams:\n  s:\n    <<: *d\n    object: o\n"
    out, new = edit(text, lambda d: d["streams"]["s"].update(description="hi"))
    assert load(out) == new and changed(text, out) == (0, 1) and "    description: hi\n" in out


def test_alias_use_is_expanded_only_there() -> None:
    text = (
        "source: a\ntarget: b\nx: &pk [id]\nstreams:\n"
        "  s:\n    primary_key: *pk\n  t:\n    primary_key: *pk\n"
    )
    out, new = edit(text, lambda d: d["streams"]["s"].update(primary_key=["id", "v"]))
    assert load(out) == new and "  s:\n    primary_key: [id, v]\n  t:\n    primary_key: *pk\n" in out


def test_shared_anchor_edit_is_refused() -> None:
    text = "source: a\ntarget: b\nx: &pk [id]\nstreams:\n  s:\n    primary_key: *pk\n"
    with pytest.raises(SharedNodeError):
        edit(text, lambda d: d.update(x=["id", "v"]))
    with pytest.raises(SharedNodeError):
        edit(text, lambda d: d.pop("x"))


def test_deleting_a_merged_key_rewrites_that_mapping() -> None:
    # `<<` would still give it: the stream is written out whole, without the merge.
    text = "source: a\ntarget: b\nd: &d\n  mode: x\nstreams:\n  s:\n    <<: *d\n    object: o\n"
    out, new = edit(text, lambda d: d["streams"]["s"].pop("mode"))
    assert load(out) == new and out.endswith("  s:\n    object: o\n") and "d: &d\n" in out


def test_type_changes() -> None:
    text = (
        "source: a\ntarget: b\nstreams:\n  s:\n"
        "    primary_key: id  # pk\n    meta:\n      dagster:\n        group: g\n"
    )
    for change in (
        lambda d: d["streams"]["s"].update(primary_key={"a": 1}),
        lambda d: d["streams"]["s"].update(meta="none"),
        lambda d: d["streams"]["s"].update(meta=[{"a": 1}, "b"]),
        lambda d: d["streams"]["s"].update(primary_key=None),
        lambda d: d["streams"]["s"].update(primary_key="it's: #odd"),
        lambda d: d["streams"]["s"].update(primary_key="123"),
        lambda d: d["streams"]["s"].update(primary_key=123),
    ):
        out, new = edit(text, change)
        assert load(out) == new


def test_sequence_item_edits() -> None:
    text = (
        "source: a\ntarget: b\nstreams:\n  s:\n    hooks:\n"
        "      post:\n        - type: log\n          message: hi\n        - type: query\n"
    )
    out, new = edit(text, lambda d: d["streams"]["s"]["hooks"]["post"][0].update(message="bye"))
    assert changed(text, out) == (1, 1) and load(out) == new
    out, new = edit(text, lambda d: d["streams"]["s"]["hooks"]["post"].pop(0))
    assert load(out) == new and changed(text, out) == (2, 0)
    out, new = edit(text, lambda d: d["streams"]["s"]["hooks"]["post"][0].pop("type"))
    assert load(out) == new  # the first key shares the dash's line: that item is rewritten


def test_bad_result_is_caught() -> None:
    # A change the patcher has no rule for must raise, never return wrong text.
    text = "source: a\ntarget: b\nstreams: {s: {mode: x}}\n"
    out, new = edit(text, lambda d: d["streams"].update(t={"mode": "y"}))
    assert load(out) == new  # a flow `streams` is rewritten as one flow line


def test_local_check_catches_a_wrong_result(monkeypatch) -> None:
    text = "source: a\ntarget: b\nstreams:\n  s:\n    mode: x\n  t:\n    mode: y\n"
    monkeypatch.setattr(patcher, "scalar", lambda value, style="", flow=False: "wrong")
    for verify in ("local", "full"):
        with pytest.raises(PatchError):
            edit(text, lambda d: d["streams"]["t"].update(mode="z"), verify=verify)
    monkeypatch.setattr(patcher, "scalar", lambda value, style="", flow=False: "y\n  u: 1")
    with pytest.raises(PatchError):
        edit(text, lambda d: d["streams"]["t"].update(mode="z"), verify="local")


@pytest.mark.parametrize("name", FILES)
def test_several_edits_at_once(name: str) -> None:
    """A bulk edit: three fields, a stream added, one deleted and one renamed, in one patch."""
    import random

    rng = random.Random(name)
    text = read(name)
    old = load(text)
    new = copy.deepcopy(old)
    paths = [p for p in leaves(old) if p[0] != "streams" or len(p) > 2]
    for path in rng.sample(paths, min(3, len(paths))):
        node = new
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = mutate(node[path[-1]])
    names = list(new["streams"])
    renames = {}
    if len(names) >= 3:
        gone, was = rng.sample(names, 2)
        del new["streams"][gone]
        renames = {was: was + "_renamed"}
        new["streams"] = {(renames.get(k, k)): v for k, v in new["streams"].items()}
    new["streams"]["studio.added"] = {
        "object": "x.y",
        "tags": ["a", "b"],
        "hooks": {"post": [{"type": "log"}]},
    }
    out = patch(text, old, new, renames=renames)
    got = load(out)
    assert got == new and same_order(got, new)


def test_new_data_in_canonical_order_patches_the_files_order() -> None:
    # The studio's to_dict() orders top-level keys and stream keys its own way: no matter.
    text = "env:\n  K: 1\nstreams:\n  s:\n    object: o\n    mode: x\ntarget: b\nsource: a\n"
    old = load(text)
    new = {"source": "a", "target": "b", "streams": {"s": {"mode": "y", "object": "o"}}, "env": {"K": 1}}
    for verify in ("local", "full"):
        assert patcher.patch(text, old, new, verify=verify) == text.replace("mode: x", "mode: y")


def test_str_subclasses_are_text() -> None:
    class QuotedText(str):
        pass

    text = "source: a\ntarget: b\nstreams:\n  s:\n    start: '2024-01-01'\n"
    old = load(text)
    new = copy.deepcopy(old)
    new["streams"]["s"]["start"] = QuotedText("2024-01-01")
    assert patcher.patch(text, old, new) is text


@pytest.mark.parametrize("name", FILES)
def test_with_the_studios_reader_and_model(name: str) -> None:
    """Through the studio's own path: its reader, its model, `patch_text`."""
    text = read(name)
    doc = parse(text)
    first = next(iter(doc.replication.streams))
    new = replace(doc.replication, streams={**doc.replication.streams})
    new.streams[first] = {**(new.streams[first] or {}), "mode": "truncate"}
    out = patch_text(text, doc.replication, new)
    assert parse(out).replication.to_dict() == new.to_dict()
    assert sum(changed(text, out)) <= 2


@pytest.mark.parametrize("name", sorted(os.listdir(FEATURES)))
def test_the_yaml_features_come_back_as_written(name: str) -> None:
    # Anchors and merges, CRLF, `---`, tabs, four-space indents, long quoted lines, no final
    # newline: an unchanged document is its text, an edit of the first stream one line.
    with open(os.path.join(FEATURES, name), "rb") as f:
        text = f.read().decode("utf-8")
    doc = parse(text)
    assert patch_text(text, doc.replication, doc.replication) is text
    first = next(iter(doc.replication.streams))
    new = replace(doc.replication, streams={**doc.replication.streams})
    new.streams[first] = {**(new.streams[first] or {}), "description": "edited"}
    out = patch_text(text, doc.replication, new)
    assert parse(out).replication.to_dict() == new.to_dict()
    assert sum(changed(text, out)) <= 3
