"""Every address sling is sent to goes through the reach rules (issue 22, finding 4): an S3
`endpoint` reached a host outside STUDIO_CONNECTION_HOSTS, 169.254.169.254 as an endpoint was
not refused, `tns`, `http_url`, `conn_str` were not looked at. Now every field sling reads as an
address, per type, and the URL sling makes of a connection's fields are judged, with every
spelling of an address read as sling (and the system's resolver) would. What sling 1.4.11 does
with the spellings was measured against a loopback listener: tests/services/test_connection_addresses.py."""

from __future__ import annotations

import base64
import ipaddress
from pathlib import Path

import pytest

from replication import sling
from replication.fence import Fence
from replication.reach import Reach, connection_hosts

METADATA = "169.254.169.254"
ANYWHERE = Fence(roots=(Path("/"),))
NEVER = "is a link-local or metadata address, never open to connections"


def refusal(conn_type: str, fields: dict[str, object], reach: Reach | None = None) -> str | None:
    try:
        sling.check_reach(ANYWHERE, reach or Reach(), connections=[("C", conn_type, fields)])
    except sling.RunError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize(
    "host",
    [
        "2852039166",  # decimal
        "0251.0376.0251.0376",  # octal
        "0xa9fea9fe",  # hexadecimal
        "0XA9FEA9FE",
        "0xa9.0xfe.0xa9.0xfe",
        "169.254.43518",  # short forms
        "169.16689662",
        "169.254.169.254.",  # a trailing dot
        "::ffff:169.254.169.254",  # IPv4-mapped
        "::ffff:a9fe:a9fe",
        "0:0:0:0:0:ffff:a9fe:a9fe",
        "::169.254.169.254",  # IPv4-compatible
        "64:ff9b::a9fe:a9fe",  # NAT64
        "2002:a9fe:a9fe::1",  # 6to4
        "[::ffff:169.254.169.254]",  # bracketed
        "fe80::1%eth0",  # zone ids
        "[fe80::1%25eth0]",
        "FE80::1",
        "fd00:ec2::254",
        "100.100.100.200",
    ],
)
def test_every_spelling_of_a_metadata_address_is_refused(host):
    assert NEVER in Reach().refusal(host)


def test_a_name_is_judged_by_every_address_it_resolves_to():
    resolve = {"meta.example.": [ipaddress.ip_address("10.0.0.5"), ipaddress.ip_address("::ffff:a9fe:a9fe")]}
    reach = Reach(resolve=lambda name: resolve.get(name + ".", []))

    assert reach.refusal("META.Example.com.") is None  # resolves to nothing here
    assert reach.refusal("meta.example") == f"`meta.example` (::ffff:a9fe:a9fe) {NEVER}"


def test_reached_resolves_a_name_once_and_gives_the_addresses_it_judged():
    # A name that answers a harmless address, then the metadata one (DNS rebinding): a client
    # connecting to what `reached` gives connects to what was judged (alert webhooks do).
    answers = iter([[ipaddress.ip_address("10.0.0.5")], [ipaddress.ip_address(METADATA)]])
    reach = Reach(("10.0.0.0/8",), resolve=lambda name: next(answers))

    assert reach.reached("rebind.example") == ([ipaddress.ip_address("10.0.0.5")], None)
    assert reach.reached("rebind.example") == (
        [ipaddress.ip_address(METADATA)],
        f"`rebind.example` ({METADATA}) {NEVER}",
    )
    assert Reach().reached("2852039166") == ([], f"`2852039166` ({METADATA}) {NEVER}")


@pytest.mark.parametrize("reach", [Reach(), Reach(("127.0.0.0/8", "*.db.internal"))], ids=["unset", "set"])
@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("2130706433", "is the address 127.0.0.1 written another way (sling asks DNS for it as a name)"),
        ("127.1", "is the address 127.0.0.1 written another way (sling asks DNS for it as a name)"),
        ("0177.0.0.1", "is the address 127.0.0.1 written another way (sling asks DNS for it as a name)"),
        ("pg.db.internal/x", "is not a host name or address"),
        ("a b", "is not a host name or address"),
        ("$PGHOST", "is not a host name or address"),
        ("[db.internal]", "is not a host name or address"),
    ],
)
def test_what_is_no_host_as_sling_reads_it_is_refused(reach, host, why):
    # sling 1.4.11 looks these up in DNS as names: what they reach is not what they look like.
    assert reach.refusal(host) == f"`{host}` {why}"


def test_studio_connection_hosts_is_judged_on_the_host_as_read():
    reach = Reach(("*.db.internal", "10.0.0.0/8"), resolve=lambda name: [ipaddress.ip_address("10.1.1.1")])

    assert reach.refusal("PG.DB.Internal.") is None
    assert reach.refusal("[::ffff:10.1.2.3]") is None  # goes to 10.1.2.3
    assert reach.refusal("10.1.2.3") is None
    assert "is not among the hosts" in reach.refusal("11.0.0.1")
    # A pattern is matched against a host, never against text around one.
    assert (
        refusal("postgres", {"host": f"{METADATA}/x.db.internal"}, reach)
        == f"connection C, host: `{METADATA}` {NEVER}"
    )


@pytest.mark.parametrize(
    ("conn_type", "fields", "field"),
    [
        ("s3", {"bucket": "b", "endpoint": METADATA}, "endpoint"),
        ("s3", {"bucket": "b", "aws_endpoint": f"https://{METADATA}:443"}, "aws_endpoint"),
        ("r2", {"bucket": "b", "endpoint": f"http://x@{METADATA}/"}, "endpoint"),
        ("ducklake", {"s3_endpoint": f"{METADATA}:9000", "data_path": "s3://b/x"}, "s3_endpoint"),
        ("clickhouse", {"http_url": f"http://{METADATA}:8123"}, "http_url"),
        ("elasticsearch", {"http_url": f"http://es1:9200,http://{METADATA}:9200"}, "http_url"),
        ("trino", {"http_url": f"https://{METADATA}?catalog=x"}, "http_url"),
        ("starrocks", {"host": "sr", "fe_url": f"http://{METADATA}:8030"}, "fe_url"),
        ("iceberg", {"rest_uri": f"http://{METADATA}/catalog"}, "rest_uri"),
        ("sqlite", {"instance": f"https://{METADATA}/db.sqlite"}, "instance"),
        ("http", {"url": f"http://{METADATA}/latest/meta-data/"}, "url"),
        ("api", {"spec": f"http://{METADATA}/spec.yaml"}, "spec"),
        ("sftp", {"url": f"sftp://u@{METADATA}:22/"}, "url"),
        ("mongodb", {"url": f"mongodb://u@a:1,{METADATA}:2/db"}, "url"),
        ("postgres", {"url": f"postgresql://u@db/x?host={METADATA}"}, "url"),
        ("postgres", {"host": "db", "ssh_tunnel": f"ssh://j@{METADATA}:22"}, "ssh_tunnel"),
        ("postgres", {"host": "db,[fe80::1]:5432"}, "host"),
        ("scylladb", {"hosts": f"a:9042, {METADATA}:9042"}, "hosts"),
        ("oracle", {"tns": f"(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST={METADATA})(PORT=1521)))"}, "tns"),
        ("oracle", {"tns": f"{METADATA}:1521/svc"}, "tns"),
        ("sqlserver", {"host": "db", "failoverpartner": METADATA}, "failoverpartner"),
        ("sqlserver", {"conn_str": f"Server=tcp:{METADATA},1433;User Id=u;Password=pw"}, "conn_str"),
        ("mysql", {"conn_str": f"u:pw@tcp({METADATA}:3306)/db"}, "conn_str"),
        ("postgres", {"conn_str": f"host={METADATA} port=5432 dbname=x"}, "conn_str"),
        ("azure", {"conn_str": f"BlobEndpoint=http://{METADATA}/;SharedAccessSignature=sv=x"}, "conn_str"),
        ("azure", {"sas_svc_url": f"https://{METADATA}/c?sv=2020&sig=x"}, "sas_svc_url"),
        ("ducklake", {"catalog_conn_string": f"postgres:dbname=x host={METADATA}"}, "catalog_conn_string"),
        ("elasticsearch", {"cloud_id": "c:" + base64.b64encode(b"254.169.254$169$kb").decode()}, "cloud_id"),
        ("mysql", {"host": "db", "http_proxy": f"http://{METADATA}:3128"}, "http_proxy"),
    ],
)
def test_every_field_sling_reads_as_an_address_is_judged(conn_type, fields, field):
    assert refusal(conn_type, fields).startswith(f"connection C, {field}: `")
    assert refusal(conn_type, fields).endswith(NEVER)


@pytest.mark.parametrize(
    ("conn_type", "fields"),
    [
        # The user, the port, the database, a query value: each moves the host of the URL
        # sling makes of the fields (connection.go's templates; Go's parser cuts at the last @).
        ("postgres", {"host": "db", "user": f"x@{METADATA}:80/", "password": "pw"}),
        ("postgres", {"host": "db", "port": f"5432@{METADATA}"}),
        ("postgres", {"host": "db", "database": f"d?host={METADATA}"}),
        ("mysql", {"host": "db", "user": f"u@{METADATA}:1/"}),
        ("sqlserver", {"host": "db", "instance": f"i?server={METADATA}"}),
        ("snowflake", {"account": f"{METADATA}/", "user": "u"}),
        ("databricks", {"host": "h", "port": f"443@{METADATA}"}),
        ("trino", {"host": "t", "user": f"u@{METADATA}:1/"}),
    ],
)
def test_the_url_sling_makes_of_the_fields_is_judged(conn_type, fields):
    assert (
        refusal(conn_type, fields) == f"connection C, the URL sling makes of its fields: `{METADATA}` {NEVER}"
    )


def test_cloud_accounts_are_judged_as_the_hosts_sling_makes_of_them():
    assert list(connection_hosts("snowflake", {"account": "xy123.eu-west-1", "user": "u"})) == [
        ("the URL sling makes of its fields", "xy123.eu-west-1.snowflakecomputing.com")
    ]
    assert list(connection_hosts("azure", {"account": "acct", "container": "c"})) == [
        ("account", "acct.blob.core.windows.net")
    ]
    storage = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k==;EndpointSuffix=core.windows.net"
    assert list(connection_hosts("azure", {"conn_str": storage})) == [
        ("conn_str", "acct.blob.core.windows.net")
    ]
    reach = Reach(("*.db.internal",), resolve=lambda name: [])
    assert "is not among the hosts" in refusal("snowflake", {"account": "xy123", "user": "u"}, reach)


def test_buckets_paths_and_local_files_are_no_hosts():
    fields = {
        "url": "s3://bucket/prefix/",
        "bucket": "bucket",
        "region": "eu-west-1",
        "data_path": "gs://b/x",
    }
    assert list(connection_hosts("s3", fields)) == []
    assert list(connection_hosts("sqlite", {"instance": "/srv/data/x.db"})) == []
    assert list(connection_hosts("duckdb", {"url": "duckdb:///srv/x.duckdb"})) == []
    assert list(
        connection_hosts("clickhouse", {"http_url": "http://ch:8123", "ssh_tunnel_local_addr": ":0"})
    ) == [("http_url", "ch")]


def test_a_refusal_never_shows_a_secret():
    # The whole connection string read as `user@host`: its value is a secret of the connection.
    message = refusal("sqlserver", {"conn_str": "hunter2-not-a-host!"}, Reach(("*.db.internal",)))

    assert "hunter2" not in message
    assert message == "connection C, conn_str: `••••••` is not a host name or address"
