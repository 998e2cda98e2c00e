"""Replications over the API: created and replaced from YAML kept byte for byte, refused with
the problems and their lines, versions named (409, 412, 428), validated without storing, a
folder imported all or nothing, revisions and diffs."""

from __future__ import annotations

from api_client import answer

from studio import models
from studio.selectors.replications import replication_yaml
from studio.services.replications import replication_check_text

# Comments, flow style, quoting, a blank line and CRLF line ends: all kept.
TEXT = (
    "\ufeff# orders, nightly\r\n"
    "source: LOCAL\r\n"
    "target: DEMO_SQLITE\r\n"
    "\r\n"
    "defaults: {mode: full-refresh, source_options: {format: csv, header: true}}\r\n"
    "streams:\r\n"
    "  'file://demo/data/orders.csv':   # the big one\r\n"
    "    object: main.orders_copy\r\n"
)
BAD = (
    "source: LOCAL\ntarget: DEMO_SQLITE\nstreams:\n"
    "  file://demo/data/orders.csv:\n    object: main.x\n    mode: sometimes\n"  # line 6
)


def test_a_replication_created_from_yaml_comes_back_byte_for_byte(api, demo):
    created = api["editor"]("POST", "/replications/", {"name": "orders", "yaml": TEXT})

    assert created.status_code == 201
    assert created["ETag"] == '"1"'
    body = answer(created)
    assert (body["name"], body["version"], body["source"]) == ("orders", 1, "LOCAL")
    assert [s["name"] for s in body["streams"]] == ["file://demo/data/orders.csv"]
    exported = api["viewer"]("GET", "/replications/orders/yaml/")
    assert exported["Content-Type"] == "application/yaml; charset=utf-8"
    assert exported.content == TEXT.encode()
    assert exported.content.decode() == replication_yaml(name="orders")  # what export_replication writes


def test_a_replication_with_errors_is_refused_with_its_lines(api, demo):
    refused = api["editor"]("POST", "/replications/", {"name": "bad", "yaml": BAD})

    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    problem = answer(refused)
    assert problem["type"] == "urn:sling-studio:problem:refused"
    [error] = [e for e in problem["errors"] if e["severity"] == "error"]
    assert error["line"] == 6
    assert error["field"] == 'streams["file://demo/data/orders.csv"].mode'
    assert "sometimes" in error["message"]
    assert "Traceback" not in refused.content.decode()
    assert not models.Replication.objects.filter(name="bad").exists()


def test_a_name_taken_or_malformed_is_refused(api, demo):
    taken = api["editor"]("POST", "/replications/", {"name": "demo", "yaml": TEXT})
    assert taken.status_code == 422 and answer(taken)["errors"][0]["field"] == "name"
    bad = api["editor"]("POST", "/replications/", {"name": "no spaces", "source": "A", "target": "B"})
    assert bad.status_code == 422
    assert models.Replication.objects.count() == 1


def test_an_empty_replication_is_made_from_a_source_and_a_target(api, demo):
    created = api["editor"](
        "POST", "/replications/", {"name": "empty", "source": "LOCAL", "target": "DEMO_SQLITE"}
    )
    assert created.status_code == 201 and answer(created)["streams"] == []
    missing = api["editor"]("POST", "/replications/", {"name": "nothing"})
    assert missing.status_code == 422
    assert "send `yaml`" in answer(missing)["detail"]


def test_a_replace_names_the_version_it_edits(api, demo):
    editor = api["editor"]
    etag = editor("GET", "/replications/demo/")["ETag"]
    assert etag == '"1"'

    replaced = editor("PUT", "/replications/demo/", {"yaml": TEXT}, **{"If-Match": etag})

    assert replaced.status_code == 200 and replaced["ETag"] == '"2"'
    assert editor("GET", "/replications/demo/yaml/").content == TEXT.encode()

    # Someone else, who read version 1: refused with what changed since (412 for If-Match).
    theirs = TEXT.replace("nightly", "hourly")
    stale = api["admin"]("PUT", "/replications/demo/", {"yaml": theirs}, **{"If-Match": '"1"'})
    assert stale.status_code == 412
    problem = answer(stale)
    assert (problem["version"], problem["base_version"]) == (2, 1)
    assert "# orders, nightly" in problem["changes"]
    # ...or 409 when the version came in the body; and nothing at all is refused with 428.
    assert api["admin"]("PUT", "/replications/demo/", {"yaml": TEXT, "version": 1}).status_code == 409
    missing = api["admin"]("PUT", "/replications/demo/", {"yaml": TEXT})
    assert missing.status_code == 428
    assert "version" in answer(missing)["detail"]
    assert models.Replication.objects.get(name="demo").version == 2


def test_validate_finds_what_the_editor_finds_and_stores_nothing(api, demo):
    checked = api["viewer"]("POST", "/replications/validate/", {"yaml": BAD})

    assert checked.status_code == 200
    body = answer(checked)
    assert body["valid"] is False and body["errors"] == 1
    expected = replication_check_text(BAD)
    assert [(p["message"], p["line"]) for p in body["problems"]] == [(p.message, p.line) for p in expected]
    assert models.Replication.objects.count() == 1

    several = answer(api["viewer"]("POST", "/replications/validate/", {"files": {"good": TEXT, "bad": BAD}}))
    assert several["valid"] is False
    assert [p["where"] for p in several["problems"] if p["severity"] == "error"] == ["bad.yaml:6"]
    unreadable = answer(api["viewer"]("POST", "/replications/validate/", {"yaml": "streams: [\n"}))
    assert unreadable["valid"] is False and unreadable["problems"][0]["line"]


def test_a_folder_is_imported_all_or_nothing(api, demo):
    refused = api["editor"]("POST", "/replications/import/", {"files": {"orders": TEXT, "bad": BAD}})
    assert refused.status_code == 422
    assert [e["where"] for e in answer(refused)["errors"] if e["severity"] == "error"] == ["bad.yaml:6"]
    assert not models.Replication.objects.filter(name="orders").exists()

    done = api["editor"](
        "POST", "/replications/import/", {"files": {"orders": TEXT, "demo": replication_yaml(name="demo")}}
    )
    assert done.status_code == 200
    outcomes = {r["name"]: r["outcome"] for r in answer(done)["replications"]}
    assert outcomes == {"orders": "imported", "demo": "unchanged"}


def test_revisions_and_the_diff_of_two(api, demo):
    editor = api["editor"]
    editor("PUT", "/replications/demo/", {"yaml": TEXT, "version": 1})

    revisions = answer(editor("GET", "/replications/demo/revisions/"))
    assert [(r["version"], r["author"]) for r in revisions] == [(2, "editor"), (1, None)]
    diff = answer(editor("GET", "/replications/demo/diff/?a=1&b=2"))["diff"]
    assert diff.startswith("--- version 1\n+++ version 2\n")
    assert editor("GET", "/replications/demo/diff/?a=1&b=9").status_code == 404


def test_a_delete_names_the_version_it_deletes(api, demo):
    editor = api["editor"]
    assert editor("DELETE", "/replications/demo/?version=7").status_code == 409
    assert editor("DELETE", "/replications/demo/").status_code == 428
    assert models.Replication.objects.filter(name="demo").exists()

    assert editor("DELETE", "/replications/demo/", **{"If-Match": '"1"'}).status_code == 204
    assert not models.Replication.objects.exists()
    assert editor("GET", "/replications/demo/").status_code == 404


def test_the_list_is_searched_and_paged(api, demo, make_replication):
    for i in range(3):
        make_replication(f"shop{i}", streams=2)
    page = answer(api["viewer"]("GET", "/replications/?q=shop&per_page=2&page=2"))
    assert (page["count"], page["pages"], page["page"]) == (3, 2, 2)
    assert [(r["name"], r["streams"]) for r in page["items"]] == [("shop2", 2)]
    assert answer(api["viewer"]("GET", "/replications/?page=0"))["detail"]  # 422, said in a problem


def test_problems_are_the_editors(api, demo, known_connections):
    api["editor"]("POST", "/replications/", {"name": "twice", "yaml": TEXT.replace("orders_copy", "orders")})
    problems = answer(api["viewer"]("GET", "/replications/twice/problems/"))["problems"]
    # The demo writes main.orders too: the editor warns of the asset key both define.
    assert [p["code"] for p in problems] == ["key-conflict"]
