"""How the API knows its caller: a token needs no CSRF token, the browser's session does for
what it changes; failed token attempts are throttled as sign-ins are (django-axes)."""

from __future__ import annotations

from api_client import Api, answer
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client

from studio.api.auth import TOKEN_USER


def test_a_token_request_needs_no_csrf_token(api, demo):
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {api['operator'].token}"})

    response = client.post("/api/v1/runs/", {"replication": "demo"}, content_type="application/json")

    assert response.status_code == 201


def test_a_session_request_needs_the_csrf_token_to_change_anything(demo):
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.get(username="operator"))
    # Reading needs none.
    assert client.get("/api/v1/runs/").status_code == 200

    refused = client.post("/api/v1/runs/", {"replication": "demo"}, content_type="application/json")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert "CSRF" in answer(refused)["detail"]

    client.get("/tokens/")  # a page sets the CSRF cookie, as the browser's first page does
    csrf = client.cookies["csrftoken"].value
    done = client.post(
        "/api/v1/runs/",
        {"replication": "demo"},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert done.status_code == 201


def test_failed_token_attempts_lock_the_address_out_the_right_token_too(api, demo, settings):
    settings.AXES_FAILURE_LIMIT = 3
    wrong = Api("sst_guessed")
    assert [wrong("GET", "/runs/").status_code for _ in range(2)] == [401, 401]

    locked = wrong("GET", "/runs/")  # the third failure reaches the limit

    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/problem+json"
    assert 0 < int(locked["Retry-After"]) <= settings.AXES_COOLOFF_TIME.total_seconds()
    # While locked, the right token from that address is refused too (as a right password is).
    assert api["viewer"]("GET", "/runs/").status_code == 429
    # Counted under a name no user has: signing in from there still works.
    assert Client().post("/login/", {"username": "viewer", "password": "viewer"}).status_code == 302


def test_an_admin_lifts_a_token_lockout_as_a_sign_in_lockout(api, demo, settings):
    settings.AXES_FAILURE_LIMIT = 1
    assert Api("sst_guessed")("GET", "/runs/").status_code == 429
    assert AccessAttempt.objects.filter(username=TOKEN_USER).exists()

    AccessAttempt.objects.filter(username=TOKEN_USER).delete()  # the admin's "delete", or axes_reset_username

    assert api["viewer"]("GET", "/runs/").status_code == 200


def test_the_document_and_its_page_need_a_signed_in_caller(api, demo):
    assert Api(None)("GET", "/schema/").status_code == 401
    assert Client().get("/api/v1/docs/")["Location"].startswith("/login/")
    document = api["viewer"]("GET", "/schema/")
    assert document.status_code == 200 and answer(document)["openapi"] == "3.1.0"
    client = Client()
    client.force_login(get_user_model().objects.get(username="viewer"))
    page = client.get("/api/v1/docs/").content.decode()
    # Swagger UI from the studio's own static files: the page works without a network.
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()


def test_an_unknown_address_or_method_is_a_problem_document(api, demo):
    missing = api["viewer"]("GET", "/nothing/here/")
    assert (missing.status_code, missing["Content-Type"]) == (404, "application/problem+json")
    wrong = api["viewer"]("DELETE", "/runs/")
    # In the order the endpoints were registered, which the import order decides: compare as sets.
    assert (wrong.status_code, set(wrong["Allow"].split(", "))) == (405, {"GET", "POST"})
    assert answer(wrong)["status"] == 405
