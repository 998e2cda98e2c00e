"""Roles: viewers change nothing, editors edit, operators run, admins do both.

Every URL of the studio is found by walking the URL patterns, so a view added
later without a role check fails here.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from studio import models

# POST views that change nothing (a validation preview), open to every role.
READ_ONLY_POSTS = {"stream-check", "settings-check"}
# POST views that change only the user's own API tokens, open to every role.
OWN_TOKEN_POSTS = {"tokens", "token-revoke"}


# What load balancers and Prometheus ask without signing in (tests/views/test_health.py).
MACHINES = ("healthz", "readyz", "metrics")
# Single sign-on's two steps: to the provider and back, before anyone is signed in
# (tests/views/test_sign_in.py).
SIGN_ON = ("sso-start", "sso-callback")
OPEN = ("login", "logout", *MACHINES, *SIGN_ON)


def studio_urls() -> list[tuple[str, str]]:
    """(url name, path) of every studio URL, with the demo's objects filled in."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                # The API answers 401 and problem documents: tests/api/test_api_roles.py walks it.
                if not route.startswith(("admin/", "api/")):
                    walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and pattern.name not in (
                "login",
                "logout",
                *MACHINES,
                *SIGN_ON,
            ):
                found.append((pattern.name, route))

    walk(get_resolver().url_patterns, "")
    return found


def fill(route: str) -> str:
    stream = models.Stream.objects.filter(replication__name="demo").order_by("position").first()
    values = {
        "name": "DEMO_SQLITE" if route.startswith("connections/") else "demo",
        "pk": str(models.Run.objects.first().pk if route.startswith("runs/") else stream.pk),
        "version": "1",
        "key": "analytics/customer_orders",
    }
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "demo"), route)


def state() -> tuple:
    """Everything a POST could change."""
    return (
        list(models.Replication.objects.values_list("name", "version", "source", "target")),
        list(models.Stream.objects.values_list("name", "config")),
        list(models.Connection.objects.values_list("name", "type", "params")),
        list(models.DownstreamAsset.objects.values_list("key", "deps", "description")),
        list(models.Run.objects.values_list("pk", "status", "cancel_requested")),
        models.Revision.objects.count(),
        list(models.Schedule.objects.values_list("pk", "cron", "enabled", "version")),
        list(models.RunPolicy.objects.values_list("pk", "retries", "version")),
        list(models.AlertChannel.objects.values_list("pk", "events", "enabled")),
    )


@pytest.fixture
def demo(demo):
    # A finished run, so the run URLs have something to act on.
    models.Run.objects.create(replication=demo, replication_name="demo", status="succeeded")
    return demo


def signed_in(client, role: str):
    client.force_login(get_user_model().objects.get(username=role))
    return client


def test_every_url_is_checked(demo):
    names = {name for name, _ in studio_urls()}
    # The pages this test must reach, at the least: a new view shows up here by itself.
    assert {"editor", "settings-save", "stream-edit", "run-start", "stream-run", "connection-edit"} <= names


def test_strangers_are_sent_to_sign_in_from_every_url(client, demo):
    # LoginRequiredMiddleware guards every view; only the sign-in page is open.
    for name, route in studio_urls():
        url = fill(route)
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, (name, method)
            assert response["Location"] == f"/login/?next={url}", name
    assert client.get("/login/").status_code == 200
    # Open to machines, without a sign-in: no worker beats here (not ready), and the test
    # client's 127.0.0.1 is in the metrics' default networks.
    assert [client.get(f"/{name}").status_code for name in MACHINES] == [200, 503, 200]
    # Without single sign-on set up, its steps say so (404) rather than ask for a sign-in.
    assert [client.get(reverse(name)).status_code for name in SIGN_ON] == [404, 404]


@pytest.mark.parametrize("htmx", [False, True])
def test_a_viewer_can_post_nothing_that_changes_anything(client, demo, htmx):
    signed_in(client, "viewer")
    before = state()
    headers = {"HX-Request": "true"} if htmx else {}
    for name, route in studio_urls():
        response = client.post(fill(route), {"version": "1", "name": "x", "streams": ["1"]}, headers=headers)
        if name in READ_ONLY_POSTS | OWN_TOKEN_POSTS:
            assert response.status_code < 500, name
        else:
            assert response.status_code in (403, 405), (name, response.status_code)
        if response.status_code == 403:
            assert "You need the" in response.content.decode(), name
    assert state() == before


def test_a_viewer_cannot_start_a_run(client, demo):
    signed_in(client, "viewer")
    stream = models.Stream.objects.filter(replication__name="demo").first()

    assert client.post("/r/demo/run/").status_code == 403
    assert client.post(f"/r/demo/streams/{stream.pk}/run/").status_code == 403
    assert models.Run.objects.count() == 1


def test_a_viewer_reads_everything(client, demo):
    signed_in(client, "viewer")
    for path in (
        "/",
        "/replications/",
        "/r/demo/",
        "/r/demo/schedules/",
        "/r/demo/history/",
        "/connections/",
        "/runs/",
        f"/runs/{models.Run.objects.get().pk}/",
        "/upgrade/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        # ...without the buttons that would be refused.
        assert "Run replication" not in response.content.decode()
        assert "Save settings" not in response.content.decode()


def test_an_editor_edits_but_cannot_run(client, demo):
    signed_in(client, "editor")

    response = client.post("/new/", {"name": "fresh", "source": "LOCAL", "target": "DEMO_SQLITE"})
    assert response.status_code == 302
    assert models.Replication.objects.filter(name="fresh").exists()
    assert client.post("/r/demo/run/").status_code == 403
    assert models.Run.objects.count() == 1


def test_an_operator_runs_but_cannot_edit(client, demo):
    signed_in(client, "operator")

    response = client.post("/r/demo/run/")
    assert response.status_code == 302
    assert models.Run.objects.count() == 2
    assert client.post("/new/", {"name": "fresh", "source": "A", "target": "B"}).status_code == 403
    assert not models.Replication.objects.filter(name="fresh").exists()


def test_roles_come_from_groups(client, demo):
    user = get_user_model().objects.create_user("carol", password="x")
    signed_in(client, "carol")
    assert client.post("/r/demo/run/").status_code == 403

    user.groups.add(Group.objects.get(name="admin"))
    signed_in(client, "carol")
    assert client.post("/r/demo/run/").status_code == 302
