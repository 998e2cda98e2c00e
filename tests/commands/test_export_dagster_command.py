from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from studio.services.dagster import dagster_location
from studio.services.replications import replication_import


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("export_dagster", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_it_writes_the_code_location(demo, tmp_path):
    code, out, _ = run("demo", "-o", str(tmp_path / "location"))

    assert code == 0
    assert out.strip() == f"wrote a Dagster code location (1 replication) to {tmp_path / 'location'}"
    written = {
        str(p.relative_to(tmp_path / "location")) for p in (tmp_path / "location").rglob("*") if p.is_file()
    }
    assert written == {"definitions.py", ".env.example", "replications/demo/replication.yaml"}
    files = dagster_location(names=["demo"])
    assert (tmp_path / "location" / "definitions.py").read_text() == files["definitions.py"]


def test_all_exports_every_replication(demo, tmp_path):
    replication_import(
        name="other", text="source: LOCAL\ntarget: DEMO_SQLITE\nstreams:\n  t.csv: {object: main.t}\n"
    )

    code, out, _ = run("--all", "-o", str(tmp_path))

    assert code == 0
    assert "(2 replications)" in out
    assert (tmp_path / "replications" / "other" / "replication.yaml").is_file()
    assert "def other_assets(" in (tmp_path / "definitions.py").read_text()


def test_it_refuses_an_unknown_replication(db, tmp_path):
    assert run("nope", "-o", str(tmp_path / "x")) == (1, "", "error: no replication named `nope`\n")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("args", [[], ["demo", "--all"]])
def test_it_wants_names_or_all(demo, tmp_path, args):
    code, _, err = run(*args, "-o", str(tmp_path))

    assert code == 1
    assert err == "error: name replications or give --all, not both\n"


def test_it_refuses_a_location_dagster_would_refuse(demo, tmp_path):
    replication_import(
        name="crm",
        text="source: CRM\ntarget: DEMO_SQLITE\nstreams:\n  public.orders:\n    object: main.orders\n",
    )

    code, _, err = run("--all", "-o", str(tmp_path / "location"))

    assert code == 1
    assert err.startswith(
        "error: Dagster refuses two assets with one key: `target/main/orders` is defined by"
    )
    assert not (tmp_path / "location").exists()
    # Either replication alone is a location of its own.
    assert run("crm", "-o", str(tmp_path / "crm"))[0] == 0
