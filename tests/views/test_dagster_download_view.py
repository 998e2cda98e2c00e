from __future__ import annotations

import io
import zipfile

from django.contrib.auth import get_user_model

from studio.services.dagster import dagster_location


def test_a_viewer_downloads_the_code_location_as_a_zip(client, demo):
    # No secret is in it, so every signed-in user may have it, as they may the YAML.
    client.force_login(get_user_model().objects.get(username="viewer"))

    response = client.get("/r/demo/dagster/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="demo-dagster.zip"'
    files = dagster_location(names=["demo"])
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == sorted(f"demo-dagster/{path}" for path in files)
        assert archive.read("demo-dagster/definitions.py").decode() == files["definitions.py"]


def test_the_editor_offers_it(client, user, demo):
    response = client.get("/r/demo/")

    assert 'href="/r/demo/dagster/"' in response.content.decode()
    assert "Export to Dagster" in response.content.decode()


def test_it_sends_anonymous_users_to_sign_in(client, demo):
    response = client.get("/r/demo/dagster/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_404s_for_an_unknown_replication(client, user):
    assert client.get("/r/nope/dagster/").status_code == 404


def test_it_rejects_post(client, user, demo):
    assert client.post("/r/demo/dagster/").status_code == 405
