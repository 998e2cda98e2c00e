"""The names django-axes counts failed sign-ins under when no user name was typed: a failed API
token and a failed single sign-on. No user can have them (they hold a space), so locking either
out from an address locks nobody's password sign-in; /metrics tells the three kinds apart."""

from __future__ import annotations

TOKEN_USER = "API token"  # noqa: S105 - a user name, not a password
SSO_USER = "single sign-on"
