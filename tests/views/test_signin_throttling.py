"""Sign-in throttling with django-axes (issue 12, problem 5).

60 wrong passwords used to be answered one by one, and then the right one worked. Now, after
5 failures of one user from one address, signing in as that user from there is refused, the
right password too, with a page that says so; the lockout ends after the cool-off, or at once
when an admin deletes the access attempt; other users and other addresses are not locked.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

LOCKED = "Too many failed sign-ins"


@pytest.fixture
def people(db, fast_hasher):
    users = get_user_model().objects
    users.create_user("alice", password="alice-password")
    users.create_user("bob", password="bob-password")
    users.create_superuser("root", password="root-password")


def sign_in(username: str, password: str, address: str = "10.0.0.1") -> tuple[int, str, bool]:
    browser = Client(REMOTE_ADDR=address)
    response = browser.post("/login/", {"username": username, "password": password})
    return response.status_code, response.content.decode(), "_auth_user_id" in browser.session


def test_five_failures_lock_the_user_out_from_that_address_even_with_the_right_password(people):
    answers = [sign_in("alice", "wrong")[0] for _ in range(6)]

    status, html, signed_in = sign_in("alice", "alice-password")

    # Four answered as wrong passwords; the fifth failure locks.
    assert answers == [200, 200, 200, 200, 429, 429]
    assert (status, signed_in) == (429, False)
    assert LOCKED in html
    assert "Signing in as <strong>alice</strong> failed 5 times from this address" in html
    assert "refused from here for 15 minutes" in html


def test_the_lockout_is_per_user_and_address(people):
    for _ in range(5):
        sign_in("alice", "wrong")

    assert sign_in("alice", "alice-password", address="10.0.0.2")[2]
    assert sign_in("bob", "bob-password")[2]


def test_the_lockout_ends_after_the_cool_off(people):
    for _ in range(5):
        sign_in("alice", "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert sign_in("alice", "alice-password")[2]


def test_an_admin_lifts_it_at_once_in_the_admin(people):
    for _ in range(5):
        sign_in("alice", "wrong")
    admin = Client()
    admin.force_login(get_user_model().objects.get(username="root"))
    attempt = AccessAttempt.objects.get(username="alice")

    listing = admin.get("/admin/axes/accessattempt/").content.decode()
    deleted = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert "alice" in listing
    assert deleted.status_code == 302
    assert sign_in("alice", "alice-password")[2]


def test_behind_a_trusted_proxy_the_address_is_the_one_it_forwards(people, settings):
    settings.STUDIO_TRUSTED_PROXIES = ["127.0.0.1"]

    def through_proxy(client_address: str) -> int:
        browser = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"6.6.6.6, {client_address}")
        return browser.post("/login/", {"username": "alice", "password": "wrong"}).status_code

    assert [through_proxy("10.0.0.9") for _ in range(5)][-1] == 429
    # Another client behind the same proxy is not locked out (a spoofed first entry is ignored).
    assert through_proxy("10.0.0.10") == 200
