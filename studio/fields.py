"""A model field whose value is encrypted at rest (Fernet, keys from the environment)."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def fernet() -> MultiFernet:
    """The keys of `settings.STUDIO_ENCRYPTION_KEYS`, newest first; old ones still decrypt.

    Without that setting the key derives from SECRET_KEY, so changing SECRET_KEY
    then needs `rotate_secrets` with the old key listed (see the README).
    """
    keys = list(settings.STUDIO_ENCRYPTION_KEYS)
    if not keys:
        digest = hashlib.sha256(f"sling-studio-secrets:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"STUDIO_ENCRYPTION_KEYS: not a Fernet key ({exc})") from None


class EncryptedJSONField(models.TextField):
    """JSON in Python, a Fernet token in the database."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None:
            return value
        try:
            return json.loads(fernet().decrypt(value.encode()))
        except InvalidToken:
            raise ImproperlyConfigured(
                f"{self.model.__name__}.{self.name}: cannot decrypt with the configured keys "
                "(STUDIO_ENCRYPTION_KEYS or SECRET_KEY changed?)"
            ) from None

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()

    def value_to_string(self, obj: Any) -> str:
        return "(encrypted)"
