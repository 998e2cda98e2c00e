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


UPGRADED = """\
source: PG
target: SNOW
hooks:
  pre: []
streams:
  public.users:
    object: raw.users
    mode: change-capture
    primary_key: [id]
"""


def test_check_against_a_newer_sling_says_what_changes_and_when(tmp_path):
    source = folder(tmp_path / "in", users=UPGRADED, orders=ORDERS)

    code, _, err = run("import_replication", str(source), "--check", "--sling-version", "1.5.23")
    fine, out, _ = run("import_replication", str(source / "orders.yaml"), "--check", "--sling-version", "1.5")

    assert code == 1  # 1.5.23 refuses users.yaml
    assert err.splitlines() == [
        f"{source / 'users.yaml'}:4: refused from 1.4.25: hooks.pre: sling refuses a `pre` hook at "
        "replication level: put it under defaults.hooks",
        f'{source / "users.yaml"}:8: allowed from 1.5.9: streams["public.users"].mode: `change-capture` '
        "needs sling 1.5.9 or newer; this studio runs 1.4.11",
        "2 files from sling 1.4.11 to 1.5.23: 1 refused, 1 allowed, 0 read differently; "
        "1 file(s) 1.5.23 refuses",
    ]
    assert (fine, out.strip()) == (
        0,
        "1 file from sling 1.4.11 to 1.5.0: 0 refused, 0 allowed, 0 read differently; "
        "0 file(s) 1.5.0 refuses",
    )
    assert not models.Replication.objects.exists()


def test_the_version_compared_must_be_newer_and_only_compared(tmp_path):
    source = folder(tmp_path / "in", orders=ORDERS)

    older = run("import_replication", str(source), "--check", "--sling-version", "1.4.11")
    stored = run("import_replication", str(source), "--sling-version", "1.5.0")
    garbage = run("import_replication", str(source), "--check", "--sling-version", "latest")

    assert older == (1, "", "error: --sling-version: 1.4.11 is not newer than the sling here (1.4.11)\n")
    assert stored == (1, "", "error: --sling-version compares, it does not store: give --check too\n")
    assert garbage == (1, "", "error: --sling-version: not a sling version: 'latest'\n")


def test_check_against_a_base_folder_lists_what_the_change_does_and_exits_3_when_it_drops(tmp_path):
    # A CI job: the pull request's folder against main's.
    main = folder(tmp_path / "main", orders=ORDERS, users=USERS)
    pr = folder(
        tmp_path / "pr",
        orders=ORDERS.replace("raw.orders", "raw.orders_v2"),
        fresh=USERS.replace("users", "items"),
    )
    calm = folder(tmp_path / "calm", orders=ORDERS, users=USERS, fresh=USERS.replace("users", "items"))

    code, _, err = run("import_replication", str(pr), "--check", "--base", str(main))
    fine, out, _ = run("import_replication", str(calm), "--check", "--base", str(main))

    assert code == 3
    assert err.splitlines() == [
        f"{pr / 'fresh.yaml'}: adds `RAW.ITEMS` (stream `public.items`)",
        f"{pr / 'fresh.yaml'}: asset key of `public.items`: none -> target/raw/items",
        f"{pr / 'orders.yaml'}: renames `RAW.ORDERS` to `RAW.ORDERS_V2` (stream `public.orders`)",
        f"{pr / 'orders.yaml'}: asset key of `public.orders`: target/raw/orders -> target/raw/orders_v2",
        f"{main / 'users.yaml'}: stops writing `RAW.USERS` (stream `public.users`)",
        f"{main / 'users.yaml'}: asset key of `public.users`: target/raw/users -> none",
        f"against {main}: a target is renamed, dropped or reloaded in full",
    ]
    assert fine == 0
    assert out.splitlines()[:2] == [
        f"{calm / 'fresh.yaml'}: adds `RAW.ITEMS` (stream `public.items`)",
        f"{calm / 'fresh.yaml'}: asset key of `public.items`: none -> target/raw/items",
    ]


def test_export_all_wants_a_folder(tmp_path):
    code, _, err = run("export_replication", "--all")

    assert code == 1
    assert err.strip() == "error: name one replication, or give --all with -o DIR"
