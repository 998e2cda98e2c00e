"""Which wildcard stream sling 1.4.11 expanded into a stream it reports, and the wildcard's own
outcome as the sum of its matches'. The names are as the real binary prints them (see
tests/services/test_run_wildcards.py): a table as `"schema"."table"`, a file as its path."""

from __future__ import annotations

import json

import pytest

from replication import sling


@pytest.mark.parametrize(
    ("name", "wildcards", "expected"),
    [
        ('"main"."users"', ["main.*"], "main.*"),
        ('"MAIN"."Users"', ["main.user*"], "main.user*"),
        ('"main"."orders"', ["main.user*"], None),
        ('"sales"."users"', ["main.*"], None),
        ("data/one.csv", ["file://data/*.csv"], "file://data/*.csv"),
        ("/srv/in/a.csv", ["file:///srv/in/*.csv", "main.*"], "file:///srv/in/*.csv"),
        ("s3://bucket/x/a.json", ["s3://bucket/x/*.json"], "s3://bucket/x/*.json"),
        ("data/one.json", ["file://data/*.csv"], None),
        # A table is never a match of a file wildcard, nor a file of a table wildcard.
        ('"main"."a"', ["file://main.*"], None),
        ("main/a.csv", ["main.*"], None),
    ],
)
def test_a_reported_stream_is_matched_to_the_wildcard_it_expands(name, wildcards, expected):
    assert sling.expansion_of(name, wildcards) == expected


def feed(log: sling.LogReader, *messages: str) -> None:
    for message in messages:
        log.stdout(json.dumps({"lvl": "info", "msg": message}))


def test_a_wildcard_runs_while_its_matches_run_and_ends_failed_when_one_failed():
    log = sling.LogReader(["main.*", "main.plain"], clock=iter(range(100)).__next__)
    feed(
        log,
        '[1 / 3] running stream "main"."a"',
        'inserted 4 rows into "main"."a_copy" in 0 secs [4 r/s]',
        "execution succeeded",
    )
    assert (log.streams["main.*"].status, log.streams["main.*"].rows) == ("running", 4)
    feed(log, '[2 / 3] running stream "main"."b"', "execution failed")
    results = {r.name: r for r in log.finish(exit_code=1, cancelled=False)}

    wildcard = results["main.*"]
    assert (wildcard.status, wildcard.rows, wildcard.error) == ("failed", 4, 'failed: "main"."b"')
    assert wildcard.duration == results['"main"."b"'].ended - results['"main"."a"'].started
    assert results['"main"."a"'].expanded_from == results['"main"."b"'].expanded_from == "main.*"
    # A stream the file names is not a match of the wildcard, and is left as sling left it.
    assert (results["main.plain"].status, results["main.plain"].expanded_from) == ("pending", None)


def test_a_wildcard_that_matched_nothing_stays_pending():
    log = sling.LogReader(["main.*"])
    assert log.finish(exit_code=0, cancelled=False)[0].status == "pending"
