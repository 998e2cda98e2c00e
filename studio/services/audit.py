"""The audit trail: `record` writes one entry for a change, naming who made it and how.

The services call `record` for every change they make, whoever asked (a page, the API, the
admin, the command line, a worker). Who acted is said once, where a request or a process
starts, with `acting`: the middleware for pages, the admin and the API (`request_actor`: the
signed-in user, or the API token the request carried, by name), the worker for what it does
on its own; anything else is the command line, named with its OS user. A service is called the
same way from all of them, so a change made from a new place is never recorded without an actor.

Entries are append-only (`models.AuditEntry`; the database refuses UPDATE and DELETE too).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import models as db

from studio import models

# How the change was asked for.
PAGE, API, ADMIN, COMMAND_LINE, WORKER = "page", "api", "admin", "command line", "worker"
# How the actor was known.
USER, TOKEN, OS_USER, ANONYMOUS, PROCESS = "user", "token", "os user", "anonymous", "process"

# What an entry calls the objects whose model name does not read well.
TYPE_NAMES = {
    "downstreamasset": "downstream asset",
    "runpolicy": "run policy",
    "alertchannel": "alert channel",
    "apitoken": "api token",
}

# Said for a secret field that changed: its values are never written anywhere.
SECRET_CHANGED = "changed"  # noqa: S105 - a word shown, not a password


@dataclass(frozen=True)
class Actor:
    kind: str
    name: str
    via: str
    token: str = ""


def command_line() -> Actor:
    """The person at a shell on the server: the OS user the command runs as."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        name = f"uid {os.getuid()}"
    return Actor(OS_USER, name, COMMAND_LINE)


def worker() -> Actor:
    """A worker acting on its own: firing schedules, retrying runs."""
    return Actor(PROCESS, "worker", WORKER)


def request_actor(request: Any) -> Actor:
    """Who made a request: the API token it carried (set on the request by the API's token
    authentication), else its signed-in user, else nobody yet (a sign-in)."""
    path = getattr(request, "path_info", "") or ""
    via = ADMIN if path.startswith("/admin/") else API if path.startswith("/api/") else PAGE
    token = getattr(request, "studio_token", None)
    user = getattr(request, "user", None)
    if token is not None:
        return Actor(TOKEN, token.user.get_username(), via, token=token.name)
    if getattr(user, "is_authenticated", False):
        return Actor(USER, user.get_username(), via)
    return Actor(ANONYMOUS, "", via)


# The actor of what runs now: an Actor, or a function giving it (a request's user is known only
# once its authentication ran). Unset: the command line.
_acting: ContextVar[Actor | Callable[[], Actor] | None] = ContextVar("studio_audit_actor", default=None)


@contextmanager
def acting(actor: Actor | Callable[[], Actor]) -> Iterator[None]:
    """Record what is done inside as done by `actor`."""
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


def current_actor() -> Actor:
    actor = _acting.get()
    if actor is None:
        return command_line()
    return actor() if callable(actor) else actor


def record(
    action: str,
    target: db.Model | None = None,
    *,
    object_type: str = "",
    object_name: str = "",
    object_id: Any = "",
    summary: str = "",
    details: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
) -> models.AuditEntry:
    """Write one entry: `action` ("created", "changed", "deleted", "started"...) done to
    `target` (its type, id and name read from it) or to the object named by the keywords,
    by `actor` (else the one `acting` set). In the caller's transaction: a change rolled
    back leaves no entry."""
    actor = actor or current_actor()
    if target is not None:
        model_name = target._meta.model_name or ""
        object_type = object_type or TYPE_NAMES.get(model_name, model_name)
        object_id = object_id or target.pk
        object_name = object_name or str(target)
    return models.AuditEntry.objects.create(
        actor_kind=actor.kind,
        actor=actor.name[:200],
        token=actor.token[:100],
        via=actor.via,
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id)[:64],
        object_name=object_name[:300],
        summary=summary[:500],
        details=dict(details or {}),
    )


def field_changes(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    secret: frozenset[str] | set[str] = frozenset(),
) -> dict[str, Any]:
    """Each field whose value differs, `{"from": old, "to": new}`; a `secret` field only as
    SECRET_CHANGED: its values never reach the trail."""
    changes: dict[str, Any] = {}
    for name in sorted(set(before) | set(after), key=str):
        old, new = before.get(name), after.get(name)
        if old != new:
            changes[name] = SECRET_CHANGED if name in secret else {"from": old, "to": new}
    return changes


def changes_summary(changes: Mapping[str, Any]) -> str:
    """`host, port, password (secret)`: the names of what changed, in a line."""
    return ", ".join(
        f"{name} (secret)" if value == SECRET_CHANGED else str(name) for name, value in changes.items()
    )


# --- what is heard by signals: sign-ins, lockouts, roles given and taken ----------------------

# The flag studio_audit_sealed() answers on SQLite (see migration 0017): cleared only while
# `manage.py flush` erases the whole database.
SEALED = {"on": True}


def _sealed() -> int:
    return int(SEALED["on"])


def _seal_sqlite(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("studio_audit_sealed", 0, _sealed)


def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    via = request_actor(request).via if request is not None else COMMAND_LINE
    record("signed in", user, object_type="user", actor=Actor(USER, user.get_username(), via))


def _sign_in_failed(sender: Any, credentials: Mapping[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Only the user name tried is kept (the password is in `credentials` too: never read).
    name = str(credentials.get("username", ""))[:150]
    actor = request_actor(request) if request is not None else command_line()
    record("sign-in failed", object_type="user", object_name=name, actor=actor, details=_address(request))


def _locked_out(sender: Any, request: Any = None, username: str | None = None, **kwargs: Any) -> None:
    actor = request_actor(request) if request is not None else command_line()
    record(
        "locked out",
        object_type="user",
        object_name=str(username or "")[:150],
        summary="too many failed sign-ins from one address",
        actor=actor,
        details={"address": kwargs.get("ip_address") or ""},
    )


def _address(request: Any) -> dict[str, str]:
    address = getattr(request, "axes_ip_address", None) or getattr(request, "META", {}).get("REMOTE_ADDR")
    return {"address": address} if address else {}


def _groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    """A role (a group) given to or taken from a user, however: the admin, a sign-in that maps
    an identity provider's groups, a script; from the user's side (`user.groups.add(group)`) or
    the group's (`group.user_set.add(user)`, `reverse`)."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    if reverse:  # `instance` is the group
        users = (
            instance.user_set.all()
            if action == "pre_clear"
            else get_user_model().objects.filter(pk__in=pk_set)
        )
        pairs = [(user, instance.name) for user in users]
    else:
        groups = instance.groups.all() if action == "pre_clear" else Group.objects.filter(pk__in=pk_set)
        pairs = [(instance, name) for name in groups.values_list("name", flat=True)]
    verb = "role given" if action == "post_add" else "role taken"
    for user, name in sorted(pairs, key=lambda pair: (pair[0].pk, pair[1])):
        record(verb, user, object_type="user", object_name=user.get_username(), summary=name)


# A user's flags that give or take rights: superuser is every role, inactive none.
USER_FLAGS = ("is_superuser", "is_staff", "is_active")


def _user_flags_changed(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.pk is None or (update_fields is not None and not set(USER_FLAGS) & set(update_fields)):
        return  # a new user, or a save of other fields (a sign-in's last_login)
    before = sender._default_manager.filter(pk=instance.pk).values(*USER_FLAGS).first()
    changes = field_changes(before or {}, {flag: getattr(instance, flag) for flag in USER_FLAGS})
    if before is not None and changes:
        record(
            "changed",
            instance,
            object_type="user",
            summary=changes_summary(changes),
            details={"fields": changes},
        )


def connect() -> None:
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_in, user_login_failed
    from django.db.backends.signals import connection_created
    from django.db.models.signals import m2m_changed, pre_save

    connection_created.connect(_seal_sqlite, dispatch_uid="studio_audit_seal")
    user_logged_in.connect(_signed_in, dispatch_uid="studio_audit_signed_in")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="studio_audit_sign_in_failed")
    user_model = get_user_model()
    m2m_changed.connect(_groups_changed, sender=user_model.groups.through, dispatch_uid="studio_audit_groups")
    pre_save.connect(_user_flags_changed, sender=user_model, dispatch_uid="studio_audit_user_flags")
    if apps.is_installed("axes"):  # not in a foreground run's lean settings
        from axes.signals import user_locked_out

        user_locked_out.connect(_locked_out, dispatch_uid="studio_audit_locked_out")
