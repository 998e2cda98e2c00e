"""The sign-in page: a local account's password, single sign-on with the identity provider
(studio/sso.py), or both, as the settings say; and the two steps of single sign-on, mozilla-
django-oidc's views with the studio's answer to a refusal: the sign-in page saying why."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from mozilla_django_oidc import views as oidc_views

from studio.signins import SSO_USER
from studio.sso import SignOnRefused, provider


def _ways() -> dict[str, Any]:
    """What the sign-in page offers."""
    return {
        "sso_name": settings.STUDIO_OIDC_NAME if settings.STUDIO_OIDC_ISSUER else None,
        "local_signin": settings.STUDIO_LOCAL_SIGNIN,
    }


def _page(request: HttpRequest, refusal: str, status: int) -> HttpResponse:
    context = {"sso_refusal": refusal, "next": "", "form": AuthenticationForm(request), **_ways()}
    return render(request, "studio/login.html", context, status=status)


class SignInView(auth_views.LoginView):
    template_name = "studio/login.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "sso_refusal": None, **_ways()}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.STUDIO_LOCAL_SIGNIN:
            # No backend would take the password either; this says so rather than "wrong password".
            return _page(request, "Sign-in with a password is switched off here: use single sign-on.", 403)
        return super().post(request, *args, **kwargs)


class SignOnStart(oidc_views.OIDCAuthenticationRequestView):
    """To the provider's sign-in, with state, nonce and PKCE kept in the session."""

    def __init__(self, **kwargs: Any) -> None:
        # Not the library's __init__: it wants the endpoint in the settings; it comes from the
        # provider's discovery document, when someone signs in.
        super(oidc_views.OIDCAuthenticationRequestView, self).__init__(**kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.STUDIO_OIDC_ISSUER:
            return _page(request, "Single sign-on is not set up here.", 404)
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider()["authorization_endpoint"]
        except SignOnRefused as exc:
            return _page(request, str(exc), 502)
        return super().get(request)


class SignOnCallback(oidc_views.OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back: a normal Django sign-in (`auth.login`, so
    `user_logged_in` is sent), or the sign-in page with why not (403). The library's own `get` is
    replaced to name the attempt (SSO_USER) for django-axes and to answer a stale link with a
    sentence rather than its SuspiciousOperation."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.STUDIO_OIDC_ISSUER:
            return _page(request, "Single sign-on is not set up here.", 404)
        # Each state is used once, whatever comes of it (no replay).
        started = request.session.get("oidc_states", {}).pop(request.GET.get("state", ""), None)
        request.session.modified = True
        if started is not None and (error := request.GET.get("error")):
            # The person cancelled, or the provider would not let them in. (Its words are shown
            # only for a sign-in this browser started: a crafted link cannot put text here.)
            said = request.GET.get("error_description") or error
            return _page(request, f"The identity provider did not sign you in: {said[:200]}", 403)
        if started is None or "code" not in request.GET:
            return _page(request, "This sign-in link is not one this browser started: sign in again.", 403)
        self.user = auth.authenticate(
            request, username=SSO_USER, nonce=started["nonce"], code_verifier=started.get("code_verifier")
        )
        if self.user is not None and self.user.is_active:
            return self.login_success()
        if self.user is not None:
            return _page(request, "Your studio account is switched off: ask an admin.", 403)
        refusal = getattr(request, "sso_refusal", "Single sign-on failed: sign in again.")
        return _page(request, refusal, 403)
