"""The domain rules as this studio is configured: its translator and its validation."""

from __future__ import annotations

from django.conf import settings

from replication.config import ReplicationConfig
from replication.translator import DagsterSlingTranslator, load_translator
from replication.validate import ERROR, LineOf, Problem, validate


def translator() -> DagsterSlingTranslator:
    """dagster-sling's translator, or the one `SLING_STUDIO_TRANSLATOR` names."""
    return load_translator(settings.SLING_STUDIO_TRANSLATOR)


def check(config: ReplicationConfig, line_of: LineOf | None = None) -> list[Problem]:
    """Every problem of `config`, with lines where `line_of` knows them."""
    return validate(config, line_of, translator())


def blocking(problems: list[Problem]) -> list[Problem]:
    """The errors that refuse a save. A replication without streams yet is a draft, not an error."""
    return [p for p in problems if p.severity == ERROR and p.code != "no-streams"]
