"""Replication files kept in git: a folder of NAME.yaml out and in, and --check for CI."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from studio import models

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("known_connections")]

ORDERS = """\
# Orders from the shop database. Owner: data-team.
source: PG
target: SNOW

streams:
  # The big one: nightly.
  public.orders:
    object: raw.orders   # keep the raw schema
    mode: full-refresh
"""
USERS = "source: PG\ntarget: SNOW\nstreams:\n  public.users: {object: raw.users}\n"
BROKEN = "source: PG\ntarget: SNOW\nstreams:\n  public.users:\n    object: raw.users\n    mode: sideways\n"


def run(command: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def folder(path, **files: str):
    path.mkdir()
    for name, text in files.items():
        (path / f"{name}.yaml").write_text(text)
    return path


def test_a_folder_imports_in_one_go_and_exports_as_it_came(tmp_path):
    source = folder(tmp_path / "in", orders=ORDERS, users=USERS)

    code, out, _ = run("import_replication", str(source))

    assert code == 0
    assert out.splitlines() == [
        f"{source / 'orders.yaml'}: imported orders: 1 stream, 0 warning(s)",
        f"{source / 'users.yaml'}: imported users: 1 stream, 0 warning(s)",
        "checked against sling 1.4.11",
    ]
    code, out, _ = run("export_replication", "--all", "-o", str(tmp_path / "out"))
    assert (code, out.strip()) == (0, f"wrote 2 replications to {tmp_path / 'out'}")
    # Comments, blank lines, flow style: byte for byte.
    assert (tmp_path / "out" / "orders.yaml").read_bytes() == ORDERS.encode()
    assert (tmp_path / "out" / "users.yaml").read_bytes() == USERS.encode()


def test_an_unchanged_file_makes_no_revision_and_a_changed_one_does(tmp_path):
    source = folder(tmp_path / "in", orders=ORDERS, users=USERS)
    run("import_replication", str(source))
    (source / "users.yaml").write_text(USERS.replace("raw.users", "raw.people"))

    code, out, _ = run("import_replication", str(source))

    assert code == 0
    assert out.splitlines()[:2] == [
        f"{source / 'orders.yaml'}: unchanged orders: 1 stream, 0 warning(s)",
        f"{source / 'users.yaml'}: updated users: 1 stream, 0 warning(s)",
    ]
    assert models.Replication.objects.get(name="orders").revisions.count() == 1
    users = models.Replication.objects.get(name="users")
    assert users.revisions.count() == 2
    assert users.revisions.get(version=2).yaml == USERS.replace("raw.users", "raw.people")


def test_one_refused_file_saves_nothing_and_says_where(tmp_path):
    source = folder(tmp_path / "in", orders=ORDERS, users=BROKEN)

    code, _, err = run("import_replication", str(source))

    assert code == 1
    assert err.splitlines() == [
        f'{source / "users.yaml"}:6: error: streams["public.users"].mode: unknown mode `sideways`; '
        "sling knows full-refresh, incremental, truncate, snapshot, backfill"
    ]
    assert not models.Replication.objects.exists()


def test_check_only_validates_a_file_or_a_folder(tmp_path):
    source = folder(tmp_path / "in", orders=ORDERS, users=BROKEN)

    code, _, err = run("import_replication", str(source), "--check")
    good, out, _ = run("import_replication", str(source / "orders.yaml"), "--check")

    assert code == 1
    assert err.splitlines()[-1] == "2 files, 1 error(s), checked against sling 1.4.11"
    assert f"{source / 'users.yaml'}:6: error:" in err
    assert (good, out.strip()) == (0, "1 file, 0 error(s), checked against sling 1.4.11")
    assert not models.Replication.objects.exists()


def test_a_file_that_cannot_run_here_is_imported_and_fails_the_check_only_with_here(tmp_path, settings):
    # Valid sling that reads outside this server's fence: stored (a team may run it elsewhere),
    # printed as `cannot run here`; `--here` asks whether it runs on this server too.
    settings.STUDIO_FILE_ROOTS = settings.STUDIO_FILE_ROOTS[-1:]
    text = "source: LOCAL\ntarget: SNOW\nstreams:\n  file:///etc/passwd:\n    object: raw.passwd\n"
    source = folder(tmp_path / "in", passwd=text)

    lint, _, linted = run("import_replication", str(source), "--check")
    here, _, _ = run("import_replication", str(source), "--check", "--here")
    stored, out, said = run("import_replication", str(source))

    problem = (
        f'{source / "passwd.yaml"}:4: cannot run here: streams["file:///etc/passwd"]: sling may not read '
        "`/etc/passwd`: it is outside the folders open to sling (STUDIO_FILE_ROOTS: "
        f"{settings.STUDIO_FILE_ROOTS[0]})"
    )
    assert (lint, linted.splitlines()) == (0, [problem])
    assert here == 1
    assert (stored, said.splitlines()) == (0, [problem])
    assert out.strip().startswith("imported passwd: 1 stream, 0 warning(s), 1 that cannot run here")
    assert models.Replication.objects.get().name == "passwd"


def test_export_all_wants_a_folder(tmp_path):
    code, _, err = run("export_replication", "--all")

    assert code == 1
    assert err.strip() == "error: name one replication, or give --all with -o DIR"
