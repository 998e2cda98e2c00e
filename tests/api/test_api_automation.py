"""Schedules, the retry and freshness policy, alert channels, the lineage and the Dagster zip
over the API."""

from __future__ import annotations

import io
import zipfile

from api_client import answer

from studio import models

HOOK_TOKEN = "T000-planted-hook-token"


def test_a_schedule_made_changed_paused_and_deleted(api, demo):
    operator = api["operator"]
    made = operator(
        "POST", "/replications/demo/schedules/", {"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin"}
    )
    assert made.status_code == 201
    schedule = answer(made)
    assert schedule["words"].startswith("At 06:00") and schedule["next_fire"]
    url = f"/replications/demo/schedules/{schedule['id']}/"

    changed = operator("PUT", url, {"cron": "30 7 * * *", "version": schedule["version"]})
    assert changed.status_code == 200 and answer(changed)["cron"] == "30 7 * * *"
    stale = operator("PUT", url, {"cron": "0 1 * * *"}, **{"If-Match": f'"{schedule["version"]}"'})
    assert stale.status_code == 412 and "30 7 * * *" in answer(stale)["changes"]

    assert answer(operator("POST", f"{url}pause/"))["enabled"] is False
    assert answer(operator("POST", f"{url}resume/"))["next_fire"]
    assert operator("DELETE", url).status_code == 204
    assert not models.Schedule.objects.exists()


def test_a_bad_schedule_is_refused_naming_its_field(api, demo):
    refused = api["operator"]("POST", "/replications/demo/schedules/", {"cron": "61 * * * *"})
    assert refused.status_code == 422 and answer(refused)["errors"][0]["field"] == "cron"
    zone = api["operator"](
        "POST", "/replications/demo/schedules/", {"cron": "0 6 * * *", "timezone": "Mars/Olympus"}
    )
    assert answer(zone)["errors"][0]["field"] == "timezone"
    span = api["operator"](
        "POST", "/replications/demo/schedules/", {"cron": "0 6 * * *", "range": "2024-01-01"}
    )
    assert answer(span)["errors"][0]["field"] == "range"


def test_a_schedule_s_range_is_kept(api, demo):
    made = api["operator"]("POST", "/replications/demo/schedules/", {"cron": "0 6 * * *", "range": "1,9"})
    assert made.status_code == 201 and answer(made)["range"] == "1,9"


def test_the_policy_names_its_version(api, demo):
    assert answer(api["viewer"]("GET", "/replications/demo/policy/"))["version"] == 0
    saved = api["operator"](
        "PUT", "/replications/demo/policy/", {"version": 0, "retries": 2, "retry_backoff": 30}
    )
    assert saved.status_code == 200 and answer(saved)["retries"] == 2
    again = api["operator"](
        "PUT", "/replications/demo/policy/", {"version": 0, "retries": 3, "retry_backoff": 30}
    )
    assert again.status_code == 409
    too_many = api["operator"](
        "PUT", "/replications/demo/policy/", {"version": 1, "retries": 11, "retry_backoff": 30}
    )
    assert too_many.status_code == 422 and answer(too_many)["errors"][0]["field"] == "retries"


def test_alert_channels_show_a_webhook_by_its_host_only(api, demo):
    made = api["operator"](
        "POST",
        "/replications/demo/alerts/",
        {"webhook": f"https://hooks.example.com/services/{HOOK_TOKEN}", "events": ["failure", "recovery"]},
    )
    assert made.status_code == 201
    [channel] = answer(made)
    assert channel["target"] == "https://hooks.example.com/…"
    listed = api["viewer"]("GET", "/replications/demo/alerts/")
    assert HOOK_TOKEN not in listed.content.decode() and HOOK_TOKEN not in made.content.decode()

    url = f"/replications/demo/alerts/{channel['id']}/"
    assert answer(api["operator"]("POST", f"{url}pause/"))["enabled"] is False
    assert api["operator"]("DELETE", url).status_code == 204
    bad = api["operator"]("POST", "/replications/demo/alerts/", {"email": "nobody", "events": ["failure"]})
    assert bad.status_code == 422 and answer(bad)["errors"][0]["field"] == "email"


def test_the_lineage_is_the_commands_document(api, demo):
    whole = answer(api["viewer"]("GET", "/lineage/?replication=demo"))
    assert {tuple(n["key"]) for n in whole["nodes"] if n["kind"] == "target"} == {
        ("target", "main", "customers"),
        ("target", "main", "orders"),
        ("target", "main", "products"),
    }
    chosen = answer(api["viewer"]("GET", "/lineage/?select=%2Btarget/main/orders"))
    assert [n["key"] for n in chosen["nodes"]] == [
        ["file_demo_data_orders", "csv"],
        ["target", "main", "orders"],
    ]
    assert api["viewer"]("GET", "/lineage/?select=%2B%2B%2B").status_code == 422
    assert api["viewer"]("GET", "/lineage/?replication=nothing").status_code == 404


def test_the_dagster_code_location_is_a_zip(api, demo):
    for path in ("/replications/demo/dagster/", "/dagster/"):
        response = api["viewer"]("GET", path)
        assert response["Content-Type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        assert any(name.endswith("definitions.py") for name in names), path
