"""The audit page's filters (also the export's and the API's): a person, an object, an action, a
time range, and the page (`before`: the oldest entry of the page before)."""

from __future__ import annotations

from django import forms

from studio.errors import Refused
from studio.selectors.audit import ACTIONS, ID_MAX, OBJECT_TYPES, AuditFilter, as_utc


class AuditFilterForm(forms.Form):
    person = forms.CharField(
        required=False,
        max_length=200,
        # A user name, or the OS user of the command line (the list suggests the users).
        widget=forms.TextInput(
            attrs={"list": "audit-people", "autocomplete": "off", "placeholder": "user name"}
        ),
    )
    object_type = forms.ChoiceField(
        required=False, label="Object", choices=[("", "any"), *((t, t) for t in OBJECT_TYPES)]
    )
    object = forms.CharField(
        required=False,
        max_length=300,
        label="Name contains",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    action = forms.ChoiceField(required=False, choices=[("", "any"), *((a, a) for a in ACTIONS)])
    since = forms.DateTimeField(
        required=False, label="From (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        required=False, label="Until (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    before = forms.IntegerField(required=False, min_value=1, max_value=ID_MAX, widget=forms.HiddenInput)

    def clean(self) -> dict[str, object]:
        data = super().clean()
        for field in ("since", "until"):
            try:
                data[field] = as_utc(data.get(field), field)
            except Refused as exc:
                self.add_error(field, exc.problems[0].message)
        since, until = data.get("since"), data.get("until")
        if since and until and until <= since:
            self.add_error("until", "must be after the start")
        return data

    def filters(self) -> AuditFilter:
        """The selector's filter (call after is_valid())."""
        data = self.cleaned_data
        return AuditFilter(
            person=data["person"].strip(),
            object_type=data["object_type"],
            object_name=data["object"].strip(),
            action=data["action"],
            since=data["since"],
            until=data["until"],
        )
