"""How commands report problems: `FILE:LINE: severity: path: message`, one per line (the
severity of an error about this server, not the file, is `cannot run here`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from replication.problems import Problem


def problem_line(filename: str, problem: Problem) -> str:
    line = f":{problem.line}" if problem.line else ""
    where = f"{problem.where}: " if problem.path else ""
    return f"{filename}{line}: {problem.label}: {where}{problem.message}"


def fail(command: Any, lines: list[str]) -> None:
    """Print `lines` to stderr and exit 1 (no traceback, whatever the verbosity)."""
    for line in lines:
        command.stderr.write(line)
    raise SystemExit(1)


def table(rows: list[tuple[str, ...]], *, right: tuple[int, ...] = ()) -> str:
    """Rows as aligned columns (the first row is the header); columns in `right` align right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
