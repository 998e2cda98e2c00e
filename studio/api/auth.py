"""Who calls the API, and whether they may: a personal token (`Authorization: Bearer sst_...`,
no CSRF token needed: a page cannot make a browser send it), or the browser's session (its unsafe
requests need the CSRF token, as the pages' do). Each endpoint takes READ, EDIT or RUN: the
caller's role is checked as the pages check it (studio.roles), before the request's body is
read, so a refused role is refused whatever it sent.

Failed token attempts are counted by django-axes, as failed sign-ins are: after
AXES_FAILURE_LIMIT of them from one address, every token request from there is refused (429,
with `Retry-After`) for AXES_COOLOFF_TIME, the right token too, and each refused try starts the
wait again. They are counted under the name TOKEN_USER, which no user can have (it has a
space): a lockout of tokens locks nobody out of signing in. An admin lifts it as a sign-in
lockout: `manage.py axes_reset_username "API token"`, or in the admin.
"""

from __future__ import annotations

import math
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.contrib.auth.signals import user_login_failed
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import security

from studio import roles
from studio.api.problems import LOCKED, problem
from studio.services.tokens import token_use
from studio.signins import TOKEN_USER

CREDENTIALS = {"username": TOKEN_USER}


class LockedOut(Exception):
    """Too many failed token attempts from this address: answered 429 (`lockout`)."""


class Forbidden(Exception):
    """The caller's role (or read-only token) does not allow the action: answered 403."""

    def __init__(self, action: str, read_only: bool) -> None:
        if read_only:
            message = "This token is read only: make a token with full access to do this."
        else:
            message = f"You need the {roles.NEEDED[action]} role to do this; ask an admin."
        super().__init__(message)


def _allowed(user: Any, action: str | None) -> Any:
    if action is not None and not roles.can(user, action):
        raise Forbidden(action, getattr(user, "read_only_token", False))
    return user


class TokenAuth(security.HttpBearer):
    def __init__(self, action: str | None = None) -> None:
        super().__init__()
        self.action = action

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if AxesProxyHandler.is_locked(request, CREDENTIALS):
            raise LockedOut
        found = token_use(token.strip())
        if found is None:
            # Counted by django-axes' receiver; the request that reaches the limit is refused too.
            user_login_failed.send(sender=__name__, credentials=CREDENTIALS, request=request)
            if AxesProxyHandler.is_locked(request, CREDENTIALS):
                raise LockedOut
            return None
        user = found.user
        # A read-only token acts as a viewer (studio.roles.roles_of), whatever its user's role.
        user.read_only_token = found.read_only
        request.user = user
        request.studio_token = found  # the audit trail names the token (services.audit.request_actor)
        return _allowed(user, self.action)


class SessionAuth(security.SessionAuth):
    """The browser's session; ninja checks the CSRF token of its unsafe requests first."""

    def __init__(self, action: str | None = None) -> None:
        super().__init__()
        self.action = action

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return None if user is None else _allowed(user, self.action)


def lockout(request: HttpRequest) -> HttpResponse:
    """429 for a token request from an address locked out, saying when to try again."""
    cool_off = get_cool_off(request)
    wait = cool_off.total_seconds() if cool_off else 60
    attempts = AccessAttempt.objects.filter(
        username=TOKEN_USER, ip_address=getattr(request, "axes_ip_address", None)
    )
    last = attempts.aggregate(last=Max("attempt_time"))["last"]
    if last is not None and cool_off is not None:
        wait = (last + cool_off - timezone.now()).total_seconds()
    seconds = max(1, math.ceil(wait))
    return problem(
        request,
        429,
        f"Too many failed token attempts from this address: token requests from it are refused for "
        f"{seconds} s (each refused try starts the wait again).",
        type=LOCKED,
        headers={"Retry-After": str(seconds)},
    )


# What an endpoint needs: any signed-in caller, or one who may edit, run, or read the audit trail.
READ = [TokenAuth(), SessionAuth()]
EDIT = [TokenAuth("edit"), SessionAuth("edit")]
RUN = [TokenAuth("run"), SessionAuth("run")]
AUDIT = [TokenAuth("audit"), SessionAuth("audit")]
