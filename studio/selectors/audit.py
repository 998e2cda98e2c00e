"""Reads of the audit trail: the entries a filter selects (a person, an object, an action, a
time range), a page of them, and each as the export and the API give it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from studio import models
from studio.errors import Refused

PER_PAGE = 50
# The largest id a filter may name (a bigint): larger is a 500 on PostgreSQL, not an empty page.
ID_MAX = 2**63 - 1
# The object types entries name, for the page's filter.
OBJECT_TYPES = (
    "connection",
    "replication",
    "downstream asset",
    "schedule",
    "run policy",
    "alert channel",
    "run",
    "api token",
    "user",
)

# What entries say was done (studio.services.*), for the page's filter.
ACTIONS = (
    "created",
    "changed",
    "saved",
    "deleted",
    "started",
    "refused",
    "cancelled",
    "paused",
    "resumed",
    "enabled",
    "disabled",
    "revoked",
    "role given",
    "role taken",
    "signed in",
    "sign-in failed",
    "locked out",
)


def as_utc(value: datetime | None, field: str) -> datetime | None:
    """`value` in UTC (naive: already UTC), as the database compares it: PostgreSQL takes offsets
    of at most 15:59 (`-23:29` is a 500 there). `Refused` naming `field` for a time with no UTC
    equivalent (the first hours of year 1 at a positive offset)."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise Refused.field(field, "the time is out of range") from None


@dataclass(frozen=True)
class AuditFilter:
    """What the page, the export and the API filter by; empty: everything."""

    person: str = ""
    object_type: str = ""
    object_name: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


def audit_entries(filters: AuditFilter) -> QuerySet[models.AuditEntry]:
    """The entries `filters` selects, newest first. A person and an object type are exact (each
    has its index); an object's name is matched in part (`orders` finds its schedules)."""
    entries = models.AuditEntry.objects.all()
    if filters.person:
        entries = entries.filter(actor=filters.person)
    if filters.object_type:
        entries = entries.filter(object_type=filters.object_type)
    if filters.object_name:
        entries = entries.filter(object_name__icontains=filters.object_name)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.since is not None:
        entries = entries.filter(at__gte=filters.since)
    if filters.until is not None:
        entries = entries.filter(at__lt=filters.until)
    return entries.order_by("-id")


@dataclass(frozen=True)
class AuditPage:
    entries: list[models.AuditEntry]
    # The `before` of the next (older) page; None on the last.
    older: int | None


def audit_page(filters: AuditFilter, *, before: int | None = None, size: int = PER_PAGE) -> AuditPage:
    """A page of `size` entries older than entry `before` (None: the newest): one query, however
    many entries there are (no OFFSET to skip through, no COUNT of them all)."""
    entries = audit_entries(filters)
    if before is not None:
        entries = entries.filter(id__lt=before)
    rows = list(entries[: size + 1])
    return AuditPage(rows[:size], rows[size - 1].pk if len(rows) > size else None)


def audit_entry_data(entry: models.AuditEntry) -> dict[str, Any]:
    """An entry as the export and the API give it."""
    return {
        "id": entry.pk,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "actor_kind": entry.actor_kind,
        "token": entry.token or None,
        "via": entry.via,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_name": entry.object_name,
        "summary": entry.summary,
        "details": entry.details,
    }


def audit_export(filters: AuditFilter) -> Iterator[dict[str, Any]]:
    """Every entry `filters` selects, read a thousand at a time (a server-side cursor on
    PostgreSQL): the export of a long trail never holds it all in memory."""
    for entry in audit_entries(filters).iterator(chunk_size=1000):
        yield audit_entry_data(entry)


def audit_people() -> list[str]:
    """The user names the person filter suggests (users, not every name in the trail: that
    would read the whole table)."""
    return list(get_user_model().objects.order_by("username").values_list("username", flat=True)[:500])
