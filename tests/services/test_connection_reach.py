"""Connection reach (issue 12, problem 6): Test and Discover are no port scanner.

They refuse link-local and cloud metadata addresses (169.254.0.0/16, fd00:ec2::254) before
sling is started, STUDIO_CONNECTION_HOSTS restricts them further, and when sling fails the
answer is "could not connect", whatever sling said: an open port and a closed one look alike.
"""

from __future__ import annotations

import ipaddress
import socket
import threading

import pytest

from replication.reach import Reach, connection_hosts
from studio.services.connections import connection_discover, connection_save, connection_test
from studio.services.executor import run_execute
from studio.services.replications import replication_import
from studio.services.runs import run_create


def postgres(name: str, host: str, port: int | str = 5432):
    return connection_save(
        name=name, fields={"type": "postgres", "host": host, "port": port, "user": "u", "password": "pw-x1"}
    )


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "169.254.1.1",
        "fe80::1",
        "fd00:ec2::254",
        "[fd00:ec2::254]",
        "::ffff:169.254.169.254",
    ],
)
def test_link_local_and_metadata_addresses_are_refused(host):
    assert Reach().refusal(host) == f"`{host}` is a link-local or metadata address, never open to connections"


def test_a_name_is_judged_by_the_addresses_it_resolves_to():
    reach = Reach(resolve=lambda host: [ipaddress.ip_address("169.254.169.254")])

    assert "link-local" in reach.refusal("metadata.google.internal")
    assert Reach().refusal("localhost") is None


def test_studio_connection_hosts_allows_only_the_names_and_networks_it_lists():
    reach = Reach(("*.db.internal", "10.0.0.0/8"), resolve=lambda host: [ipaddress.ip_address("192.168.1.5")])

    assert reach.refusal("pg.db.internal") is None
    assert reach.refusal("10.1.2.3") is None
    assert (
        reach.refusal("127.0.0.1")
        == "`127.0.0.1` is not among the hosts connections may reach (STUDIO_CONNECTION_HOSTS)"
    )
    assert reach.refusal("other.example.com") is not None  # resolves outside 10/8


def test_the_hosts_of_a_connection_are_its_host_and_those_of_its_urls():
    fields = {
        "host": "a.example.com",
        "url": "postgres://u@b.example.com:5432/db",
        "ssh_tunnel": "ssh://jump@c.example.com:22",
        "endpoint": "http://d.example.com:9000",
        "instance": "sqlite://rel.db",
    }

    assert list(connection_hosts("postgres", fields)) == [
        ("host", "a.example.com"),
        ("url", "b.example.com"),
        ("ssh_tunnel", "c.example.com"),
        ("endpoint", "d.example.com"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["169.254.169.254", "fd00:ec2::254"])
def test_test_and_discover_refuse_the_metadata_service_without_starting_sling(settings, host):
    settings.SLING_BINARY = "/nonexistent/sling"  # had sling been started, this would say so
    connection = postgres("META", host, 80)

    passed, message = connection_test(connection)

    assert not passed
    assert (
        message
        == f"connection META, host: `{host}` is a link-local or metadata address, never open to connections"
    )
    with pytest.raises(Exception, match="link-local or metadata address"):
        connection_discover(connection)


@pytest.mark.django_db
def test_studio_connection_hosts_restricts_test(settings):
    settings.STUDIO_CONNECTION_HOSTS = ["*.db.internal"]

    passed, message = connection_test(postgres("LOCALPG", "127.0.0.1", 1))

    assert (passed, message) == (
        False,
        "connection LOCALPG, host: `127.0.0.1` is not among the hosts connections may reach "
        "(STUDIO_CONNECTION_HOSTS)",
    )


@pytest.fixture
def open_port():
    """A local port that accepts connections and says nothing, and hangs up."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                peer, _ = server.accept()
            except TimeoutError:
                continue
            peer.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.sling
@pytest.mark.django_db
def test_an_open_port_and_a_closed_one_give_the_same_answer(data_dir, open_port):
    answers = {
        "open": connection_test(postgres("PORT_CHECK", "127.0.0.1", open_port)),
        "closed": connection_test(postgres("PORT_CHECK", "127.0.0.1", closed_port())),
    }

    assert answers == {
        "open": (False, "PORT_CHECK: could not connect"),
        "closed": (False, "PORT_CHECK: could not connect"),
    }


@pytest.mark.sling
@pytest.mark.django_db
def test_a_run_to_the_metadata_service_is_refused_before_sling_starts(data_dir):
    postgres("META", "169.254.169.254", 80)
    replication_import(
        name="meta", text="source: META\ntarget: META\nstreams:\n  public.t:\n    object: public.u\n"
    )

    run = run_execute(run_create(replication="meta"))

    assert (run.status, run.error) == (
        "failed",
        "connection META, host: `169.254.169.254` is a link-local or metadata address, "
        "never open to connections",
    )
    assert run.sling_pid is None
