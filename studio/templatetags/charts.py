"""Small server-rendered SVG charts: bars of a history (duration or rows per run) and the
runs of the last day per hour. No chart library: the geometry is computed here and
`studio/_chart.html` draws it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django import template

register = template.Library()

WIDTH, HEIGHT, TOP, GAP, BAR_MAX = 300, 64, 14, 2, 22
# Stacked from the bottom, in this order.
STACK = ("succeeded", "failed", "cancelled", "running", "queued")


def _number(value: float, key: str) -> str:
    if key == "seconds":
        return f"{value:.1f} s" if value < 100 else f"{value / 60:.1f} min"
    return f"{value:,.0f} rows"


@register.inclusion_tag("studio/_chart.html")
def history_bars(points: list[dict[str, Any]], key: str, label: str) -> dict[str, Any]:
    """One bar per run (oldest left), its height the run's `key` ("seconds" or "rows"),
    coloured by status; hovering says which run, when, how much."""
    values = [p.get(key) for p in points]
    top = max((v for v in values if v is not None), default=0) or 1
    count = max(len(points), 1)
    width = min(BAR_MAX, (WIDTH - GAP * (count - 1)) / count)
    bars = []
    for i, point in enumerate(points):
        value = point.get(key)
        height = 2.0 if value is None else max(2.0, (HEIGHT - TOP) * value / top)
        shown = "—" if value is None else _number(value, key)
        bars.append(
            {
                "x": round(i * (width + GAP), 1),
                "y": round(HEIGHT - height, 1),
                "w": round(width, 1),
                "h": round(height, 1),
                "status": point["status"] if value is not None else "none",
                "run": point["id"],
                "title": f"#{point['id']} · {point['when']:%Y-%m-%d %H:%M} · {shown} · {point['status']}",
            }
        )
    peak = _number(top, key) if any(v is not None for v in values) else ""
    # A chart without a caption (a row of the streams' table) is still named for screen readers.
    name = label or {"seconds": "Duration", "rows": "Rows"}.get(key, key)
    return {
        "bars": bars,
        "width": WIDTH,
        "height": HEIGHT,
        "label": label,
        "name": name,
        "peak": peak,
        "empty": not points,
    }


@register.inclusion_tag("studio/_chart.html")
def day_bars(hours: list[Counter[str]], label: str) -> dict[str, Any]:
    """The runs of the last 24 hours, a stacked bar per hour (oldest left), by status."""
    top = max((sum(h.values()) for h in hours), default=0) or 1
    width = (WIDTH - GAP * 23) / 24
    bars = []
    for i, hour in enumerate(hours):
        base = float(HEIGHT)
        for status in (*STACK, *sorted(set(hour) - set(STACK))):
            if not hour.get(status):
                continue
            height = (HEIGHT - TOP) * hour[status] / top
            base -= height
            bars.append(
                {
                    "x": round(i * (width + GAP), 1),
                    "y": round(base, 1),
                    "w": round(width, 1),
                    "h": round(height, 1),
                    "status": status,
                    "title": f"{24 - i} h ago: {hour[status]} {status}",
                }
            )
    peak = f"{top} run{'s' if top != 1 else ''}/h" if any(hours) else ""
    return {
        "bars": bars,
        "width": WIDTH,
        "height": HEIGHT,
        "label": label,
        "name": label,
        "peak": peak,
        "empty": not any(hours),
    }


@register.filter
def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f} %"
