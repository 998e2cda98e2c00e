"""What every page's template gets besides its view's context."""

from __future__ import annotations

from django.http import HttpRequest

from replication.versions import DEFAULT
from studio import configured


def sling(request: HttpRequest) -> dict[str, str | None]:
    """For every page's footer: the sling the studio runs, and the version whose rules apply without one."""
    return {"sling_version": configured.sling_version(), "sling_rules": DEFAULT.version}
