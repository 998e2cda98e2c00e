"""The editor's "Run with options": a mode for every chosen stream and sling's `--range`."""

from __future__ import annotations

from django import forms

from replication.versions import MODES


def mode_field() -> forms.ChoiceField:
    """A mode for every chosen stream (`--mode`), as a run and a schedule take it."""
    return forms.ChoiceField(
        required=False, label="Mode", choices=[("", "each stream's own")] + [(m, m) for m in MODES]
    )


def range_field(**options: object) -> forms.CharField:
    """sling's `--range` ("start,end"), as a run and a schedule take it."""
    return forms.CharField(
        required=False,
        max_length=200,
        label="Range",
        widget=forms.TextInput(attrs={"placeholder": "2024-01-01,2024-02-01", "class": "mono"}),
        **options,
    )


class RunForm(forms.Form):
    mode = mode_field()
    range = range_field(help_text="sling's --range for backfill mode: start,end (dates or numbers)")
