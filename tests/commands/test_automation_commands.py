"""`schedule`, `alert` and `runs`: the command-line face of schedules, alert channels and
the run history (DESIGN.md's contract)."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from studio import models
from studio.services.runs import run_create

pytestmark = pytest.mark.django_db


def manage(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


# --- schedule -----------------------------------------------------------------------------


def test_schedule_adds_one_and_says_when_it_fires(shop):
    code, out, _ = manage(
        "schedule", "shop", "--cron", "0 6 * * 1-5", "--timezone", "Europe/Berlin", "--stream", "public.t0001"
    )

    schedule = models.Schedule.objects.get()
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        f"schedule #{schedule.pk} of shop: 0 6 * * 1-5 (Europe/Berlin), "
        "at 06:00, Monday through Friday; public.t0001"
    )
    assert lines[1].startswith("next: ") and lines[1].count("06:00 CET") == 5
    assert (schedule.cron, schedule.timezone, schedule.streams, schedule.enabled) == (
        "0 6 * * 1-5",
        "Europe/Berlin",
        ["public.t0001"],
        True,
    )
    local = schedule.next_fire.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute, local.weekday() < 5) == (6, 0, True)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--cron", "* * *"], "error: --cron: cron `* * *` has 3 fields; expected 5"),
        (
            ["--cron", "* * * * *", "--timezone", "Nowhere/City"],
            "error: --timezone: unknown time zone `Nowhere/City`",
        ),
        (
            ["--cron", "* * * * *", "--stream", "public.nope"],
            "error: --stream: no stream named `public.nope`",
        ),
        (["--cron", "* * * * *", "--mode", "append"], "error: --mode: unknown mode `append`"),
        ([], "error: give NAME and --cron EXPR"),
    ],
)
def test_schedule_refuses_bad_input_with_one_line(shop, args, error):
    code, _, err = manage("schedule", "shop", *args)

    assert code == 1
    assert err.startswith(error)
    assert len(err.strip().splitlines()) == 1
    assert not models.Schedule.objects.exists()


def test_schedule_lists_pauses_resumes_and_deletes(shop, make_replication):
    make_replication("other")
    manage("schedule", "shop", "--cron", "*/15 * * * *")
    manage("schedule", "other", "--cron", "0 0 * * *", "--mode", "truncate")
    first, second = models.Schedule.objects.order_by("pk")

    _, listed, _ = manage("schedule", "--list")
    _, only_other, _ = manage("schedule", "other", "--list")
    _, paused, _ = manage("schedule", "--pause", str(first.pk))
    _, listed_paused, _ = manage("schedule", "--list", "shop")
    _, resumed, _ = manage("schedule", "--resume", str(first.pk))
    _, deleted, _ = manage("schedule", "--delete", str(second.pk))
    code, _, missing = manage("schedule", "--delete", "999")

    rows = listed.splitlines()
    assert rows[0].split() == [
        "id",
        "replication",
        "cron",
        "timezone",
        "streams",
        "mode",
        "state",
        "next",
        "fire",
        "(UTC)",
    ]
    assert rows[1].split()[:10] == [
        str(second.pk),
        "other",
        "0",
        "0",
        "*",
        "*",
        "*",
        "UTC",
        "all",
        "truncate",
    ]
    assert [r.split()[1] for r in rows[1:]] == ["other", "shop"]
    assert "truncate" in rows[1] and "enabled" in rows[1]
    assert len(only_other.splitlines()) == 2
    assert paused.splitlines()[1] == "paused"
    assert "paused" in listed_paused.splitlines()[1]
    assert resumed.splitlines()[1].startswith("next: ")
    assert deleted.strip() == f"deleted schedule #{second.pk} of other"
    assert (code, missing.strip()) == (1, "error: no schedule #999")
    assert list(models.Schedule.objects.values_list("pk", "enabled")) == [(first.pk, True)]


def test_schedule_of_an_unknown_replication_is_refused(db):
    code, _, err = manage("schedule", "nope", "--cron", "* * * * *")

    assert (code, err.strip()) == (1, "error: no replication named `nope`")


# --- alert --------------------------------------------------------------------------------


def test_alert_adds_a_webhook_and_an_email_channel(shop):
    code, out, _ = manage(
        "alert",
        "shop",
        "--webhook",
        "https://hooks.example.com/services/T/B/SECRET",
        "--email",
        "ops@example.com",
        "--on",
        "failure",
        "--on",
        "recovery",
    )

    webhook, email = models.AlertChannel.objects.order_by("pk")
    assert code == 0
    assert out.splitlines() == [
        f"alert channel #{webhook.pk} (shop): webhook https://hooks.example.com/… on failure, recovery",
        f"alert channel #{email.pk} (shop): email ops@example.com on failure, recovery",
        # No browser said where the studio is, nor STUDIO_BASE_URL.
        "note: its alerts link to http://127.0.0.1:8000 (STUDIO_BASE_URL sets another)",
    ]
    assert "SECRET" not in out  # the URL's path is its token
    assert (webhook.replication, webhook.webhook, webhook.events) == (
        shop,
        "https://hooks.example.com/services/T/B/SECRET",
        ["failure", "recovery"],
    )


def test_alert_always_and_default_for_every_replication(shop):
    manage("alert", "--default", "--email", "oncall@example.com", "--on", "always")
    _, listed, _ = manage("alert", "--list")

    channel = models.AlertChannel.objects.get()
    assert (channel.replication, channel.events) == (None, ["failure", "recovery", "stale"])
    assert listed.splitlines()[1].split() == [
        str(channel.pk),
        "(every",
        "replication)",
        "email",
        "oncall@example.com",
        "failure,",
        "recovery,",
        "stale",
        "enabled",
    ]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["shop", "--webhook", "file:///etc/passwd"],
            "error: --webhook: a webhook is an http:// or https:// URL",
        ),
        (["shop", "--email", "nobody"], "error: --email: `nobody` is not an email address"),
        (["shop", "--email", "a@example.com", "--on", "sometimes"], "error: --on: unknown event `sometimes`"),
        (["shop"], "error: --webhook: give a webhook URL or an email address"),
        (["--webhook", "https://x.example.com/"], "error: give NAME or --default"),
        (["nope", "--email", "a@example.com"], "error: no replication named `nope`"),
    ],
)
def test_alert_refuses_bad_input_with_one_line(shop, args, error):
    code, _, err = manage("alert", *args)

    assert code == 1
    assert err.startswith(error)
    assert not models.AlertChannel.objects.exists()


def test_alert_deletes_a_channel(shop):
    manage("alert", "shop", "--email", "ops@example.com")
    channel = models.AlertChannel.objects.get()

    _, out, _ = manage("alert", "--delete", str(channel.pk))

    assert out.strip() == f"deleted alert channel #{channel.pk} (email ops@example.com)"
    assert not models.AlertChannel.objects.exists()


# --- runs ---------------------------------------------------------------------------------


@pytest.fixture
def history(shop, user):
    """Three runs of shop (refused at once: its connections are not defined) and one of another."""
    manual = run_create(replication=shop, user=user)
    schedule = models.Schedule.objects.create(replication=shop, cron="* * * * *")
    scheduled = run_create(replication=shop, trigger="schedule", schedule=schedule)
    retry = run_create(replication=shop, trigger="retry", retry_of=scheduled)
    other = run_create(replication="gone")
    models.RunStream.objects.create(
        run=manual, position=0, name="public.t0000", status="succeeded", rows=1200
    )
    models.RunStream.objects.create(run=manual, position=1, name="public.t0001", status="failed", rows=None)
    return manual, scheduled, retry, other, schedule


def test_runs_lists_newest_first_with_the_trigger(history):
    manual, scheduled, retry, other, schedule = history

    _, out, _ = manage("runs")

    rows = out.splitlines()
    assert rows[0].split() == [
        "id",
        "replication",
        "status",
        "trigger",
        "created",
        "started",
        "ended",
        "rows",
        "streams",
    ]
    assert [r.split()[0] for r in rows[1:]] == [str(r.pk) for r in (other, retry, scheduled, manual)]
    assert f"retry of #{scheduled.pk}" in rows[2]
    assert f"schedule #{schedule.pk}" in rows[3]
    assert "manual (alice)" in rows[4] and "1,200" in rows[4] and "1/2 succeeded" in rows[4]


def test_runs_of_one_replication_as_json_with_a_limit(history):
    _, scheduled, retry, _, schedule = history

    _, out, _ = manage("runs", "shop", "--json", "--limit", "2")

    runs = json.loads(out)
    assert [r["id"] for r in runs] == [retry.pk, scheduled.pk]
    assert runs[0] | {"created": None, "ended": None} == {
        "id": retry.pk,
        "replication": "shop",
        "status": "failed",
        "trigger": "retry",
        "requested_by": None,
        "schedule": None,
        "retry_of": scheduled.pk,
        "attempt": 2,
        "created": None,
        "started": None,
        "ended": None,
        "rows": None,
        "error": retry.error,
        "streams": [],
    }
    assert runs[1]["schedule"] == schedule.pk
    assert timezone.now() - datetime.fromisoformat(runs[1]["created"]) < timedelta(minutes=1)


def test_runs_says_when_there_are_none_and_refuses_a_bad_limit(db):
    assert manage("runs")[1].strip() == "no runs"
    assert manage("runs", "shop")[1].strip() == "no runs of shop"
    assert manage("runs", "--limit", "0")[:3:2] == (1, "error: --limit must be at least 1\n")
