"""The pages of schedules, monitoring and alerts: a replication's "Schedules & alerts",
the home dashboard, the run page (trigger, live progress, alerts, the end of the log),
the charts of the runs page, and stale streams on the lineage."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from studio import models
from studio.services.alerts import channel_create
from studio.services.retries import policy_save
from studio.services.schedules import schedule_create

HX = {"HX-Request": "true"}
HOURLY = {"meta": {"dagster": {"freshness_policy": {"maximum_lag_minutes": 60}}}}


def run_of(replication, status="succeeded", *, streams=(), ago=timedelta(0), **fields):
    """A recorded run (no sling: these tests are about the pages) with its streams as
    (name, status, rows, seconds)."""
    finished = timezone.now() - ago
    run = models.Run.objects.create(
        replication=replication,
        replication_name=replication.name,
        status=status,
        started=finished - timedelta(seconds=10),
        finished=finished,
        followed_up=True,
        **fields,
    )
    models.Run.objects.filter(pk=run.pk).update(created=finished - timedelta(seconds=11))
    for i, (name, stream_status, rows, seconds) in enumerate(streams):
        models.RunStream.objects.create(
            run=run, position=i, name=name, status=stream_status, rows=rows, duration=seconds
        )
    run.refresh_from_db()
    return run


# --- Schedules & alerts -------------------------------------------------------------------


def test_the_page_lists_schedules_in_words_with_their_next_times_in_their_time_zone(client, user, shop):
    schedule_create(replication=shop, cron_expression="0 6 * * 1-5", tz="Europe/Berlin")

    response = client.get("/r/shop/schedules/")

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        '<span class="mono strong">0 6 * * 1-5</span> <span class="muted small">Europe/Berlin</span>' in html
    )
    assert "At 06:00, Monday through Friday" in html
    assert len(re.findall(r"\w{3} \d{4}-\d\d-\d\d 06:00 CET", html)) == 3
    assert 'action="/r/shop/schedules/add/"' in html


def test_the_preview_gives_the_words_and_next_five_times_as_you_type(client, user, shop):
    good = client.get(
        "/r/shop/schedules/preview/", {"cron": "*/15 * * * *", "timezone": "Asia/Tokyo"}, headers=HX
    )
    bad = client.get("/r/shop/schedules/preview/", {"cron": "*/15 * *", "timezone": "UTC"}, headers=HX)
    empty = client.get("/r/shop/schedules/preview/", {"cron": "", "timezone": "UTC"}, headers=HX)

    assert "<strong>Every 15 minutes</strong>" in good.text
    assert len(re.findall(r"<li title=[^>]*>\w{3} \d{4}-\d\d-\d\d \d\d:\d\d JST</li>", good.text)) == 5
    assert "<html" not in good.text
    assert "cron `*/15 * *` has 3 fields; expected 5" in bad.text
    assert "Type an expression" in empty.text


def test_a_schedule_is_added_from_the_form(client, user, shop, form_values):
    page = client.get("/r/shop/schedules/")
    values = form_values(page.content, "/r/shop/schedules/add/")
    values.update(
        cron="*/30 * * * *", timezone="UTC", streams="public.t0000\npublic.t0002\n", mode="truncate"
    )

    response = client.post("/r/shop/schedules/add/", values)

    assert response.status_code == 302
    schedule = models.Schedule.objects.get()
    assert (schedule.cron, schedule.streams, schedule.mode, schedule.created_by) == (
        "*/30 * * * *",
        ["public.t0000", "public.t0002"],
        "truncate",
        user,
    )
    assert f"Saved schedule #{schedule.pk}." in client.get("/r/shop/schedules/").text


def test_a_bad_schedule_is_refused_at_its_field_and_nothing_is_saved(client, user, shop):
    response = client.post("/r/shop/schedules/add/", {"cron": "0 0 31 2 *", "timezone": "UTC"})

    assert response.status_code == 422
    assert "day of month `31` never comes in month `2`" in response.text
    assert not models.Schedule.objects.exists()


def test_a_schedule_s_range_is_saved_listed_and_a_bad_one_refused_at_its_field(client, user, shop):
    bad = client.post("/r/shop/schedules/add/", {"cron": "0 6 * * *", "timezone": "UTC", "range": "1-9"})
    good = client.post("/r/shop/schedules/add/", {"cron": "0 6 * * *", "timezone": "UTC", "range": "1,9"})

    assert bad.status_code == 422
    assert "the range `1-9` is not &quot;start,end&quot;" in bad.text
    assert good.status_code == 302 and models.Schedule.objects.get().range == "1,9"
    assert 'range <span class="mono">1,9</span>' in client.get("/r/shop/schedules/").text


def test_an_edit_made_from_an_old_version_is_refused_with_their_change(client, user, shop):
    schedule = schedule_create(replication=shop, cron_expression="*/5 * * * *")
    page = client.get(f"/r/shop/schedules/?edit={schedule.pk}")
    assert 'value="*/5 * * * *"' in page.text
    fields = {"cron": "0 * * * *", "timezone": "UTC", "version": "1"}
    assert client.post(f"/r/shop/schedules/{schedule.pk}/", fields).status_code == 302

    late = client.post(f"/r/shop/schedules/{schedule.pk}/", {**fields, "cron": "0 0 * * *"})

    assert late.status_code == 422
    assert (
        "was changed by someone else (now version 2); it now reads: 0 * * * * (UTC), all streams" in late.text
    )
    schedule.refresh_from_db()
    assert (schedule.cron, schedule.version) == ("0 * * * *", 2)


def test_a_schedule_is_paused_resumed_and_deleted(client, user, shop):
    schedule = schedule_create(replication=shop, cron_expression="*/5 * * * *")

    client.post(f"/r/shop/schedules/{schedule.pk}/pause/")
    schedule.refresh_from_db()
    paused = (schedule.enabled, schedule.next_fire)
    client.post(f"/r/shop/schedules/{schedule.pk}/resume/")
    schedule.refresh_from_db()
    resumed = (schedule.enabled, schedule.next_fire is not None)
    client.post(f"/r/shop/schedules/{schedule.pk}/delete/")

    assert paused == (False, None)
    assert resumed == (True, True)
    assert not models.Schedule.objects.exists()


def test_the_retry_and_freshness_policy_is_saved_and_a_stale_edit_refused(client, user, shop):
    saved = client.post(
        "/r/shop/policy/", {"retries": "2", "retry_backoff": "30", "freshness_minutes": "90", "version": "0"}
    )
    stale = client.post(
        "/r/shop/policy/", {"retries": "5", "retry_backoff": "30", "freshness_minutes": "", "version": "0"}
    )

    assert saved.status_code == 302
    assert stale.status_code == 422
    assert "was changed by someone else" in stale.text
    policy = models.RunPolicy.objects.get()
    assert (policy.retries, policy.retry_backoff, policy.freshness_minutes, policy.version) == (2, 30, 90, 1)


def test_alert_channels_are_added_and_their_webhook_token_is_never_shown(client, user, shop):
    response = client.post(
        "/r/shop/alerts/add/",
        {
            "webhook": "https://hooks.example.com/services/T1/B2/TOKEN123",
            "email": "ops@example.com",
            "events": ["failure", "stale"],
            "scope": "all",
        },
    )

    assert response.status_code == 302
    webhook, email = models.AlertChannel.objects.order_by("pk")
    assert (webhook.replication, webhook.events, email.email) == (
        None,
        ["failure", "stale"],
        "ops@example.com",
    )
    page = client.get("/r/shop/schedules/").text
    assert "https://hooks.example.com/…" in page and "every replication" in page
    assert "TOKEN123" not in page


def test_a_bad_channel_is_refused_at_its_field(client, user, shop):
    response = client.post(
        "/r/shop/alerts/add/", {"webhook": "", "email": "", "events": ["failure"], "scope": "replication"}
    )

    assert response.status_code == 422
    assert "give a webhook URL or an email address" in response.text
    assert not models.AlertChannel.objects.exists()


def test_a_channel_is_paused_and_deleted(client, user, shop):
    (channel,) = channel_create(replication=shop, email="ops@example.com", events=["failure"])

    client.post(f"/r/shop/alerts/{channel.pk}/pause/")
    channel.refresh_from_db()
    assert channel.enabled is False
    client.post(f"/r/shop/alerts/{channel.pk}/delete/")
    assert not models.AlertChannel.objects.exists()


def test_a_viewer_sees_the_schedules_but_no_form(client, demo):
    schedule_create(replication=demo, cron_expression="0 * * * *")
    client.force_login(get_user_model().objects.get(username="viewer"))

    page = client.get("/r/demo/schedules/")

    assert page.status_code == 200
    assert "0 * * * *" in page.text
    assert "Add schedule" not in page.text and "Add channel" not in page.text and "Pause" not in page.text
    assert client.post("/r/demo/schedules/add/", {"cron": "* * * * *"}).status_code == 403
    assert models.Schedule.objects.count() == 1


def test_an_editor_who_is_no_operator_may_not_schedule_runs(client, demo):
    client.force_login(get_user_model().objects.get(username="editor"))

    response = client.post("/r/demo/schedules/add/", {"cron": "* * * * *", "timezone": "UTC"})

    assert response.status_code == 403
    assert "You need the operator role" in response.text


# --- the dashboard --------------------------------------------------------------------------


def test_the_dashboard_shows_what_fails_the_last_day_what_runs_next_and_what_is_stale(
    client, user, make_replication
):
    shop = make_replication(
        "shop", streams={"public.orders": {"object": "raw.orders", **HOURLY}, "public.users": {}}
    )
    old = run_of(shop, streams=[("public.users", "succeeded", 5, 1.0)], ago=timedelta(hours=30))
    failed = run_of(shop, "failed", streams=[("public.users", "failed", None, 0.5)], ago=timedelta(minutes=5))
    failed.run_streams.update(error="table users is locked")
    models.Replication.objects.filter(pk=shop.pk).update(created=timezone.now() - timedelta(days=2))
    soon = schedule_create(replication=shop, cron_expression="*/10 * * * *")
    later = schedule_create(replication=shop, cron_expression="0 0 1 1 *")
    schedule_create(replication=shop, cron_expression="* * * * *", enabled=False)

    response = client.get("/")

    html = response.content.decode()
    failing = html[html.index('id="failing"') : html.index('id="last-day"')]
    assert f'<a href="/runs/{failed.pk}/">run #{failed.pk}</a>' in failing
    assert "public.users" in failing and "table users is locked" in failing
    last_day = html[html.index('id="last-day"') : html.index('id="next-runs"')]
    assert "1 run</span>" in last_day  # the 30-hour-old one is not in the last day
    assert f"#{old.pk}</a>" not in last_day
    upcoming = html[html.index('id="next-runs"') : html.index('id="stale"')]
    assert upcoming.index("*/10 * * * *") < upcoming.index("0 0 1 1 *")
    assert upcoming.count('href="/r/shop/schedules/"') == 2  # the paused one is not coming
    stale = html[html.index('id="stale"') :]
    assert "public.orders" in stale and "never succeeded" in stale and "limit 60 min" in stale
    assert soon.pk != later.pk


def test_the_dashboard_does_not_say_no_schedules_when_one_is_paused(client, user, shop):
    paused = schedule_create(replication=shop, cron_expression="0 6 * * *", enabled=False)

    upcoming = client.get("/").text.split('id="next-runs"')[1].split('id="stale"')[0]

    assert "No schedules." not in upcoming
    assert "No schedule fires: the only one is paused." in upcoming
    assert f'Paused: <a href="/r/shop/schedules/#schedule-{paused.pk}">#{paused.pk} of shop</a>.' in upcoming


def test_the_dashboard_board_refreshes_itself_as_a_fragment(client, user):
    response = client.get("/", headers=HX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'hx-trigger="every 30s"' in response.text
    assert "Nothing is failing." in response.text


def test_a_success_after_a_failure_clears_failing_now(client, user, shop):
    run_of(shop, "failed", streams=[("public.t0000", "failed", None, 1.0)])
    run_of(shop, streams=[("public.t0000", "succeeded", 3, 1.0)])

    assert "Nothing is failing." in client.get("/").text


# --- the run page ---------------------------------------------------------------------------


def test_the_run_page_names_its_trigger(client, user, shop):
    schedule = schedule_create(replication=shop, cron_expression="0 * * * *")
    scheduled = run_of(shop, "failed", trigger="schedule", schedule=schedule)
    retry = run_of(shop, trigger="retry", retry_of=scheduled, attempt=2)

    first = client.get(f"/runs/{scheduled.pk}/").text
    second = client.get(f"/runs/{retry.pk}/").text

    assert f'<a href="/r/shop/schedules/">schedule #{schedule.pk}</a>' in first
    assert f'retry of <a href="/runs/{scheduled.pk}/">#{scheduled.pk}</a> (attempt 2)' in second


def test_a_running_stream_shows_rows_so_far_rate_and_elapsed(client, user, shop):
    run = models.Run.objects.create(replication=shop, replication_name="shop", status="running")
    models.RunStream.objects.create(
        run=run,
        position=0,
        name="public.t0000",
        status="running",
        progress={"rows": 994750, "rate": 17696.0, "elapsed": 65.0, "size": "34 MB"},
    )

    response = client.get(f"/runs/{run.pk}/status/", headers=HX)

    row = response.text[response.text.index('<tr class="live">') :]
    assert '994,750 <span class="muted small">so far</span>' in row
    assert '<td class="num">17,696</td>' in row and '<td class="num">65</td>' in row
    assert 'hx-trigger="every 1s"' in response.text  # and it keeps polling


def test_the_run_page_shows_how_its_alerts_went(client, user, shop):
    run = run_of(shop, "failed")
    (channel,) = channel_create(
        replication=shop, webhook="https://hooks.example.com/x/SECRET", events=["failure"]
    )
    models.Alert.objects.create(
        channel=channel,
        channel_label=str(channel),
        event="failure",
        replication_name="shop",
        run=run,
        subject="s",
        text="t",
        status="pending",
        attempts=2,
        next_attempt=timezone.now(),
        error="webhook hooks.example.com answered HTTP 502 Bad Gateway",
    )

    page = client.get(f"/runs/{run.pk}/").text
    poll = client.get(f"/runs/{run.pk}/alerts/", headers=HX).text

    assert "webhook https://hooks.example.com/…" in page
    assert '<span class="status pending">pending</span>' in page
    assert "answered HTTP 502 Bad Gateway" in page
    assert "SECRET" not in page
    assert 'hx-trigger="every 5s"' in poll  # pending: still polled
    models.Alert.objects.update(status="sent", sent=timezone.now())
    assert "hx-get" not in client.get(f"/runs/{run.pk}/alerts/", headers=HX).text


def test_a_finished_runs_log_opens_at_its_end(client, user, shop):
    run = run_of(shop)
    lines = [f"INF line {i:06}" for i in range(30_000)]  # about 500 KB, in chunks as the executor writes
    models.RunLogChunk.objects.bulk_create(
        models.RunLogChunk(run=run, seq=seq + 1, text="".join(f"{line}\n" for line in lines[i : i + 4000]))
        for seq, i in enumerate(range(0, len(lines), 4000))
    )

    page = client.get(f"/runs/{run.pk}/").text
    download = client.get(f"/runs/{run.pk}/log.txt")

    log = page[page.index('<pre id="log-lines"') :]
    assert "INF line 029999" in log and "INF line 000000" not in log
    assert "show the page before</a>, or download the whole log." in page
    assert b"".join(download.streaming_content).decode().splitlines() == lines
    assert download["Content-Disposition"] == f'attachment; filename="run-{run.pk}.log"'


# --- charts ---------------------------------------------------------------------------------


def test_the_runs_of_a_replication_show_duration_rows_and_success_rate(client, user, shop):
    for i in range(4):
        status = "failed" if i == 2 else "succeeded"
        run_of(
            shop,
            status,
            streams=[("public.t0000", status, 100 * (i + 1), 2.0 + i)],
            ago=timedelta(hours=4 - i),
        )

    page = client.get("/runs/", {"replication": "shop"}).text
    stream_page = client.get("/runs/", {"replication": "shop", "stream": "public.t0000"}).text

    history = page[page.index('id="history"') :]
    assert "success rate <strong>75 %</strong>" in history
    assert history.count('class="bar failed"') == 4  # the duration and rows of the run and of its stream
    bars = re.findall(
        r'<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" class="bar (\w+)">', history
    )
    # The replication's rows chart: 100, 200, 300, 400 rows, the tallest bar the last.
    rows = bars[4:8]
    assert [s for _, _, s in rows] == ["succeeded", "succeeded", "failed", "succeeded"]
    assert [float(h) for _, h, _ in rows] == sorted(float(h) for _, h, _ in rows)
    assert "max 400 rows" in history and "max 10.0 s" in history  # each run took 10 s
    assert "public.t0000" in history and '<td class="num">75 %</td>' in history
    assert "success rate <strong>75 %</strong>" in stream_page
    assert "max 5.0 s" in stream_page  # the stream's own seconds: 2, 3, 4, 5


# --- lineage --------------------------------------------------------------------------------


def test_a_stale_stream_is_flagged_on_the_lineage(client, user, make_replication):
    shop = make_replication(
        "shop", streams={"public.orders": {"object": "raw.orders", **HOURLY}, "public.users": {}}
    )
    models.Replication.objects.filter(pk=shop.pk).update(created=timezone.now() - timedelta(hours=3))
    policy_save(replication=shop, base_version=0, retries=0, retry_backoff=60, freshness_minutes=None)

    page = client.get("/lineage/").text
    panel = client.get("/lineage/node/", {"key": "target/raw/orders"}, headers=HX).text

    data = json.loads(
        re.search(r'<script id="lineage-data" type="application/json">(.*?)</script>', page, re.S)[1]
    )
    nodes = {e["data"].get("key"): e["data"] for e in data["elements"]}
    assert nodes["target/raw/orders"].get("stale") is True
    assert "stale" not in nodes["target/public/users"]
    assert '<span class="status stale"' in panel
