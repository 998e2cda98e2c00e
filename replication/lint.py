"""The studio's checks of replication files, for a repository: no database, no server, one sling
version. pre-commit's hook (`.pre-commit-hooks.yaml`) and CI jobs run it:

    sling-studio-lint FILE... [--sling-version 1.5.10] [--format text|sarif]

The checks are the editor's, for the sling version named (the shipped one by default), with
what only a studio knows left out: its connections (a name sling would have to find is not
judged) and its fence (what a server lets sling read and write is that server's business).
Exit 1 when a file has an error sling would stop it on, 0 otherwise (warnings are printed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from replication.context import Context
from replication.problems import ERROR, Problem, problem_line
from replication.validate import validate
from replication.versions import KNOWN_UP_TO, SHIPPED, Sling, parse_version
from replication.yamlio import YamlError, parse

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL = "sling-studio-lint"


def check(path: Path, sling: Sling) -> list[Problem]:
    """Every problem of the replication file at `path`, for `sling`."""
    try:
        document = parse(path.read_bytes())
    except OSError as exc:
        return [Problem((), None, ERROR, f"cannot read the file: {exc.strerror}")]
    except YamlError as exc:
        return [Problem((), exc.line, ERROR, exc.message)]
    return validate(document.replication, document.line_of, context=Context(sling=sling))


def sarif(found: Iterable[tuple[str, Problem]], sling: Sling) -> dict[str, Any]:
    """The problems as a SARIF 2.1.0 log (code scanning's format): a rule per kind of problem
    (its code, else its severity), a result per problem at its file and line."""
    results = []
    rules: dict[str, dict[str, Any]] = {}
    for filename, problem in found:
        rule = problem.code or problem.severity
        rules.setdefault(rule, {"id": rule, "shortDescription": {"text": _RULES.get(rule, rule)}})
        location: dict[str, Any] = {"artifactLocation": {"uri": Path(filename).as_posix()}}
        if problem.line:
            location["region"] = {"startLine": problem.line}
        where = f"{problem.where}: " if problem.path else ""
        results.append(
            {
                "ruleId": rule,
                "level": "error" if problem.severity == ERROR else "warning",
                "message": {"text": f"{where}{problem.message}"},
                "locations": [{"physicalLocation": location}],
            }
        )
    driver = {
        "name": TOOL,
        "informationUri": "https://docs.slingdata.io/concepts/replication",
        "rules": list(rules.values()),
    }
    run = {"tool": {"driver": driver}, "results": results, "properties": {"slingVersion": sling.version}}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


_RULES = {
    "error": "sling refuses the file or fails on it",
    "warning": "sling ignores something, or the outcome depends on what it finds",
    "version": "a sling release newer than the rules this linter knows",
    "hook-token": "hooks need a sling CLI Pro token",
    "no-streams": "a replication without streams",
}


def _version(text: str) -> Sling:
    try:
        number = parse_version(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a sling version: {text!r}") from None
    if number < parse_version(SHIPPED):
        raise argparse.ArgumentTypeError(f"the rules start at sling {SHIPPED}; {text} is older")
    return Sling(".".join(str(part) for part in number))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=TOOL, description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "--sling-version",
        type=_version,
        default=Sling(SHIPPED),
        help=f"the sling the files run on (default {SHIPPED}; rules known up to {KNOWN_UP_TO})",
    )
    parser.add_argument("--format", choices=("text", "sarif"), default="text")
    args = parser.parse_args(argv)
    found = [(str(path), problem) for path in args.files for problem in check(path, args.sling_version)]
    errors = sum(problem.severity == ERROR for _, problem in found)
    if args.format == "sarif":
        json.dump(sarif(found, args.sling_version), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for filename, problem in found:
            print(problem_line(filename, problem))
        count, version = len(args.files), args.sling_version.version
        print(f"{count} file{'s' * (count != 1)}, {errors} error(s), checked against sling {version}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
