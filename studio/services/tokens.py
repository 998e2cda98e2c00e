"""Writes of personal API tokens: make one (shown once, only its hash kept), revoke one, and
the request that carries one (its last use)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from studio import models, roles
from studio.errors import NotFound, Refused
from studio.services import audit

# What every token starts with: a leaked one is easy to recognise (and for secret scanners to find).
PREFIX = "sst_"
# A token's last use is written at most this often: not a write per request.
LAST_USED_EVERY = timedelta(minutes=1)


def digest(token: str) -> str:
    """The SHA-256 of a token, as stored. Tokens are 256 random bits: a slow password hash
    would add nothing but time to every request."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, user: Any, name: str, read_only: bool = False, expires: datetime | None = None
) -> tuple[models.ApiToken, str]:
    """A new token of `user` and the token itself, which is never stored nor shown again.
    `Refused` (naming the field) without a name or with an expiry in the past."""
    name = name.strip()
    if not name:
        raise Refused.field("name", "name the token (where it is used, e.g. `ci-deploy`)")
    if expires is not None and expires <= timezone.now():
        raise Refused.field("expires", "the expiry must be in the future")
    token = PREFIX + secrets.token_urlsafe(32)
    row = models.ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=token[: len(PREFIX) + 6],
        digest=digest(token),
        read_only=read_only,
        expires=expires,
    )
    _audit("created", row)
    return row, token


def _audit(action: str, token: models.ApiToken) -> None:
    """An entry for `token`: its name and whose it is, never the token nor its hash."""
    access = "read only" if token.read_only else "full role"
    expiry = f", expires {token.expires:%Y-%m-%d %H:%M}" if token.expires else ""
    audit.record(
        action,
        token,
        object_name=f"{token.name} of {token.user.get_username()}",
        summary=access + expiry,
        details={"user": token.user.get_username(), "prefix": token.prefix, "read_only": token.read_only},
    )


@transaction.atomic
def token_revoke(*, token_id: int, by: Any) -> models.ApiToken:
    """Revoke a token of `by`, or any token when `by` is an admin; at once: its next request
    is refused. `NotFound` for a token `by` may not see."""
    tokens = models.ApiToken.objects.select_related("user")
    if roles.ADMIN not in roles.roles_of(by):
        tokens = tokens.filter(user=by)
    token = tokens.filter(pk=token_id).first()
    if token is None:
        raise NotFound(f"no token #{token_id}")
    if token.revoked is None:
        token.revoked = timezone.now()
        token.save(update_fields=["revoked"])
        _audit("revoked", token)
    return token


def token_use(token: str, *, now: datetime | None = None) -> models.ApiToken | None:
    """The live token (not revoked, not expired) that `token` is, with its user, its use
    recorded; None for any other text."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    now = now or timezone.now()
    found = models.ApiToken.objects.select_related("user").filter(digest=digest(token)).first()
    if found is None or found.revoked is not None or not found.user.is_active:
        return None
    if found.expires is not None and found.expires <= now:
        return None
    if found.last_used is None or now - found.last_used >= LAST_USED_EVERY:
        models.ApiToken.objects.filter(pk=found.pk).update(last_used=now)
        found.last_used = now
    return found
