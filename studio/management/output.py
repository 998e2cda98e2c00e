"""How commands report: refusals on stderr with exit 1, tables (problems: `problem_line`)."""

from __future__ import annotations

from typing import Any


def fail(command: Any, lines: list[str], code: int = 1) -> None:
    """Print `lines` to stderr and exit `code` (no traceback, whatever the verbosity)."""
    for line in lines:
        command.stderr.write(line)
    raise SystemExit(code)


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
