"""Big imports in the browser (issue 22, finding 8): a 60,000-stream file held a server thread
for 14 s. The browser now reads at most 200,000 keys and values and checks at most 10,000
streams, refusing past either with the way to import a bigger one, and shows the first 2,000
lines of a diff and the first 200 problems. (Times are measured in bench/, not asserted here.)"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from studio.selectors.replications import current_text, text_diff
from studio.services.replications import PREVIEW_STREAMS, PREVIEW_WRITTEN
from studio.templatetags.diffs import SHOWN

ON_THE_SERVER = "import a bigger one on the server: `python manage.py import_replication FILE --name NAME`"


def streams(count: int, *, per_stream: str = "") -> str:
    return "source: LOCAL\ntarget: DEMO_SQLITE\nstreams:\n" + "".join(
        f"  file://demo/data/f{i:05d}.csv: {{object: main.t{i:05d}{per_stream}}}\n" for i in range(count)
    )


def unchanged(demo) -> None:
    demo.refresh_from_db()
    assert (demo.version, demo.streams.count()) == (1, 3)


@pytest.mark.parametrize("how", ["paste", "upload"])
def test_a_document_past_the_keys_and_values_is_read_no_further(client, user, demo, how):
    # 60,000 streams of 10 keys and values each; the broken end is never reached.
    text = streams(60_000, per_stream=", mode: full-refresh, description: d, tags: [a, b]") + "  x: [\n"
    data = {"text": text} if how == "paste" else {"file": SimpleUploadedFile("big.yaml", text.encode())}

    response = client.post("/r/demo/import/", data)

    html = response.content.decode()
    assert response.status_code == 422
    assert f"the document has more than {PREVIEW_WRITTEN:,} keys and values" in html
    assert ON_THE_SERVER in html
    assert "not valid YAML" not in html
    unchanged(demo)


def test_more_streams_than_the_limit_are_refused_before_they_are_checked(client, user, demo):
    # A stream the check would refuse is not looked at.
    bad = "  public.bad:\n    mode: incremental\n"
    text = "source: LOCAL\ntarget: DEMO_SQLITE\nstreams:\n" + bad
    text += "".join(f"  s{i}: {{}}\n" for i in range(PREVIEW_STREAMS))

    response = client.post("/r/demo/import/", {"text": text})

    html = response.content.decode()
    assert response.status_code == 422
    assert '<span class="muted">line 3</span>' in html
    assert f"{PREVIEW_STREAMS + 1:,} streams: the browser imports up to {PREVIEW_STREAMS:,} streams" in html
    assert ON_THE_SERVER in html
    assert "incremental mode needs" not in html
    unchanged(demo)


def test_the_preview_of_a_big_change_shows_the_start_of_its_diff(client, user, demo):
    text = streams(3_000)
    whole = text_diff(current_text(demo), text, "current", "imported").splitlines()

    response = client.post("/r/demo/import/", {"text": text})

    html = response.content.decode()
    assert response.status_code == 200
    diff = html[html.index('<pre class="diff"') : html.index("</pre>", html.index('<pre class="diff"'))]
    assert diff.count("\n") == SHOWN + 1
    assert "<ins>+  file://demo/data/f00000.csv: {object: main.t00000}</ins>" in diff
    assert f"… {len(whole) - SHOWN:,} more lines of changes, not shown</span>" in diff
    assert '<input type="hidden" name="confirm" value="yes">' in html
    unchanged(demo)


def test_the_preview_lists_the_first_problems_and_counts_the_others(client, user, demo):
    # Each stream a warning: a page of them all was megabytes.
    response = client.post("/r/demo/import/", {"text": streams(3_000, per_stream=", colour: red")})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("unknown key `colour`") == 200
    assert "… and 2800 more like these</li>" in html
