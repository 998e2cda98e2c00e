"""The import form: a replication file pasted or uploaded, carried unchanged to its confirmation."""

from __future__ import annotations

import base64
from typing import Any

from django import forms

from replication.config import NAME
from replication.yamlio import MAX_BYTES


class ImportForm(forms.Form):
    """A document pasted or uploaded; `exact` carries it, byte for byte, to the confirming
    step (a form field would arrive with its line breaks turned into CR LF)."""

    text = forms.CharField(
        required=False, strip=False, widget=forms.Textarea(attrs={"rows": 14, "class": "code"})
    )
    file = forms.FileField(required=False)
    exact = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2 * MAX_BYTES)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("file")
        if upload:
            data["text"] = upload.read(MAX_BYTES + 1)
        elif data.get("exact"):
            try:
                data["text"] = base64.b64decode(data["exact"], validate=True)
            except ValueError:
                raise forms.ValidationError("the document to confirm was damaged: paste it again") from None
        elif data.get("text"):
            data["text"] = data["text"].replace("\r\n", "\n")  # the browser's, not the file's
        if not data.get("text") or not data["text"].strip():
            raise forms.ValidationError("paste YAML or choose a file")
        return data

    @staticmethod
    def carry(text: str) -> str:
        """The value of `exact` that brings `text` back unchanged."""
        return base64.b64encode(text.encode()).decode()


class NewFromYamlForm(ImportForm):
    """A new replication from a document: its name, and the document pasted or uploaded."""

    name = forms.RegexField(
        regex=rf"^{NAME.pattern}$",
        max_length=200,
        error_messages={"invalid": "letters, digits, - and _ only"},
    )
    field_order = ["name", "text", "file"]
