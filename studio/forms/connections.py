"""The connection form: name, type, URL and the fields usual for the type (secret ones
write-only), plus any others as YAML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.urls import reverse

from replication.connections import (
    FIELD_NAME,
    FORM_FIELDS,
    MASK,
    TYPES,
    field_secrets,
    is_secret,
    type_of_url,
    url_example,
    url_fields,
)
from replication.parallel import MAX_STREAMS, default_limit
from replication.yamlio import dump
from studio.forms.fields import YamlField
from studio.forms.renderer import LongSelect


class ConnectionForm(forms.Form):
    """A connection: its name, type, URL and the fields usual for its type, plus any
    others as YAML. Secret fields never show their value (`secret_names` had one)."""

    name = forms.RegexField(
        regex=r"^[A-Za-z_][A-Za-z0-9_]{0,199}$", error_messages={"invalid": "letters, digits and _"}
    )
    type = forms.ChoiceField(choices=[(t, t) for t in TYPES], widget=LongSelect)
    url = forms.CharField(required=False, max_length=4000, help_text="instead of the fields below")

    # Its page never gave the error and help paragraphs ids (studio/forms/renderer.py).
    message_ids = False

    def __init__(
        self,
        data: Any = None,
        *,
        connection: Any = None,
        conn_type: str = "postgres",
        typed: Mapping[str, Any] | None = None,
    ) -> None:
        """`typed`: what the form had when its type was changed, shown again (secrets aside)."""
        params = connection.params if connection else {}
        initial: dict[str, Any] = {"type": conn_type}
        if connection:
            initial.update(name=connection.name, url=params.get("url", ""))
        super().__init__(data, initial=initial)
        self.conn_type = conn_type
        # Changing the type posts the form back, which answers with that type's fields.
        here = reverse("connection-edit", args=[connection.name]) if connection else reverse("connection-new")
        self.fields["type"].widget.attrs.update(
            {
                "hx-post": here,
                "hx-vals": '{"refresh": "1"}',
                "hx-target": "#connection-fields",
                "hx-swap": "outerHTML",
                "hx-include": "closest form",
                # The last type chosen wins: a change while the previous answer is still being
                # swapped in replaces that request (htmx drops it by default, leaving the fields
                # of a type no longer chosen).
                "hx-sync": "this:replace",
            }
        )
        stored = field_secrets(connection.secrets) if connection else {}
        for field in FORM_FIELDS.get(conn_type, []):
            if field == "url":
                continue
            if is_secret(conn_type, field):
                widget = forms.PasswordInput(
                    render_value=False,
                    attrs={
                        "placeholder": f"{MASK} (unchanged)" if field in stored else "",
                        "autocomplete": "off",
                    },
                )
                self.fields[field] = forms.CharField(required=False, widget=widget, max_length=20_000)
            else:
                self.fields[field] = forms.CharField(
                    required=False, max_length=4000, initial=params.get(field, "")
                )
        others = {k: v for k, v in params.items() if k not in FORM_FIELDS.get(conn_type, []) and k != "url"}
        self.fields["other"] = YamlField(
            kind="map",
            label="Other fields",
            initial=dump(others).rstrip("\n") if others else "",
            help_text="any further field, as YAML (`key: value`); secret ones are stored apart",
        )
        default = default_limit(conn_type)
        self.fields["max_streams"] = forms.IntegerField(
            required=False,
            min_value=1,
            max_value=MAX_STREAMS,
            label="Streams at once",
            initial=connection.max_streams if connection else None,
            help_text="how many sling processes may use it at the same time, across all workers; empty: "
            + (
                f"{default} for a {conn_type} connection"
                if default
                else "no limit for files (one path, one writer)"
            ),
        )
        self.secret_names = list(stored)
        for name in self.secret_names:
            if name in self.fields:
                self.fields[name].secret_stored = True  # the label's badge (studio/forms/renderer.py)
        # What the page says is stored: the names of the secret fields and of the URLs with a
        # password, never a value.
        self.stored_secrets = self.secret_names + url_fields(connection.secrets if connection else {})
        self.url_secrets = set(self.stored_secrets) - set(self.secret_names)
        example = url_example(conn_type)
        instead = "instead of the fields below" if FORM_FIELDS.get(conn_type) else ""
        self.fields["url"].help_text = ", e.g. ".join(part for part in (instead, example) if part)
        for field, value in (typed or {}).items():
            if field in self.fields and not isinstance(self.fields[field].widget, forms.PasswordInput):
                self.initial[field] = value

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or not self._errors:
            return
        # The page drawn again never holds a secret: a secret typed in a form that is refused is
        # asked for again, so a second Save cannot store the connection without it unseen.
        for name, field in self.fields.items():
            if (
                isinstance(field.widget, forms.PasswordInput)
                and self.data.get(name)
                and name not in self._errors
            ):
                self.add_error(name, "type it again: a secret is never sent back to the page")

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        if url:
            of_url = type_of_url(url)
            if of_url is None or (url.endswith("://") and of_url != "file"):
                example = url_example(self.conn_type) or "postgresql://user@host:5432/database"
                raise forms.ValidationError(
                    f"`{url[:200]}` is not a connection URL: write scheme://..., e.g. {example}"
                )
            try:
                parts = urlsplit(url)
            except ValueError as exc:
                raise forms.ValidationError(f"the URL does not parse: {exc}") from None
            try:
                parts.port  # noqa: B018 - raises on a port that is not one
            except ValueError:
                raise forms.ValidationError("the URL's port must be a number from 1 to 65535") from None
        return url

    def clean_other(self) -> dict[str, Any] | None:
        other = self.cleaned_data["other"]
        for name in other or {}:
            if not isinstance(name, str) or not FIELD_NAME.match(name):
                raise forms.ValidationError(
                    f"`{name}`: a field name is text of letters, digits, `_`, `-`, `.` or spaces"
                    " (write `'1': ...` for a name that looks like a number)"
                )
            if name.lower() in ("type", "url", "name"):
                raise forms.ValidationError(f"`{name}` has its own box above; it cannot be an other field")
        return other

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for field, port in (("port", data.get("port")), ("other", (data.get("other") or {}).get("port"))):
            if port not in (None, "") and not (str(port).isdigit() and 1 <= int(port) <= 65535):
                self.add_error(field, "the port must be a number from 1 to 65535")
        return data

    def sling_fields(self) -> dict[str, Any]:
        """The connection's fields as Sling names them (call after is_valid()); stored secrets
        the form leaves empty are not among them (`connections.carry_secrets` keeps those)."""
        data = self.cleaned_data
        fields: dict[str, Any] = {"type": self.conn_type, **(data.get("other") or {})}
        for name in FORM_FIELDS.get(data["type"], []):
            if data.get(name):
                fields[name] = data[name]
        if data.get("url"):
            fields["url"] = data["url"]
        return fields
