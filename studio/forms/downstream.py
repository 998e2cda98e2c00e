"""The form of a downstream asset (a dbt model, report or job reading the studio's tables)."""

from __future__ import annotations

from django import forms

from studio.forms.fields import ListField


class DownstreamAssetForm(forms.Form):
    """A dbt model, report or job that reads the studio's tables. Keys are Dagster's
    user strings: parts joined by `/`, each of letters, digits, `_`, `-` or `.`."""

    key = forms.CharField(
        max_length=500,
        help_text="e.g. analytics/customer_orders",
        widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off"}),
    )
    deps = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "code"}),
        help_text="keys it reads, one a line (or comma-separated); any key may be named",
    )
    description = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    group = forms.CharField(required=False, max_length=200)
    tags = ListField(max_length=2000, help_text="comma-separated, e.g. finance, dbt")

    # Its page never gave the error and help paragraphs ids (studio/forms/renderer.py).
    message_ids = False

    @staticmethod
    def check_key(text: str) -> str:
        text = text.strip()
        parts = text.split("/")
        if not text or any(not part.strip() for part in parts):
            raise forms.ValidationError(f"`{text}`: a key is parts joined by `/`, none of them empty")
        for part in parts:
            part = part.strip()
            if not all(ch.isascii() and (ch.isalnum() or ch in "_-.") for ch in part):
                raise forms.ValidationError(
                    f"`{part}` in `{text}`: key parts take letters, digits, `_`, `-` and `.` only"
                )
        return "/".join(part.strip() for part in parts)

    def clean_key(self) -> str:
        return self.check_key(self.cleaned_data["key"])

    def clean_deps(self) -> list[str]:
        text = self.cleaned_data["deps"].replace(",", "\n")
        deps = [self.check_key(line) for line in text.splitlines() if line.strip()]
        return list(dict.fromkeys(deps))

    def clean_group(self) -> str:
        group = self.cleaned_data["group"].strip()
        # Dagster's rule for group names.
        if group and not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in group):
            raise forms.ValidationError("a group takes letters, digits and `_` only (as Dagster does)")
        return group
