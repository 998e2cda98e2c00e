"""The API against its own OpenAPI document, on a live server, with a token of each role:
schemathesis generates requests for every operation from the document and checks each answer:
no 5xx, a status, media type and body the document declares, and none of the secrets planted
here (a connection's password and URL password, a webhook's token, the mail password, the
callers' tokens, the SECRET_KEY)."""

from __future__ import annotations

import io

import pytest
import requests
import schemathesis
from django.contrib.auth import get_user_model
from django.core.management import call_command
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from studio.api.api import api as ninja_api
from studio.services.alerts import channel_create
from studio.services.connections import connection_save
from studio.services.tokens import token_create

ROLES = ("viewer", "editor", "operator", "demo")
PLANTED = {
    "password": "planted-pg-Pa55-4f1d",
    "url": "planted-url-pw-8e2a",
    "webhook": "planted-hook-T0K3N-c3d9",
    "mail": "planted-mail-pw-71aa",
}
# Examples per operation and role: enough to reach every branch of the parameters' shapes; the
# whole run stays within a few minutes on the 2-core CI machine.
EXAMPLES = 8

# The document the studio serves (test_the_served_document_is_the_one_tested holds them equal).
schema = schemathesis.openapi.from_dict(ninja_api.get_openapi_schema())


@pytest.fixture
def planted(transactional_db, settings, data_dir, fast_hasher):
    """The demo, with secrets where the API must never show them."""
    call_command("demo", stdout=io.StringIO())
    settings.EMAIL_HOST_PASSWORD = PLANTED["mail"]
    # Failed token attempts are not what this test is about (tests/api/test_api_auth.py is).
    settings.AXES_FAILURE_LIMIT = 10**6
    connection_save(
        name="WAREHOUSE",
        fields={"type": "postgres", "host": "127.0.0.1", "user": "u", "password": PLANTED["password"]},
    )
    connection_save(name="PG_URL", fields={"url": f"postgresql://u:{PLANTED['url']}@127.0.0.1:9/db"})
    channel_create(
        replication=None, events=["failure"], webhook=f"https://hooks.example.com/{PLANTED['webhook']}"
    )
    return [*PLANTED.values(), settings.SECRET_KEY]


@pytest.fixture
def callers(planted) -> dict[str, str]:
    """role -> the Authorization header of a token of the demo's user of that role."""
    users = get_user_model().objects
    return {
        role: f"Bearer {token_create(user=users.get(username=role), name='schemathesis')[1]}"
        for role in ROLES
    }


def test_the_served_document_is_the_one_tested(live_server, callers):
    served = requests.get(
        f"{live_server.url}/api/v1/schema/", headers={"Authorization": callers["viewer"]}, timeout=30
    )
    assert served.json() == schema.raw_schema


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_the_api_keeps_its_document(case, live_server, callers, planted):
    # Each request generated is sent with each role's token: their answers differ (403 or not).
    for role, authorization in callers.items():
        response = case.call(base_url=live_server.url, headers={"Authorization": authorization})
        case.validate_response(
            response,
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],
        )
        text = response.content.decode(errors="replace")
        for secret in [*planted, *(a.removeprefix("Bearer ") for a in callers.values())]:
            assert secret not in text, f"{role}: {case.method} {case.path}: a planted secret in the answer"
