"""Writes of single sign-on: the studio user of a person an OpenID provider vouched for, made at
their first sign-in, and their roles set from the provider's groups at every sign-in."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from studio import models, roles

_NOT_IN_USERNAMES = re.compile(r"[^\w.@+-]")


@transaction.atomic
def sign_on(
    *,
    issuer: str,
    subject: str,
    claims: Mapping[str, Any],
    groups: Iterable[str],
    role_map: Mapping[str, str],
) -> Any:
    """The user the provider `issuer` knows as `subject`, made on first sign-in (with no password
    that could sign in locally), with exactly the roles `role_map` gives its `groups`: a group the
    person left takes its role away now. Groups that are not roles are left as they are (an admin's
    own). A deactivated user stays deactivated: the caller refuses it."""
    link = (
        models.SignOn.objects.select_for_update()
        .select_related("user")
        .filter(issuer=issuer, subject=subject)
    )
    sign = link.first()
    if sign is None:
        try:
            with transaction.atomic():
                user = get_user_model()(
                    username=_free_username(claims, subject), email=claims.get("email") or ""
                )
                user.set_unusable_password()
                user.save()
                sign = models.SignOn.objects.create(user=user, issuer=issuer, subject=subject)
        except IntegrityError:
            # The same person's first sign-in in another tab made the user first (their INSERT
            # held ours until it committed): that user is this person.
            sign = link.get()
    user = sign.user
    if (email := claims.get("email")) and email != user.email:
        user.email = email
        user.save(update_fields=["email"])
    _set_roles(user, {role_map[g] for g in groups if g in role_map})
    sign.last_signed_in = timezone.now()
    sign.save(update_fields=["last_signed_in"])
    return user


def _set_roles(user: Any, wanted: set[str]) -> None:
    have = set(user.groups.filter(name__in=roles.ROLES).values_list("name", flat=True))
    if gone := have - wanted:
        user.groups.remove(*Group.objects.filter(name__in=gone))
    for name in sorted(wanted - have):
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    user.__dict__.pop("_studio_roles", None)  # roles_of's memo of the old ones


def _free_username(claims: Mapping[str, Any], subject: str) -> str:
    """The person's name at the provider as a user name, made unique with a number: a local
    account of the same name stays its own."""
    wanted = claims.get("preferred_username") or (claims.get("email") or "").partition("@")[0]
    base = _NOT_IN_USERNAMES.sub("-", str(wanted or f"sso-{subject}"))[:140] or "sso-user"
    taken = get_user_model().objects.filter(username__startswith=base).values_list("username", flat=True)
    taken = set(taken)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name
