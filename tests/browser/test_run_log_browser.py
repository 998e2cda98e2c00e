"""A long log in the browser: the run page opens at its end, and each "show the page before"
puts the page before above the lines shown, until the log is there from its first line."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone

from studio import models
from studio.services.executor import _Log

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_earlier_pages_go_above_the_lines_shown(page):
    run = models.Run.objects.create(
        replication_name="long",
        status=models.Run.Status.SUCCEEDED,
        started=timezone.now(),
        finished=timezone.now(),
    )
    log = _Log(run, io.StringIO())
    for n in range(12_000):  # about 3 pages
        log(f"INF line {n:05d} " + "x" * 40)
    log.flush()

    page.goto(f"{page.base}/runs/{run.pk}/")
    lines = page.locator("#log-lines")
    assert lines.inner_text().rstrip().endswith("INF line 11999 " + "x" * 40)
    assert "INF line 00000 " not in lines.inner_text()

    clicks = 0
    while page.locator("#log-earlier a").count():
        before = lines.inner_text()
        asked = page.get_attribute("#log-earlier a", "hx-get")
        page.click("#log-earlier a")
        # Both swaps done: the lines above, and the link to the page before them (or none).
        page.wait_for_function(
            """([n, asked]) => document.querySelector('#log-lines').innerText.length > n
                && document.querySelector('#log-earlier a')?.getAttribute('hx-get') !== asked""",
            arg=[len(before), asked],
        )
        clicks += 1
        assert lines.inner_text().endswith(before)

    assert clicks >= 2
    assert lines.inner_text().startswith("INF line 00000 ")
    assert lines.inner_text().count("INF line ") == 12_000
