#!/usr/bin/env python
from __future__ import annotations

import atexit
import gc
import os
import sys
from collections.abc import Mapping

FULL_SETTINGS = "studio.settings"
RUN_SETTINGS = "studio.settings_run"


def settings_module(argv: list[str], environ: Mapping[str, str]) -> str:
    """`DJANGO_SETTINGS_MODULE`, `studio.settings` by default; but a foreground `run_replication`
    of those settings takes `studio.settings_run`, the same settings with only the apps a run
    needs, which start in half the time. `--queue` (or `--q`, `--qu`..., as argparse takes it)
    needs the tasks framework's apps."""
    chosen = environ.get("DJANGO_SETTINGS_MODULE") or FULL_SETTINGS
    if (
        chosen == FULL_SETTINGS
        and argv[1:2] == ["run_replication"]
        and not any(arg.startswith("--q") for arg in argv[2:])
        and not django_options(argv)
    ):
        return RUN_SETTINGS
    return chosen


def django_options(argv: list[str]) -> bool:
    """Whether `--settings` or `--pythonpath` is given: Django applies them once it has read argv."""
    return any(arg.startswith(("--settings", "--pythonpath")) for arg in argv[2:])


def main(argv: list[str]) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module(argv, os.environ)
    lean = os.environ["DJANGO_SETTINGS_MODULE"] == RUN_SETTINGS
    if lean and argv[1:2] == ["run_replication"] and not django_options(argv):
        # Loading Django and the run's code makes some 100,000 objects that live as long as the
        # process: the collector, which would go over them again and again meanwhile, waits
        # until they are all made, then leaves them out of its passes for good. (This start
        # leaves a little garbage, kept with them: the process's memory does not change.)
        gc.disable()
        import django

        django.setup()
        import studio.management.commands.run_replication  # noqa: F401

        gc.freeze()
        gc.enable()
        from django.core.management import execute_from_command_line

        try:
            execute_from_command_line(argv)
        except SystemExit as exc:
            if exc.code is not None and not isinstance(exc.code, int):
                raise
            code = exc.code or 0
        else:
            code = 0
        exit_now(code)
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


def exit_now(code: int) -> None:
    """Exit as the interpreter would (the exit functions run, the output is flushed), without
    its teardown, which frees the objects of some 600 modules one by one (the system frees the
    process at once): the run has ended, its database connections are closed, its log is
    written, and nothing is left to finalize but memory."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main(sys.argv)
