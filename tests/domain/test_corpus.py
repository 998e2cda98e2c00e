"""Real replication files (tests/corpus/README.md says where each comes from)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sling_yaml

from replication.validate import validate
from replication.versions import MODES, STREAM_KEYS
from replication.yamlio import emit, parse

CORPUS = sorted((Path(__file__).parents[1] / "corpus" / "valid").glob("*.yaml"))


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_every_file_round_trips_without_loss(path):
    text = path.read_text()
    replication = parse(text).replication
    emitted = emit(replication)
    # As Sling reads them: the same (a date-like text comes back quoted, which it reads alike).
    assert sling_yaml.load(emitted) == sling_yaml.load(text)
    # Canonical: reading our own output back and writing it again changes nothing.
    assert emit(parse(emitted).replication) == emitted


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_every_problem_found_in_a_file_has_a_line(path):
    document = parse(path.read_text())
    for problem in validate(document.replication, document.line_of):
        assert problem.line is not None, str(problem)


def test_the_corpus_covers_every_stream_key_and_mode():
    keys: set[str] = set()
    modes: set[str] = set()
    for path in CORPUS:
        replication = parse(path.read_text()).replication
        for config in [replication.defaults, *replication.streams.values()]:
            keys |= set(config or {})
            mode = (config or {}).get("mode")
            if mode in MODES:
                modes.add(mode)
    assert set(STREAM_KEYS) <= keys
    assert set(MODES) == modes
