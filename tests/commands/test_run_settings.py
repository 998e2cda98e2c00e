"""`manage.py run_replication NAME` starts on `studio.settings_run`, the full settings with only
the apps a run needs (README: Overhead): it must choose them only then, take everything else
from the full settings, and record a run exactly as the full settings do."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.views.debug import ExceptionReporter
from run_support import write_csv

from studio import settings as full
from studio import settings_run as lean

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("manage", ROOT / "manage.py")
assert _spec is not None and _spec.loader is not None
manage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(manage)


@pytest.mark.parametrize(
    ("argv", "environ", "chosen"),
    [
        (["run_replication", "shop"], {}, "studio.settings_run"),
        (["run_replication", "shop", "--stream", "a.csv", "--mode", "truncate"], {}, "studio.settings_run"),
        (["run_replication", "--help"], {}, "studio.settings_run"),
        # Chosen by name, the full settings are the lean ones' source: the run starts lean too.
        (["run_replication", "shop"], {"DJANGO_SETTINGS_MODULE": "studio.settings"}, "studio.settings_run"),
        # The worker's apps: queued runs need the tasks framework, however --queue is spelt.
        (["run_replication", "shop", "--queue"], {}, "studio.settings"),
        (["run_replication", "shop", "--qu"], {}, "studio.settings"),
        (["run_replication", "--q", "shop"], {}, "studio.settings"),
        # Django's own options decide.
        (["run_replication", "shop", "--settings=other.settings"], {}, "studio.settings"),
        (["run_replication", "shop", "--settings", "other.settings"], {}, "studio.settings"),
        (["run_replication", "shop", "--pythonpath=/elsewhere"], {}, "studio.settings"),
        # Settings of one's own are kept.
        (["run_replication", "shop"], {"DJANGO_SETTINGS_MODULE": "site_settings"}, "site_settings"),
        # Every other command, the web server and the worker keep the full settings.
        (["worker"], {}, "studio.settings"),
        (["runserver"], {}, "studio.settings"),
        (["runs", "run_replication"], {}, "studio.settings"),
        ([], {}, "studio.settings"),
    ],
)
def test_manage_chooses_the_lean_settings_for_a_run_in_the_foreground_only(argv, environ, chosen):
    assert manage.settings_module(["manage.py", *argv], environ) == chosen


def test_the_lean_settings_are_the_full_ones_but_the_apps():
    shared = {name for name in dir(full) if name.isupper()}
    own = {"INSTALLED_APPS", "DEFAULT_EXCEPTION_REPORTER"}
    assert {name for name in dir(lean) if name.isupper()} == shared | own | {"RUN_APPS", "FULL_APPS"}
    # The very objects the full settings made from the environment: database, data folder, keys...
    for name in sorted(shared - own):
        assert getattr(lean, name) is getattr(full, name), name
    assert lean.FULL_APPS is full.INSTALLED_APPS
    assert lean.INSTALLED_APPS == ["django.contrib.auth", "django.contrib.contenttypes", "studio"]
    assert not hasattr(full, "DEFAULT_EXCEPTION_REPORTER")  # Django's default, which the lean one makes
    reporter = lean.ExceptionReporter(None, ValueError, ValueError("x"), None)
    assert type(reporter) is ExceptionReporter


def test_the_lean_apps_hold_every_model_the_studio_refers_to():
    needed = set()
    for model in apps.get_app_config("studio").get_models():
        for field in model._meta.get_fields():
            if field.related_model is not None:
                needed.add(field.related_model._meta.app_config.name)
                needed.update(p._meta.app_config.name for p in field.related_model._meta.get_parent_list())
    auth = apps.get_app_config("auth")
    for model in auth.get_models():
        needed.update(f.related_model._meta.app_config.name for f in model._meta.fields if f.related_model)
    assert needed <= set(lean.RUN_APPS)


# --- a run through each: the same records ----------------------------------------------------------

RUN_FIELDS = "replication_name, streams, mode, status, trigger, attempt, error, exit_code, cancel_requested"
STREAM_FIELDS = "position, name, status, rows, target, error, expanded_from"


class Studio:
    """A studio of its own in a folder (SQLite: its rows are read from outside)."""

    def __init__(self, folder: Path) -> None:
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
        }
        # The data folder beside the test's files, not among them: a folder open to sling may not
        # hold it (the kernel could not keep sling out).
        data = folder.parent / f"{folder.name}-data"
        self.env["STUDIO_DATA_DIR"] = str(data)
        self.env["STUDIO_FILE_ROOTS"] = f"{folder}:rw"
        self.database = data / "studio.sqlite3"

    def manage(self, *args: str, importtime: bool = False) -> subprocess.CompletedProcess[str]:
        flags = ["-X", "importtime"] if importtime else []
        return subprocess.run(
            [sys.executable, *flags, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def run(self, *args: str) -> tuple[int, str, str, set[str]]:
        """`run_replication ARGS`: exit code, stdout, stderr, and the modules it imported."""
        done = self.manage("run_replication", *args, importtime=True)
        imported = set(re.findall(r"^import time:.*\| +([\w.]+)$", done.stderr, re.MULTILINE))
        errors = "\n".join(line for line in done.stderr.splitlines() if not line.startswith("import time:"))
        return done.returncode, done.stdout, errors, imported

    def last_run(self) -> dict:
        with sqlite3.connect(self.database) as db:
            run_id, *values = db.execute(
                f"select id, {RUN_FIELDS} from studio_run order by id desc limit 1"  # noqa: S608
            ).fetchone()
            streams = db.execute(
                f"select {STREAM_FIELDS} from studio_runstream where run_id = ? order by position",  # noqa: S608
                (run_id,),
            ).fetchall()
            log = "".join(
                text
                for (text,) in db.execute(
                    "select text from studio_runlogchunk where run_id = ? order by seq", (run_id,)
                )
            )
            locks = db.execute("select count(*) from studio_streamlock").fetchone()[0]
        return {"id": run_id, "run": values, "streams": streams, "log": log, "locks": locks}


def same(text: str, run_id: int) -> str:
    """What may differ between two runs of one replication: the run's number, times and rates."""
    return re.sub(r"\d+(\.\d+)?", "N", text.replace(f"runs/{run_id}/", "runs/ID/"))


def stored_replication(studio: Any, folder: Path, name: str, files: list[str]) -> None:
    """Migrate the studio, give it a SQLite target and store replication `name` reading the
    CSV `files` of `folder` into it."""
    (folder / "env.yaml").write_text(
        json.dumps(
            {"connections": {"TARGET_DB": {"type": "sqlite", "url": f"sqlite://{folder}/target.sqlite"}}}
        )
    )
    streams = "".join(f"  file://{folder}/{file}:\n    object: main.{file.split('.')[0]}\n" for file in files)
    (folder / f"{name}.yaml").write_text(
        "source: LOCAL\ntarget: TARGET_DB\n"
        "defaults:\n  mode: full-refresh\n  source_options: {format: csv, header: true}\n"
        f"streams:\n{streams}"
    )
    for args in (["migrate", "-v0"], ["import_connections", str(folder / "env.yaml")]):
        assert studio.manage(*args).returncode == 0
    assert studio.manage("import_replication", str(folder / f"{name}.yaml"), "--name", name).returncode == 0


@pytest.mark.sling
def test_a_run_on_the_lean_settings_records_what_the_full_settings_record(tmp_path):
    studio = Studio(tmp_path)
    write_csv(tmp_path / "people.csv", 30)
    stored_replication(studio, tmp_path, "shop", ["people.csv", "missing.csv"])

    outcomes = {}
    for stream in ("people.csv", "missing.csv"):
        chosen = ["--stream", f"file://{tmp_path}/{stream}"]
        studio.run("shop", *chosen, "--settings=studio.settings")  # sling's first run in its home
        for settings in ("lean", "full"):
            extra = ["--settings=studio.settings"] if settings == "full" else []
            code, out, err, imported = studio.run("shop", *chosen, *extra)
            # The lean start did not load the apps it leaves out; the full one did.
            for app in ("django.contrib.admin", "django.contrib.sessions", "django_tasks", "axes"):
                loaded = any(module == app or module.startswith(app + ".") for module in imported)
                assert loaded is (settings == "full"), (app, settings)
            record = studio.last_run()
            assert record["locks"] == 0
            outcomes[stream, settings] = (
                code,
                same(out, record["id"]),
                same(err, record["id"]),
                record["run"],
                record["streams"],
                same(record["log"], record["id"]),
            )
        assert outcomes[stream, "lean"] == outcomes[stream, "full"]

    code, out, _, run, streams, log = outcomes["people.csv", "lean"]
    assert (code, run[3], streams[0][2:4]) == (0, "succeeded", ("succeeded", 30))
    assert "people.csv  succeeded" in out
    assert log.endswith("--- run succeeded (sling exit code N) ---\n")
    code, _, err, run, streams, _ = outcomes["missing.csv", "lean"]
    assert (code, run[3], streams[0][2]) == (1, "failed", "failed")
    assert "error: " in err


def test_queue_on_the_lean_settings_chosen_by_hand_says_what_it_needs(tmp_path):
    studio = Studio(tmp_path)
    studio.env["DJANGO_SETTINGS_MODULE"] = "studio.settings_run"
    assert studio.manage("migrate", "-v0", "--settings=studio.settings").returncode == 0

    done = studio.manage("run_replication", "shop", "--queue")

    assert done.returncode == 1
    assert (
        done.stderr.strip() == "CommandError: --queue needs the tasks framework: run it with studio.settings"
    )


@pytest.mark.sling
def test_ctrl_c_cancels_a_run_on_the_lean_settings_as_on_the_full_ones(tmp_path):
    studio = Studio(tmp_path)
    write_csv(tmp_path / "big.csv", 300_000)
    stored_replication(studio, tmp_path, "big", ["big.csv"])

    outcomes = {}
    for settings, extra in (("lean", []), ("full", ["--settings=studio.settings"])):
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_replication", "big", *extra],
            cwd=ROOT,
            env=studio.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            if "streaming data" in line:
                break
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        record = studio.last_run()
        outcomes[settings] = (process.returncode, err.splitlines()[-1], record["run"][3], record["locks"])
    assert outcomes["lean"] == outcomes["full"] == (130, "error: cancelled by request", "cancelled", 0)
