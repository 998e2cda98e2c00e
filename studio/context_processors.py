"""What every page's template gets besides its view's context."""

from __future__ import annotations

from django.http import HttpRequest

from replication.versions import DEFAULT
from studio import configured


def sling(request: HttpRequest) -> dict[str, str | None]:
    """For every page's footer: the sling the studio runs, the version whose rules apply without
    one, and what the studio cannot tell of a release newer than its rules."""
    return {
        "sling_version": configured.sling_version(),
        "sling_rules": DEFAULT.version,
        "sling_unknown": configured.rules().unknown,
    }
