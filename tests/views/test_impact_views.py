"""What a change will do, shown before it is made (issue 26, part 4): in the import preview and
in the history's compare of two versions."""

from __future__ import annotations

import pytest

from studio.services.replications import replication_import

pytestmark = pytest.mark.usefixtures("known_connections")

BEFORE = (
    "source: PG\ntarget: SNOW\ndefaults: {mode: incremental, primary_key: [id], update_key: ts}\n"
    "streams:\n  public.users: {object: raw.users}\n  public.old: {object: raw.old}\n"
)
AFTER = BEFORE.replace("raw.users}", "raw.users2}").replace("  public.old: {object: raw.old}\n", "")


def test_the_import_preview_says_what_the_new_text_will_do(client, user):
    replication_import(name="shop", text=BEFORE)

    page = client.post("/r/shop/import/", {"text": AFTER}).content.decode()

    # SNOW is Snowflake: its tables are named in upper case, as sling names them.
    assert "What it will do when it next runs" in page
    assert "renames `RAW.USERS` to `RAW.USERS2` (stream `public.users`)" in page
    assert "stops writing `RAW.OLD` (stream `public.old`)" in page
    assert "reloads in full" in page


def test_the_history_compare_says_what_going_from_one_version_to_the_other_does(client, user):
    replication = replication_import(name="shop", text=BEFORE)[0]
    version = replication.version
    client.post("/r/shop/import/", {"text": AFTER, "confirm": "yes", "version": str(version)})

    changed = client.get(f"/r/shop/history/?a={version}&b={version + 1}").content.decode()
    same = client.get(f"/r/shop/history/?a={version}&b={version}").content.decode()

    assert "renames `RAW.USERS` to `RAW.USERS2`" in changed
    assert "What it will do" not in same
