from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from studio import models

# The connections their files name are defined: each test is about another rule.
pytestmark = pytest.mark.usefixtures("known_connections")

CORPUS = sorted((Path(__file__).parents[1] / "corpus" / "valid").glob("*.yaml"))

EDGES = """\
source: PG
target: SNOW
defaults:
  object: 'raw.{stream_table}'
streams:
  public.users:
  public.orders: {}
  public.items:
    object: raw.items
    mode:
    flavour: vanilla
    target_options:
      column_casing: snake
  public.more:
    object: raw.more
    description:
    primary_key:
env:
  RUN: nightly
owner: data-team
x-notes:
  reviewed: true
"""


def import_file(path: Path, name: str = "rep") -> None:
    call_command("import_replication", str(path), "--name", name, stdout=io.StringIO(), stderr=io.StringIO())


def export(name: str = "rep", *args: str) -> str:
    out = io.StringIO()
    call_command("export_replication", name, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# Real files the studio refuses, each for what sling 1.4.11 would refuse (tests/services keeps
# their text all the same).
REFUSED = {
    "cdc_mode_flip_change_capture": "`change-capture` needs sling 1.5.9 or newer",
    "llm_backfill_historical": "backfill mode needs both `primary_key` and `update_key`",
    "r35_transforms_map_file_streams": "`command` as text needs sling 1.4.18 or newer",
    "r73_single_select_column_typing": "`command` as text needs sling 1.4.18 or newer",
    "r89_definition_only_db": "`definition-only` needs sling 1.5.5 or newer",
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_it_exports_what_was_imported(path, settings):
    # The corpus' files read and write paths relative to their project (`tests/files/...`):
    # the round trip is what is tested here, not the file fence.
    settings.STUDIO_FILE_ROOTS = [settings.BASE_DIR, Path(tempfile.gettempdir()).resolve()]
    settings.STUDIO_WRITABLE_ROOTS = settings.STUDIO_FILE_ROOTS
    err = io.StringIO()
    try:
        call_command("import_replication", str(path), "--name", "rep", stdout=io.StringIO(), stderr=err)
    except SystemExit:
        assert REFUSED.get(path.stem, "(accepted)") in err.getvalue()
        return
    assert path.stem not in REFUSED
    assert export().encode() == path.read_bytes()


def test_the_corpus_is_there():
    # The parametrized test above passes vacuously on an empty glob.
    assert len(CORPUS) >= 40


@pytest.mark.django_db
def test_it_keeps_empty_streams_empty_values_and_unknown_keys(tmp_path):
    path = tmp_path / "edges.yaml"
    path.write_text(EDGES)
    import_file(path)

    exported = yaml.safe_load(export())

    assert exported == yaml.safe_load(EDGES)
    streams = exported["streams"]
    assert streams["public.users"] is None
    assert streams["public.orders"] == {}
    assert streams["public.items"]["mode"] is None
    assert streams["public.items"]["flavour"] == "vanilla"
    assert streams["public.more"] == {"object": "raw.more", "description": None, "primary_key": None}
    assert exported["owner"] == "data-team"
    assert exported["x-notes"] == {"reviewed": True}


@pytest.mark.django_db
def test_it_refuses_keys_that_are_not_text_instead_of_changing_them(tmp_path):
    # JSON keys are text: `2020` would come back as '2020', so it is refused, with the fix named.
    text = "source: A\ntarget: B\nstreams:\n  t:\n    object: x\n    columns:\n      2020: decimal\n"
    path = tmp_path / "numeric.yaml"
    path.write_text(text)
    err = io.StringIO()

    with pytest.raises(SystemExit):
        call_command("import_replication", str(path), stdout=io.StringIO(), stderr=err)

    assert err.getvalue() == (
        f"{path}:7: error: streams.t.columns[2020]: key `2020` must be text: write it in quotes ('2020')\n"
    )
    assert models.Replication.objects.count() == 0


@pytest.mark.django_db
def test_it_keeps_the_stream_order(tmp_path):
    path = tmp_path / "order.yaml"
    path.write_text(EDGES)
    import_file(path)

    exported = yaml.safe_load(export())

    assert list(exported["streams"]) == ["public.users", "public.orders", "public.items", "public.more"]


@pytest.mark.django_db
def test_it_writes_the_same_bytes_twice(tmp_path):
    path = tmp_path / "edges.yaml"
    path.write_text(EDGES)
    import_file(path)

    assert export() == export()


@pytest.mark.django_db
def test_its_output_imports_back_to_the_same_bytes(tmp_path):
    path = CORPUS[0].parent / "r19_id_incremental_replication_hooks.yaml"
    import_file(path)
    first = export()
    again = tmp_path / "again.yaml"
    again.write_text(first)

    import_file(again)

    assert export() == first


@pytest.mark.django_db
def test_it_writes_a_file_with_o(tmp_path):
    path = tmp_path / "edges.yaml"
    path.write_text(EDGES)
    import_file(path)
    target = tmp_path / "out.yaml"

    printed = export("rep", "-o", str(target))

    assert printed == ""
    assert target.read_text() == export()
    assert target.read_text().startswith("source: PG\ntarget: SNOW\n")


@pytest.mark.django_db
def test_it_fails_for_an_unknown_name():
    err = io.StringIO()

    with pytest.raises(SystemExit) as exc:
        call_command("export_replication", "nope", stdout=io.StringIO(), stderr=err)

    assert exc.value.code == 1
    assert err.getvalue().splitlines() == ["error: no replication named `nope`"]


@pytest.mark.django_db
def test_it_reports_a_file_it_cannot_write(tmp_path):
    path = tmp_path / "edges.yaml"
    path.write_text(EDGES)
    import_file(path)
    target = tmp_path / "missing-dir" / "out.yaml"
    err = io.StringIO()

    with pytest.raises(SystemExit) as exc:
        call_command("export_replication", "rep", "-o", str(target), stdout=io.StringIO(), stderr=err)

    assert exc.value.code == 1
    assert err.getvalue().splitlines() == [f"{target}: error: cannot write file: No such file or directory"]
