"""What upgrading the studio's sling would change, per replication: the upgrade page and
`import_replication --check --sling-version X` (replication/upgrade.py does the comparing)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from replication.context import Context
from replication.problems import ERROR, Problem
from replication.upgrade import Change, changes
from replication.versions import RELEASES, Sling, parse_version
from replication.yamlio import YamlError, parse
from studio import configured, models, validation
from studio.selectors.replications import current_text


@dataclass(frozen=True)
class Upgrade:
    name: str
    changes: list[Change]
    refused: list[Problem]  # what the newer sling stops the file on (some already now)


def newer_releases() -> list[str]:
    """The releases above the running sling at which the rules change, newest first."""
    now = configured.rules().number
    return [r for r in reversed(RELEASES) if parse_version(r) > now]


def text_upgrade(
    text: str | bytes, then: Sling, *, name: str = "", context: Context | None = None
) -> Upgrade:
    """What moving from the running sling to `then` does to a replication document."""
    try:
        document = parse(text)
    except YamlError as exc:
        return Upgrade(name, [], [Problem((), exc.line, ERROR, exc.message)])
    context = context or validation.context()

    def check(sling: Sling) -> list[Problem]:
        return validation.check(
            document.replication, document.line_of, with_context=replace(context, sling=sling)
        )

    found = changes(check, context.sling, then)
    return Upgrade(name, found, [p for p in check(then) if p.refuses_file])


def studio_upgrade(then: Sling) -> list[Upgrade]:
    """Every replication of the studio, with what `then` changes of it (those it changes first)."""
    context = validation.context()
    found = [
        text_upgrade(current_text(replication), then, name=replication.name, context=context)
        for replication in models.Replication.objects.order_by("name")
    ]
    return sorted(found, key=lambda u: (not u.changes and not u.refused, u.name))
