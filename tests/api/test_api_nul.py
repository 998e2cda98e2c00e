"""A NUL character anywhere in a request (address, query, JSON body, a YAML escape) is refused
with a problem document and stores nothing: PostgreSQL cannot keep it (schemathesis found the
500 it gave there), and the pages' forms refuse it too."""

from __future__ import annotations

import pytest
from api_client import answer

from studio import models

NUL = "a\x00b"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/replications/?q=a%00b", None),
        ("GET", "/runs/?stream=a%00b", None),
        ("GET", "/connections/a%00b/", None),
        ("POST", "/replications/", {"name": NUL, "source": "LOCAL", "target": "DEMO_SQLITE"}),
        ("POST", "/replications/import/", {"files": {NUL: "source: LOCAL\ntarget: DEMO_SQLITE\n"}}),
        ("POST", "/runs/", {"replication": "demo", "streams": [NUL]}),
        ("POST", "/connections/", {"name": "X", "type": "postgres", "fields": {"host": NUL}}),
    ],
)
def test_a_nul_anywhere_is_refused(api, demo, method, path, body):
    response = api["admin"](method, path, body)

    assert response.status_code == 422, response.content[:300]
    assert "NUL" in answer(response)["detail"]
    assert models.Replication.objects.count() == 1 and not models.Run.objects.exists()


def test_an_escaped_backslash_before_u0000_is_text(api, demo):
    # JSON `\\u0000` is a backslash and `u0000`, no NUL: refused only as a name, not as a NUL.
    refused = api["admin"]("POST", "/replications/", {"name": "\\u0000", "source": "A", "target": "B"})
    assert refused.status_code == 422 and "NUL" not in answer(refused)["detail"]


def test_a_nul_written_as_a_yaml_escape_is_refused_with_its_line(api, demo):
    text = 'source: LOCAL\ntarget: DEMO_SQLITE\nstreams:\n  "file://x\\0.csv":\n'
    for path in ("/replications/validate/", "/replications/"):
        response = api["admin"]("POST", path, {"name": "nul", "yaml": text})
        problems = answer(response)["problems" if path.endswith("validate/") else "errors"]
        assert [(p["line"], "NUL" in p["message"]) for p in problems] == [(4, True)], path
    assert not models.Replication.objects.filter(name="nul").exists()
