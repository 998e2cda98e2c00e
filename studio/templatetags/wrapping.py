"""How long stream and object names show in tables: they wrap at their separators, never
inside a word."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# After these a long name may wrap: path and schema separators, and `_` between words.
_BREAK_AFTER = re.compile(r"([/._\-])")
# A name this short is never broken: its column is made as wide (each <wbr> is one element
# more for the browser to build and htmx to walk, 500 in a table of 100 such names).
_SHORT = 24


@register.filter
def breakable(value: Any) -> SafeString:
    """`value` escaped, with a line-break opportunity after each separator (`/`, `.`, `_`, `-`)
    when it is longer than `_SHORT` characters."""
    if len(str(value)) <= _SHORT:
        return conditional_escape(value)
    return mark_safe(_BREAK_AFTER.sub(r"\1<wbr>", str(conditional_escape(value))))  # noqa: S308 - escaped first
