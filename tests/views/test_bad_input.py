"""Broken replication files, through the command line and the browser import.

Every file of tests/corpus/invalid/ (its first line says the expected line and message)
is refused with that message at that line, by `import_replication` and by the import
page, with no traceback, no 500 and nothing stored. Files marked `expect-warning`
import, with the warning shown. Inputs too big or too binary to commit are built here.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from replication.versions import STREAM_KEYS, TOP_KEYS
from studio import models
from studio.selectors.replications import replication_yaml

# The connections their files name are defined: each test is about another rule.
pytestmark = pytest.mark.usefixtures("known_connections")

CORPUS = Path(__file__).parents[1] / "corpus" / "invalid"
FILES = sorted(CORPUS.glob("*.yaml"))


@dataclass(frozen=True)
class Expected:
    severity: str  # "error" or "warning"
    line: int | None  # None: the whole file
    words: str


def expected(path: Path) -> Expected:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"# expect(-warning)?: (\d+|-) (.+)", first)
    assert match, f"{path.name}: the first line must be `# expect: <line> <words>`"
    line = None if match[2] == "-" else int(match[2])
    return Expected("warning" if match[1] else "error", line, match[3])


def cases(severity: str) -> list[Any]:
    return [pytest.param(path, id=path.stem) for path in FILES if expected(path).severity == severity]


# --- what the command prints, what the page shows, what the database holds -----------------


def refused(path: Path, name: str) -> str:
    """`import_replication PATH --name NAME`, which must exit 1: its stderr."""
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("import_replication", str(path), "--name", name, stdout=io.StringIO(), stderr=err)
    assert exc.value.code == 1
    return err.getvalue()


def imported(path: Path, name: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_replication", str(path), "--name", name, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def assert_reported(stderr: str, path: Path, expect: Expected) -> None:
    """`FILE:LINE: severity: ...words...` among the lines, and every line in that form."""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert lines, "nothing printed"
    for line in lines:
        assert re.match(rf"{re.escape(str(path))}(:\d+)?: (error|warning): \S", line), line
    place = f"{path}:{expect.line}" if expect.line else str(path)
    prefix = f"{place}: {expect.severity}: "
    assert any(line.startswith(prefix) and expect.words in line for line in lines), (prefix, lines)
    if expect.severity == "error":
        # One problem per file: the message is the one about it, not a cascade.
        assert len([line for line in lines if ": error: " in line]) == 1, lines


def database() -> dict[str, list[dict[str, Any]]]:
    """Every row of every studio table, every column: 'unchanged' means equal to this."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in apps.get_app_config("studio").get_models()
    }


def shown_problems(html: str) -> list[tuple[str, int | None, str]]:
    """(severity, line, text) of each problem listed on a page."""
    found = []
    for severity, body in re.findall(r'<li class="(error|warning)">(.*?)</li>', html, re.S):
        line = re.search(r'<span class="muted">line (\d+)</span>', body)
        text = " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())
        found.append((severity, int(line[1]) if line else None, text))
    return found


def assert_shown(html: str, expect: Expected) -> None:
    problems = shown_problems(html)
    assert (expect.severity, expect.line) in {(s, n) for s, n, _ in problems}, problems
    assert any(
        (s, n) == (expect.severity, expect.line) and expect.words in text for s, n, text in problems
    ), problems


def upload(data: bytes, name: str = "replication.yaml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/yaml")


@pytest.fixture
def browser(client, user, demo):
    """Alice (an editor) on the import page of `demo`; a 500 is an answer here, not an exception."""
    client.raise_request_exception = False
    return client


def refused_by_the_page(browser: Any, demo: models.Replication, data: bytes, expect: Expected) -> None:
    """Pasted, pasted and confirmed, and uploaded: 422 with the message, nothing changed."""
    before = database()
    attempts: list[dict[str, Any]] = [{"file": upload(data)}]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None  # a browser cannot paste what is not text
    if text is not None and "\x00" not in text:
        attempts += [{"text": text}, {"text": text, "confirm": "yes", "version": str(demo.version)}]
    for attempt in attempts:
        response = browser.post("/r/demo/import/", attempt)
        assert response.status_code == 422, (sorted(attempt), response.status_code)
        assert_shown(response.content.decode(), expect)
        assert database() == before


# --- the corpus through the command line ----------------------------------------------------


def test_the_corpus_is_there():
    assert len(FILES) >= 80
    assert {expected(path).severity for path in FILES} == {"error", "warning"}


def test_the_corpus_gives_every_key_a_value_of_the_wrong_type():
    stems = {path.stem for path in FILES}
    assert {f"stream_{key}_wrong_type" for key in STREAM_KEYS} <= stems
    for key in TOP_KEYS:
        assert any(stem.startswith(f"top_{key}_") for stem in stems), key


@pytest.mark.django_db
@pytest.mark.parametrize("path", cases("error"))
def test_the_command_refuses_it_naming_the_line(make_replication, path):
    expect = expected(path)
    make_replication("existing")
    exported = replication_yaml(name="existing")
    before = database()

    # A new name, then the name of a stored replication: neither is touched.
    for name in ("fresh", "existing"):
        assert_reported(refused(path, name), path, expect)
        assert database() == before
    assert replication_yaml(name="existing") == exported


@pytest.mark.django_db
@pytest.mark.parametrize("path", cases("warning"))
def test_the_command_imports_it_with_the_warning(path):
    expect = expected(path)

    out, err = imported(path, "warned")

    assert_reported(err, path, expect)
    counted = re.fullmatch(
        r"imported warned: (\d+) streams?, [1-9]\d* warning\(s\), checked against .*\n", out
    )
    assert counted, out
    # Stored as said (`streams: {}` has none: sling runs nothing, a draft here).
    assert models.Replication.objects.get(name="warned").streams.count() == int(counted[1])


# --- the corpus through the browser ---------------------------------------------------------


@pytest.mark.parametrize("path", cases("error"))
def test_the_import_page_refuses_it_naming_the_line(browser, demo, path):
    refused_by_the_page(browser, demo, path.read_bytes(), expected(path))


@pytest.mark.parametrize("path", cases("warning"))
def test_the_import_page_imports_it_with_the_warning(browser, demo, path):
    text = path.read_text()

    preview = browser.post("/r/demo/import/", {"file": upload(text.encode())})
    assert preview.status_code == 200
    assert_shown(preview.content.decode(), expected(path))
    demo.refresh_from_db()
    assert demo.version == 1
    confirmed = browser.post("/r/demo/import/", {"text": text, "confirm": "yes", "version": "1"})

    assert confirmed.status_code == 302
    demo.refresh_from_db()
    assert demo.version == 2
    assert demo.source == "PG"


# --- inputs built here: bytes that are not text, sizes, depth --------------------------------

HEAD = b"source: PG\ntarget: SNOW\nstreams:\n  public.users:\n"
GENERATED = {
    "latin-1-byte": (
        HEAD + b"    object: raw.caf\xe9\n",
        Expected("error", 5, "not UTF-8 text: byte 0xe9 cannot be read"),
    ),
    "latin-1-in-a-comment": (
        b"# r\xe9plication\n" + HEAD + b"    object: raw.users\n",
        Expected("error", 1, "not UTF-8 text: byte 0xe9 cannot be read"),
    ),
    "utf-16": (
        (HEAD + b"    object: raw.users\n").decode().encode("utf-16"),
        Expected("error", 1, "not UTF-8 text: byte 0xff cannot be read"),
    ),
    "truncated-utf-8": (
        HEAD + b"    object: raw.users\n    where: name = '\xe2\x82'\n",
        Expected("error", 6, "not UTF-8 text: byte 0xe2 cannot be read"),
    ),
    "raw-nul-byte": (
        HEAD + b"    object: raw.users\n    where: id = 1\x00\n",
        Expected("error", 6, "not valid YAML"),
    ),
    "raw-control-byte": (
        HEAD + b"    object: raw.users\n    where: id = 1\x07\n",
        Expected("error", 6, "not valid YAML"),
    ),
    "100000-levels": (
        HEAD + b"    object: raw.users\n    source_options: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        # libyaml's scanner runs ahead and stops first ("exceeded maximum nesting depth");
        # without libyaml, the studio's own limit does ("nests deeper than 64 levels").
        Expected("error", 6, "nest"),
    ),
}


def generated() -> list[Any]:
    return [pytest.param(name, id=name) for name in GENERATED]


@pytest.mark.django_db
@pytest.mark.parametrize("name", generated())
def test_the_command_refuses_a_generated_input(make_replication, tmp_path, name):
    data, expect = GENERATED[name]
    path = tmp_path / "replication.yaml"
    path.write_bytes(data)
    make_replication("existing")
    before = database()

    for target in ("fresh", "existing"):
        assert_reported(refused(path, target), path, expect)
    assert database() == before


@pytest.mark.parametrize("name", generated())
def test_the_import_page_refuses_a_generated_input(browser, demo, name):
    data, expect = GENERATED[name]
    refused_by_the_page(browser, demo, data, expect)


FIFTY_MB = 50 * 1024 * 1024
TOO_BIG = Expected("error", None, "the document is larger than 10 MB")


def fifty_mb() -> bytes:
    """A valid replication padded with a comment to 50 MB: refused for its size alone."""
    text = HEAD + b"    object: raw.users\n"
    return text + b"# " + b"x" * (FIFTY_MB - len(text) - 3) + b"\n"


@pytest.mark.django_db
def test_the_command_refuses_a_50_mb_file(make_replication, tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(fifty_mb())
    make_replication("existing")
    before = database()

    assert_reported(refused(path, "existing"), path, TOO_BIG)
    assert database() == before


def test_the_import_page_refuses_a_50_mb_upload(browser, demo):
    before = database()

    response = browser.post("/r/demo/import/", {"file": upload(fifty_mb(), "big.yaml")})

    assert response.status_code == 400
    assert TOO_BIG.words in response.content.decode()
    assert database() == before


@pytest.mark.parametrize("size", [11, 50])
def test_a_paste_over_the_limit_is_a_page_saying_so_not_a_bare_bad_request(demo, size, django_user_model):
    # As a browser sends it: CSRF checked, which reads the body first (issue 12, problem 7).
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(django_user_model.objects.get(username="editor"))
    page = browser.get("/r/demo/import/")
    token = page.cookies["csrftoken"].value
    before = database()

    text = (fifty_mb()[: size * 2**20]).decode()
    response = browser.post("/r/demo/import/", {"text": text, "csrfmiddlewaretoken": token})

    html = response.content.decode()
    assert response.status_code == 400
    assert "The request is larger than the studio takes: the document is larger than 10 MB." in html
    assert '<a href="/connections/"' in html  # the studio's page, with its navigation
    assert database() == before


def test_the_import_page_answers_a_50_mb_paste_with_4xx_and_changes_nothing(browser, demo):
    before = database()

    response = browser.post("/r/demo/import/", {"text": fifty_mb().decode()})

    assert 400 <= response.status_code < 500
    assert database() == before


def test_the_import_page_reads_a_3_mb_paste_under_the_10_mb_limit(browser, demo):
    text = (
        "source: LOCAL\ntarget: DEMO_SQLITE\nstreams:\n  file://demo/data/customers.csv:\n"
        "    object: main.people\n# " + "x" * (3 * 1024 * 1024) + "\n"
    )

    response = browser.post("/r/demo/import/", {"text": text})

    assert response.status_code == 200
    assert "Changes against the current version" in response.content.decode()
