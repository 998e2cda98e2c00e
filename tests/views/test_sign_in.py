"""The sign-in page's ways in and single sign-on's refusals that need no provider answering
(tests/browser/test_sso_browser.py signs in against a real one): local sign-in switched off, a
provider that cannot be reached, a link this browser did not start, a provider's refusal; what
/metrics counts of each way's failures; the settings' own checks; and the sign-on service's rules."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from prometheus_client.parser import text_string_to_metric_families

from studio import models, roles, sso
from studio.services.sign_on import sign_on

SECRET = "the-client-secret-9d2e"


@pytest.fixture
def closed_issuer() -> Iterator[str]:
    """An issuer address where nothing listens: a bound socket that never listens refuses every
    connection, and no other process can take the port while it is held."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{held.getsockname()[1]}"
    held.close()


@pytest.fixture
def sso_on(settings, closed_issuer):
    settings.STUDIO_OIDC_ISSUER = closed_issuer
    settings.STUDIO_OIDC_NAME = "Example ID"
    settings.OIDC_RP_CLIENT_ID = "sling-studio"
    settings.OIDC_RP_CLIENT_SECRET = SECRET
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "studio.sso.Backend"]
    sso._discovered.clear()
    return settings


def _signin_failures(client) -> dict[str, float]:
    text = client.get("/metrics").content.decode()
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    return {s.labels["via"]: s.value for s in samples if s.name == "studio_signin_failures"}


@pytest.mark.django_db
def test_without_single_sign_on_the_page_is_the_password_form(client):
    page = client.get("/login/").content.decode()
    assert 'id="id_password"' in page
    assert "/sso/start/" not in page
    assert client.get("/sso/start/").status_code == 404


@pytest.mark.django_db
def test_local_sign_in_switched_off_refuses_every_password(client, sso_on, fast_hasher):
    get_user_model().objects.create_superuser("root", "root@example.com", "root-password")
    sso_on.STUDIO_LOCAL_SIGNIN = False
    sso_on.AUTHENTICATION_BACKENDS = [
        b for b in sso_on.AUTHENTICATION_BACKENDS if b != "django.contrib.auth.backends.ModelBackend"
    ]
    page = client.get("/login/?next=/runs/").content.decode()
    assert 'id="id_password"' not in page
    assert 'href="/sso/start/?next=/runs/"' in page

    # A session signed in with a password before it was switched off ends too.
    signed_in = get_user_model().objects.create_user("earlier")
    client.force_login(signed_in, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/replications/").status_code == 302
    refused = client.post("/login/", {"username": "root", "password": "root-password"})
    assert refused.status_code == 403
    assert "Sign-in with a password is switched off here" in refused.content.decode()
    # The admin's own sign-in form asks the same backends: none takes a password.
    client.post("/admin/login/", {"username": "root", "password": "root-password", "next": "/admin/"})
    assert client.get("/replications/").status_code == 302
    assert SECRET not in page


@pytest.mark.django_db
def test_both_ways_offered_by_default_with_single_sign_on(client, sso_on, fast_hasher):
    page = client.get("/login/").content.decode()
    assert "Sign in with Example ID" in page
    assert 'id="id_password"' in page
    get_user_model().objects.create_user("local", password="local-password")
    assert client.post("/login/", {"username": "local", "password": "local-password"}).status_code == 302


@pytest.mark.django_db
def test_a_provider_that_cannot_be_reached_is_a_sentence(client, sso_on, caplog):
    started = client.get("/sso/start/")
    assert started.status_code == 502
    assert "The identity provider (http://127.0.0.1:" in started.content.decode()
    assert "cannot be reached now" in started.content.decode()

    # Back from the provider with a code, but its token endpoint cannot be asked: refused,
    # counted as a failed single sign-on, nobody signed in.
    before = _signin_failures(client)
    session = client.session
    session["oidc_states"] = {"st4te": {"nonce": "n0nce", "code_verifier": "v" * 64}}
    session.save()
    back = client.get("/sso/callback/?code=c0de&state=st4te")
    assert back.status_code == 403
    assert "cannot be reached now" in back.content.decode()
    assert _signin_failures(client) == {**before, "sso": before["sso"] + 1}
    assert client.get("/replications/").status_code == 302
    assert SECRET not in caplog.text
    assert SECRET not in started.content.decode() + back.content.decode()


@pytest.mark.django_db
def test_a_link_this_browser_did_not_start_is_refused_and_a_state_is_used_once(client, sso_on):
    stale = client.get("/sso/callback/?code=c0de&state=someone-elses")
    assert stale.status_code == 403
    assert "This sign-in link is not one this browser started" in stale.content.decode()

    session = client.session
    session["oidc_states"] = {"st4te": {"nonce": "n0nce", "code_verifier": None}}
    session.save()
    client.get("/sso/callback/?code=c0de&state=st4te")
    again = client.get("/sso/callback/?code=c0de&state=st4te")
    assert "This sign-in link is not one this browser started" in again.content.decode()


@pytest.mark.django_db
def test_the_providers_refusal_is_shown_for_a_sign_in_this_browser_started(client, sso_on):
    crafted = client.get("/sso/callback/?error=access_denied&error_description=Call+us+at+555&state=x")
    assert crafted.status_code == 403
    assert "Call us" not in crafted.content.decode()
    session = client.session
    session["oidc_states"] = {"st4te": {"nonce": "n0nce", "code_verifier": None}}
    session.save()
    answer = client.get("/sso/callback/?error=access_denied&error_description=End-User+aborted&state=st4te")
    assert answer.status_code == 403
    assert "The identity provider did not sign you in: End-User aborted" in answer.content.decode()


@pytest.mark.django_db
def test_metrics_tell_failed_passwords_tokens_and_single_sign_ons_apart(client, fast_hasher):
    get_user_model().objects.create_user("carol", password="right-password")
    client.post("/login/", {"username": "carol", "password": "wrong"})
    client.post("/login/", {"username": "carol", "password": "wrong again"})
    client.get("/api/v1/replications/", HTTP_AUTHORIZATION="Bearer sst_not-a-token")
    assert _signin_failures(client) == {"password": 2.0, "sso": 0.0, "token": 1.0}


@pytest.mark.django_db
def test_sign_on_makes_a_user_once_and_sets_only_role_groups():
    claims = {"preferred_username": "dana", "email": "dana@example.com"}
    role_map = {"eng": roles.EDITOR, "ops": roles.OPERATOR}
    user = sign_on(
        issuer="https://id.example", subject="s-1", claims=claims, groups=["eng"], role_map=role_map
    )
    assert user.username == "dana"
    assert not user.has_usable_password()
    user.groups.add(Group.objects.create(name="book-club"))  # an admin's own group, not a role

    again = sign_on(
        issuer="https://id.example",
        subject="s-1",
        claims=claims,
        groups=["ops", "unmapped"],
        role_map=role_map,
    )
    assert again == user
    assert set(again.groups.values_list("name", flat=True)) == {roles.OPERATOR, "book-club"}
    # The same subject at another issuer is another person.
    other = sign_on(
        issuer="https://other.example", subject="s-1", claims=claims, groups=[], role_map=role_map
    )
    assert other != user
    assert other.username == "dana-2"
    assert models.SignOn.objects.count() == 2


def _settings_error(**env: str) -> str:
    """What importing the settings says with `env` (the settings are read once per process)."""
    environment = {**os.environ, **env}
    environment.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", "import studio.settings"],
        cwd=django_settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stderr.strip().splitlines()[-1] if done.returncode else ""


def test_settings_refuse_a_role_map_and_a_sign_in_nobody_could_use():
    assert "STUDIO_OIDC_ROLES: 'eng=boss' is not GROUP=ROLE" in _settings_error(STUDIO_OIDC_ROLES="eng=boss")
    assert "needs STUDIO_OIDC_ISSUER: nobody could sign in" in _settings_error(STUDIO_LOCAL_SIGNIN="false")
    assert "needs STUDIO_OIDC_CLIENT_ID" in _settings_error(STUDIO_OIDC_ISSUER="https://id.example")
    both = {"STUDIO_OIDC_CLIENT_ID": "c", "STUDIO_OIDC_CLIENT_SECRET": "s"}
    assert (
        _settings_error(STUDIO_OIDC_ISSUER="https://id.example", STUDIO_OIDC_ROLES="a=b=admin", **both) == ""
    )


@pytest.mark.django_db
def test_failed_single_sign_ons_lock_single_sign_on_out_from_the_address(client, sso_on, fast_hasher):
    def back_from_the_provider() -> Any:
        session = client.session
        session["oidc_states"] = {"st4te": {"nonce": "n0nce", "code_verifier": None}}
        session.save()
        return client.get("/sso/callback/?code=c0de&state=st4te")

    answers = [back_from_the_provider().status_code for _ in range(sso_on.AXES_FAILURE_LIMIT + 1)]
    assert answers[0] == 403
    assert answers[-1] == 429
    assert "Too many failed sign-ins" in back_from_the_provider().content.decode()
    # A password sign-in from the same address is not locked by it.
    get_user_model().objects.create_user("erin", password="erin-password")
    assert client.post("/login/", {"username": "erin", "password": "erin-password"}).status_code == 302
