"""Settings for `manage.py run_replication NAME` in the foreground: `studio.settings` itself,
with only the apps a run needs installed. A run reads and writes the studio's models (and,
through their foreign keys, the users, which need the content types); the admin, sessions,
messages, static files, template helpers, the tasks framework and the sign-in throttle are the
web server's and the worker's, and those keep `studio.settings`. Django so starts a run in
about half the time (README: Overhead).

Everything else is the full settings' own, read from the same environment: this module takes
them all, and changes INSTALLED_APPS and DEFAULT_EXCEPTION_REPORTER (the same class, imported
when used; below). `manage.py` chooses it (`settings_module`); `--queue` keeps the full settings
(the tasks framework's apps). tests/commands/test_run_settings.py holds it to all that.
"""

from __future__ import annotations

from studio.settings import *  # noqa: F403
from studio.settings import INSTALLED_APPS as FULL_APPS

# What the run's models need: the studio's, and the users they name (auth needs contenttypes).
RUN_APPS = ("django.contrib.auth", "django.contrib.contenttypes", "studio")

INSTALLED_APPS = [app for app in FULL_APPS if app in RUN_APPS]


class ExceptionReporter:
    """Django's `django.views.debug.ExceptionReporter`, imported when one is made. Django's
    logging defaults make an admin mail handler that names it at start-up (LOGGING then puts its
    own handler in that one's place, unused), which would load the debug views into every run."""

    def __new__(cls, *args: object, **kwargs: object) -> object:
        from django.views.debug import ExceptionReporter

        return ExceptionReporter(*args, **kwargs)


DEFAULT_EXCEPTION_REPORTER = "studio.settings_run.ExceptionReporter"
