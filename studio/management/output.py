"""How commands report problems: `FILE:LINE: severity: path: message`, one per line."""

from __future__ import annotations

from typing import Any

from replication.validate import Problem


def problem_line(filename: str, problem: Problem) -> str:
    line = f":{problem.line}" if problem.line else ""
    where = f"{problem.where}: " if problem.path else ""
    return f"{filename}{line}: {problem.severity}: {where}{problem.message}"


def fail(command: Any, lines: list[str]) -> None:
    """Print `lines` to stderr and exit 1 (no traceback, whatever the verbosity)."""
    for line in lines:
        command.stderr.write(line)
    raise SystemExit(1)
