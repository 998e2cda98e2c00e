"""Shared fixtures of the page tests: a signed-in user, the demo, replications of any size."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from replication.config import ReplicationConfig
from studio import models
from studio.services.replications import replication_save


@pytest.fixture
def fast_hasher(settings):
    # Creating users with the default hasher would take most of a page test's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def file_roots(settings):
    """The temporary folder, where tests keep their files, is open to sling (it may write there);
    so are the demo's files (read) and the data folder's `files/`."""
    temporary = Path(tempfile.gettempdir()).resolve()
    settings.STUDIO_FILE_ROOTS = [temporary, settings.BASE_DIR / "demo" / "data", settings.DATA_DIR / "files"]
    settings.STUDIO_WRITABLE_ROOTS = [temporary, settings.DATA_DIR / "files"]


@pytest.fixture(scope="session")
def data_dirs():
    """Where the tests' data folders are made: outside the temporary folder open to sling, as
    the kernel cannot keep sling out of a folder inside one it may use."""
    base = Path(tempfile.mkdtemp(prefix="studio-tests-", dir=os.environ.get("STUDIO_TEST_DATA", "/var/tmp")))
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def data_dir(settings, data_dirs):
    """A fresh DATA_DIR (and Sling home) per test, so tests never touch the developer's data."""
    settings.DATA_DIR = Path(tempfile.mkdtemp(dir=data_dirs))
    settings.SLING_HOME_DIR = settings.DATA_DIR / "sling"
    settings.STUDIO_FILE_ROOTS = [*settings.STUDIO_FILE_ROOTS[:-1], settings.DATA_DIR / "files"]
    settings.STUDIO_WRITABLE_ROOTS = [*settings.STUDIO_WRITABLE_ROOTS[:-1], settings.DATA_DIR / "files"]
    return settings.DATA_DIR


# The connections the tests' replication files name, with the type their names suggest.
PLACEHOLDERS = {
    "PG": "postgres",
    "SNOW": "snowflake",
    "SF": "snowflake",
    "DUCK": "duckdb",
    "A": "postgres",
    "B": "postgres",
}


@pytest.fixture
def known_connections(db):
    """The placeholder connections defined, so only the rules a test is about speak (a
    replication naming a connection the studio does not know gets a warning for it)."""
    for name, conn_type in PLACEHOLDERS.items():
        models.Connection.objects.get_or_create(name=name, defaults={"type": conn_type})


@pytest.fixture
def user(db, client, fast_hasher):
    """Alice, an editor and operator, signed in on `client`
    (tests/views/test_roles.py covers the other roles)."""
    alice = get_user_model().objects.create_user("alice", "alice@example.com", "alice-password")
    alice.groups.add(*(Group.objects.get_or_create(name=role)[0] for role in ("editor", "operator")))
    client.force_login(alice)
    return alice


@pytest.fixture
def other_client(db, fast_hasher):
    """Bob, signed in on a second browser: the other person editing the same replication."""
    bob = get_user_model().objects.create_user("bob", "bob@example.com", "bob-password")
    bob.groups.add(Group.objects.get_or_create(name="editor")[0])
    browser = Client()
    browser.force_login(bob)
    return browser


@pytest.fixture
def demo(db, fast_hasher, data_dir):
    """The demo loaded (replication `demo`, connection DEMO_SQLITE, user demo/demo)."""
    call_command("demo", stdout=io.StringIO())
    return models.Replication.objects.get(name="demo")


def _make_replication(
    name: str = "shop",
    *,
    streams: int | dict[str, Any] = 3,
    source: str = "PG",
    target: str = "SNOW",
    defaults: dict[str, Any] | None = None,
    user: Any = None,
) -> models.Replication:
    """A stored replication (version 1); `streams=N` gives N streams `public.t0000`... with an
    object each; `defaults` are `mode: full-refresh` unless given."""
    if isinstance(streams, int):
        streams = {f"public.t{i:04}": {"object": f"raw.t{i:04}"} for i in range(streams)}
    if defaults is None:
        defaults = {"mode": "full-refresh"}
    config = ReplicationConfig(source=source, target=target, streams=streams, defaults=defaults)
    return replication_save(name=name, config=config, user=user, summary="created")


@pytest.fixture
def make_replication(db):
    """Build replications: `make_replication("big", streams=1000)`."""
    return _make_replication


@pytest.fixture
def shop(db):
    """A small replication: three full-refresh streams from PG to SNOW."""
    return _make_replication("shop")


class _FormReader(HTMLParser):
    """What a browser would send for the first form of a page, or the one whose
    id, action, hx-post or class is `form`."""

    def __init__(self, form: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.form = form
        self.depth = 0  # >0 while inside the chosen form
        self.done = False
        self.values: dict[str, str] = {}
        self.select: str | None = None
        self.select_first: str | None = None
        self.option: dict[str, str | None] | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and not self.done:
            if self.depth:
                self.depth += 1
            elif self.form is None or self.form in (
                a.get("id"),
                a.get("action"),
                a.get("hx-post"),
                a.get("class"),
            ):
                self.depth = 1
            return
        if not self.depth or ("name" not in a and tag not in ("option",)):
            return
        name = a.get("name") or ""
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.values[name] = a.get("value") or ""
        elif tag == "select":
            self.select, self.select_first = name, None
        elif tag == "option" and self.select is not None:
            value = a.get("value")
            self.option = {"value": value}
            self.text = ""
            if "selected" in a:
                self.values[self.select] = value or ""
        elif tag == "textarea":
            self.textarea, self.text = name, ""

    def handle_data(self, data: str) -> None:
        self.text += data

    def handle_endtag(self, tag: str) -> None:
        if not self.depth:
            return
        if tag == "form":
            self.depth -= 1
            self.done = self.depth == 0
        elif tag == "option" and self.option is not None and self.select is not None:
            value = self.option["value"] if self.option["value"] is not None else self.text
            if self.select_first is None:
                self.select_first = value
            self.option = None
        elif tag == "select" and self.select is not None:
            self.values.setdefault(self.select, self.select_first or "")
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            # Browsers drop the newline that follows <textarea>.
            self.values[self.textarea] = self.text.removeprefix("\n")
            self.textarea = None


def _form_values(html: str | bytes, form: str | None = None) -> dict[str, str]:
    reader = _FormReader(form)
    reader.feed(html.decode() if isinstance(html, bytes) else html)
    return reader.values


@pytest.fixture
def form_values():
    """A page's form as a browser submits it: `form_values(response.content, "/r/demo/settings/")`."""
    return _form_values
