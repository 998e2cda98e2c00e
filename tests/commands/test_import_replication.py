from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from studio import models
from studio.selectors.replications import replication_yaml

# The connections their files name are defined: each test is about another rule.
pytestmark = pytest.mark.usefixtures("known_connections")

GOOD = """\
source: PG
target: SNOW

defaults:
  mode: full-refresh
  object: 'raw.{stream_table}'

streams:
  public.zebras:
    id: zebras
    description: Striped
    mode: incremental
    object: raw.zebras
    primary_key: [id, region]
    update_key: updated_at
    select: [id, region, -secret]
    where: region = 'EU'
    columns: {id: bigint}
    transforms: [trim_space]
    source_options: {limit: 10}
    target_options: {column_casing: snake}
    single: false
    tags: [pii, daily]
    schedule: '0 * * * *'
    hooks:
      post:
        - type: log
          message: done
    meta:
      dagster:
        group: zoo
    colour: black-and-white
  public.apes:
  custom_query:
    sql: select 1 as one
    object: raw.custom
    disabled: true
"""


def write(tmp_path: Path, text: str | bytes, name: str = "replication.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_replication", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(path: Path, *args: str) -> str:
    """Run an import that must fail; return its stderr."""
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("import_replication", str(path), *args, stdout=io.StringIO(), stderr=err)
    assert exc.value.code == 1
    return err.getvalue()


def row_counts() -> tuple[int, int]:
    return models.Replication.objects.count(), models.Stream.objects.count()


@pytest.mark.django_db
def test_it_imports_a_replication(tmp_path):
    out, _ = run(write(tmp_path, GOOD), "--name", "zoo")

    # Two warnings: the unknown key `colour`, and the hook sling runs only with a Pro token.
    assert out.strip() == "imported zoo: 3 streams, 2 warning(s), checked against sling 1.4.11"
    replication = models.Replication.objects.get(name="zoo")
    assert replication.source == "PG"
    assert replication.target == "SNOW"
    assert replication.defaults == {"mode": "full-refresh", "object": "raw.{stream_table}"}
    assert [s.name for s in replication.streams.all()] == ["public.zebras", "public.apes", "custom_query"]
    assert [s.position for s in replication.streams.all()] == [0, 1, 2]


@pytest.mark.django_db
def test_it_keeps_every_stream_key(tmp_path):
    run(write(tmp_path, GOOD), "--name", "zoo")

    zebras = models.Stream.objects.get(replication__name="zoo", name="public.zebras")
    assert zebras.config == {
        "id": "zebras",
        "description": "Striped",
        "mode": "incremental",
        "object": "raw.zebras",
        "primary_key": ["id", "region"],
        "update_key": "updated_at",
        "select": ["id", "region", "-secret"],
        "where": "region = 'EU'",
        "columns": {"id": "bigint"},
        "transforms": ["trim_space"],
        "source_options": {"limit": 10},
        "target_options": {"column_casing": "snake"},
        "single": False,
        "tags": ["pii", "daily"],
        "schedule": "0 * * * *",
        "hooks": {"post": [{"type": "log", "message": "done"}]},
        "meta": {"dagster": {"group": "zoo"}},
        # Unknown keys are kept, not dropped.
        "colour": "black-and-white",
    }
    # Copies of its own values, for listing and sorting.
    assert (zebras.mode, zebras.object, zebras.disabled) == ("incremental", "raw.zebras", False)

    # Written as `public.apes:` alone: no config at all, not an empty one.
    apes = models.Stream.objects.get(replication__name="zoo", name="public.apes")
    assert apes.config is None

    custom = models.Stream.objects.get(replication__name="zoo", name="custom_query")
    assert custom.config == {"sql": "select 1 as one", "object": "raw.custom", "disabled": True}
    assert custom.disabled is True


@pytest.mark.django_db
def test_it_names_the_replication_after_the_file(tmp_path):
    out, _ = run(write(tmp_path, GOOD, name="Nightly Load.yaml"))

    assert out.startswith("imported nightly-load:")
    assert list(models.Replication.objects.values_list("name", flat=True)) == ["nightly-load"]


@pytest.mark.django_db
def test_it_refuses_a_name_that_is_not_a_slug(tmp_path):
    err = refused(write(tmp_path, GOOD), "--name", "two words")

    assert "name `two words` must be 1-200 letters, digits, `-` or `_`" in err
    assert row_counts() == (0, 0)


@pytest.mark.django_db
def test_it_replaces_the_streams_on_reimport(tmp_path):
    run(write(tmp_path, GOOD), "--name", "zoo")
    first_id = models.Replication.objects.get(name="zoo").pk
    smaller = "source: PG\ntarget: DUCK\nstreams:\n  public.owls:\n    object: raw.owls\n"

    out, _ = run(write(tmp_path, smaller, name="other.yaml"), "--name", "zoo")

    assert out.strip() == "updated zoo: 1 stream, 0 warning(s), checked against sling 1.4.11"
    replication = models.Replication.objects.get(name="zoo")
    assert replication.pk == first_id
    assert replication.target == "DUCK"
    assert replication.defaults == {}
    assert [s.name for s in replication.streams.all()] == ["public.owls"]
    assert row_counts() == (1, 1)


@pytest.mark.django_db
def test_it_prints_warnings_with_file_and_line(tmp_path):
    path = write(tmp_path, GOOD)

    _, err = run(path, "--name", "zoo")

    assert err.splitlines() == [
        f'{path}:26: warning: streams["public.zebras"].hooks.post[0]: hooks need a sling CLI Pro token: '
        "without SLING_CLI_TOKEN in the studio's environment, sling 1.4.11 refuses to run them (a start hook "
        "stops the run before any stream; `on_failure: warn` lets it go on)",
        f'{path}:32: warning: streams["public.zebras"].colour: unknown key `colour` (kept as written)',
    ]


@pytest.mark.django_db
def test_it_prints_a_suggestion_for_a_misspelt_key(tmp_path):
    text = "source: A\ntarget: B\nstreams:\n  users:\n    object: u\n    primary_keys: [id]\n"
    path = write(tmp_path, text)

    _, err = run(path, "--name", "x")

    assert err.splitlines() == [
        f"{path}:6: warning: streams.users.primary_keys: unknown key `primary_keys`; "
        "did you mean `primary_key`? (kept as written)"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stream", "line", "message"),
    [
        (
            "    object: u\n    mode: incremetal\n",
            6,
            "error: streams.users.mode: unknown mode `incremetal`; did you mean `incremental`?",
        ),
        (
            "    object: u\n    mode: incremental\n",
            6,
            "error: streams.users.mode: incremental mode needs `primary_key` and/or `update_key`",
        ),
        (
            "    mode: full-refresh\n",
            4,
            "error: streams.users: no `object`: set the target table or file here or in `defaults`",
        ),
    ],
    ids=["misspelt-mode", "incremental-without-keys", "missing-object"],
)
def test_it_refuses_an_invalid_replication(tmp_path, stream, line, message):
    path = write(tmp_path, "source: A\ntarget: B\nstreams:\n  users:\n" + stream)

    err = refused(path, "--name", "x")

    assert err.splitlines() == [f"{path}:{line}: {message}"]
    assert row_counts() == (0, 0)


@pytest.mark.django_db
def test_a_refused_reimport_leaves_the_stored_replication_as_it_was(tmp_path):
    run(write(tmp_path, GOOD), "--name", "zoo")
    before = models.Replication.objects.get(name="zoo")
    exported = replication_yaml(name="zoo")
    broken = "source: A\ntarget: B\nstreams:\n  users:\n    object: u\n    mode: incremetal\n"

    refused(write(tmp_path, broken, name="broken.yaml"), "--name", "zoo")

    after = models.Replication.objects.get(name="zoo")
    assert after.updated == before.updated
    assert after.target == "SNOW"
    assert replication_yaml(name="zoo") == exported
    assert row_counts() == (1, 3)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("source: A\ntarget: B\nstreams:\n  users:\n\tobject: u\n", 5, "not valid YAML"),
        (
            "source: A\ntarget: B\nstreams:\n  users:\n    object: u\n   mode: full-refresh\n",
            6,
            "not valid YAML",
        ),
        (
            "source: A\ntarget: B\nstreams:\n  users:\n    object: {stream_schema}.{stream_table}\n",
            5,
            "must be quoted, e.g. object: '{stream_table}'",
        ),
        (b"source: A\ntarget: B\nstreams:\n  users:\n    object: caf\xe9\n", 5, "not UTF-8 text: byte 0xe9"),
        ("source: A\nsource: B\nstreams:\n  users:\n    object: u\n", 2, "duplicate key `source`"),
    ],
    ids=["tab", "indent", "unquoted-braces", "latin-1", "duplicate-key"],
)
def test_it_refuses_unreadable_yaml_in_one_line(tmp_path, text, line, needle):
    path = write(tmp_path, text)

    err = refused(path, "--name", "x")

    assert len(err.splitlines()) == 1
    assert err.startswith(f"{path}:{line}: error: ")
    assert needle in err.removeprefix(f"{path}:{line}: error: ")
    assert row_counts() == (0, 0)


@pytest.mark.django_db
def test_it_says_to_quote_an_object_written_as_a_bare_variable(tmp_path):
    path = write(tmp_path, "source: A\ntarget: B\nstreams:\n  users:\n    object: {stream_table}\n")

    err = refused(path, "--name", "x")

    assert err.startswith(f"{path}:5: error: ")
    # Only the message: the test's tmp_path itself contains "quote".
    assert "quote" in err.removeprefix(f"{path}:5: error: ")


@pytest.mark.django_db
def test_it_refuses_a_value_json_cannot_hold(tmp_path):
    text = "source: A\ntarget: B\nstreams:\n  users:\n    object: u\n    source_options:\n      limit: .nan\n"
    path = write(tmp_path, text)

    err = refused(path, "--name", "x")

    assert err.startswith(f"{path}:7: error: ")
    assert row_counts() == (0, 0)


@pytest.mark.django_db
def test_it_stores_a_mode_given_by_a_long_variable(tmp_path):
    mode = "{env.SLING_MODE_FOR_THE_NIGHTLY_ORDERS_LOAD_X}"
    path = write(tmp_path, f"source: A\ntarget: B\nstreams:\n  users:\n    object: u\n    mode: '{mode}'\n")

    run(path, "--name", "x")

    assert models.Stream.objects.get().mode == mode


@pytest.mark.django_db
def test_it_refuses_an_alias_bomb(tmp_path):
    levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    path = write(tmp_path, "source: A\ntarget: B\n" + "\n".join(levels) + "\nstreams:\n  x:\n")

    err = refused(path, "--name", "x")

    assert len(err.splitlines()) == 1
    assert err.startswith(f"{path}:")
    assert "error: the document expands to more than 5,000,000 values" in err
    assert row_counts() == (0, 0)


@pytest.mark.django_db
def test_it_refuses_a_document_over_10_mb(tmp_path):
    text = "source: A\ntarget: B\nstreams:\n  users:\n    object: u\n"
    padding = "# " + "x" * (10 * 1024 * 1024) + "\n"
    path = write(tmp_path, text + padding)

    err = refused(path, "--name", "x")

    assert err.splitlines() == [f"{path}: error: the document is larger than 10 MB"]
    assert row_counts() == (0, 0)


@pytest.mark.django_db
def test_it_refuses_an_empty_document(tmp_path):
    path = write(tmp_path, "# nothing here\n")

    err = refused(path, "--name", "x")

    assert err.splitlines() == [
        f"{path}:1: error: the document is empty; expected a mapping with source, target and streams"
    ]


@pytest.mark.django_db
def test_it_reports_a_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"

    err = refused(path)

    assert err.splitlines() == [f"{path}: error: cannot read file: No such file or directory"]
    assert row_counts() == (0, 0)
