"""Single sign-on with OpenID Connect, on mozilla-django-oidc: the provider's discovery document,
and the authentication backend that checks what the provider answers and signs the person on.

The library does the authorization-code flow (state, nonce, PKCE) and the token and userinfo
requests; the studio adds what it leaves out or lets through: the ID token's issuer, audience and
expiry are checked (the library checks neither issuer nor audience and lets an expired token raise
an error page), userinfo must speak of the same person, people are found by (issuer, sub), never by
e-mail, and every refusal is a sentence for the sign-in page (`SignOnRefused`), counted by
django-axes as a failed sign-in under studio.signins.SSO_USER, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from studio.services.sign_on import sign_on

logger = logging.getLogger("studio.sso")

# Asymmetric algorithms only: with HS256 the client secret would be the key, and a token could be
# made by anyone who has it.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
# Clocks of the provider and the studio may differ by this much.
LEEWAY_SECONDS = 60
# What the studio reads of the discovery document.
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
_discovered: dict[str, dict[str, Any]] = {}


class SignOnRefused(Exception):
    """A sign-in the studio refuses; the message is for the person signing in."""


def provider() -> dict[str, Any]:
    """The provider's discovery document (its endpoints), read once per process and issuer."""
    issuer = settings.STUDIO_OIDC_ISSUER
    if issuer not in _discovered:
        url = f"{issuer}/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            logger.warning("OpenID discovery at %s failed: %s", url, type(exc).__name__)
            raise SignOnRefused(
                f"The identity provider ({issuer}) cannot be reached now; try again later, or tell an admin."
            ) from None
        if document.get("issuer", "").rstrip("/") != issuer:
            # OpenID Connect Discovery 1.0, 4.3: a document naming another issuer is not to be used.
            raise SignOnRefused(f"The identity provider at {issuer} names another issuer: tell an admin.")
        if missing := [key for key in ENDPOINTS if not document.get(key)]:
            raise SignOnRefused(
                f"The identity provider at {issuer} names no {', '.join(missing)}: tell an admin."
            )
        _discovered[issuer] = document
    return _discovered[issuer]


class Backend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, reading the endpoints from discovery when someone signs in
    (Django makes a backend for every authentication and session: it must cost nothing)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.UserModel = get_user_model()
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request: Any, **kwargs: Any) -> Any:
        if request is None or not ("code" in request.GET and "state" in request.GET):
            return None  # a password sign-in: not this backend's
        try:
            document = provider()
            self.OIDC_OP_TOKEN_ENDPOINT = document["token_endpoint"]
            self.OIDC_OP_USER_ENDPOINT = document["userinfo_endpoint"]
            self.OIDC_OP_JWKS_ENDPOINT = document["jwks_uri"]
            return super().authenticate(request, **kwargs)
        except SignOnRefused as exc:
            refusal = str(exc)
        except (requests.RequestException, KeyError, ValueError) as exc:
            # The provider refused the code (an old or replayed link), or answered nonsense. The
            # exception's text may quote the token request: only its kind is logged.
            logger.warning("single sign-on: the provider's answer failed: %s", type(exc).__name__)
            refusal = "The identity provider did not complete the sign-in; start again."
        logger.warning("single sign-on refused: %s", refusal)
        request.sso_refusal = refusal
        return None

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The ID token's claims, once its signature (by a key the provider publishes), issuer,
        audience, expiry and nonce are right."""
        if not token:
            raise SignOnRefused("The identity provider sent no ID token; tell an admin.")
        try:
            key = self.retrieve_matching_jwk(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.STUDIO_OIDC_ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise SignOnRefused(
                "The identity provider's sign-in token has expired: sign in again "
                "(if it happens every time, the clocks of the studio and the provider differ)."
            ) from None
        except (jwt.InvalidTokenError, jwt.PyJWKError, SuspiciousOperation) as exc:
            # A bad signature, another key, issuer or audience: not the provider's token for us.
            logger.warning("single sign-on: ID token refused: %s", exc)
            raise SignOnRefused(
                "The sign-in token was not issued for this studio by its identity provider "
                "(its signature, issuer or audience is wrong): refused."
            ) from None
        if claims.get("nonce") != kwargs.get("nonce"):
            raise SignOnRefused("The sign-in token answers another sign-in (its nonce differs): refused.")
        return claims

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        claims = self.get_userinfo(access_token, id_token, payload)
        if claims.get("sub") != payload["sub"]:
            # OpenID Connect Core 5.3.2: userinfo about another person must not be used.
            raise SignOnRefused("The identity provider's answers speak of two people: refused.")
        groups = claims.get(settings.STUDIO_OIDC_GROUPS_CLAIM, payload.get(settings.STUDIO_OIDC_GROUPS_CLAIM))
        if isinstance(groups, str):
            groups = [groups]
        return sign_on(
            issuer=settings.STUDIO_OIDC_ISSUER,
            subject=payload["sub"],
            claims=claims,
            groups=[str(g) for g in groups or []],
            role_map=settings.STUDIO_OIDC_ROLES,
        )
