"""The API tokens page: a token is shown once and kept as a hash; its user (or an admin)
revokes it at once."""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from studio import models
from studio.services.tokens import digest, token_create


def _made(response) -> str:
    return re.search(r'value="(sst_[^"]+)"', response.content.decode())[1]


def test_a_token_is_shown_once_and_only_its_hash_is_kept(client, user):
    response = client.post("/tokens/", {"name": "ci-deploy", "access": "full"})

    assert response.status_code == 200
    token = _made(response)
    assert "no-store" in response["Cache-Control"]  # the answer holds the token: never cached
    row = models.ApiToken.objects.get()
    assert (row.name, row.user, row.read_only, row.expires) == ("ci-deploy", user, False, None)
    assert row.digest == digest(token) and token not in str(models.ApiToken.objects.values().get())
    # Listed by name and prefix from then on, never whole.
    page = client.get("/tokens/").content.decode()
    assert "ci-deploy" in page and row.prefix in page and token not in page


def test_a_token_is_made_read_only_with_an_expiry(client, user):
    day = (timezone.now() + timedelta(days=3)).date()
    client.post("/tokens/", {"name": "dashboard", "access": "read-only", "expires": day.isoformat()})

    row = models.ApiToken.objects.get()
    assert row.read_only and row.expires.date() == day


def test_a_token_without_a_name_or_expired_already_is_refused(client, user):
    assert client.post("/tokens/", {"name": " ", "access": "full"}).status_code == 422
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    response = client.post("/tokens/", {"name": "old", "access": "full", "expires": yesterday})
    assert response.status_code == 422
    assert "in the future" in response.content.decode()
    assert not models.ApiToken.objects.exists()


def test_its_user_revokes_a_token_at_once(client, user):
    row, token = token_create(user=user, name="ci")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/v1/replications/").status_code == 200

    response = client.post(f"/tokens/{row.pk}/revoke/")

    assert response.status_code == 302
    assert api.get("/api/v1/replications/").status_code == 401
    row.refresh_from_db()
    assert row.revoked is not None


def test_nobody_else_sees_or_revokes_a_token_but_an_admin(client, user, demo):
    row, token = token_create(user=user, name="alice-ci")
    viewer = Client()
    viewer.force_login(get_user_model().objects.get(username="viewer"))
    assert "alice-ci" not in viewer.get("/tokens/").content.decode()
    assert viewer.post(f"/tokens/{row.pk}/revoke/").status_code == 404

    admin = Client()
    admin.force_login(get_user_model().objects.get(username="demo"))
    page = admin.get("/tokens/").content.decode()
    assert "alice-ci" in page and "alice" in page  # every user's, with its owner
    assert admin.post(f"/tokens/{row.pk}/revoke/").status_code == 302
    assert (
        Client().get("/api/v1/replications/", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_its_last_use_is_recorded(client, user):
    row, token = token_create(user=user, name="ci")
    assert row.last_used is None

    Client().get("/api/v1/runs/", headers={"Authorization": f"Bearer {token}"})

    row.refresh_from_db()
    assert row.last_used is not None
    assert f"{row.last_used:%Y-%m-%d %H:%M}" in client.get("/tokens/").content.decode()
