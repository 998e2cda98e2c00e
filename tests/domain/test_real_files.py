"""The studio refuses a real replication file only for what sling would refuse.

sling-cli's own tests run in its CI against its newest version, so the studio (which
follows the sling it runs, 1.4.11) may refuse them only for a feature that came later,
and must say which version it needs. The excerpts of sling-cli's bundled guide are
fragments, some with mistakes; each refused one is listed here with its mistake.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from replication.context import Context
from replication.problems import ERROR
from replication.validate import validate
from replication.yamlio import parse

REAL = Path(__file__).parents[1] / "corpus" / "real"
FILES = sorted(REAL.glob("*.yaml"))
NEWER = re.compile(r"needs sling \d+\.\d+\.\d+ or newer; this studio runs 1\.4\.11")

# Guide excerpts (cmd/sling/resource/llm_*.md) that are not whole replications, or are wrong.
GUIDE_MISTAKES = {
    "llm_CONNECTION__L486": ["no `object`"],  # a file target with no object anywhere
    "llm_REPLICATION__L1010": ["backfill mode needs both"],  # a stream without primary_key
    "llm_REPLICATION__L1542": ["`source` is missing", "`target` is missing"],  # streams only
    "llm_REPLICATION__L227": ["`source` is missing", "`target` is missing"],
    "llm_REPLICATION__L515": ["`source` is missing", "`target` is missing", "no `object`"],
    "llm_REPLICATION__L798": ["incremental mode needs", "incremental mode needs"],  # no keys
    "llm_REPLICATION__L865": ["`source` is missing", "`target` is missing", "no `object`"],
}


def errors_of(path: Path) -> list[str]:
    document = parse(path.read_bytes())
    return [
        p.message
        for p in validate(document.replication, document.line_of, context=Context())
        if p.severity == ERROR
    ]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_real_file_is_refused_only_for_what_sling_refuses(path):
    errors = sorted(e for e in errors_of(path) if not NEWER.search(e))
    mistakes = next((want for key, want in GUIDE_MISTAKES.items() if path.stem.endswith(key)), [])
    assert len(errors) == len(mistakes), errors
    assert all(e.startswith(want) for e, want in zip(errors, sorted(mistakes), strict=True)), errors


def test_the_newer_features_are_the_ones_sling_cli_uses():
    # Not vacuous: sling-cli's newest tests do use features 1.4.11 lacks, and are refused for them.
    refused = {p.stem for p in FILES if any(NEWER.search(e) for e in errors_of(p))}
    assert len(refused) >= 20
    assert "sling-cli__tests_replications_r.89.definition_only_db" in refused
