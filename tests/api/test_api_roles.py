"""Roles over the API: the walk of tests/views/test_roles.py for every endpoint, with a token of
each role, an expired and a revoked token, a wrong one, and none.

Every operation is found in the OpenAPI document, and must be in ROLE below: an endpoint added
later without a role of its own fails here."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from api_client import Api
from django.contrib.auth import get_user_model
from django.utils import timezone
from views.test_roles import state

from studio import models
from studio.api.api import api as ninja_api
from studio.api.problems import RUN_REFUSED
from studio.selectors.replications import replication_yaml
from studio.selectors.schedules import policy_of
from studio.services.alerts import channel_create
from studio.services.schedules import schedule_create
from studio.services.tokens import token_create, token_revoke

EDIT, RUN, AUDIT = "edit", "run", "audit"
# What each operation needs besides a signed-in caller (None: any role reads it).
ROLE = {
    ("GET", "/replications/"): None,
    ("POST", "/replications/"): EDIT,
    ("POST", "/replications/import/"): EDIT,
    ("POST", "/replications/validate/"): None,  # checks a body, stores nothing
    ("GET", "/replications/{name}/"): None,
    ("PUT", "/replications/{name}/"): EDIT,
    ("DELETE", "/replications/{name}/"): EDIT,
    ("GET", "/replications/{name}/yaml/"): None,
    ("GET", "/replications/{name}/revisions/"): None,
    ("GET", "/replications/{name}/diff/"): None,
    ("GET", "/replications/{name}/problems/"): None,
    ("GET", "/replications/{name}/dagster/"): None,
    ("GET", "/replications/{name}/streams/"): None,
    ("GET", "/replications/{name}/streams/{pk}/"): None,
    ("PATCH", "/replications/{name}/streams/{pk}/"): EDIT,
    ("GET", "/replications/{name}/streams/{pk}/columns/"): None,
    ("POST", "/replications/{name}/streams/{pk}/columns/"): EDIT,  # starts sling
    ("POST", "/replications/{name}/streams/{pk}/rows/"): EDIT,  # starts sling
    ("POST", "/replications/{name}/streams/bulk/"): EDIT,
    ("GET", "/connections/"): None,
    ("POST", "/connections/"): EDIT,
    ("POST", "/connections/test/"): EDIT,
    ("GET", "/connections/{name}/"): None,
    ("PUT", "/connections/{name}/"): EDIT,
    ("DELETE", "/connections/{name}/"): EDIT,
    ("POST", "/connections/{name}/test/"): EDIT,
    ("POST", "/connections/{name}/discover/"): EDIT,
    ("GET", "/runs/"): None,
    ("POST", "/runs/"): RUN,
    ("GET", "/runs/{pk}/"): None,
    ("GET", "/runs/{pk}/log/"): None,
    ("POST", "/runs/{pk}/cancel/"): RUN,
    ("POST", "/runs/{pk}/again/"): RUN,
    ("GET", "/replications/{name}/schedules/"): None,
    ("POST", "/replications/{name}/schedules/"): RUN,
    ("GET", "/replications/{name}/schedules/{pk}/"): None,
    ("PUT", "/replications/{name}/schedules/{pk}/"): RUN,
    ("DELETE", "/replications/{name}/schedules/{pk}/"): RUN,
    ("POST", "/replications/{name}/schedules/{pk}/pause/"): RUN,
    ("POST", "/replications/{name}/schedules/{pk}/resume/"): RUN,
    ("GET", "/replications/{name}/policy/"): None,
    ("PUT", "/replications/{name}/policy/"): RUN,
    ("GET", "/replications/{name}/alerts/"): None,
    ("POST", "/replications/{name}/alerts/"): RUN,
    ("POST", "/replications/{name}/alerts/{pk}/enable/"): RUN,
    ("POST", "/replications/{name}/alerts/{pk}/pause/"): RUN,
    ("DELETE", "/replications/{name}/alerts/{pk}/"): RUN,
    ("GET", "/lineage/"): None,
    ("GET", "/dagster/"): None,
    ("GET", "/audit/"): AUDIT,
}
ALLOWED = {
    None: {"viewer", "editor", "operator", "admin"},
    EDIT: {"editor", "admin"},
    RUN: {"operator", "admin"},
    AUDIT: {"admin"},
}

# A body each operation accepts (so an allowed role gets past the request's checks).
BODIES = {
    ("POST", "/replications/"): {"name": "fresh-{role}", "source": "LOCAL", "target": "DEMO_SQLITE"},
    ("POST", "/replications/import/"): {
        "files": {"other-{role}": "source: LOCAL\ntarget: DEMO_SQLITE\nstreams: {}\n"}
    },
    ("POST", "/replications/validate/"): {"yaml": "source: LOCAL\ntarget: DEMO_SQLITE\n"},
    ("PUT", "/replications/{name}/"): {"yaml": "(the demo's text)", "version": 1},
    ("PATCH", "/replications/{name}/streams/{pk}/"): {"version": 1, "keys": {"description": "x"}},
    ("POST", "/replications/{name}/streams/bulk/"): {"version": 1, "action": "enable", "matching": ""},
    ("POST", "/connections/"): {"name": "FRESH_{role}", "type": "sqlite", "url": "sqlite:///tmp/fresh.db"},
    ("POST", "/connections/test/"): {"name": "FRESH", "type": "sqlite", "url": "sqlite:///tmp/fresh.db"},
    ("PUT", "/connections/{name}/"): {
        "name": "DEMO_SQLITE",
        "type": "sqlite",
        "url": "sqlite:///tmp/x.db",
        "version": 1,
    },
    ("POST", "/connections/{name}/discover/"): {"pattern": ""},
    ("POST", "/runs/"): {"replication": "demo"},
    ("POST", "/runs/{pk}/again/"): {"failed": False},
    ("POST", "/replications/{name}/schedules/"): {"cron": "0 6 * * *"},
    ("PUT", "/replications/{name}/schedules/{pk}/"): {"cron": "0 7 * * *", "version": 1},
    ("PUT", "/replications/{name}/policy/"): {"retries": 1, "retry_backoff": 60, "version": 0},
    ("POST", "/replications/{name}/alerts/"): {"email": "ops@example.com", "events": ["failure"]},
}


def operations() -> list[tuple[str, str]]:
    paths = ninja_api.get_openapi_schema(path_prefix="/")["paths"]
    return [(method.upper(), path) for path, methods in paths.items() for method in methods]


@pytest.fixture
def walk(demo, settings):
    """The demo with a run, a schedule and an alert channel to act on; failed token attempts
    not locked out (the walk makes dozens: tests/api/test_api_auth.py tests the lockout)."""
    settings.AXES_FAILURE_LIMIT = 10**6
    run = models.Run.objects.create(replication=demo, replication_name="demo", status="succeeded")
    schedule = schedule_create(replication=demo, cron_expression="0 5 * * *")
    [channel] = channel_create(replication=demo, events=["failure"], email="team@example.com")
    stream = demo.streams.order_by("position").first()
    return {"run": run.pk, "schedule": schedule.pk, "channel": channel.pk, "stream": stream.pk}


def fill(path: str, ids: dict[str, int]) -> str:
    if path.startswith("/connections/"):
        return path.replace("{name}", "DEMO_SQLITE")
    pk = ids["run"] if path.startswith("/runs/") else ids["stream"]
    pk = ids["schedule"] if "/schedules/" in path else ids["channel"] if "/alerts/" in path else pk
    query = "?a=1&b=1" if path.endswith("/diff/") else ""
    return path.replace("{name}", "demo").replace("{pk}", str(pk)) + query


def test_every_operation_has_a_role():
    assert sorted(operations()) == sorted(ROLE)


def body_for(method: str, path: str, role: str) -> dict | None:
    """The operation's body for `role`: names of its own (two roles may both create), the
    replication's text as it is, and the version of what it changes as it is now."""
    body = BODIES.get((method, path))
    if body is None:
        return None
    body = json.loads(json.dumps(body).replace("{role}", role))
    if method == "PUT" and path == "/replications/{name}/":
        body["yaml"] = replication_yaml(name="demo")
    if "version" in body:
        if path.startswith("/connections/"):
            body["version"] = models.Connection.objects.get(name="DEMO_SQLITE").version
        elif "/schedules/" in path:
            body["version"] = models.Schedule.objects.order_by("pk").first().version  # the walk's
        elif path.endswith("/policy/"):
            body["version"] = policy_of(models.Replication.objects.get(name="demo")).version
        else:
            body["version"] = models.Replication.objects.get(name="demo").version
    return body


def test_each_role_does_what_its_role_allows_and_nothing_more(walk, api):
    # Refused roles first, on the demo as it is: nothing they send changes anything.
    for role in ("viewer", "editor", "operator", "admin"):
        for (method, path), action in ROLE.items():
            if role in ALLOWED[action]:
                continue
            before = state()
            response = api[role](method, fill(path, walk), body_for(method, path, role))
            assert response.status_code == 403, (role, method, path, response.content[:300])
            assert response["Content-Type"] == "application/problem+json"
            assert "role" in response.json()["detail"], (role, method, path)
            assert state() == before, (role, method, path)
    # Then the allowed roles do it (what each answer holds is tested in the resource's tests).
    for role in ("viewer", "editor", "operator", "admin"):
        for (method, path), action in ROLE.items():
            if role not in ALLOWED[action] or method == "DELETE":
                continue
            response = api[role](method, fill(path, walk), body_for(method, path, role))
            if path.startswith("/runs") and method == "POST" and response.status_code == 422:
                # A second run of the demo's streams while the first is queued: recorded, refused.
                assert response.json()["type"] == RUN_REFUSED, (role, path)
                continue
            assert response.status_code < 300, (role, method, path, response.content[:300])
    for role in ("operator", "editor"):  # deletes last (a replication's takes its schedules)
        for (method, path), action in ROLE.items():
            if method == "DELETE" and role in ALLOWED[action]:
                model = models.Connection if path.startswith("/connections/") else models.Replication
                version = model.objects.get(
                    name="DEMO_SQLITE" if model is models.Connection else "demo"
                ).version
                response = api[role](method, fill(path, walk), **{"If-Match": f'"{version}"'})
                assert response.status_code == 204, (role, method, path, response.content[:300])


def _dead_tokens(db) -> dict[str, str]:
    admin = get_user_model().objects.get(username="demo")
    expired, expired_token = token_create(
        user=admin, name="expired", expires=timezone.now() + timedelta(days=1)
    )
    models.ApiToken.objects.filter(pk=expired.pk).update(expires=timezone.now() - timedelta(seconds=1))
    revoked, revoked_token = token_create(user=admin, name="revoked")
    token_revoke(token_id=revoked.pk, by=admin)
    return {"expired": expired_token, "revoked": revoked_token, "wrong": "sst_" + "x" * 43, "none": ""}


def test_an_expired_a_revoked_a_wrong_or_no_token_is_refused_everywhere(walk, db):
    before = state()
    for kind, token in _dead_tokens(db).items():
        client = Api(token or None)
        for method, path in ROLE:
            response = client(method, fill(path, walk), BODIES.get((method, path)))
            assert response.status_code == 401, (kind, method, path, response.content[:300])
            assert response["WWW-Authenticate"].startswith("Bearer")
            assert response["Content-Type"] == "application/problem+json"
    assert state() == before


def test_a_read_only_token_of_an_admin_reads_but_changes_nothing(walk, db):
    admin = get_user_model().objects.get(username="demo")
    client = Api(token_create(user=admin, name="dashboard", read_only=True)[1])
    before = state()
    for (method, path), action in ROLE.items():
        response = client(method, fill(path, walk), BODIES.get((method, path)))
        if action is None:
            assert response.status_code < 400 or response.status_code == 404, (method, path)
        else:
            assert response.status_code == 403, (method, path)
            assert "read only" in response.json()["detail"]
    assert state() == before
