"""The editor's "Run with options": a mode for every chosen stream and sling's `--range`."""

from __future__ import annotations

from django import forms

from replication.versions import MODES


class RunForm(forms.Form):
    mode = forms.ChoiceField(
        required=False, label="Mode", choices=[("", "each stream's own")] + [(m, m) for m in MODES]
    )
    range = forms.CharField(
        required=False,
        max_length=200,
        label="Range",
        help_text="sling's --range for backfill mode: start,end (dates or numbers)",
        widget=forms.TextInput(attrs={"placeholder": "2024-01-01,2024-02-01", "class": "mono"}),
    )
