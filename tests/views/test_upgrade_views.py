"""The upgrade page (issue 26, part 3): every replication, with what a newer sling would refuse,
newly allow or read differently, and the release that changed it."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from studio.services.replications import replication_import

pytestmark = pytest.mark.usefixtures("known_connections")

HOOKED = "source: PG\ntarget: SNOW\nhooks:\n  pre: []\nstreams:\n  public.users: {object: raw.users}\n"
PLAIN = "source: PG\ntarget: SNOW\nstreams:\n  public.orders: {object: raw.orders}\n"


def test_it_lists_each_change_with_its_release_and_line(client, user):
    replication_import(name="hooked", text=HOOKED)
    replication_import(name="plain", text=PLAIN)

    page = client.get("/upgrade/?to=1.5.23").content.decode()
    footer = client.get("/").content.decode()

    assert "<h1>Upgrading sling from 1.4.11</h1>" in page
    row = page[page.index('href="/r/hooked/"') :]
    assert "<td>4</td>" in row[:200]
    assert ">refused</span>" in row and "<td>1.4.25</td>" in row
    assert escape("sling refuses a `pre` hook at replication level") in row
    assert "no change" in page[page.index('href="/r/plain/"') :]
    assert page.index('href="/r/hooked/"') < page.index('href="/r/plain/"')  # the changed first
    assert 'href="/upgrade/"' in footer


def test_the_newest_known_release_is_the_default_and_an_unknown_one_is_said(client, user):
    replication_import(name="plain", text=PLAIN)

    default = client.get("/upgrade/").content.decode()
    unknown = client.get("/upgrade/?to=9.9.9").content.decode()

    assert '<option value="1.5.23" selected>' in default
    assert "<h2>1.5.23 against 1.4.11</h2>" in default
    assert "No rules for sling <code>9.9.9</code>" in unknown
    assert "<h2>" not in unknown
