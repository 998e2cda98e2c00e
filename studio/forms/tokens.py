"""The form of a new API token (the tokens page): its name, what it may do and when it expires."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django import forms

FULL, READ_ONLY = "full", "read-only"


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="where it is used, e.g. ci-deploy or airflow",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    access = forms.ChoiceField(
        choices=[(FULL, "everything my role allows"), (READ_ONLY, "read only (as a viewer)")],
        initial=FULL,
        widget=forms.RadioSelect,
    )
    expires = forms.DateField(
        required=False,
        help_text="optional: the token stops working at the start of this day (UTC)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def token_fields(self) -> dict[str, Any]:
        """`token_create`'s arguments (call after is_valid())."""
        data = self.cleaned_data
        day = data.get("expires")
        return {
            "name": data["name"],
            "read_only": data["access"] == READ_ONLY,
            "expires": datetime.combine(day, time.min, tzinfo=UTC) if day else None,
        }
