"""The file fence (issue 12, problems 1 and 6): the local paths sling may read and write.

An editor with an operator beside them could make sling copy /proc/self/environ, /etc/passwd
or the studio's own database into a file they read. `file://` streams and targets, plain
paths on a local file connection, `sql: file://` and the files of sqlite and duckdb
connections must be inside STUDIO_FILE_ROOTS and never in the data folder (but its
`files/`), the database, the key files, /proc, /sys or /dev: said at validation (the editor,
the import) with the stream, the path and the setting named, as "cannot run here" (the file is
kept: sling would run it elsewhere, issue 26), and refused just before sling starts, with
wildcards expanded and symlinks resolved.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from run_support import replication, sqlite_connection, write_csv

from replication.config import ReplicationConfig
from replication.context import ConnectionInfo, Context
from replication.fence import Fence
from replication.local_paths import connection_paths, replication_paths
from replication.resolve import Names
from studio import configured, models
from studio.errors import Refused
from studio.selectors.replications import current_text
from studio.services.connections import connection_discover, connection_save
from studio.services.executor import run_execute
from studio.services.replications import replication_import, replication_save
from studio.services.runs import run_create

HTMX = {"HX-Request": "true"}


@pytest.fixture
def fence(tmp_path):
    data = tmp_path / "data"
    (data / "files").mkdir(parents=True)
    return Fence(
        roots=(tmp_path / "open", data / "files", Path("/")),
        refused=(
            (Path("/proc"), "in /proc"),
            (data / "files" / "studio.sqlite3", "the studio's database"),
            (data, "in the studio's data folder"),
        ),
        reopened=(data / "files",),
        base=tmp_path / "open",
    )


# --- the fence, as written and as things are -------------------------------------------------


def test_a_path_inside_a_root_is_open_and_one_outside_is_refused(tmp_path):
    fence = Fence(roots=(tmp_path / "open",), base=tmp_path)

    assert fence.refusal(str(tmp_path / "open" / "x.csv")) is None
    assert fence.refusal("open/sub/x.csv") is None  # relative to the working directory
    assert fence.refusal("/etc/passwd", "read") == (
        f"sling may not read `/etc/passwd`: it is outside the folders open to sling "
        f"(STUDIO_FILE_ROOTS: {tmp_path / 'open'})"
    )
    assert fence.refusal("open/../../x.csv") is not None


def test_what_is_always_refused_stays_refused_under_an_open_root(fence, tmp_path):
    data = tmp_path / "data"

    assert fence.refusal("/proc/self/environ") == (
        "sling may not use `/proc/self/environ`: it is in /proc, never open to sling (STUDIO_FILE_ROOTS)"
    )
    assert "in the studio's data folder" in fence.refusal(str(data / "runs" / "1" / "sling.log"))
    assert fence.refusal(str(data / "files" / "demo.sqlite")) is None  # its files/ is open
    assert "the studio's database" in fence.refusal(str(data / "files" / "studio.sqlite3"))


def test_a_wildcard_is_judged_by_its_folder_and_may_not_climb_out(tmp_path):
    fence = Fence(roots=(tmp_path / "open",), base=tmp_path)

    assert fence.refusal("open/*.csv") is None
    assert fence.refusal("open/{stream_table}.csv") is None
    assert "outside" in fence.refusal("/etc/*")
    assert "`..` after a wildcard" in fence.refusal("open/*/../../etc/passwd")


def test_a_symlink_out_of_a_root_is_refused_once_resolved(tmp_path):
    (tmp_path / "open").mkdir()
    (tmp_path / "open" / "data.csv").write_text("id\n1\n")
    (tmp_path / "open" / "passwd.csv").symlink_to("/etc/passwd")
    fence = Fence(roots=(tmp_path / "open",), base=tmp_path)

    assert "outside" in fence.refusal("open/passwd.csv")
    # A wildcard that matches it, and the folder that holds it: only a look at the disk tells.
    assert fence.refusal("open/*.csv") is None
    assert fence.expanded_refusal("open/*.csv", "read") == (
        f"sling may not read `{tmp_path}/open/passwd.csv` (a link to /etc/passwd), found for "
        f"`open/*.csv`: it is outside the folders open to sling (STUDIO_FILE_ROOTS: {tmp_path / 'open'})"
    )
    assert "a link to /etc/passwd" in fence.expanded_refusal("open/")
    (tmp_path / "open" / "passwd.csv").unlink()
    assert fence.expanded_refusal("open/*.csv") is None


def test_the_paths_a_replication_gives_sling():
    local = ReplicationConfig(
        source="LOCAL",
        target="FILES",
        defaults={"object": "out/{stream_file_name}.csv"},
        streams={"file:///proc/self/environ": None, "data/plain.csv": {"object": "file://./x.csv"}},
    )
    database = ReplicationConfig(source="PG", target="PG", streams={"a": {"sql": "file:///etc/q.sql"}})

    context = Context(connections={"FILES": ConnectionInfo.of("file")})
    assert list(replication_paths(local, Names.of(local, context))) == [
        (("streams", "file:///proc/self/environ"), "read", "/proc/self/environ"),
        (("defaults", "object"), "write", "out/environ.csv"),
        (("streams", "data/plain.csv"), "read", "data/plain.csv"),
        (("streams", "data/plain.csv", "object"), "write", "./x.csv"),
    ]
    # On a database only `file://` is a path: a stream, or a query read from a file.
    assert list(replication_paths(database, Names.of(database))) == [
        (("streams", "a", "sql"), "read", "/etc/q.sql")
    ]


def test_the_paths_of_local_connections():
    assert list(connection_paths("sqlite", {"url": "sqlite:///data/x.db?cache=shared"})) == [
        ("url", "/data/x.db")
    ]
    assert list(connection_paths("sqlite", {"instance": "rel.db"})) == [("instance", "rel.db")]
    assert list(connection_paths("duckdb", {"instance": "md:my_db"})) == []
    assert list(connection_paths("file", {"url": "file:///etc/"})) == [("url", "/etc/")]
    assert list(connection_paths("postgres", {"url": "postgres://h/db"})) == []


# --- at validation: the import, the editor, connections ----------------------------------


@pytest.mark.sling
@pytest.mark.django_db
def test_a_file_outside_the_fence_is_stored_as_one_that_cannot_run_here_and_its_run_is_refused(settings):
    # Only the data folder's files: `./out` (beside the checkout, wherever it is) is outside.
    # Valid sling, run elsewhere (issue 26): this server's fence decides where it runs, not
    # whether the studio keeps and shows it.
    settings.STUDIO_FILE_ROOTS = settings.STUDIO_FILE_ROOTS[-1:]
    text = "source: LOCAL\ntarget: LOCAL\nstreams:\n  file:///proc/self/environ:\n    object: file://./out/x.csv\n"

    stored, problems = replication_import(name="steal", text=text)
    run = run_execute(run_create(replication="steal"))

    assert [str(p) for p in problems] == [
        'cannot run here: streams["file:///proc/self/environ"]: sling may not read `/proc/self/environ`: '
        "it is in /proc, never open to sling (STUDIO_FILE_ROOTS)",
        'cannot run here: streams["file:///proc/self/environ"].object: sling may not write `./out/x.csv`: '
        "it is outside the folders open to sling (STUDIO_FILE_ROOTS: "
        + ", ".join(str(p) for p in django_roots())
        + ")",
    ]
    assert [p.line for p in problems] == [4, 5]
    assert current_text(stored) == text
    assert run.status == "failed"
    assert run.error == f"{problems[0].where}: {problems[0].message}"
    assert run.sling_pid is None


@pytest.mark.django_db
def test_a_file_sling_refuses_is_refused_whatever_the_fence_says(settings):
    settings.STUDIO_FILE_ROOTS = settings.STUDIO_FILE_ROOTS[-1:]
    text = (
        "source: LOCAL\ntarget: LOCAL\nstreams:\n  file:///proc/self/environ:\n"
        "    object: file://./out/x.csv\n    mode: sideways\n"
    )

    with pytest.raises(Refused) as refused:
        replication_import(name="steal", text=text)

    labels = {p.message.split(";")[0].split(":")[0]: p.label for p in refused.value.problems}
    assert labels == {
        "sling may not read `/proc/self/environ`": "cannot run here",
        "sling may not write `./out/x.csv`": "cannot run here",
        "unknown mode `sideways`": "error",
    }
    assert not models.Replication.objects.exists()


def django_roots() -> list[Path]:
    from django.conf import settings

    return settings.STUDIO_FILE_ROOTS


@pytest.mark.django_db
def test_the_editor_keeps_a_stream_reading_etc_passwd_and_says_it_cannot_run_here(
    client, user, make_replication
):
    make_replication("files", source="LOCAL", target="LOCAL", streams={}, defaults={})

    response = client.post(
        "/r/files/streams/add/",
        {"name": "file:///etc/passwd", "object": "file:///tmp/copy.csv", "version": "1"},
        headers=HTMX,
    )
    problems = client.get("/r/files/problems/").content.decode()

    assert response.status_code == 200
    assert models.Stream.objects.get().name == "file:///etc/passwd"
    assert "cannot run here" in problems
    assert "sling may not read `/etc/passwd`: it is outside the folders open to sling" in problems


@pytest.mark.django_db
def test_a_sqlite_connection_to_the_studios_database_is_refused(settings, tmp_path, monkeypatch):
    # The tests' database is in memory: name a file as a deployment's would be (the open
    # connection is not touched by the name).
    database = tmp_path / "studio.sqlite3"
    monkeypatch.setitem(settings.DATABASES["default"], "NAME", str(database))
    # On the PostgreSQL pass too: the open connection's backend is not changed by the setting.
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")

    with pytest.raises(Refused) as refused:
        connection_save(name="MINE", fields={"type": "sqlite", "url": f"sqlite://{database}"})

    assert str(refused.value) == (
        f"error: url: sling may not use `{database}`: it is the studio's database, never open to sling "
        "(STUDIO_FILE_ROOTS)"
    )
    assert "the studio's database" in configured.fence().refusal(f"{database}-wal")
    assert not models.Connection.objects.exists()


@pytest.mark.django_db
def test_a_key_file_is_refused(settings, tmp_path, monkeypatch):
    key = tmp_path / "encryption.keys"
    key.write_text("k")
    monkeypatch.setenv("STUDIO_ENCRYPTION_KEYS_FILE", str(key))

    with pytest.raises(Refused, match="the studio's key file \\(STUDIO_ENCRYPTION_KEYS_FILE\\)"):
        connection_save(name="KEYS", fields={"type": "duckdb", "instance": str(key)})


# --- just before sling starts ---------------------------------------------------------------


@pytest.mark.sling
@pytest.mark.django_db
def test_a_run_is_refused_when_a_wildcard_finds_a_symlink_out(data_dir, tmp_path):
    (tmp_path / "in").mkdir()
    write_csv(tmp_path / "in" / "a.csv", 2)
    (tmp_path / "in" / "b.csv").symlink_to("/etc/passwd")
    target = tmp_path / "target.sqlite"
    sqlite_connection("TARGET_DB", target)
    replication(
        "shop",
        "source: LOCAL\ntarget: TARGET_DB\ndefaults:\n  mode: full-refresh\n"
        f"streams:\n  file://{tmp_path}/in/*.csv:\n    object: main.{{stream_file_name}}\n",
    )

    run = run_execute(run_create(replication="shop"))

    assert run.status == "failed"
    assert run.error == (
        f'streams["file://{tmp_path}/in/*.csv"]: sling may not read `{tmp_path}/in/b.csv` (a link to '
        f"/etc/passwd), found for `{tmp_path}/in/*.csv`: it is outside the folders open to sling "
        f"(STUDIO_FILE_ROOTS: {', '.join(str(p) for p in django_roots())})"
    )
    assert run.sling_pid is None  # sling never started
    assert not target.exists()


@pytest.mark.sling
@pytest.mark.django_db
def test_a_run_stored_before_the_fence_is_refused_before_sling_starts(data_dir, tmp_path):
    sqlite_connection("TARGET_DB", tmp_path / "target.sqlite")
    config = ReplicationConfig(
        source="LOCAL", target="TARGET_DB", streams={"file:///etc/passwd": {"object": "main.passwd"}}
    )
    replication_save(name="old", config=config)  # as a replication saved before there was a fence

    run = run_execute(run_create(replication="old"))

    assert run.status == "failed"
    assert run.error.startswith(
        'streams["file:///etc/passwd"]: sling may not read `/etc/passwd`: it is outside'
    )
    assert run.sling_pid is None


@pytest.mark.sling
@pytest.mark.django_db
def test_the_demo_reads_its_relative_paths_inside_the_fence(demo):
    run = run_execute(run_create(replication="demo"))

    assert run.status == "succeeded", run.error


# --- discover on a file connection -------------------------------------------------------------


@pytest.mark.django_db
def test_discover_on_a_file_connection_outside_the_roots_is_refused(client, user):
    # Saved before the fence: the form would refuse it now.
    models.Connection.objects.create(name="ETC", type="file", params={"url": "file:///etc/"})

    response = client.post("/connections/ETC/discover/", headers=HTMX)

    html = response.content.decode()
    assert "sling may not list `/etc/`: it is outside the folders open to sling" in html
    assert "passwd" not in html


@pytest.mark.sling
@pytest.mark.django_db
def test_discover_lists_only_what_is_inside_the_fence(data_dir, tmp_path):
    folder = tmp_path / "open"
    folder.mkdir()
    write_csv(folder / "a.csv", 1)
    (folder / "passwd.csv").symlink_to("/etc/passwd")
    connection = connection_save(name="FILES", fields={"type": "file", "url": f"file://{folder}/"})

    found = connection_discover(connection)

    assert [Path(name.removeprefix("file://")).name for name in found] == ["a.csv"]


def test_the_default_roots_are_the_demos_data_and_the_data_folders_files(tmp_path):
    code = "from django.conf import settings; print(*settings.STUDIO_FILE_ROOTS, sep='\\n')"
    env = {k: v for k, v in os.environ.items() if k not in ("STUDIO_FILE_ROOTS", "DATABASE_URL")}
    env["STUDIO_DATA_DIR"] = str(tmp_path)
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", code],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )

    assert out.stdout.split() == [str(root / "demo" / "data"), str(tmp_path / "files")]
