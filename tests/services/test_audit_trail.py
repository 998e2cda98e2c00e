"""Every audited change, done the way people do it (a page, the API with a token, the command
line, the admin, a worker), finds its entry naming who did it, how, and to what; a secret's
value never reaches the trail."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from api_client import Api
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from studio import models
from studio.selectors.replications import replication_yaml
from studio.services import audit
from studio.services.alerts import channel_set_enabled
from studio.services.automation import automation_tick
from studio.services.connections import connection_delete
from studio.services.downstream import downstream_save
from studio.services.runs import run_queue
from studio.services.schedules import schedule_create, schedule_resume
from studio.services.tokens import token_create

SECRET = "hunter2-not-in-the-trail"
OS_USER = audit.command_line().name


class World:
    """The demo, a browser signed in per role, and the API with a token per role."""

    def __init__(self, files: Path) -> None:
        self.files = files
        users = get_user_model().objects
        self.browser: dict[str, Client] = {}
        self.api: dict[str, Api] = {}
        for name in ("demo", "editor", "operator"):
            self.browser[name] = Client()
            self.browser[name].force_login(users.get(username=name))
            self.api[name] = Api(token_create(user=users.get(username=name), name=f"{name}-ci")[1])

    def connection(self) -> models.Connection:
        response = self.api["editor"](
            "POST",
            "/connections/",
            {"name": "wh", "type": "postgres", "fields": {"host": "db1", "user": "u", "password": SECRET}},
        )
        assert response.status_code == 201, response.content
        return models.Connection.objects.get(name="WH")


# Each case does one change and says the entry it expects: (action, object type, a part of the
# object's name, actor, via, token name or "").
Case = Callable[[World], tuple[str, str, str, str, str, str]]


def connection_created_by_token(w: World):
    w.connection()
    return "created", "connection", "WH", "editor", "api", "editor-ci"


def connection_changed_on_the_page(w: World):
    conn = w.connection()
    # Where it goes changes: its password is typed again (the same: not a change of it).
    fields = {"host": "db2", "user": "u", "password": SECRET}
    data = {"name": "WH", "type": "postgres", **fields, "version": conn.version}
    response = w.browser["editor"].post("/connections/WH/", data)
    assert response.status_code == 302, response.content.decode()[:1000]
    return "changed", "connection", "WH", "editor", "page", ""


def connection_secret_changed_by_token(w: World):
    conn = w.connection()
    body = {
        "name": "WH",
        "type": "postgres",
        "fields": {"host": "db1", "user": "u", "password": SECRET + "2"},
    }
    response = w.api["editor"]("PUT", "/connections/WH/", {**body, "version": conn.version})
    assert response.status_code == 200, response.content
    return "changed", "connection", "WH", "editor", "api", "editor-ci"


def connection_changed_in_the_admin(w: World):
    conn = w.connection()
    data = {"name": "WH", "type": "postgres", "params": json.dumps({**conn.params, "schema": "staging"})}
    response = w.browser["demo"].post(f"/admin/studio/connection/{conn.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:1000]
    return "changed", "connection", "WH", "demo", "admin", ""


def connection_deleted_on_the_command_line(w: World):
    connection_delete(connection=w.connection())
    return "deleted", "connection", "WH", OS_USER, "command line", ""


def replication_imported_on_the_command_line(w: World):
    (w.files / "copied.yaml").write_text(replication_yaml(name="demo"))
    call_command("import_replication", str(w.files / "copied.yaml"), stdout=io.StringIO())
    return "created", "replication", "copied", OS_USER, "command line", ""


def stream_edited_by_token(w: World):
    stream = models.Stream.objects.filter(replication__name="demo").order_by("position").first()
    url = f"/replications/demo/streams/{stream.pk}/"
    response = w.api["editor"]("PATCH", url, {"version": 1, "keys": {"description": "audited"}})
    assert response.status_code == 200, response.content
    return "saved", "replication", "demo", "editor", "api", "editor-ci"


def replication_deleted_on_the_page(w: World):
    response = w.browser["editor"].post("/r/demo/delete/", {"version": "1"})
    assert response.status_code == 302, response.content.decode()[:1000]
    return "deleted", "replication", "demo", "editor", "page", ""


def downstream_asset_created_on_the_page(w: World):
    data = {"key": "reports/daily", "deps": "", "description": "", "group": "", "tags": ""}
    response = w.browser["editor"].post("/lineage/downstream/new/", data)
    assert response.status_code < 400, response.content.decode()[:1000]
    assert models.DownstreamAsset.objects.filter(key="reports/daily").exists()
    return "created", "downstream asset", "reports/daily", "editor", "page", ""


def downstream_asset_deleted_on_the_page(w: World):
    asset = downstream_save(key="reports/weekly", deps=[])
    response = w.browser["editor"].post(f"/lineage/downstream/{asset.pk}/delete/", {"version": asset.version})
    assert response.status_code < 400, response.content.decode()[:1000]
    assert not models.DownstreamAsset.objects.filter(pk=asset.pk).exists()
    return "deleted", "downstream asset", "reports/weekly", "editor", "page", ""


def schedule_created_on_the_command_line(w: World):
    call_command("schedule", "demo", "--cron", "0 6 * * *", stdout=io.StringIO())
    return "created", "schedule", "demo schedule", OS_USER, "command line", ""


def schedule_paused_by_token(w: World):
    schedule = schedule_create(
        replication=models.Replication.objects.get(name="demo"), cron_expression="0 5 * * *"
    )
    response = w.api["operator"]("POST", f"/replications/demo/schedules/{schedule.pk}/pause/")
    assert response.status_code == 200, response.content
    return "paused", "schedule", "demo schedule", "operator", "api", "operator-ci"


def schedule_resumed(w: World):
    schedule = schedule_create(
        replication=models.Replication.objects.get(name="demo"), cron_expression="0 5 * * *", enabled=False
    )
    schedule_resume(schedule=schedule)
    return "resumed", "schedule", "demo schedule", OS_USER, "command line", ""


def schedule_deleted_on_the_page(w: World):
    schedule = schedule_create(
        replication=models.Replication.objects.get(name="demo"), cron_expression="0 5 * * *"
    )
    response = w.browser["operator"].post(f"/r/demo/schedules/{schedule.pk}/delete/")
    assert response.status_code == 302, response.content.decode()[:1000]
    return "deleted", "schedule", "demo schedule", "operator", "page", ""


def run_policy_changed_on_the_page(w: World):
    data = {"retries": "2", "retry_backoff": "30", "freshness_minutes": "", "version": "0"}
    response = w.browser["operator"].post("/r/demo/policy/", data)
    assert response.status_code == 302, response.content.decode()[:1000]
    return "changed", "run policy", "demo", "operator", "page", ""


def alert_channel_added_on_the_command_line(w: World):
    call_command("alert", "demo", "--email", "ops@example.com", "--on", "failure", stdout=io.StringIO())
    return "created", "alert channel", "ops@example.com", OS_USER, "command line", ""


def alert_channel_paused_on_the_page(w: World):
    call_command("alert", "demo", "--email", "ops@example.com", "--on", "failure", stdout=io.StringIO())
    channel = models.AlertChannel.objects.get()
    response = w.browser["operator"].post(f"/r/demo/alerts/{channel.pk}/pause/")
    assert response.status_code == 302, response.content.decode()[:1000]
    return "disabled", "alert channel", "ops@example.com", "operator", "page", ""


def alert_channel_deleted_by_token(w: World):
    call_command("alert", "demo", "--email", "ops@example.com", "--on", "failure", stdout=io.StringIO())
    channel = models.AlertChannel.objects.get()
    channel_set_enabled(channel=channel, enabled=True)  # already enabled: no entry
    response = w.api["operator"]("DELETE", f"/replications/demo/alerts/{channel.pk}/")
    assert response.status_code == 204, response.content
    return "deleted", "alert channel", "ops@example.com", "operator", "api", "operator-ci"


def run_started_by_token(w: World):
    response = w.api["operator"]("POST", "/runs/", {"replication": "demo"})
    assert response.status_code == 201, response.content
    return "started", "run", "of demo", "operator", "api", "operator-ci"


def run_refused_on_the_page(w: World):
    stream = models.Stream.objects.filter(replication__name="demo").order_by("position").first()
    run_queue(replication="demo", streams=[stream.name])  # holds the stream
    response = w.browser["operator"].post(f"/r/demo/streams/{stream.pk}/run/")
    assert response.status_code < 500
    return "refused", "run", "of demo", "operator", "page", ""


def run_cancelled_on_the_page(w: World):
    run = run_queue(replication="demo")
    response = w.browser["operator"].post(f"/runs/{run.pk}/cancel/")
    assert response.status_code < 400, response.content.decode()[:1000]
    return "cancelled", "run", f"run #{run.pk}", "operator", "page", ""


def scheduled_run_started_by_a_worker(w: World):
    schedule = schedule_create(
        replication=models.Replication.objects.get(name="demo"), cron_expression="* * * * *"
    )
    automation_tick(now=schedule.next_fire + timedelta(seconds=1), freshness=False)
    return "started", "run", "of demo", "worker", "worker", ""


def token_made_on_the_page(w: World):
    response = w.browser["editor"].post("/tokens/", {"name": "airflow", "access": "read-only"})
    assert response.status_code == 200, response.content.decode()[:1000]
    return "created", "api token", "airflow of editor", "editor", "page", ""


def token_revoked_by_an_admin_on_the_page(w: World):
    row, _ = token_create(user=get_user_model().objects.get(username="editor"), name="old")
    response = w.browser["demo"].post(f"/tokens/{row.pk}/revoke/")
    assert response.status_code == 302
    return "revoked", "api token", "old of editor", "demo", "page", ""


def role_given_in_the_admin(w: World):
    viewer = get_user_model().objects.get(username="viewer")
    editor = Group.objects.get(name="editor")
    page = f"/admin/auth/user/{viewer.pk}/change/"
    data = {
        "username": "viewer",
        "password": viewer.password,
        "is_active": "on",
        "groups": [str(editor.pk), *(str(g.pk) for g in viewer.groups.all())],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": viewer.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": viewer.date_joined.strftime("%H:%M:%S"),
    }
    response = w.browser["demo"].post(page, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return "role given", "user", "viewer", "demo", "admin", ""


def role_taken_on_the_command_line(w: World):
    operator = get_user_model().objects.get(username="operator")
    operator.groups.remove(Group.objects.get(name="operator"))
    return "role taken", "user", "operator", OS_USER, "command line", ""


def role_given_from_the_group_s_side(w: World):
    Group.objects.get(name="admin").user_set.add(get_user_model().objects.get(username="viewer"))
    return "role given", "user", "viewer", OS_USER, "command line", ""


def superuser_given_on_the_command_line(w: World):
    operator = get_user_model().objects.get(username="operator")
    operator.is_superuser = True
    operator.save()
    return "changed", "user", "operator", OS_USER, "command line", ""


def signed_in(w: World):
    response = Client().post("/login/", {"username": "viewer", "password": "viewer"})
    assert response.status_code == 302
    return "signed in", "user", "viewer", "viewer", "page", ""


def sign_in_failed(w: World):
    response = Client().post("/login/", {"username": "viewer", "password": SECRET})
    assert response.status_code == 200
    return "sign-in failed", "user", "viewer", "", "page", ""


def locked_out(w: World):
    for _ in range(5):
        Client(REMOTE_ADDR="10.9.9.9").post("/login/", {"username": "viewer", "password": SECRET})
    return "locked out", "user", "viewer", "", "page", ""


CASES: list[Case] = [
    connection_created_by_token,
    connection_changed_on_the_page,
    connection_secret_changed_by_token,
    connection_changed_in_the_admin,
    connection_deleted_on_the_command_line,
    replication_imported_on_the_command_line,
    stream_edited_by_token,
    replication_deleted_on_the_page,
    downstream_asset_created_on_the_page,
    downstream_asset_deleted_on_the_page,
    schedule_created_on_the_command_line,
    schedule_paused_by_token,
    schedule_resumed,
    schedule_deleted_on_the_page,
    run_policy_changed_on_the_page,
    alert_channel_added_on_the_command_line,
    alert_channel_paused_on_the_page,
    alert_channel_deleted_by_token,
    run_started_by_token,
    run_refused_on_the_page,
    run_cancelled_on_the_page,
    scheduled_run_started_by_a_worker,
    token_made_on_the_page,
    token_revoked_by_an_admin_on_the_page,
    role_given_in_the_admin,
    role_taken_on_the_command_line,
    role_given_from_the_group_s_side,
    superuser_given_on_the_command_line,
    signed_in,
    sign_in_failed,
    locked_out,
]


@pytest.fixture
def world(demo, tmp_path) -> World:
    return World(tmp_path)


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
def test_each_change_is_recorded_with_who_did_it_and_how(world, case):
    since = models.AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0

    action, object_type, name, actor, via, token = case(world)

    entries = models.AuditEntry.objects.filter(id__gt=since, action=action, object_type=object_type)
    found = [(e.actor, e.via, e.token) for e in entries if name in e.object_name]
    assert (actor, via, token) in found, list(entries.values())
    # No secret's value anywhere in the trail.
    assert SECRET not in json.dumps(list(models.AuditEntry.objects.values()), default=str)


def test_a_connection_entry_names_the_fields_changed_and_a_secret_only_as_changed(world):
    conn = world.connection()
    body = {
        "name": "WH",
        "type": "postgres",
        "fields": {"host": "db2", "user": "u", "password": SECRET + "!"},
    }
    world.api["editor"]("PUT", "/connections/WH/", {**body, "version": conn.version})

    entry = models.AuditEntry.objects.get(object_type="connection", object_name="WH", action="changed")
    assert entry.details["fields"] == {"host": {"from": "db1", "to": "db2"}, "password": "changed"}
    assert entry.summary == "host, password (secret)"
    created = models.AuditEntry.objects.get(object_type="connection", object_name="WH", action="created")
    assert created.details["fields"]["password"] == "changed"


def test_a_connection_entry_names_a_change_of_its_streams_at_once(world):
    conn = world.connection()
    body = {"name": "WH", "type": "postgres", "fields": {"host": "db1", "user": "u"}, "max_streams": 2}
    world.api["editor"]("PUT", "/connections/WH/", {**body, "version": conn.version})

    entry = models.AuditEntry.objects.get(object_type="connection", object_name="WH", action="changed")
    assert entry.details["fields"] == {"max_streams": {"from": None, "to": 2}}


def test_a_replication_entry_links_its_revision(world):
    stream = models.Stream.objects.filter(replication__name="demo").order_by("position").first()
    world.api["editor"](
        "PATCH", f"/replications/demo/streams/{stream.pk}/", {"version": 1, "keys": {"description": "x"}}
    )

    entry = models.AuditEntry.objects.filter(object_type="replication", action="saved").get()
    revision = models.Revision.objects.get(replication__name="demo", version=2)
    assert (entry.details["version"], entry.details["revision"]) == (2, revision.pk)
    assert entry.details["streams"] == [stream.name]
    assert entry.summary == f"version 2: edited {stream.name}"


def test_a_refused_change_leaves_no_entry(world):
    before = models.AuditEntry.objects.count()
    stale = world.api["editor"]("PATCH", "/replications/demo/streams/1/", {"version": 99, "keys": {"x": 1}})
    refused = world.api["editor"]("POST", "/connections/", {"name": "", "type": "postgres", "fields": {}})

    assert stale.status_code >= 400 and refused.status_code >= 400
    assert models.AuditEntry.objects.count() == before


def test_a_token_s_requests_are_not_recorded_as_its_user_signing_in(world):
    signed_in = models.AuditEntry.objects.filter(action="signed in")
    before = signed_in.count()
    world.api["editor"]("GET", "/replications/")
    assert signed_in.count() == before
    # A wrong token is a failed sign-in of the tokens' name (django-axes counts it so).
    Api("sst_wrong")("GET", "/replications/")
    assert models.AuditEntry.objects.filter(action="sign-in failed", object_name="API token").exists()


def test_the_actor_of_the_command_line_is_the_os_user(db):
    assert audit.current_actor() == audit.Actor(audit.OS_USER, OS_USER, audit.COMMAND_LINE)
    with audit.acting(audit.worker()):
        assert audit.current_actor().via == audit.WORKER
    assert audit.current_actor().via == audit.COMMAND_LINE


def test_entries_are_kept_when_the_user_is_deleted(world):
    world.browser["editor"].post("/tokens/", {"name": "gone", "access": "full"})
    get_user_model().objects.filter(username="editor").delete()

    entry = models.AuditEntry.objects.get(
        object_type="api token", action="created", object_name="gone of editor"
    )
    assert entry.actor == "editor"
    assert timezone.now() - entry.at < timedelta(minutes=5)
