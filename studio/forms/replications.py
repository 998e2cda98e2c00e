"""The form of a new replication (the replications page): its name, source and target."""

from __future__ import annotations

from django import forms

from replication.config import NAME


class ReplicationForm(forms.Form):
    name = forms.RegexField(
        regex=rf"^{NAME.pattern}$",
        max_length=200,
        error_messages={"invalid": "letters, digits, - and _ only"},
    )
    # Picked from the known connections (the page's datalist), or any name typed.
    source = forms.CharField(
        max_length=500,
        help_text="connection name, e.g. MY_POSTGRES or LOCAL",
        widget=forms.TextInput(attrs={"list": "connection-names", "autocomplete": "off"}),
    )
    target = forms.CharField(
        max_length=500, widget=forms.TextInput(attrs={"list": "connection-names", "autocomplete": "off"})
    )
