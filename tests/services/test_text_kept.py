"""Every real replication file comes back as it was written (issue 13), through the studio's
own path: parse, store, read the current version's text; and an edit touches only its lines."""

from __future__ import annotations

import difflib
from dataclasses import replace
from pathlib import Path

import pytest

from replication.config import with_stream
from replication.yamlio import YamlError, parse
from studio import models
from studio.selectors.replications import current_text
from studio.services.replications import replication_save

CORPUS = Path(__file__).parents[1] / "corpus"
FILES = sorted(
    [
        *(CORPUS / "real").glob("*.yaml"),
        *(CORPUS / "valid").glob("*.yaml"),
        *(CORPUS / "yaml_features").glob("*.yaml"),
        *(CORPUS / "oracle").glob("*/replication.yaml"),
    ]
)


def stored(path: Path) -> models.Replication:
    """The file as an import stores it (validation aside: files with sling errors keep their text too)."""
    document = parse(path.read_bytes())
    return replication_save(name="rep", config=document.replication, summary="imported", text=document.text)


def test_the_corpus_is_there():
    assert len(FILES) >= 500


@pytest.mark.django_db
@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_an_unchanged_file_comes_back_byte_for_byte(path):
    try:
        replication = stored(path)
    except YamlError as exc:
        pytest.fail(f"{path.name}:{exc.line}: {exc.message}")
    assert current_text(replication).encode() == path.read_bytes()


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    diff = list(difflib.ndiff(old.splitlines(), new.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


COMMENTED = [p for p in FILES if "\n#" in p.read_text(encoding="utf-8-sig") or " # " in p.read_text()]


@pytest.mark.django_db
@pytest.mark.parametrize("path", COMMENTED, ids=[f"{p.parent.name}/{p.stem}" for p in COMMENTED])
def test_one_description_edited_changes_one_line(path):
    replication = stored(path)
    config = replication.as_config()
    text = path.read_text(encoding="utf-8-sig")
    # Anchors are tests/domain's: a stream written as an alias (`name: *x`) is expanded where
    # it is used, and an anchored stream others alias (`name: &x`) is rewritten in the canonical layout.
    names = [
        name
        for name, own in config.streams.items()
        if (isinstance(own, dict) or own is None) and f"{name}: *" not in text and f"{name}: &" not in text
    ]
    if not names:
        pytest.fail(f"{path.name} has no stream a description can be given to")
    name = names[-1]
    own = dict(config.streams[name] or {})
    own["description"] = "who owns it: the data team"
    edited = replace(config, streams=with_stream(config.streams, name, name, own))
    replication = replication_save(name="rep", config=edited, summary=f"edited {name}")

    minus, plus = changed_lines(text, current_text(replication))
    assert len(minus) <= 1 and len(plus) <= 2, (minus, plus)
    assert any("who owns it: the data team" in line for line in plus)
    assert (
        parse(current_text(replication)).replication.streams[name]["description"]
        == "who owns it: the data team"
    )


@pytest.mark.django_db
def test_a_renamed_stream_keeps_its_comment_and_later_edits_follow_it():
    text = "source: A\ntarget: B\nstreams:\n  # owned by finance\n  public.a:\n    mode: full-refresh\n"
    document = parse(text)
    replication = replication_save(name="rep", config=document.replication, text=document.text)
    config = replication.as_config()
    renamed = replace(
        config, streams=with_stream(config.streams, "public.a", "public.b", {"mode": "full-refresh"})
    )
    replication_save(name="rep", config=renamed, renamed={"public.a": "public.b"})
    later = replace(
        renamed, streams=with_stream(renamed.streams, "public.b", "public.b", {"mode": "truncate"})
    )
    replication = replication_save(name="rep", config=later)

    assert current_text(replication) == (
        "source: A\ntarget: B\nstreams:\n  # owned by finance\n  public.b:\n    mode: truncate\n"
    )
