"""Alerts: what a run's end records (failure, recovery), delivered to a real local HTTP
receiver and a real local SMTP server (aiosmtpd), retried with backoff, never a secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from receivers import free_port, smtp_server, webhook_receiver
from run_support import csv_to_sqlite, write_csv

from studio import models
from studio.errors import Refused
from studio.services.alerts import alerts_deliver, channel_create, channel_set_enabled
from studio.services.automation import runs_follow_up
from studio.services.connections import connection_save
from studio.services.executor import run_execute
from studio.services.runs import run_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir")]

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
Status = models.Alert.Status


@pytest.fixture
def base_url(settings):
    settings.STUDIO_BASE_URL = "https://studio.example.com"


def failed_run(tmp_path, files=None):
    """A real run of `shop` in which `missing.csv` fails (the file is not there)."""
    if not models.Replication.objects.filter(name="shop").exists():
        csv_to_sqlite(tmp_path, files or {"a.csv": 3, "missing.csv": -1})
    run = run_execute(run_create(replication="shop"))
    assert run.status == "failed", run.error
    return run


@pytest.mark.sling
def test_a_failed_run_posts_its_story_to_a_webhook(tmp_path, base_url):
    csv_to_sqlite(tmp_path, {"a.csv": 3, "missing.csv": -1})
    with webhook_receiver() as hook:
        channel_create(
            replication=models.Replication.objects.get(name="shop"), webhook=hook.url, events=["failure"]
        )
        run = failed_run(tmp_path)

        runs_follow_up(now=T)
        sent = alerts_deliver(now=T)

    assert [a.status for a in sent] == [Status.SENT]
    (post,) = hook.posts
    assert post["path"] == "/services/T000/B000/XXXXSECRETTOKEN"
    assert post["headers"]["Content-Type"] == "application/json"
    body = post["json"]
    missing = f"file://{tmp_path}/missing.csv"
    lines = body["text"].splitlines()
    assert lines[0] == f"❌ shop: run #{run.pk} failed (manual (command line))"
    assert lines[1] == f"Streams: {missing} (failed)"
    assert lines[2].startswith(f"Error: ~ Error listing {tmp_path}/missing.csv")
    assert lines[3] == f"Run #{run.pk}: https://studio.example.com/runs/{run.pk}/"
    assert (body["event"], body["replication"], body["status"]) == ("failure", "shop", "failed")
    assert body["run"] == {
        "id": run.pk,
        "url": f"https://studio.example.com/runs/{run.pk}/",
        "trigger": "manual",
        "attempt": 1,
    }
    assert [s["name"] for s in body["streams"]] == [missing]
    alert = run.alerts.get()
    assert (alert.status, alert.attempts, alert.sent, alert.error) == (Status.SENT, 1, T, "")
    # The page shows the channel by its host: the path of a webhook URL is its secret.
    assert alert.channel_label == f"webhook {hook.url.split('/services')[0]}/…"


@pytest.mark.sling
def test_without_a_base_url_alerts_link_to_the_address_the_channel_was_added_from(
    tmp_path, settings, client, user
):
    # No STUDIO_BASE_URL: the worker sends alerts with no request of its own, so the link follows
    # the browser that added the channel (it once was `http://127.0.0.1:8000` whatever the address).
    settings.STUDIO_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["studio.internal"]
    csv_to_sqlite(tmp_path, {"a.csv": 3, "missing.csv": -1})
    with webhook_receiver() as hook:
        added = client.post(
            "/r/shop/alerts/add/",
            {"webhook": hook.url, "email": "", "events": ["failure"], "scope": "replication"},
            headers={"Host": "studio.internal:8443", "X-Forwarded-Proto": "https"},
            secure=True,
        )
        assert added.status_code == 302
        run = failed_run(tmp_path)
        runs_follow_up(now=T)
        alerts_deliver(now=T)

    (post,) = hook.posts
    assert post["json"]["run"]["url"] == f"https://studio.internal:8443/runs/{run.pk}/"
    assert post["json"]["text"].endswith(f"Run #{run.pk}: https://studio.internal:8443/runs/{run.pk}/")
    # Said on the page, where the channel is listed.
    page = client.get("/r/shop/schedules/", headers={"Host": "studio.internal:8443"}, secure=True)
    assert "links to https://studio.internal:8443" in page.content.decode()


def test_the_base_url_setting_wins_over_the_address_a_channel_was_added_from(base_url):
    (channel,) = channel_create(
        replication=None, email="ops@example.com", events=["failure"], base_url="http://10.0.0.5:8000/"
    )

    assert channel.link_base == "https://studio.example.com"


@pytest.mark.sling
def test_a_failed_run_is_emailed_through_smtp(tmp_path, base_url, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "studio@example.com"
    with smtp_server() as (inbox, port):
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        csv_to_sqlite(tmp_path, {"a.csv": 3, "missing.csv": -1})
        channel_create(replication=None, email="ops@example.com", events=["always"])
        run = failed_run(tmp_path)

        runs_follow_up(now=T)
        alerts_deliver(now=T)

    (message,) = inbox.messages
    assert inbox.envelopes == [("studio@example.com", ["ops@example.com"])]
    assert message["Subject"] == f"[Sling Studio] shop failed (run #{run.pk})"
    body = message.get_payload(decode=True).decode()
    assert f"https://studio.example.com/runs/{run.pk}/" in body
    assert "missing.csv (failed)" in body
    assert run.alerts.get().status == Status.SENT


def test_delivery_is_retried_with_backoff_and_recorded(base_url):
    # A scheduled run failed at once (no replication of that name): nobody saw it, so it alerts.
    refused = run_create(replication="gone", trigger="schedule")
    with webhook_receiver() as hook:
        hook.statuses = [500, 503]
        channel_create(replication=None, webhook=hook.url, events=["failure"])
        runs_follow_up(now=T)

        first = alerts_deliver(now=T)
        too_early = alerts_deliver(now=T + timedelta(seconds=29))
        second = alerts_deliver(now=T + timedelta(seconds=30))
        third = alerts_deliver(now=T + timedelta(seconds=30 + 120))

    assert [(a.status, a.attempts) for a in first] == [(Status.PENDING, 1)]
    assert first[0].error == "webhook 127.0.0.1 answered HTTP 500 Internal Server Error"
    assert first[0].next_attempt == T + timedelta(seconds=30)
    assert too_early == []
    assert [(a.status, a.attempts, a.error) for a in second] == [
        (Status.PENDING, 2, "webhook 127.0.0.1 answered HTTP 503 Service Unavailable")
    ]
    assert second[0].next_attempt == T + timedelta(seconds=30 + 120)
    assert [(a.status, a.attempts, a.error) for a in third] == [(Status.SENT, 3, "")]
    assert len(hook.posts) == 3
    assert "no replication named `gone`" in hook.posts[0]["json"]["text"]
    assert refused.alerts.get().status == Status.SENT


def test_it_gives_up_after_the_last_attempt_and_says_why():
    run_create(replication="gone", trigger="schedule")
    channel_create(replication=None, webhook=f"http://127.0.0.1:{free_port()}/hook", events=["failure"])
    runs_follow_up(now=T)

    moment, attempted = T, []
    for _ in range(6):
        attempted += alerts_deliver(now=moment)
        moment += timedelta(hours=1)

    alert = models.Alert.objects.get()
    assert len(attempted) == 5
    assert (alert.status, alert.attempts) == (Status.FAILED, 5)
    assert alert.error.startswith("webhook 127.0.0.1 unreachable: [Errno 111] Connection refused")
    assert alert.error.endswith("(gave up after 5 attempts)")


@pytest.mark.sling
def test_the_first_success_after_a_failure_is_a_recovery(tmp_path, base_url):
    csv_to_sqlite(tmp_path, {"a.csv": 3, "missing.csv": -1})
    channel_create(replication=None, webhook="http://127.0.0.1:9/hook", events=["recovery"])
    failed_run(tmp_path)
    write_csv(tmp_path / "missing.csv", 2)
    fixed = run_execute(run_create(replication="shop"))
    again = run_execute(run_create(replication="shop"))

    runs_follow_up(now=T)

    (alert,) = models.Alert.objects.all()
    assert (alert.event, alert.run) == ("recovery", fixed)
    assert alert.text.splitlines()[0] == f"✅ shop: run #{fixed.pk} succeeded again (manual (command line))"
    assert alert.streams == [f"file://{tmp_path}/missing.csv"]  # the stream that had failed, not a.csv
    assert again.status == "succeeded" and not again.alerts.exists()


@pytest.mark.sling
def test_no_alert_goes_to_a_paused_channel_or_another_replications(tmp_path):
    csv_to_sqlite(tmp_path, {"a.csv": 3, "missing.csv": -1})
    other = models.Replication.objects.create(name="other")
    paused = channel_create(replication=None, webhook="http://127.0.0.1:9/a", events=["failure"])[0]
    channel_set_enabled(channel=paused, enabled=False)
    channel_create(replication=other, email="other@example.com", events=["always"])
    failed_run(tmp_path)

    runs_follow_up(now=T)

    assert not models.Alert.objects.exists()


def test_an_alert_never_carries_a_secret(base_url):
    connection_save(
        name="WAREHOUSE", fields={"type": "postgres", "url": "postgres://loader:Hunter2Secret@db:5432/dw"}
    )
    run = run_create(replication="gone", trigger="schedule")
    # As if some path had let the password through unmasked: the alert masks it again.
    models.Run.objects.filter(pk=run.pk).update(error="could not connect with Hunter2Secret to db")
    with webhook_receiver() as hook:
        channel_create(replication=None, webhook=hook.url, events=["failure"])
        runs_follow_up(now=T)
        alerts_deliver(now=T)

    text = str(hook.posts[0]["json"])
    assert "Hunter2Secret" not in text
    assert "could not connect with" in text
    assert "Hunter2Secret" not in models.Alert.objects.get().text


def test_a_run_refused_when_someone_started_it_does_not_alert():
    channel_create(replication=None, webhook="http://127.0.0.1:9/a", events=["failure"])
    run_create(replication="gone")  # by hand: the refusal was shown where they pressed Run

    runs_follow_up(now=T)

    assert not models.Alert.objects.exists()


def test_each_ended_run_is_followed_up_once():
    channel_create(replication=None, webhook="http://127.0.0.1:9/a", events=["failure"])
    run_create(replication="gone", trigger="schedule")

    first = runs_follow_up(now=T)
    second = runs_follow_up(now=T)

    assert len(first) == 1 and second == []
    assert models.Alert.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"webhook": "ftp://example.com/x"}, "a webhook is an http:// or https:// URL with a host"),
        ({"email": "not-an-address"}, "`not-an-address` is not an email address"),
        ({}, "give a webhook URL or an email address"),
        ({"webhook": "https://example.com/x", "events": ["fail"]}, "unknown event `fail`"),
    ],
)
def test_a_channel_is_refused_with_the_reason(fields, message):
    with pytest.raises(Refused, match=message):
        channel_create(replication=None, **{"events": ["failure"], **fields})
    assert not models.AlertChannel.objects.exists()


def test_the_webhook_url_is_stored_encrypted():
    channel_create(
        replication=None, webhook="https://hooks.example.com/services/T/B/SECRETTOKEN", events=["always"]
    )

    with connection.cursor() as cursor:
        cursor.execute("select webhook from studio_alertchannel")
        (stored,) = cursor.fetchone()
    assert "SECRETTOKEN" not in stored
    channel = models.AlertChannel.objects.get()
    assert channel.label == "https://hooks.example.com/…"
    assert channel.events == ["failure", "recovery", "stale"]


# --- where a webhook may go (issue 22, finding 5) ----------------------------------------

METADATA = "is a link-local or metadata address, never open to webhooks"


@pytest.mark.parametrize(
    ("webhook", "message"),
    [
        ("http://169.254.169.254/latest/meta-data/", f"`169.254.169.254` {METADATA}"),
        ("http://[::ffff:169.254.169.254]/hook", f"`::ffff:169.254.169.254` {METADATA}"),
        ("http://[fe80::1%25eth0]:8080/hook", f"`fe80::1%25eth0` {METADATA}"),
        # Other spellings of 169.254.169.254, which Python's resolver (unlike sling's) would reach.
        ("http://2852039166/hook", f"`2852039166` (169.254.169.254) {METADATA}"),
        ("https://0xA9FEA9FE/hook", f"`0xa9fea9fe` (169.254.169.254) {METADATA}"),
        ("http://0251.0376.0251.0376/hook", f"`0251.0376.0251.0376` (169.254.169.254) {METADATA}"),
        ("http://169.254.43518/hook", f"`169.254.43518` (169.254.169.254) {METADATA}"),
        ("http://user:pw@169.254.169.254.:80/hook", f"`169.254.169.254.` (169.254.169.254) {METADATA}"),
    ],
)
def test_a_webhook_to_a_metadata_address_is_refused_however_it_is_written(webhook, message):
    with pytest.raises(Refused) as refused:
        channel_create(replication=None, webhook=webhook, events=["failure"])

    assert [(p.path, p.message) for p in refused.value.problems] == [
        (("webhook",), f"the webhook's host: {message}")
    ]
    assert not models.AlertChannel.objects.exists()


def test_webhooks_go_only_to_the_hosts_their_setting_lists_when_saved_and_when_sent(settings):
    settings.STUDIO_CONNECTION_HOSTS = ["10.0.0.0/8"]  # the connections' list says nothing of webhooks
    run_create(replication="gone", trigger="schedule")
    with webhook_receiver() as hook:
        channel_create(replication=None, webhook=hook.url, events=["failure"])
        settings.STUDIO_WEBHOOK_HOSTS = ["hooks.example.com", "10.0.0.0/8"]
        with pytest.raises(Refused) as refused:
            channel_create(replication=None, webhook="http://[::1]:8080/hook", events=["failure"])
        runs_follow_up(now=T)

        (alert,) = alerts_deliver(now=T)

    not_listed = "is not among the hosts webhooks may reach (STUDIO_WEBHOOK_HOSTS)"
    assert refused.value.problems[0].message == f"the webhook's host: `::1` {not_listed}"
    # Saved while it was allowed; judged again when sent.
    assert hook.posts == []
    assert (alert.status, alert.error) == (Status.PENDING, f"webhook 127.0.0.1: `127.0.0.1` {not_listed}")


def test_a_redirect_is_a_failed_delivery_that_says_where_it_pointed():
    run_create(replication="gone", trigger="schedule")
    with webhook_receiver() as hook, webhook_receiver() as elsewhere:
        hook.statuses = [302]
        hook.location = elsewhere.url.replace("127.0.0.1", "localhost")
        channel_create(replication=None, webhook=hook.url, events=["failure"])
        runs_follow_up(now=T)

        (alert,) = alerts_deliver(now=T)

    assert (elsewhere.posts, elsewhere.others) == ([], [])
    assert len(hook.posts) == 1
    pointed = elsewhere.url.replace("127.0.0.1", "localhost").split("/services")[0]
    assert (alert.status, alert.error) == (
        Status.PENDING,
        f"webhook 127.0.0.1 answered HTTP 302 Found pointing to {pointed} (redirects are not followed)",
    )
