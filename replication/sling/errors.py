"""What goes wrong when the studio asks sling to do something."""

from __future__ import annotations


class RunError(Exception):
    """A run (or a test, a discover) that cannot start: the message is one line for the user."""


class SlingFailed(RunError):
    """sling answered with an error; the message is masked and short."""
