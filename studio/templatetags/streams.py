"""Filters for the fields of a stream, as the editor's pages show them."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def columns(value: Any) -> str:
    """A key of one or more columns as text: sling takes `order_id` or `[order_id, line]`."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)
