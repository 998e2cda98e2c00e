"""What a run reaches (issue 12, problem 1): sling's environment is an allowlist.

A run gets the connections its replication names (source, target, the `connection:` of its
hooks), Sling's own settings and a few process variables, nothing else of the studio's
environment: no other connection, no secret of the studio's process. An editor's way to read
what sling's environment holds, `${NAME}` in the replication's `env:` map (which sling expands
from its environment), is used here to look.
"""

from __future__ import annotations

import json

import pytest
from run_support import replication, sqlite_connection, tables, write_csv

from replication import sling
from replication.config import ReplicationConfig, needed_connections
from studio import models
from studio.services.connections import connection_save
from studio.services.executor import run_execute
from studio.services.runs import run_create

STUDIO_TOKEN = "planted7Q"  # a secret in the studio's own environment
# Not ASCII, so the environment's JSON writes it as p\u00e4sswort-...: no mask finds that form.
OTHER_PASSWORD = "pässwort-Other9"


def leaked(text: str) -> list[str]:
    forms = [STUDIO_TOKEN, OTHER_PASSWORD, json.dumps(OTHER_PASSWORD)[1:-1]]
    return [form for form in forms if form.lower() in text.lower()]


@pytest.mark.sling
@pytest.mark.django_db
def test_a_run_reaches_only_the_connections_it_names(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_TEST_TOKEN", STUDIO_TOKEN)
    connection_save(
        name="OTHER",
        fields={"type": "postgres", "host": "127.0.0.1", "user": "u", "password": OTHER_PASSWORD},
    )
    target = tmp_path / "target.sqlite"
    sqlite_connection("TARGET_DB", target)
    write_csv(tmp_path / "a.csv", 3)
    write_csv(tmp_path / "b.csv", 3)
    replication(
        "shop",
        "source: LOCAL\ntarget: TARGET_DB\n"
        "env:\n  TOKEN: '${STUDIO_TEST_TOKEN}'\n  THE_OTHER: '${OTHER}'\n"
        "defaults:\n  mode: full-refresh\n  source_options: {format: csv, header: true}\n"
        f"streams:\n  file://{tmp_path}/a.csv:\n    object: 'main.t_{{TOKEN}}'\n"
        f"  file://{tmp_path}/b.csv:\n    object: '{{THE_OTHER}}main.other'\n",
    )

    run = run_execute(run_create(replication="shop"))

    log = run.log_file.read_text()
    assert run.status == "succeeded", log
    # Both variables were empty for sling.
    assert tables(target) == {"t_", "other"}
    errors = " ".join([run.error, *models.RunStream.objects.values_list("error", flat=True)])
    assert leaked(log + errors) == []


def test_the_environment_is_an_allowlist(tmp_path):
    base = {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "HOME": "/home/studio",
        "SLING_THREADS": "4",
        "SLING_ENV_YAML": "connections: {X: {type: postgres, password: p}}",
        "SECRET_KEY": "k",
        "DATABASE_URL": "postgres://studio:pw@db/studio",
        "AWS_SECRET_ACCESS_KEY": "aws",
        "DBT_PROFILES_DIR": "/home/studio/.dbt",
        "ENV_YAML": "connections: {}",
        "UNNAMED_CONNECTION": "postgres://u:p@h/db",
    }

    env = sling.environment({"TARGET_DB": '{"type": "sqlite"}'}, home=tmp_path / "home", base=base)

    assert env == {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "SLING_THREADS": "4",
        # Sling's home is HOME too: no ~/.dbt/profiles.yml or ~/.ssh/id_rsa of the studio's user.
        "HOME": str(tmp_path / "home"),
        "SLING_HOME_DIR": str(tmp_path / "home"),
        "SLING_LOGGING": "JSON",
        "NO_COLOR": "1",
        "SLING_SHOW_PROGRESS": "true",  # its progress bar without a terminal: the live row count
        # Its scratch files in a folder of its own, where the kernel lets it write (issue 22).
        "TMPDIR": str(tmp_path / "home" / "tmp"),
        "TARGET_DB": '{"type": "sqlite"}',
    }


@pytest.mark.parametrize(
    "text",
    ["env:\n  X: '${SOURCE_DB}'\n", "env:\n  X: $SOURCE_DB\n", "streams:\n  a: {sql: select '$SOURCE_DB'}\n"],
)
def test_a_reference_to_a_connection_of_the_run_is_refused(tmp_path, text):
    with pytest.raises(sling.RunError) as refused:
        sling.environment({"SOURCE_DB": "{}", "TARGET_DB": "{}"}, home=tmp_path, base={}, text=text)

    assert str(refused.value) == (
        "the replication refers to $SOURCE_DB: sling would replace it with connection SOURCE_DB, "
        "secrets included; write the value itself"
    )


def test_a_connection_field_naming_another_connection_is_refused(tmp_path):
    connections = {"SOURCE_DB": '{"host": "$TARGET_DB", "type": "postgres"}', "TARGET_DB": "{}"}

    with pytest.raises(sling.RunError, match=r"^connection SOURCE_DB refers to \$TARGET_DB: "):
        sling.environment(connections, home=tmp_path, base={})


def test_the_connections_a_run_needs_include_those_of_its_hooks():
    hook = {"type": "query", "connection": "AUDIT", "query": "select 1"}
    config = ReplicationConfig(
        source="PG",
        target="local",
        hooks={"start": [hook]},
        defaults={"hooks": {"pre": [{**hook, "connection": "DEFAULTS_DB"}]}},
        streams={"a": {"hooks": {"post": [{**hook, "connection": "STREAM_DB"}, {"type": "log"}]}}, "b": None},
    )

    assert needed_connections(config) == ["PG", "AUDIT", "DEFAULTS_DB", "STREAM_DB"]
