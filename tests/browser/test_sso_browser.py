"""Single sign-on in Chromium against a real OpenID provider on loopback (node's oidc-provider,
tests/sso_support.py): a person's first sign-in makes their user with the roles their groups give,
a group left takes its role away at the next sign-in, a forged or expired ID token is refused with
a sentence (not an error page) and counted as a failed sign-in for /metrics, and with local
sign-in off the page offers single sign-on alone. Screenshots go to $SSO_SCREENSHOTS to look at."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from prometheus_client.parser import text_string_to_metric_families
from sso_support import CLIENT_ID, CLIENT_SECRET, OpenIDProvider
from test_accessibility_browser import violations

from studio import models, roles
from studio.signins import SSO_USER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLE_MAP = {"data-eng": "editor", "ops": "operator", "platform": "admin"}


@pytest.fixture(scope="module")
def provider(live_server: Any) -> Any:
    # The studio builds its callback address from the address the browser used.
    callback = f"{live_server.url}/sso/callback/"
    started = OpenIDProvider([callback, callback.replace("localhost", "127.0.0.1")])
    yield started
    started.stop()


@pytest.fixture
def sso(settings: Any, provider: OpenIDProvider, caplog: Any) -> OpenIDProvider:
    settings.STUDIO_OIDC_ISSUER = provider.issuer
    settings.STUDIO_OIDC_NAME = "Example ID"
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.STUDIO_OIDC_ROLES = ROLE_MAP
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "studio.sso.Backend"]
    provider.tamper(None)
    provider.accounts(alice={"email": "alice@example.com", "name": "Alice", "groups": ["data-eng", "ops"]})
    caplog.set_level(logging.DEBUG)
    return provider


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SSO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def new_page(chromium: Any) -> Any:
    """A page in a new browser context (no session of the studio or the provider); every one is
    closed with the test, so no connection of it outlives the test's database."""
    contexts: list[Any] = []

    def make(width: int = 1440) -> Any:
        contexts.append(chromium.new_context(viewport={"width": width, "height": 900}))
        page = contexts[-1].new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


def _sign_in(new_page: Any, base: str, login: str, then: str = "/", start: str = "/login/") -> Any:
    """From `start` through the studio's sign-in page and the provider's; the page once the
    browser is back at the studio's `then`."""
    page = new_page()
    page.goto(f"{base}{start}")
    page.click("text=Sign in with Example ID")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password: the provider's own check")
    page.click("button.login-submit")
    page.wait_for_url(f"{base}{then}**")
    return page


def _signin_failures(client: Any) -> dict[str, float]:
    """/metrics' failed sign-ins by way, read with Prometheus's own parser."""
    text = client.get("/metrics").content.decode()
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    return {s.labels["via"]: s.value for s in samples if s.name == "studio_signin_failures"}


def test_first_sign_in_makes_the_user_with_the_roles_of_its_groups(new_page, live_server, sso, caplog):
    signed_in: list[Any] = []

    def receiver(sender: Any, user: Any, **kwargs: Any) -> None:
        signed_in.append(user.username)

    # The audit trail records sign-ins from this signal: the flow must be a normal Django login.
    user_logged_in.connect(receiver)
    try:
        page = _sign_in(new_page, live_server.url, "alice")
    finally:
        user_logged_in.disconnect(receiver)
    assert page.url == f"{live_server.url}/"
    assert "alice" in page.inner_text("header")
    user = get_user_model().objects.get(username="alice")
    assert signed_in == ["alice"]
    assert user.email == "alice@example.com"
    assert not user.has_usable_password()  # no password that could sign in locally
    assert roles.roles_of(user) == {roles.VIEWER, roles.EDITOR, roles.OPERATOR}
    assert models.SignOn.objects.get(user=user).issuer == sso.issuer
    # The editor's buttons are there: the session acts with the roles just given.
    page.goto(f"{live_server.url}/replications/")
    assert page.locator("text=New replication").count() > 0
    assert CLIENT_SECRET not in page.content()
    assert CLIENT_SECRET not in caplog.text


def test_a_group_left_takes_its_role_away_at_the_next_sign_in(new_page, live_server, sso):
    # Asked for a page first: the sign-in ends on it.
    _sign_in(new_page, live_server.url, "alice", start="/runs/?status=failed", then="/runs/?status=failed")
    alice = get_user_model().objects.get(username="alice")
    assert roles.OPERATOR in roles.roles_of(alice)

    sso.accounts(alice={"email": "alice@example.com", "groups": ["data-eng", "finance"]})
    _sign_in(new_page, live_server.url, "alice")
    alice = get_user_model().objects.get(username="alice")  # one user still, its roles read anew
    assert roles.roles_of(alice) == {roles.VIEWER, roles.EDITOR}
    assert models.SignOn.objects.count() == 1

    sso.accounts(alice={"email": "alice@example.com", "groups": []})
    _sign_in(new_page, live_server.url, "alice")
    alice = get_user_model().objects.get(username="alice")
    assert roles.roles_of(alice) == {roles.VIEWER}


def test_a_user_switched_off_in_the_studio_is_refused(new_page, live_server, sso):
    _sign_in(new_page, live_server.url, "alice")
    get_user_model().objects.filter(username="alice").update(is_active=False)
    page = _sign_in(new_page, live_server.url, "alice", then="/sso/callback/")
    assert "Your studio account is switched off: ask an admin." in page.inner_text("p.error")


def test_a_local_account_of_the_same_name_and_email_is_not_taken_over(new_page, live_server, sso):
    local = get_user_model().objects.create_user("alice", email="alice@example.com", password="local-pw")
    _sign_in(new_page, live_server.url, "alice")
    link = models.SignOn.objects.get()
    assert link.user != local
    assert link.user.username == "alice-2"
    local.refresh_from_db()
    assert roles.roles_of(local) == {roles.VIEWER}


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("forge", "The sign-in token was not issued for this studio by its identity provider"),
        ("expire", "The identity provider's sign-in token has expired"),
    ],
)
def test_a_forged_or_expired_id_token_is_refused_and_counted(
    new_page, live_server, sso, client, shots, mode, said
):
    before = _signin_failures(client)
    sso.tamper(mode)
    page = _sign_in(new_page, live_server.url, "alice", then="/sso/callback/")
    page.screenshot(path=shots / f"sso-refused-{mode}.png")
    assert said in page.inner_text("p.error")
    assert page.locator("text=Sign in with Example ID").count() == 1  # and the way to try again
    assert not get_user_model().objects.filter(username="alice").exists()
    assert AccessAttempt.objects.get(username=SSO_USER).failures_since_start == 1
    assert _signin_failures(client) == {**before, "sso": before["sso"] + 1}
    # Nobody was signed in by it.
    page.goto(f"{live_server.url}/replications/")
    assert page.url.startswith(f"{live_server.url}/login/")


def test_the_sign_in_page_with_single_sign_on(new_page, live_server, sso, settings, shots):
    for width in (1024, 1440):
        page = new_page(width)
        page.goto(f"{live_server.url}/login/")
        page.screenshot(path=shots / f"login-sso-{width}.png")
        assert page.locator("#id_password").count() == 1
        assert violations(page) == []
    settings.STUDIO_LOCAL_SIGNIN = False
    settings.AUTHENTICATION_BACKENDS = [
        b for b in settings.AUTHENTICATION_BACKENDS if b != "django.contrib.auth.backends.ModelBackend"
    ]
    page = _sign_in(new_page, live_server.url, "alice")
    page.goto(f"{live_server.url}/tokens/")
    page.screenshot(path=shots / "tokens-sso-user.png", full_page=True)
    page = new_page(1024)
    page.goto(f"{live_server.url}/login/")
    page.screenshot(path=shots / "login-sso-only-1024.png")
    assert page.locator("#id_password").count() == 0  # single sign-on alone
    assert violations(page) == []


def test_a_discovery_document_naming_another_issuer_is_not_used(sso, settings, client):
    # The same provider reached under another name: its document names 127.0.0.1, not localhost.
    settings.STUDIO_OIDC_ISSUER = sso.issuer.replace("127.0.0.1", "localhost")
    answer = client.get("/sso/start/")
    assert answer.status_code == 502
    assert "names another issuer: tell an admin." in answer.content.decode()
