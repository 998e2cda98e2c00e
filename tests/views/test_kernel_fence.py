"""Sling confined by the kernel (issue 22): what an editor and an operator can make sling do through
the pages, with the studio's text checks switched off (a test-only setting) so that the kernel
alone stands in the way, and then with them on, where the same attacks get the friendly errors.

Each attack is made as a hostile editor would: a connection and a replication saved through the
pages (Test and Discover pressed there too), then an operator's Run, executed by the worker's own
service. The studio's database here is a decoy SQLite file at the path the data folder would hold
it (the tests' real database is in memory, or PostgreSQL), with a secret table in it.
"""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from studio import models
from studio.services.executor import run_execute

pytestmark = pytest.mark.sling

ROWS = "id,secret\n1,first\n2,second\n"


@pytest.fixture
def studio(settings, data_dir, tmp_path, fast_hasher, db):
    """The studio as a hostile editor finds it: a folder open to sling (`open/`, writable), the
    data folder with a decoy database and a key file beside it, and the editor's and the
    operator's browsers."""
    opened = tmp_path / "open"
    opened.mkdir()
    (opened / "people.csv").write_text(ROWS)
    settings.STUDIO_FILE_ROOTS = [opened]
    settings.STUDIO_WRITABLE_ROOTS = [opened]
    database = data_dir / "studio.sqlite3"
    with sqlite3.connect(database) as decoy:
        decoy.execute("create table auth_user (username text, password text)")
        decoy.execute("insert into auth_user values ('admin', 'pbkdf2_sha256$decoy-hash')")
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "secret.key").write_text("django-insecure-decoy-key\n")
    browsers = {}
    for role in ("editor", "operator"):
        person = get_user_model().objects.create_user(role, f"{role}@example.com", f"{role}-password")
        person.groups.add(Group.objects.get_or_create(name=role)[0])
        browsers[role] = Client()
        browsers[role].force_login(person)
    return {"open": opened, "database": database, "key": keys / "secret.key", **browsers}


def save_connection(browser: Client, name: str, **fields: str) -> int:
    """The connection form posted as the editor types it; the answer's status."""
    return browser.post("/connections/new/", {"name": name, **fields}).status_code


def import_replication(browser: Client, name: str, text: str) -> int:
    """A new replication from the page, then its YAML imported over it (preview, confirm)."""
    created = browser.post("/new/", {"name": name, "source": "LOCAL", "target": "LOCAL"})
    assert created.status_code == 302, created.content.decode()[:500]
    preview = browser.post(f"/r/{name}/import/", {"text": text})
    if preview.status_code != 200 or b'name="confirm"' not in preview.content:
        return preview.status_code
    version = models.Replication.objects.get(name=name).version
    return browser.post(
        f"/r/{name}/import/", {"text": text, "confirm": "yes", "version": str(version)}
    ).status_code


def run(browser: Client, name: str) -> models.Run:
    """The operator's Run, executed as the worker executes it."""
    answer = browser.post(f"/r/{name}/run/")
    assert answer.status_code in (200, 302), answer.content.decode()[:500]
    return run_execute(models.Run.objects.filter(replication_name=name).latest("pk"))


def log_of(run: models.Run) -> str:
    return "".join(run.log_chunks.values_list("text", flat=True))


def refused_before_sling(run: models.Run, because: str) -> None:
    """The text checks' part: a file that cannot run here is stored (sling would run it
    elsewhere), and its run is refused with the friendly message before sling starts."""
    assert run.status == "failed"
    assert run.sling_pid is None
    assert because in run.error


@pytest.fixture(params=["kernel alone", "text checks too"])
def checks(request, settings):
    settings.STUDIO_TEXT_CHECKS = request.param == "text checks too"
    return request.param


def test_a_helper_named_in_env_is_never_started(studio, checks, tmp_path):
    # Finding 1: sling starts `SQLITE_PATH` as its sqlite helper and feeds it the rows.
    marker = tmp_path / "ran"
    program = tmp_path / "evil"
    program.write_text(f"#!/bin/sh\ntouch {marker}\n")
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    target = studio["open"] / "target.db"
    assert save_connection(studio["editor"], "TARGET_DB", type="sqlite", url=f"sqlite://{target}") == 302
    text = (
        f"source: LOCAL\ntarget: TARGET_DB\nenv:\n  SQLITE_PATH: {program}\n"
        f"streams:\n  file://{studio['open']}/people.csv:\n    object: main.people\n"
        "    source_options: {format: csv}\n"
    )
    assert import_replication(studio["editor"], "helper", text) == 302

    done = run(studio["operator"], "helper")
    if checks == "text checks too":
        refused_before_sling(done, "SQLITE_PATH")  # with the key named
        assert not marker.exists()
        return
    assert not marker.exists()  # the kernel refused to start it
    assert "permission denied" in log_of(done).lower() or done.status == "succeeded"


@pytest.mark.parametrize("spelling", ["#/../../../open/t.db", "", "?mode=ro"])
def test_the_studios_database_is_neither_listed_nor_copied(studio, checks, spelling):
    # Finding 2: a sqlite URL judged by its text (`..` folded across a fragment sling drops).
    url = f"sqlite://{studio['database']}{spelling}"
    editor = studio["editor"]
    saved = save_connection(editor, "STUDIO_DB", type="sqlite", url=url)
    if checks == "text checks too":
        assert saved == 422
        assert models.Connection.objects.filter(name="STUDIO_DB").count() == 0
        return
    assert saved == 302
    discovered = editor.post("/connections/STUDIO_DB/discover/").content.decode()
    assert "auth_user" not in discovered

    text = (
        "source: STUDIO_DB\ntarget: LOCAL\n"
        f"streams:\n  main.auth_user:\n    object: file://{studio['open']}/users.csv\n"
    )
    assert import_replication(editor, "steal", text) == 302
    done = run(studio["operator"], "steal")
    assert done.status == "failed"
    assert not (studio["open"] / "users.csv").exists()


def test_the_studios_database_is_not_written(studio, checks):
    before = studio["database"].read_bytes()
    editor = studio["editor"]
    saved = save_connection(editor, "STUDIO_DB", type="sqlite", url=f"sqlite://{studio['database']}")
    if checks == "text checks too":
        assert saved == 422
        return
    text = (
        "source: LOCAL\ntarget: STUDIO_DB\n"
        f"streams:\n  file://{studio['open']}/people.csv:\n    object: main.auth_user\n"
        "    source_options: {format: csv}\n"
    )
    assert import_replication(editor, "overwrite", text) == 302
    done = run(studio["operator"], "overwrite")
    assert done.status == "failed"
    assert studio["database"].read_bytes() == before


@pytest.mark.parametrize("secret", ["/etc/shadow", "/proc/1/environ", "key"])
def test_files_outside_the_fence_are_not_read(studio, checks, secret):
    path = studio["key"] if secret == "key" else Path(secret)
    text = (
        "source: LOCAL\ntarget: LOCAL\n"
        f"streams:\n  file://{path}:\n    object: file://{studio['open']}/copy.csv\n"
        "    source_options: {format: csv, header: false}\n"
    )
    assert import_replication(studio["editor"], "peek", text) == 302
    done = run(studio["operator"], "peek")
    if checks == "text checks too":
        refused_before_sling(done, "sling may not read")
        return
    assert done.status == "failed"
    assert "permission denied" in log_of(done).lower()
    assert not (studio["open"] / "copy.csv").exists()


def test_what_is_inside_the_fence_still_runs(studio, checks):
    text = (
        "source: LOCAL\ntarget: LOCAL\n"
        f"streams:\n  file://{studio['open']}/people.csv:\n    object: file://{studio['open']}/copy.csv\n"
        "    source_options: {format: csv}\n"
    )
    assert import_replication(studio["editor"], "fine", text) == 302
    done = run(studio["operator"], "fine")
    assert done.status == "succeeded", log_of(done)
    assert (studio["open"] / "copy.csv").read_text().count("\n") == 3


def test_home_in_env_is_sling_s_home_when_a_path_is_judged(studio, settings):
    # Finding 6: `$HOME` in an `env:` value was expanded as empty when judged and to sling's home
    # when sling ran it, so a path judged inside the fence was written into sling's home.
    text = (
        f"source: LOCAL\ntarget: LOCAL\nenv:\n  BASE: $HOME\n"
        f"streams:\n  file://{studio['open']}/people.csv:\n    object: file://{{BASE}}{studio['open']}/out.csv\n"
        "    source_options: {format: csv}\n"
    )
    refused = studio["editor"].post("/new/", {"name": "home", "source": "LOCAL", "target": "LOCAL"})
    assert refused.status_code == 302
    preview = studio["editor"].post("/r/home/import/", {"text": text})

    assert preview.status_code == 200
    assert "cannot run here" in preview.content.decode()
    assert (
        f"sling may not write `{settings.SLING_HOME_DIR}{studio['open']}/out.csv`" in preview.content.decode()
    )


def test_a_kernel_without_landlock_starts_no_sling_and_says_why(studio, monkeypatch):
    # A fake: this machine's kernel has Landlock, and it cannot be taken away on demand.
    monkeypatch.setattr("replication.sling.sandbox.unavailable", lambda: "this kernel offers no Landlock")
    text = f"source: LOCAL\ntarget: LOCAL\nstreams:\n  file://{studio['open']}/people.csv:\n    object: file://{studio['open']}/x.csv\n"
    assert import_replication(studio["editor"], "refused", text) == 302

    done = run(studio["operator"], "refused")
    board = studio["operator"].get("/").content.decode()
    inside = f"sqlite://{studio['open']}/x.db"
    tested = studio["editor"].post("/connections/new/test/", {"name": "X", "type": "sqlite", "url": inside})

    assert done.status == "failed"
    assert done.error.startswith(
        "sling is not started: this kernel offers no Landlock. STUDIO_SANDBOX=required"
    )
    assert "No run, Test or Discover can start: sling is not started: this kernel offers no Landlock" in board
    assert "this kernel offers no Landlock" in tested.content.decode()


def test_a_folder_open_to_sling_may_not_hold_the_data_folder(studio, settings, data_dir):
    settings.STUDIO_FILE_ROOTS = [data_dir.parent]
    settings.STUDIO_WRITABLE_ROOTS = []
    settings.STUDIO_TEXT_CHECKS = False  # the refusal is the kernel's part, not a text check
    text = f"source: LOCAL\ntarget: LOCAL\nstreams:\n  file://{data_dir.parent}/x.csv:\n    object: file://{data_dir.parent}/y.csv\n"
    assert import_replication(studio["editor"], "wide", text) == 302

    done = run(studio["operator"], "wide")

    assert done.status == "failed"
    assert done.error == (
        f"STUDIO_FILE_ROOTS: `{data_dir.parent}` holds `{data_dir}` (the studio's data folder): the kernel "
        "cannot keep sling out of a folder inside one it may use; choose folders beside it"
    )


def test_a_key_file_is_not_written(studio, checks):
    before = studio["key"].read_text()
    text = (
        "source: LOCAL\ntarget: LOCAL\n"
        f"streams:\n  file://{studio['open']}/people.csv:\n    object: file://{studio['key']}\n"
        "    source_options: {format: csv}\n"
    )
    assert import_replication(studio["editor"], "rekey", text) == 302
    done = run(studio["operator"], "rekey")
    if checks == "text checks too":
        refused_before_sling(done, "sling may not write")
        return
    assert done.status == "failed"
    assert studio["key"].read_text() == before
