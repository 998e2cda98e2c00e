"""Schedules and monitoring in Chromium: add a schedule and see its next fire times as you
type, watch the run it fires appear and finish, then see the charts and the dashboard.

The worker's pass (`automation_tick`) is called here with the due time as its clock, as a
worker would call it then; the run is executed by the worker's task in a thread.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from studio import models
from studio.services.automation import automation_tick
from studio.tasks import execute_run

pytestmark = [pytest.mark.browser, pytest.mark.sling, pytest.mark.django_db(transaction=True)]


def test_a_schedule_is_added_fires_a_run_and_shows_on_the_charts_and_dashboard(page, data_dir, tmp_path):
    # Add a schedule: the words and the next five times follow what is typed.
    page.goto(f"{page.base}/r/demo/schedules/")
    page.fill("#id_cron", "*/5 * * * *")
    page.fill("#id_timezone", "Asia/Kolkata")
    preview = page.locator("#schedule-preview")
    preview.locator("text=Every 5 minutes").wait_for()
    assert preview.locator("ol.next-times li").count() == 5
    assert all(text.endswith("IST") for text in preview.locator("ol.next-times li").all_inner_texts())
    page.fill("#id_cron", "*/5 * *")
    preview.locator("text=has 3 fields; expected 5").wait_for()
    page.fill("#id_cron", "*/5 * * * *")
    preview.locator("text=Every 5 minutes").wait_for()
    page.screenshot(path=tmp_path / "schedule-form.png", full_page=True)
    page.click("button:has-text('Add schedule')")
    page.locator(".flash", has_text="Saved schedule #").wait_for()
    schedule = models.Schedule.objects.get()
    row = page.locator(f"#schedule-{schedule.pk}")
    assert "Every 5 minutes" in row.inner_text()
    assert row.locator(".next-fires div").count() == 3

    # The due time comes: the worker's pass fires it, and the run appears on the dashboard.
    automation_tick(now=schedule.next_fire + timedelta(seconds=1))
    run = models.Run.objects.get()
    assert (run.trigger, run.schedule_id, run.status) == ("schedule", schedule.pk, "queued")
    page.goto(f"{page.base}/")
    page.locator("#last-day", has_text=f"schedule #{schedule.pk}").wait_for()

    # Watch it run: the run page follows it live to its end.
    page.goto(f"{page.base}/runs/{run.pk}/")
    assert f"schedule #{schedule.pk}" in page.inner_text("#run-status")
    worker = threading.Thread(target=execute_run.call, args=(run.pk,))
    worker.start()
    page.locator("#run-status .status.succeeded").first.wait_for(timeout=60_000)
    worker.join(timeout=60)
    page.locator("#log-lines", has_text="execution succeeded").wait_for(timeout=10_000)
    page.screenshot(path=tmp_path / "scheduled-run.png", full_page=True)

    # The charts of its replication, and the dashboard with what runs next.
    page.goto(f"{page.base}/runs/?replication=demo")
    history = page.locator("#history")
    assert "success rate 100 %" in history.inner_text()
    assert history.locator("rect.bar.succeeded").count() == 2 + 2 * 3  # the run's, and each stream's
    page.screenshot(path=tmp_path / "charts.png", full_page=True)
    page.goto(f"{page.base}/")
    assert "Nothing is failing." in page.inner_text("#failing")
    assert "*/5 * * * *" in page.inner_text("#next-runs")
    assert page.locator("#last-day svg rect.bar.succeeded").count() == 1
    page.screenshot(path=tmp_path / "dashboard.png", full_page=True)

    # And the schedule's last fire links to its run.
    page.goto(f"{page.base}/r/demo/schedules/")
    page.click(f"#schedule-{schedule.pk} a[href='/runs/{run.pk}/']")
    page.wait_for_url(f"**/runs/{run.pk}/")
