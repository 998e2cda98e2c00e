"""API tokens in Chromium: make one on the tokens page, use it from Python's HTTP client to
start a run and read it, revoke it on the page, and see it refused; the API's reference page
draws in the studio's Content-Security-Policy."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from studio import models

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _call(base: str, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    """Python's own HTTP client, as a CI job's script would call the API."""
    request = urllib.request.Request(  # noqa: S310 - the live server's http:// address
        f"{base}/api/v1{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_token_is_made_used_to_start_a_run_and_revoked(page, tmp_path):
    page.click("text=API tokens")
    page.fill("#id_name", "ci-deploy")
    page.click("button:has-text('Make token')")
    token = page.input_value("#new-token")
    assert token.startswith("sst_")
    page.screenshot(path=tmp_path / "token-made.png", full_page=True)

    status, run = _call(page.base, "POST", "/runs/", token, {"replication": "demo"})
    assert status == 201 and run["status"] == "queued" and run["requested_by"] == "demo"
    assert models.Run.objects.get(pk=run["id"]).requested_by.username == "demo"
    status, read = _call(page.base, "GET", f"/runs/{run['id']}/", token)
    assert status == 200 and read["id"] == run["id"]

    # The list shows its last use; the token itself is not on the page any more.
    page.goto(f"{page.base}/tokens/")
    row = page.locator("tr", has_text="ci-deploy")
    assert token not in page.content()
    assert "never" not in row.locator("td").nth(6).inner_text()
    page.on("dialog", lambda dialog: dialog.accept())
    row.locator("button:has-text('Revoke')").click()
    page.locator(".flash", has_text="Revoked the token ci-deploy").wait_for()

    status, refused = _call(page.base, "GET", f"/runs/{run['id']}/", token)
    assert status == 401 and refused["status"] == 401


def test_the_reference_page_draws_from_the_studios_own_files(page):
    blocked: list[str] = []
    elsewhere: list[str] = []  # vendored assets: nothing is asked of any other host
    page.on("console", lambda message: blocked.append(message.text) if message.type == "error" else None)
    page.on(
        "request",
        lambda request: None if request.url.startswith(page.base) else elsewhere.append(request.url),
    )
    page.goto(f"{page.base}/api/v1/docs/")
    page.locator(".swagger-ui .info .title", has_text="Sling Studio API").wait_for()
    page.locator(".opblock-summary-path", has_text="/api/v1/runs/").first.wait_for()
    assert not [m for m in blocked if "Content Security Policy" in m]
    assert elsewhere == []
