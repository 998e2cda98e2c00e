"""What the services and selectors raise for the views and commands to explain."""

from __future__ import annotations

from replication.problems import ERROR, Problem


class NotFound(LookupError):
    pass


class Refused(ValueError):
    """Input that cannot be stored; nothing was saved. `problems` say where and why, and for
    several documents `by_name` says whose they are."""

    def __init__(self, problems: list[Problem], by_name: dict[str, list[Problem]] | None = None) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems
        self.by_name = by_name or {}

    @classmethod
    def field(cls, field: str, message: str) -> Refused:
        """A refusal of one field of a form or a command (no document, no line)."""
        return cls([Problem((field,), None, ERROR, message)])


class Conflict(Exception):
    """Someone saved the thing since this edit began; `diff` shows their change."""

    def __init__(self, *, name: str, version: int, base_version: int, diff: str) -> None:
        super().__init__(f"`{name}` was changed by someone else (now version {version})")
        self.name = name
        self.version = version
        self.base_version = base_version
        self.diff = diff
