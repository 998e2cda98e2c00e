"""A unified diff drawn for the page: each line marked as a file, hunk, added or removed line,
at most `SHOWN` lines of it (a whole replication replaced has a line of diff per line of text)."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

SHOWN = 2_000


def _line(line: str) -> str:
    text = escape(line)
    if line.startswith(("+++", "---")):
        return f'<span class="file">{text}</span>'
    if line.startswith("@@"):
        return f'<span class="hunk">{text}</span>'
    if line.startswith("+"):
        return f"<ins>{text}</ins>"
    if line.startswith("-"):
        return f"<del>{text}</del>"
    return text


@register.filter
def diff_lines(diff: str) -> SafeString:
    """The first `SHOWN` lines of `diff`, marked (a loop of the template took seconds for a big
    one), and how many more there are."""
    lines = diff.splitlines()
    shown = "\n".join(_line(line) for line in lines[:SHOWN]) + "\n"
    if len(lines) > SHOWN:
        shown += f'<span class="hunk">… {len(lines) - SHOWN:,} more lines of changes, not shown</span>\n'
    return mark_safe(shown)  # noqa: S308 - every line escaped above
