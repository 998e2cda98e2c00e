"""Secrets never leave: a unique value planted in every secret-bearing connection field
(loaded by `import_connections` and typed into the connection form) is looked for in
every output of the studio: exported YAML, lineage, every page and fragment, the Django
admin, `Test connection` errors, a real failing run's log and errors, the files under
the data folder and the raw database. sling is only ever started with an argv list,
so stream names, objects, SQL and patterns with shell text stay data.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import sqlite3
import uuid
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
import yaml
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection as db
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from replication.config import ReplicationConfig
from replication.connections import env_value
from studio import models
from studio.selectors.lineage import lineage_joined
from studio.services.connections import connection_save
from studio.services.executor import run_execute
from studio.services.replications import replication_import, replication_save
from studio.services.runs import run_create

pytestmark = pytest.mark.django_db


class Planted:
    """Secrets by label (`CONNECTION.field`), each `S3CR3T-<field>-<hex>` with its own hex."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.hexes: dict[str, str] = {}

    def new(self, label: str, suffix: str = "") -> str:
        """A new secret; `suffix` adds characters that need quoting in URLs, JSON or YAML."""
        field = label.split(".", 1)[1].replace(":", "-").replace("_", "-")
        self.hexes[label] = uuid.uuid4().hex
        self.values[label] = f"S3CR3T-{field}-{self.hexes[label]}{suffix}"
        return self.values[label]

    def labels(self) -> list[str]:
        return list(self.values)

    def found(self, outputs: dict[str, str | bytes], labels: list[str]) -> dict[str, list[str]]:
        """Output name -> the labels of secrets seen in it (by their hex, so any quoting,
        escaping or URL-encoding of a secret is still found)."""
        seen: dict[str, list[str]] = {}
        for name, text in outputs.items():
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            hits = [label for label in labels if self.hexes[label] in text]
            if hits:
                seen[name] = hits
        return seen


def pem(body: str) -> str:
    return f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"


def service_account(private_key: str) -> str:
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "leaky",
            "private_key": pem(private_key),
            "client_email": "leaky@leaky.iam.gserviceaccount.com",
            "token_uri": "http://127.0.0.1:1/token",
        }
    )


def env_yaml(p: Planted) -> str:
    """A Sling env.yaml with a secret in every secret-bearing field of the usual types."""
    connections = {
        "PG_LEAK": {
            "type": "postgres",
            "host": "127.0.0.1",
            "port": 1,
            "user": "leaky",
            "password": p.new("PG_LEAK.password"),
            "database": "shop",
            "sslmode": "disable",
            "api_token": p.new("PG_LEAK.api_token"),
        },
        "PG_URL_LEAK": {
            "url": f"postgresql://leaky:{p.new('PG_URL_LEAK.url:password')}@127.0.0.1:1/shop"
            f"?sslmode=disable&sslpassword={p.new('PG_URL_LEAK.url:sslpassword')}"
            f"&token={p.new('PG_URL_LEAK.url:token')}&api_key={p.new('PG_URL_LEAK.url:api_key')}"
        },
        # sling cannot parse the URL it builds (port `x`) and prints it: password and all.
        "PG_BADPORT_LEAK": {
            "type": "postgres",
            "host": "127.0.0.1",
            "port": "x",
            "user": "leaky",
            "password": p.new("PG_BADPORT_LEAK.password", suffix=" /#%?@:'\""),
            "database": "shop",
        },
        "MYSQL_LEAK": {
            "type": "mysql",
            "host": "127.0.0.1",
            "port": 1,
            "user": "leaky",
            "password": p.new("MYSQL_LEAK.password"),
            "database": "shop",
        },
        "REDSHIFT_LEAK": {
            "type": "redshift",
            "host": "127.0.0.1",
            "port": 1,
            "user": "leaky",
            "password": p.new("REDSHIFT_LEAK.password"),
            "database": "shop",
            "bucket": "leaky",
            "aws_access_key_id": p.new("REDSHIFT_LEAK.aws_access_key_id"),
            "aws_secret_access_key": p.new("REDSHIFT_LEAK.aws_secret_access_key"),
        },
        "S3_LEAK": {
            "type": "s3",
            "bucket": "leaky",
            "region": "us-east-1",
            "endpoint": "http://127.0.0.1:1",
            "access_key_id": p.new("S3_LEAK.access_key_id"),
            "secret_access_key": p.new("S3_LEAK.secret_access_key"),
        },
        "R2_LEAK": {
            "type": "r2",
            "bucket": "leaky",
            "account_id": "leaky",
            "access_key_id": p.new("R2_LEAK.access_key_id"),
            "secret_access_key": p.new("R2_LEAK.secret_access_key"),
        },
        "SNOW_LEAK": {
            "type": "snowflake",
            "account": "leaky",
            "user": "leaky",
            "private_key": pem(p.new("SNOW_LEAK.private_key")),
            "database": "shop",
        },
        "SFTP_LEAK": {
            "type": "sftp",
            "host": "127.0.0.1",
            "port": 1,
            "user": "leaky",
            "password": p.new("SFTP_LEAK.password"),
            "private_key": pem(p.new("SFTP_LEAK.private_key")),
        },
        "DATABRICKS_LEAK": {
            "type": "databricks",
            "host": "127.0.0.1",
            "token": p.new("DATABRICKS_LEAK.token"),
            "warehouse_id": "w",
        },
        "MOTHERDUCK_LEAK": {
            "type": "motherduck",
            "database": "shop",
            "motherduck_token": p.new("MOTHERDUCK_LEAK.motherduck_token"),
        },
        "BQ_LEAK": {
            "type": "bigquery",
            "project": "leaky",
            "dataset": "shop",
            "keyfile_json": service_account(p.new("BQ_LEAK.keyfile_json")),
        },
        "GS_LEAK": {
            "type": "gs",
            "bucket": "leaky",
            "keyfile_json": service_account(p.new("GS_LEAK.keyfile_json")),
        },
        "AZURE_LEAK": {
            "type": "azure",
            "account": "leaky",
            "container": "c",
            "conn_str": "DefaultEndpointsProtocol=http;AccountName=leaky;"
            f"AccountKey={p.new('AZURE_LEAK.conn_str')};BlobEndpoint=http://127.0.0.1:1/leaky;",
            "sas_svc_url": f"http://127.0.0.1:1/c?sv=2022-11-02&sig={p.new('AZURE_LEAK.sas_svc_url')}",
        },
    }
    return yaml.safe_dump({"connections": connections}, sort_keys=False)


# Connections that fail fast and locally when tested: a refused port or a key that does not
# parse. (Databricks retries for 15 s; MotherDuck and R2 would reach the internet.)
TESTED = [
    "PG_LEAK",
    "PG_URL_LEAK",
    "PG_BADPORT_LEAK",
    "MYSQL_LEAK",
    "REDSHIFT_LEAK",
    "S3_LEAK",
    "SNOW_LEAK",
    "SFTP_LEAK",
    "BQ_LEAK",
    "GS_LEAK",
    "AZURE_LEAK",
    "FORM_PG",
    "FORM_URL",
]


@pytest.fixture
def admin_client(client, fast_hasher):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "root-password")
    client.force_login(root)
    client.raise_request_exception = False
    return client


@pytest.fixture
def planted(admin_client, data_dir, tmp_path_factory):
    """Every connection planted, three replications reading PostgreSQL ones, a refused run."""
    p = Planted()
    env = tmp_path_factory.mktemp("input") / "env.yaml"  # outside the data folder, searched later
    env.write_text(env_yaml(p))
    call_command("import_connections", str(env), stdout=io.StringIO())

    # The same kinds of secrets typed into the connection form.
    forms = [
        {
            "name": "FORM_PG",
            "type": "postgres",
            "host": "127.0.0.1",
            "port": "1",
            "user": "leaky",
            "password": p.new("FORM_PG.password"),
            "database": "shop",
            "sslmode": "disable",
            "other": f"api_token: {p.new('FORM_PG.api_token')}",
        },
        {
            "name": "FORM_URL",
            "type": "postgres",
            "url": f"postgresql://leaky:{p.new('FORM_URL.url:password')}@127.0.0.1:1/shop"
            f"?sslmode=disable&token={p.new('FORM_URL.url:token')}",
        },
        {
            "name": "FORM_S3",
            "type": "s3",
            "bucket": "leaky",
            "endpoint": "http://127.0.0.1:1",
            "access_key_id": p.new("FORM_S3.access_key_id"),
            "secret_access_key": p.new("FORM_S3.secret_access_key"),
        },
        {
            "name": "FORM_BQ",
            "type": "bigquery",
            "project": "leaky",
            "dataset": "shop",
            # The form's field for a key's JSON body, as Sling names it.
            "key_body": service_account(p.new("FORM_BQ.key_body")),
        },
    ]
    for data in forms:
        response = admin_client.post("/connections/new/", data)
        assert response.status_code == 302, response.content.decode()[:2000]

    target = data_dir / "files" / "target.sqlite"
    target.parent.mkdir()
    connection_save(name="TARGET_DB", fields={"type": "sqlite", "url": f"sqlite://{target}"})
    for name, source in (
        ("leaky", "PG_LEAK"),
        ("leaky_url", "PG_URL_LEAK"),
        ("leaky_port", "PG_BADPORT_LEAK"),
    ):
        text = f"source: {source}\ntarget: TARGET_DB\nstreams:\n  public.users:\n    object: main.users\n"
        replication_import(name=name, text=text)
    run_create(replication="leaky", streams=["no-such-stream"])  # refused: a failed run to show
    return p


def assert_no_leak(p: Planted, outputs: dict[str, str | bytes]) -> None:
    assert outputs
    assert p.found(outputs, p.labels()) == {}


def test_every_secret_is_planted_and_given_to_sling(planted):
    # Without this, finding nothing anywhere would prove nothing.
    assert len(planted.values) >= 30
    environments = {
        c.name: json.loads(env_value(c.type, c.full_params())) for c in models.Connection.objects.all()
    }
    for label, value in planted.values.items():
        name, field = label.split(".", 1)
        fields = environments[name]
        assert value in (unquote_plus(fields["url"]) if field.startswith("url:") else fields[field]), label


def test_the_secrets_are_encrypted_in_the_raw_database(planted):
    with db.cursor() as cursor:
        cursor.execute("SELECT name, secrets FROM studio_connection")
        raw = dict(cursor.fetchall())
    assert set(raw) >= {label.split(".")[0] for label in planted.values}
    assert_no_leak(planted, raw)
    # ...and the secrets are in there, encrypted.
    assert (
        models.Connection.objects.get(name="PG_LEAK").secrets["password"]
        == planted.values["PG_LEAK.password"]
    )


def raw_database() -> dict[str, str]:
    """Every row of every table, as the database holds it."""
    dump = {}
    with db.cursor() as cursor:
        for table in db.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {db.ops.quote_name(table)}")  # noqa: S608 - known names
            dump[table] = repr(cursor.fetchall())
    return dump


def test_no_secret_is_anywhere_in_the_raw_database(planted):
    assert_no_leak(planted, raw_database())


def test_no_secret_in_exported_yaml_or_lineage(planted):
    outputs: dict[str, str | bytes] = {}
    for name in ("leaky", "leaky_url"):
        out = io.StringIO()
        call_command("export_replication", name, stdout=out)
        outputs[f"export {name}"] = out.getvalue()
        assert f"source: {'PG_LEAK' if name == 'leaky' else 'PG_URL_LEAK'}" in out.getvalue()
    for fmt in ("json", "dot"):
        out = io.StringIO()
        call_command("lineage", "--format", fmt, stdout=out)
        outputs[f"lineage {fmt}"] = out.getvalue()
        assert "main" in out.getvalue()

    assert_no_leak(planted, outputs)


# --- every page -----------------------------------------------------------------------------


def _routes() -> list[str]:
    found: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if not route.startswith("admin/"):
                    walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and pattern.name != "logout":
                found.append(route)

    walk(get_resolver().url_patterns, "")
    return found


def _paths(route: str) -> list[str]:
    """`route` with every stored object filled in (all of them, not one)."""
    if route.startswith("r/"):
        lists = []
        for rep in models.Replication.objects.all():
            values = {
                "name": [rep.name],
                "pk": [s.pk for s in rep.streams.all()],
                "version": [r.version for r in rep.revisions.all()],
            }
            lists.append(values)
    elif route.startswith("connections/"):
        lists = [{"name": list(models.Connection.objects.values_list("name", flat=True))}]
    elif route.startswith("runs/"):
        lists = [{"pk": list(models.Run.objects.values_list("pk", flat=True))}]
    else:
        lists = [
            {
                "pk": list(models.DownstreamAsset.objects.values_list("pk", flat=True)),
                "fmt": ["json", "dot"],
                "key": [],
            }
        ]
    paths = []
    for values in lists:
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        for combo in itertools.product(*(values.get(n, []) for n in names)):
            filled = dict(zip(names, combo, strict=True))
            paths.append("/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m, f=filled: str(f[m[1]]), route))
    return paths


def _extra_paths() -> list[str]:
    """Pages that show more with a query: each connection type's form, each graph node."""
    extra = [f"/connections/new/?type={t}" for t in models.Connection.objects.values_list("type", flat=True)]
    extra += [f"/connections/{c.name}/?type={c.type}" for c in models.Connection.objects.all()]
    extra += ["/runs/?replication=leaky", "/runs/?replication=leaky&stream=public.users"]
    for node in lineage_joined():
        extra.append(f"/lineage/node/?key={node}")
        extra.append(f"/lineage/suggest/?q={node[:4]}")
    return extra


def every_page(client: Any) -> dict[str, str | bytes]:
    """GET of every studio URL, as a page and as an htmx fragment: path -> content."""
    outputs: dict[str, str | bytes] = {}
    paths = [p for route in _routes() for p in _paths(route)] + _extra_paths()
    for path in paths:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(path, headers=headers)
            # /readyz answers 503 by design while no worker beats (none does here).
            assert response.status_code < 500 or path == "/readyz", (path, headers, response.status_code)
            # The audit trail's export is streamed: read whole.
            content = b"".join(response.streaming_content) if response.streaming else response.content
            outputs[f"{path} {headers}"] = content
            outputs.update(unzipped(f"{path} {headers}", content))
    return outputs


def unzipped(name: str, content: bytes) -> dict[str, str | bytes]:
    """The files of a zip download (an export), which are compressed in the response."""
    if not content.startswith(b"PK\x03\x04"):
        return {}
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {f"{name} {member}": archive.read(member) for member in archive.namelist()}


def connection_forms(client: Any) -> dict[str, str | bytes]:
    """Each stored connection's form re-rendered: for another type (htmx) and refused (422)."""
    outputs: dict[str, str | bytes] = {}
    for c in models.Connection.objects.all():
        path = f"/connections/{c.name}/"
        for conn_type in {c.type, "postgres", "bigquery"}:
            data = {"refresh": "1", "name": c.name, "type": conn_type}
            response = client.post(path, data, headers={"HX-Request": "true"})
            assert response.status_code == 200, (path, conn_type)
            outputs[f"POST {path} refresh {conn_type}"] = response.content
        response = client.post(path, {"name": "not a name!", "type": c.type})
        assert response.status_code == 422, path
        outputs[f"POST {path} refused"] = response.content
    return outputs


def test_no_secret_on_any_page_or_fragment(planted, admin_client):
    outputs = {**every_page(admin_client), **connection_forms(admin_client)}

    # The walk reached the pages that show connections and their settings.
    assert any("/connections/PG_LEAK/" in name for name in outputs)
    assert "PG_LEAK" in outputs["/connections/ {}"].decode()
    assert len(outputs) > 100
    assert_no_leak(planted, outputs)


def admin_pages(client: Any) -> dict[str, str | bytes]:
    """The admin index, and the list, add and each change and history page of every model."""
    outputs: dict[str, str | bytes] = {}
    paths = ["/admin/"]
    for model in admin.site._registry:
        meta = model._meta
        paths.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        paths.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        for pk in model.objects.values_list("pk", flat=True)[:50]:
            for view in ("change", "history"):
                paths.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[pk]))
    for path in paths:
        response = client.get(path)
        # Some models (the task queue's) refuse adding by hand: 403 is an answer, 500 is not.
        assert response.status_code in (200, 403), (path, response.status_code)
        # The studio's rows are all shown; those read-only in the admin (replications, streams,
        # downstream assets, the audit trail) refuse adding.
        assert response.status_code == 200 or "/studio/" not in path or path.endswith("/add/"), path
        outputs[path] = response.content
    return outputs


# Django's own admin templates leave some variables undefined on purpose.
@pytest.mark.ignore_template_errors
def test_no_secret_in_the_django_admin(planted, admin_client):
    outputs = admin_pages(admin_client)

    pk = models.Connection.objects.get(name="PG_LEAK").pk
    assert "127.0.0.1" in outputs[f"/admin/studio/connection/{pk}/change/"].decode()
    assert_no_leak(planted, outputs)


# Secrets whose names hide them (a service-account key, an Azure connection string).
@pytest.mark.parametrize("field", ["keyfile_json", "conn_str"])
@pytest.mark.ignore_template_errors  # it reads the admin's pages too (above)
def test_a_key_file_or_connection_string_is_kept_secret(planted, admin_client, field):
    labels = [label for label in planted.values if label.endswith(f".{field}")]
    assert labels
    outputs = {
        **raw_database(),
        **every_page(admin_client),
        **connection_forms(admin_client),
        **admin_pages(admin_client),
    }

    assert planted.found(outputs, labels) == {}


# --- sling: Test connection, discover, a real run -------------------------------------------


@pytest.mark.sling
def test_no_secret_in_the_errors_of_test_connection(planted, admin_client):
    outputs: dict[str, str | bytes] = {}
    for name in TESTED:
        import time

        t0 = time.time()
        response = admin_client.post(f"/connections/{name}/test/")
        print("TIME", name, round(time.time() - t0, 2), repr(response.content.decode()[:400]))
        assert response.status_code == 200, name
        # Each one failed, with sling's reason: the test saw a real error message.
        assert "✗" in response.content.decode(), (name, response.content.decode())
        outputs[f"test {name}"] = response.content
    discover = admin_client.post("/connections/PG_LEAK/discover/", {"pattern": "public.*"})
    assert discover.status_code == 200
    outputs["discover PG_LEAK"] = discover.content
    # Whatever sling said (connection refused), the answer only says it failed: its reason
    # would tell an open port from a closed one.
    assert (
        outputs["test PG_LEAK"].decode().strip() == '<span class="error">✗ PG_LEAK: could not connect</span>'
    )

    assert_no_leak(planted, outputs)


def files_under(folder: Path) -> dict[str, str | bytes]:
    return {str(path): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.mark.sling
def test_no_secret_in_a_failed_run(planted, admin_client, data_dir):
    outputs: dict[str, str | bytes] = {}
    for name in ("leaky", "leaky_url", "leaky_port"):
        lines: list[str] = []
        run = run_create(replication=name)
        assert run.status == "queued", run.error
        run = run_execute(run, on_line=lines.append)

        assert run.status == "failed"
        assert re.search("connection refused|invalid port", run.log_file.read_text())
        outputs[f"run {name} error"] = run.error
        outputs[f"run {name} lines"] = "\n".join(lines)
        for stream in run.run_streams.all():
            outputs[f"run {name} stream {stream.name} error"] = stream.error
        for path in (f"/runs/{run.pk}/", f"/runs/{run.pk}/status/", f"/runs/{run.pk}/log/"):
            outputs[path] = admin_client.get(path).content
    # The log files, sling's home and the run folders: everything a run leaves on disk.
    outputs.update(files_under(data_dir))
    assert any(name.endswith("sling.log") for name in outputs)

    assert_no_leak(planted, outputs)


# --- sling gets an argv list: shell text is data ---------------------------------------------


@pytest.mark.sling
def test_shell_text_in_names_objects_sql_and_patterns_is_only_data(planted, admin_client, tmp_path):
    tag = uuid.uuid4().hex
    pwned = [Path(f"/tmp/pwned-{tag}"), Path(f"/tmp/pwned2-{tag}"), Path(f"/tmp/pwned3-{tag}")]
    pwned += [Path(f"/tmp/pwned4-{tag}"), Path(f"/tmp/pwned5-{tag}")]
    source = tmp_path / "source.sqlite"
    with sqlite3.connect(source) as con:
        con.execute("create table users (id integer, name text)")
        con.execute("insert into users values (1, 'a')")
    connection_save(name="SRC_DB", fields={"type": "sqlite", "url": f"sqlite://{source}"})
    streams = {
        "--help": {"object": "main.help"},
        f"x; touch {pwned[0]}": {"object": "main.x"},
        "main.users": {"object": f"main.$(touch {pwned[1]})"},
        "q": {"sql": f"select 1 as one -- `touch {pwned[2]}` $(touch {pwned[3]})", "object": "main.q"},
    }
    # Stored without validation (which refuses `main.$(...)`, as sling does): the runner must
    # keep such text data even when it got in some other way (the admin, an older studio).
    config = ReplicationConfig(
        source="SRC_DB", target="TARGET_DB", streams=streams, defaults={"mode": "full-refresh"}
    )
    replication_save(name="shell", config=config)

    statuses = {}
    # One run per stream: sling refuses a whole run at the first object it cannot use.
    for chosen in [[name] for name in streams]:
        lines: list[str] = []
        run = run_execute(run_create(replication="shell", streams=chosen), on_line=lines.append)
        assert run.status in ("succeeded", "failed")
        # The command line is the binary, `run -r FILE`: names travel in the file, not as arguments.
        config = run.log_file.parent / "replication.yaml"
        assert re.fullmatch(rf"\$ \S+ run -r {re.escape(str(config))}", lines[0]), lines[0]
        assert yaml.safe_load(config.read_text())["streams"] == {chosen[0]: streams[chosen[0]]}
        statuses[chosen[0]] = run.status
    response = admin_client.post("/connections/SRC_DB/discover/", {"pattern": f"--help; touch {pwned[4]}"})
    assert response.status_code == 200

    assert [path for path in pwned if path.exists()] == []
    # sling read the SQL stream (the shell text is a comment to SQLite) and wrote its table.
    assert statuses["q"] == "succeeded", statuses
