"""The problem vocabulary: what validation, the fence, the services and the commands report.

A problem is where (a path into the document, and its line when known), how bad (an error
refuses a save or a run, a warning does not) and what, in one message for the user.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ERROR = "error"
WARNING = "warning"
# The code of an error about this server, not the file: what its fence lets sling read, write
# and set (STUDIO_FILE_ROOTS, STUDIO_WRITABLE_ROOTS, `env:` names this studio refuses). Sling
# would run the file elsewhere, so it is stored and shown as "cannot run here"; a run, Test and
# Discover here refuse it.
HERE = "fence"

# Where in a replication: keys and list indexes from the top, e.g. ("streams", "public.users", "mode").
Where = tuple[Any, ...]
# The line of a place in the document, when the text it was read from is known.
LineOf = Callable[[Where], "int | None"]


@dataclass(frozen=True, slots=True)
class Problem:
    path: Where
    line: int | None
    severity: str
    message: str
    code: str = ""  # a stable name for problems callers treat specially

    @property
    def where(self) -> str:
        return format_path(self.path)

    @property
    def here(self) -> bool:
        """About this server, not the file (see HERE)."""
        return self.code == HERE

    @property
    def refuses_file(self) -> bool:
        """An error sling would stop the file on, wherever it runs: it refuses a save."""
        return self.severity == ERROR and not self.here

    @property
    def label(self) -> str:
        return "cannot run here" if self.here else self.severity

    def __str__(self) -> str:
        where = f"{self.where}: " if self.path else ""
        return f"{self.label}: {where}{self.message}"


def format_path(path: Where) -> str:
    """`streams["public.users"].mode`: dotted, with stream names quoted when they need it."""
    out = ""
    for part in path:
        text = str(part)
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
            out += f".{text}" if out else text
        else:
            out += f'["{text}"]'
    return out


def problem_line(filename: str, problem: Problem) -> str:
    """How commands and the linter print a problem: `FILE:LINE: severity: path: message` (the
    severity of an error about this server, not the file, is `cannot run here`)."""
    line = f":{problem.line}" if problem.line else ""
    where = f"{problem.where}: " if problem.path else ""
    return f"{filename}{line}: {problem.label}: {where}{problem.message}"
