"""The real sling binary is the oracle: each case of tests/corpus/oracle/ is run by it, and
the studio must agree.

For every case (a local-only replication: CSV and JSON files, SQLite databases, file
targets; its `# note:` says what it tests), sling runs it in a folder of its own, and:

- the studio accepts it (no error) if and only if sling runs it; where sling fails on
  the config, the studio has an error for it, or (for what only the environment decides,
  such as a CLI Pro token) the warning the case names;
- every object sling wrote, table or file, is the object the studio resolves for that
  stream; a wildcard's streams are expanded the way sling does (`sling conns discover`).

The cases were measured on 1.4.11 (tests/corpus/oracle/README.md). Run with the binary the
studio runs; they are the studio's rules for that version.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from replication import sling
from replication.config import effective_config
from replication.connections import type_of_url
from replication.context import ConnectionInfo, Context
from replication.problems import ERROR
from replication.resolve import (
    Names,
    is_wildcard,
    read_as_one,
    render_env,
    resolve_object,
    runtime_variables,
)
from replication.validate import validate
from replication.versions import Sling
from replication.yamlio import parse

pytestmark = [pytest.mark.sling, pytest.mark.oracle]

CASES = sorted(p for p in (Path(__file__).parents[1] / "corpus" / "oracle").iterdir() if p.is_dir())


def test_there_are_enough_cases():
    # The parametrized test below passes vacuously on an empty folder.
    assert len(CASES) >= 60


def write_fixtures(case: dict[str, Any], folder: Path) -> None:
    for item in case.get("files", []):
        path = folder / item["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        if "csv" in item:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(item["csv"])
            data = buffer.getvalue().encode()
        elif "json" in item:
            data = json.dumps(item["json"]).encode()
        else:
            data = item.get("text", "").encode()
        path.write_bytes(gzip.compress(data, mtime=0) if item.get("gzip") else data)
    for database in case.get("sqlite", []):
        path = folder / database["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as db:
            for name, table in database.get("tables", {}).items():
                db.execute(f'create table "{name}" ({table["ddl"]})')
                if table.get("rows"):
                    marks = ",".join("?" * len(table["rows"][0]))
                    db.executemany(f'insert into "{name}" values ({marks})', table["rows"])  # noqa: S608
            for statement in database.get("sql", []):
                db.execute(statement)


def with_folder(value: Any, folder: Path) -> Any:
    if isinstance(value, str):
        return value.replace("{{DIR}}", str(folder))
    if isinstance(value, list):
        return [with_folder(v, folder) for v in value]
    if isinstance(value, dict):
        return {k: with_folder(v, folder) for k, v in value.items()}
    return value


def connection_info(value: Any) -> ConnectionInfo:
    if isinstance(value, str):
        return ConnectionInfo.of(type_of_url(value))
    return ConnectionInfo.of(value.get("type") or type_of_url(str(value.get("url", ""))), value)


def normalise(target: str) -> str:
    """A table as sling logs it (`"main"."users"`) as the studio writes it (`main.users`)."""
    return target if "://" in target else target.replace('"', "").replace("`", "")


def expansion(binary: str, env: dict[str, str], folder: Path, source: str, pattern: str) -> list[str]:
    """The streams sling expands a wildcard into, from the same discovery sling runs."""
    args = ["conns", "discover", source, "--pattern", sling.discover_pattern(pattern)]
    return sling.expanded(sling.call(binary, args, env=env, cwd=folder))


@pytest.fixture(scope="module")
def binary() -> str:
    return sling.find_binary(None)


@pytest.fixture(scope="module")
def rules(binary, tmp_path_factory) -> Sling:
    """The rules of the binary's own version: the ones the studio would run with."""
    return Sling(sling.version(binary, home=tmp_path_factory.mktemp("home")))


@pytest.mark.parametrize("folder", CASES, ids=[p.name for p in CASES])
def test_the_studio_agrees_with_sling(folder, tmp_path, binary, rules):
    case = json.loads((folder / "case.json").read_text())
    work = tmp_path / "case"
    work.mkdir()
    case = with_folder(case, work)
    write_fixtures(case, work)
    text = with_folder((folder / "replication.yaml").read_text(), work)
    (work / "replication.yaml").write_text(text)
    connections = {
        name: value if isinstance(value, str) else json.dumps(value)
        for name, value in case.get("connections", {}).items()
    }
    # sling's Go SQLite driver, not the sqlite3 CLI it would try to download (offline here).
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(work),
        "SQLITE_PATH": "/nonexistent/sqlite3",
        **case.get("env", {}),
    }
    env = sling.environment(connections, home=work / ".sling", base=base)
    argv = [binary, "run", "-r", str(work / "replication.yaml"), *case.get("args", [])]
    result = sling.execute(sling.Prepared(argv, work / "replication.yaml", []), env=env, cwd=work)

    # What the studio says of the same file, knowing what sling knows.
    document = parse(text)
    config = document.replication
    mode = case.get("args", [])[1] if case.get("args", [])[:1] == ["--mode"] else None
    if mode:
        config = config.with_mode(mode)
    context = Context(
        sling=rules,
        connections={name.upper(): connection_info(v) for name, v in case.get("connections", {}).items()},
        # What sling's process gets of the studio's environment (an allowlist: a case's own
        # variable like SHELL_VAR does not reach it, and both sides say so).
        process_env=sling.process_environment(base),
        complete=True,
        workdir=str(work),
    )
    problems = validate(config, document.line_of, context=context)
    errors = [p for p in problems if p.severity == ERROR]
    said = "\n".join(str(p) for p in problems)
    expected = case.get("studio")  # what the studio must say where sling's failure is not the file's

    if result.exit_code == 0:
        assert not errors, f"sling ran it, the studio refuses it:\n{said}"
    elif expected and expected.startswith("warning:"):
        assert not errors and expected.removeprefix("warning:").strip() in said, said
    elif expected and expected.startswith("unknowable:"):
        assert not errors, said  # sling fails on what only a run can see (the note says what)
    else:
        assert errors, (
            f"sling failed (exit {result.exit_code}: {result.error}), the studio accepts it:\n{said}"
        )

    # Every object sling wrote is the one the studio resolves for its stream.
    names = Names.of(config, context)
    defaults = config.defaults if isinstance(config.defaults, dict) else {}
    resolved: dict[str, str | None] = {}
    for stream, own in config.streams.items():
        effective = effective_config(defaults, own, context.sling)
        name = render_env(stream, names.env)
        if is_wildcard(name) and not read_as_one(effective):
            for expanded in expansion(binary, env, work, names.source, name):
                resolved.setdefault(expanded, resolve_object(expanded, effective, names))
        else:
            resolved[name] = resolve_object(name, effective, names)
    written = [(r.name, normalise(r.target)) for r in result.streams if r.status == "succeeded" and r.target]
    for stream, target in written:
        shown = resolved[stream] if stream in resolved else _loosely(resolved, stream)
        assert shown is not None and _same(shown, target), (
            f"{stream}: sling wrote {target}, the studio shows {shown}"
        )


def _loosely(resolved: dict[str, str | None], stream: str) -> str | None:
    """The studio's object of the stream sling logs as `stream` (sling drops quotes, keeps case)."""
    bare = stream.replace('"', "").lower()
    return next((v for k, v in resolved.items() if k.replace('"', "").lower() == bare), None)


def _same(shown: str, written: str) -> bool:
    """Whether what the studio shows is what sling wrote, run-time variables (which the studio
    shows as `{YYYY}`, `{run_timestamp}`) standing for the values the run gave them."""
    pattern = re.escape(shown)
    for name in runtime_variables(shown):
        pattern = pattern.replace(re.escape(f"{{{name}}}"), r"[0-9A-Za-z_+\-]+")
    return re.fullmatch(pattern, written) is not None
