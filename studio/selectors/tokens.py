"""Reads of API tokens: those a user sees on the tokens page (an admin sees every one)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from studio import models, roles


def tokens_visible(user: Any) -> QuerySet[models.ApiToken]:
    """The user's tokens, or for an admin every token, newest first, with their users."""
    tokens = models.ApiToken.objects.select_related("user")
    return tokens if roles.ADMIN in roles.roles_of(user) else tokens.filter(user=user)
