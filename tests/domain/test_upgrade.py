"""Upgrading sling, before doing it (issue 26, part 3): what a newer release refuses, newly allows
or reads differently in a file, each with the release that changed it."""

from __future__ import annotations

import pytest

from replication.context import Context
from replication.upgrade import changes
from replication.validate import validate
from replication.versions import RELEASES, Sling
from replication.yamlio import parse

TEXT = """\
source: PG
target: SNOW
hooks:
  pre: []
defaults:
  columns: {id: bigint}
streams:
  public.users:
    object: raw.users
    mode: change-capture
    primary_key: [id]
  public.orders:
    object: raw.orders
    columns: {+amount: decimal}
"""


def check(text: str):
    document = parse(text)
    return lambda sling: validate(document.replication, document.line_of, context=Context(sling=sling))


def test_each_change_is_named_with_the_release_that_made_it():
    found = changes(check(TEXT), Sling("1.4.11"), Sling("1.5.23"))

    assert [(c.problem.line, c.kind, c.release, c.problem.where) for c in found] == [
        (4, "refused", "1.4.25", "hooks.pre"),
        (10, "allowed", "1.5.9", 'streams["public.users"].mode'),
        (14, "read differently", "1.5.12", 'streams["public.orders"].columns'),
    ]
    assert str(found[0]) == (
        "refused from 1.4.25: hooks.pre: sling refuses a `pre` hook at replication level: "
        "put it under defaults.hooks"
    )


def test_a_smaller_step_shows_only_what_it_crosses():
    found = changes(check(TEXT), Sling("1.4.11"), Sling("1.5.5"))

    assert [(c.kind, c.release) for c in found] == [("refused", "1.4.25")]
    assert changes(check(TEXT), Sling("1.5.12"), Sling("1.5.23")) == []


def test_a_release_newer_than_the_rules_is_not_reported_as_a_change_of_every_file():
    found = changes(check(TEXT), Sling("1.5.23"), Sling("1.9.0"))

    assert found == []
    assert Sling("1.9.0").unknown.startswith("sling 1.9.0 is newer than the rules known here (up to 1.5.23)")


def test_only_an_upgrade_is_compared():
    with pytest.raises(ValueError, match=r"sling 1\.4\.11 is not newer than 1\.5\.0"):
        changes(check(TEXT), Sling("1.5.0"), Sling("1.4.11"))


def test_the_releases_are_those_the_rules_change_at():
    assert RELEASES[0] == "1.4.11"
    assert RELEASES[-1] == "1.5.23"
    assert {"1.4.25", "1.5.0", "1.5.9", "1.5.12"} <= set(RELEASES)
