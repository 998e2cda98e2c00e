"""Real local receivers for the alert tests: an HTTP server that takes webhook POSTs, and
an SMTP server (aiosmtpd) that takes mail, both on loopback in a thread of the test."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


class Webhook:
    """What a receiver got (`posts`: path, headers and the JSON body; `others`: any other
    request, `METHOD /path`) and will answer (`statuses`: the status of each next POST, 200
    once they run out; `location`: the Location header of a redirect)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.others: list[str] = []
        self.statuses: list[int] = []
        self.location = ""
        self.url = ""


@contextmanager
def webhook_receiver(path: str = "/services/T000/B000/XXXXSECRETTOKEN") -> Iterator[Webhook]:
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.posts.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
            status = hook.statuses.pop(0) if hook.statuses else 200
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", hook.location)
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"no")

        def do_GET(self) -> None:  # a client following a redirect of a POST (RFC 9110 15.4.3)
            hook.others.append(f"GET {self.path}")
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_port}{path}"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    """An SMTP server on a free loopback port: (its inbox, the port)."""
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class PostgresLogins:
    """What clients told a fake PostgreSQL server: each connection's startup parameters (`user`,
    `database`, ...) and the password it sent when asked for one in clear text."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.logins: list[dict[str, str]] = []

    @property
    def passwords(self) -> list[str]:
        return [login["password"] for login in self.logins if "password" in login]


def _read_exactly(peer: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        piece = peer.recv(size - len(data))
        if not piece:
            raise ConnectionError("the client hung up")
        data += piece
    return data


def _postgres_login(peer: socket.socket, logins: list[dict[str, str]]) -> None:
    """Read a client's StartupMessage, ask for its password in clear text (AuthenticationCleartext
    Password), read the PasswordMessage, then refuse it (ErrorResponse): the wire protocol v3.
    Each is recorded before the client is answered: once it has its answer, it is in `logins`."""
    size = int.from_bytes(_read_exactly(peer, 4), "big")
    body = _read_exactly(peer, size - 4)
    parts = body[4:].split(b"\0")
    login = {k.decode(): v.decode() for k, v in zip(parts[::2], parts[1::2], strict=False) if k}
    logins.append(login)
    peer.sendall(b"R" + (8).to_bytes(4, "big") + (3).to_bytes(4, "big"))
    kind = _read_exactly(peer, 1)
    size = int.from_bytes(_read_exactly(peer, 4), "big")
    message = _read_exactly(peer, size - 4)
    if kind == b"p":
        login["password"] = message.rstrip(b"\0").decode()
    error = b"SFATAL\0C28P01\0Mpassword authentication failed\0\0"
    peer.sendall(b"E" + (len(error) + 4).to_bytes(4, "big") + error)


@contextmanager
def postgres_receiver() -> Iterator[PostgresLogins]:
    """A fake PostgreSQL server on a free loopback port that records the logins it is sent
    (clients must connect with `sslmode=disable`) and refuses each."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    received = PostgresLogins(server.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                peer, _ = server.accept()
            except TimeoutError:
                continue
            with peer:
                peer.settimeout(10)
                with suppress(OSError, UnicodeDecodeError):  # a client that hung up early
                    _postgres_login(peer, received.logins)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        stop.set()
        thread.join()
        server.close()
