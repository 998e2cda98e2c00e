"""Roles, as Django groups: what each kind of user may do.

- viewer: read everything (secrets are shown to nobody);
- editor: change replications, streams, connections and downstream assets;
- operator: start and cancel runs;
- admin: all of it, and reads the audit trail (superusers are admins).

A signed-in user in no role group is a viewer; so is a request with a read-only API token.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import reswap, retarget

VIEWER, EDITOR, OPERATOR, ADMIN = "viewer", "editor", "operator", "admin"
ROLES = (VIEWER, EDITOR, OPERATOR, ADMIN)
# Action -> the roles allowed to do it.
ALLOWED = {"edit": {EDITOR, ADMIN}, "run": {OPERATOR, ADMIN}, "audit": {ADMIN}}
NEEDED = {"edit": "editor", "run": "operator", "audit": "admin"}


def roles_of(user: Any) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    if getattr(user, "read_only_token", False):  # set by the API for a read-only token's request
        return {VIEWER}
    if user.is_superuser:
        return set(ROLES)
    if not hasattr(user, "_studio_roles"):
        user._studio_roles = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True)) | {VIEWER}
    return user._studio_roles


def can(user: Any, action: str) -> bool:
    return bool(roles_of(user) & ALLOWED[action])


def role_required(action: str, methods: tuple[str, ...] = ("GET", "POST")) -> Callable[..., Any]:
    """Refuse (403, saying which role is needed) requests of `methods` by users who may not `action`.

    Anonymous users never get here: LoginRequiredMiddleware sends them to sign in first."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods and not can(request.user, action):
                return forbidden(request, action)
            return view(request, *args, **kwargs)

        wrapped.role_action = action  # type: ignore[attr-defined] - read by bench/hostile.py
        return wrapped

    return decorator


def forbidden(request: HttpRequest, action: str) -> HttpResponse:
    message = f"You need the {NEEDED[action]} role to do this; ask an admin."
    if getattr(request, "htmx", False):
        response = render(request, "studio/_forbidden.html", {"message": message}, status=403)
        return reswap(retarget(response, "#notices"), "innerHTML")
    return render(request, "studio/forbidden.html", {"message": message}, status=403)


def context(request: HttpRequest) -> dict[str, bool]:
    """Template flags: show only the buttons the user may press."""
    user = getattr(request, "user", None)
    return {"can_edit": can(user, "edit"), "can_run": can(user, "run"), "can_audit": can(user, "audit")}
