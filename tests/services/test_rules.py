"""The rules follow the sling binary the studio runs: its version, asked once, decides what
is valid. Another real version cannot be installed offline, so `SLING_BINARY` points at a
stand-in that answers `--version` only (nothing here runs it for anything else)."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from replication.sling import binary as sling_binary
from replication.yamlio import parse
from studio import configured, validation

CDC = """\
source: PG
target: SNOW
streams:
  public.users:
    object: raw.users
    mode: change-capture
    primary_key: [id]
"""


@pytest.fixture
def version_of(settings, tmp_path):
    """Point the studio at a binary that says it is `version`."""

    def use(version: str) -> None:
        binary = tmp_path / f"sling-{version}"
        binary.write_text(f"#!/bin/sh\necho 'Version: {version}'\n")
        binary.chmod(0o755)
        settings.SLING_BINARY = str(binary)

    return use


def messages(text: str) -> list[str]:
    document = parse(text)
    return [
        p.message for p in validation.check(document.replication, document.line_of) if p.severity == "error"
    ]


@pytest.mark.usefixtures("known_connections")
def test_the_shipped_binary_is_1_4_11_and_knows_no_change_capture():
    assert configured.sling_version() == "1.4.11"
    assert messages(CDC) == ["`change-capture` needs sling 1.5.9 or newer; this studio runs 1.4.11"]


@pytest.mark.usefixtures("known_connections")
def test_another_binary_brings_its_own_rules(version_of):
    version_of("1.5.10")

    assert configured.sling_version() == "1.5.10"
    assert messages(CDC) == []
    # A stream hook written at replication level: 1.4.11 ignores it, 1.4.25 and later refuse it.
    hooked = "source: PG\ntarget: SNOW\nhooks:\n  pre: []\nstreams:\n  public.a:\n    object: raw.a\n"
    assert messages(hooked) == [
        "sling refuses a `pre` hook at replication level: put it under defaults.hooks"
    ]
    version_of("1.4.11")
    assert messages(hooked) == []


def test_without_a_binary_the_shipped_rules_apply(settings, tmp_path):
    settings.SLING_BINARY = str(tmp_path / "no-such-sling")

    assert configured.sling_version() is None
    assert configured.rules().version == "1.4.11"


def test_every_page_says_which_sling_it_runs(client, user, settings, version_of):
    assert "Runs sling 1.4.11" in client.get("/").content.decode()
    version_of("1.5.10")
    assert "Runs sling 1.5.10" in client.get("/").content.decode()


def test_a_binary_is_asked_its_version_once_across_processes(settings, tmp_path):
    # A new process starts with an empty in-memory cache: clearing it stands for one.
    settings.DATA_DIR = tmp_path
    asked = tmp_path / "asked"
    binary = tmp_path / "sling-counting"
    binary.write_text(f"#!/bin/sh\necho asked >> {asked}\necho 'Version: 1.5.10'\n")
    binary.chmod(0o755)
    settings.SLING_BINARY = str(binary)

    for _ in range(3):
        sling_binary._known.clear()
        assert configured.sling_version() == "1.5.10"
    assert asked.read_text().splitlines() == ["asked"]

    binary.write_text(f"#!/bin/sh\necho asked >> {asked}\necho 'Version: 1.5.11'\n")  # replaced
    sling_binary._known.clear()
    assert configured.sling_version() == "1.5.11"
    assert asked.read_text().splitlines() == ["asked", "asked"]


@pytest.mark.usefixtures("known_connections")
def test_a_release_newer_than_the_rules_is_said_plainly_never_guessed(client, user, version_of):
    version_of("1.7.0")
    document = parse(CDC)

    found = validation.check(document.replication, document.line_of)
    page = client.get("/").content.decode()

    said = (
        "sling 1.7.0 is newer than the rules known here (up to 1.5.23): what later releases "
        "added, changed or refuse is not checked (a key or mode they added is reported as unknown)"
    )
    assert [(p.where, p.severity, p.message) for p in found] == [("", "warning", said)]
    assert escape(f"Runs sling 1.7.0: {said}") in page
    version_of("1.5.23")
    assert validation.check(document.replication, document.line_of) == []
    assert (
        "Runs sling 1.5.23: what the studio checks and shows follows that version"
        in client.get("/").content.decode()
    )
