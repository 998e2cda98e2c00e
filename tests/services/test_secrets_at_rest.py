from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from studio import models
from studio.fields import fernet
from studio.services.connections import connection_save


def stored_secrets() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM studio_connection")
        return cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def fresh_keys():
    fernet.cache_clear()
    yield
    fernet.cache_clear()


@pytest.mark.django_db
def test_secrets_are_encrypted_in_the_database():
    connection_save(name="pg", fields={"type": "postgres", "host": "h", "password": "pw-4711-unique"})

    assert "pw-4711-unique" not in stored_secrets()
    assert models.Connection.objects.get().secrets == {"password": "pw-4711-unique"}


@pytest.mark.django_db
def test_rotation_re_encrypts_with_the_new_key_and_the_old_key_still_reads(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.STUDIO_ENCRYPTION_KEYS = [old]
    connection_save(name="pg", fields={"type": "postgres", "password": "pw-rotate"})
    token_before = stored_secrets()

    settings.STUDIO_ENCRYPTION_KEYS = [new, old]
    fernet.cache_clear()
    assert models.Connection.objects.get().secrets == {"password": "pw-rotate"}
    out = io.StringIO()
    call_command("rotate_secrets", stdout=out)

    assert out.getvalue().strip() == "re-encrypted the secrets of 1 connection(s)"
    assert stored_secrets() != token_before
    # Only the new key is needed from now on.
    settings.STUDIO_ENCRYPTION_KEYS = [new]
    fernet.cache_clear()
    assert models.Connection.objects.get().secrets == {"password": "pw-rotate"}
