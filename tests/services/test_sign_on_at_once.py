"""Two first sign-ins of one person at the same moment (two tabs back from the provider): one
user, no error. On PostgreSQL the second INSERT of the user waits on the first's uncommitted row;
the test holds the first open until the database says the second is waiting on that lock, then
commits it, so the overlap happens every time, never by chance. SQLite lets one writer at a time
in (the studio's transactions start IMMEDIATE), so two first sign-ins cannot overlap there."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from studio import models, roles
from studio.services.sign_on import sign_on

pytestmark = pytest.mark.django_db(transaction=True)

CLAIMS = {"preferred_username": "dana", "email": "dana@example.com"}


def _sign_on():
    return sign_on(
        issuer="https://id.example",
        subject="s-1",
        claims=CLAIMS,
        groups=["eng"],
        role_map={"eng": roles.EDITOR},
    )


def test_two_first_sign_ins_at_once_make_one_user():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: two first sign-ins never overlap there")
    first_made, release = threading.Event(), threading.Event()
    found: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                found["first"] = _sign_on()
                first_made.set()
                release.wait(60)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            found["second"] = _sign_on()
        except Exception as exc:  # the test reports what the second sign-in met
            found["second"] = exc
        finally:
            connections.close_all()

    one = threading.Thread(target=first)
    one.start()
    assert first_made.wait(60)
    two = threading.Thread(target=second)
    two.start()
    # Wait (a condition, not a guess) until the second sign-in's INSERT waits on the first's row.
    deadline = time.monotonic() + 60
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "select count(*) from pg_stat_activity"
                " where wait_event_type = 'Lock' and datname = current_database()"
            )
            if cursor.fetchone()[0]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the second sign-in never waited on the first")
    release.set()
    one.join(60)
    two.join(60)

    assert not isinstance(found["second"], Exception), found["second"]
    assert found["first"] == found["second"]
    assert models.SignOn.objects.count() == 1
    assert found["second"].groups.filter(name=roles.EDITOR).exists()
