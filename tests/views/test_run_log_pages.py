"""The run page's log, a page at a time (issue 22, finding 8): a 9 MB log went out whole in
one answer. The page shows the end of the log, earlier pages come on request, following a run
reads a page at a time, and the download is the whole log."""

from __future__ import annotations

import io
import re

import pytest
from django.utils import timezone

from studio import models
from studio.selectors.runs import LOG_PAGE
from studio.services.executor import _Log

# An answer is a page of log and the page around it (or the poller): never much more.
ANSWER = LOG_PAGE + 64 * 1024


def whole_log(client, run: models.Run) -> str:
    return b"".join(client.get(f"/runs/{run.pk}/log.txt").streaming_content).decode()


@pytest.fixture
def big_run(db) -> models.Run:
    """A finished run whose log of about 9 MB was written as the executor writes one, with a
    line of 2 MB among short ones (sling with DEBUG=TRACE prints whole rows and configs)."""
    run = models.Run.objects.create(
        replication_name="big",
        status=models.Run.Status.SUCCEEDED,
        started=timezone.now(),
        finished=timezone.now(),
    )
    log = _Log(run, io.StringIO())
    for n in range(100_000):
        log(f"INF line {n:06d} " + "x" * 50)
        if n == 50_000:
            log("DBG " + "y" * 2_000_000)
    log.flush()
    return run


def earlier_link(html: str) -> str | None:
    found = re.search(r'hx-get="(/runs/\d+/log/earlier/\?before=\d+)"', html)
    return found[1] if found else None


def pre_text(html: str, oob: bool = False) -> str:
    """The log lines of an answer (the page's `#log-lines`, or the lines put above them)."""
    opening = '<pre hx-swap-oob="afterbegin:#log-lines">' if oob else '<pre id="log-lines"'
    start = html.index(">", html.index(opening)) + 1
    return html[start : html.index("</pre>", start)].replace("&#x27;", "'")


def test_the_run_page_shows_the_end_and_each_earlier_page_on_request(client, user, big_run):
    answer = client.get(f"/runs/{big_run.pk}/")
    html = answer.content.decode()

    assert len(answer.content) < ANSWER
    assert pre_text(html).endswith("INF line 099999 " + "x" * 50 + "\n")
    pages = [pre_text(html)]
    link = earlier_link(html)
    while link:
        answer = client.get(link, headers={"HX-Request": "true"})
        assert answer.status_code == 200
        assert len(answer.content) < ANSWER
        html = answer.content.decode()
        pages.insert(0, pre_text(html, oob=True))
        link = earlier_link(html)

    # Read back to its start, the pages are the whole log, line for line.
    assert len(pages) > 9_000_000 // LOG_PAGE
    assert "".join(pages) == whole_log(client, big_run)


def test_following_a_run_reads_the_log_a_page_at_a_time(client, user, big_run):
    pieces, offset = [], 0
    while True:
        answer = client.get(f"/runs/{big_run.pk}/log/?offset={offset}", headers={"HX-Request": "true"})
        assert len(answer.content) < ANSWER
        html = answer.content.decode()
        if '<pre hx-swap-oob="beforeend:#log-lines">' not in html:
            break
        start = html.index(">", html.index('<pre hx-swap-oob="beforeend:#log-lines">')) + 1
        pieces.append(html[start : html.index("</pre>", start)])
        offset = int(re.search(r"\?offset=(\d+)", html)[1])

    assert "".join(pieces) == whole_log(client, big_run)


def test_a_chunk_bigger_than_a_page_is_cut_and_says_so(client, user, db):
    # Runs logged before chunks had a size limit have chunks of any size.
    run = models.Run.objects.create(
        replication_name="old",
        status=models.Run.Status.FAILED,
        started=timezone.now(),
        finished=timezone.now(),
    )
    text = "".join(f"line {n:07d}\n" for n in range(700_000))
    models.RunLogChunk.objects.create(run=run, seq=1, text=text)

    page = client.get(f"/runs/{run.pk}/")
    following = client.get(f"/runs/{run.pk}/log/?offset=0", headers={"HX-Request": "true"})

    assert len(page.content) < ANSWER and len(following.content) < ANSWER
    shown = pre_text(page.content.decode())
    assert shown.startswith(f"[… {len(text) - LOG_PAGE:,} characters of the log here: in the download …]\n")
    assert shown.endswith("line 0699999\n")
    assert whole_log(client, run) == text


def test_earlier_asks_for_a_chunk_number(client, user, big_run):
    answer = client.get(f"/runs/{big_run.pk}/log/earlier/?before=x")

    assert answer.status_code == 400
    assert "`before` is the number of the first log chunk shown" in answer.content.decode()
