"""What upgrading sling would do to a replication, before doing it: what the newer version refuses,
newly allows, or reads differently, each with the release that changed it.

A file is checked under the version running now and under the newer one; a problem that appears
or goes away does so at a release where the rules change (`versions.RELEASES`), found by checking
the file at releases in between. Errors that appear are refused,
errors that go away are allowed, warnings that come or go are read differently (sling's meaning
of the file shifts: `+column` merging from 1.5.12, empty `hooks: {}` inheriting from 1.5.0...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from replication.problems import ERROR, Problem
from replication.versions import RELEASES, Sling, parse_version

REFUSED = "refused"
ALLOWED = "allowed"
READ_DIFFERENTLY = "read differently"


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # REFUSED, ALLOWED or READ_DIFFERENTLY
    release: str  # the first release that does it
    problem: Problem  # as the version that has it says it

    def __str__(self) -> str:
        where = f"{self.problem.where}: " if self.problem.path else ""
        return f"{self.kind} from {self.release}: {where}{self.problem.message}"


def _key(problem: Problem, sling: Sling) -> tuple[object, ...]:
    # A message may name the version it was checked for ("this studio runs 1.4.11"): the same
    # problem under two versions is the same problem.
    return (problem.path, problem.severity, problem.code, problem.message.replace(sling.version, "{version}"))


def changes(check: Callable[[Sling], list[Problem]], now: Sling, then: Sling) -> list[Change]:
    """What moving from `now` to the newer `then` changes in the file `check` checks for a
    version, in the order of the file's lines."""
    if then.number <= now.number:
        raise ValueError(f"sling {then.version} is not newer than {now.version}")
    steps = [Sling(r) for r in RELEASES if now.number < parse_version(r) < then.number] + [then]
    checked: dict[int, dict[tuple[object, ...], Problem]] = {}

    def at(step: int) -> dict[tuple[object, ...], Problem]:
        if step not in checked:
            checked[step] = _found(check, steps[step])
        return checked[step]

    def first(holds: Callable[[int], bool]) -> str:
        # Rules only switch on with a release, never back: the first step where it holds is found
        # by halving, so a big file is checked a few times, not at every release in between.
        low, high = 0, len(steps) - 1
        while low < high:
            middle = (low + high) // 2
            low, high = (low, middle) if holds(middle) else (middle + 1, high)
        return steps[low].version

    before, after = _found(check, now), at(len(steps) - 1)
    result = [
        Change(
            REFUSED if problem.severity == ERROR else READ_DIFFERENTLY,
            first(lambda step, key=key: key in at(step)),
            problem,
        )
        for key, problem in after.items()
        if key not in before
    ] + [
        Change(
            ALLOWED if problem.severity == ERROR else READ_DIFFERENTLY,
            first(lambda step, key=key: key not in at(step)),
            problem,
        )
        for key, problem in before.items()
        if key not in after
    ]
    # A warning that gives way to an error at the same place and release (ignored, then refused)
    # is the refusal, said once.
    decided = {(c.problem.path, c.release) for c in result if c.kind != READ_DIFFERENTLY}
    result = [c for c in result if c.kind != READ_DIFFERENTLY or (c.problem.path, c.release) not in decided]
    return sorted(result, key=lambda c: (c.problem.line or 0, parse_version(c.release)))


def _found(check: Callable[[Sling], list[Problem]], sling: Sling) -> dict[tuple[object, ...], Problem]:
    # A release newer than the rules says so on every file: the caller says it once.
    return {_key(p, sling): p for p in check(sling) if p.code != "version"}
