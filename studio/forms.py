"""Forms of the editor. They turn fields into config values and back; the
meaning of the values is `replication.validate`'s business."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from django import forms

from replication.config import NAME, ReplicationConfig
from replication.connections import (
    FIELD_NAME,
    FORM_FIELDS,
    MASK,
    TYPES,
    field_secrets,
    is_secret,
    type_of_url,
    url_example,
)
from replication.versions import MODES, STREAM_KEYS
from replication.yamlio import MAX_BYTES, YamlError, dump, load_value

OTHER = "other_keys"


class YamlField(forms.CharField):
    """A YAML fragment typed into a textarea; `kind` is "map" or "any"."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "code"})

    def __init__(self, *, kind: str = "any", **kwargs: Any) -> None:
        self.kind = kind
        kwargs.setdefault("required", False)
        super().__init__(strip=False, **kwargs)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text or not text.strip():
            return None
        try:
            loaded = load_value(text)
        except YamlError as exc:
            where = f"line {exc.line}: " if exc.line else ""
            raise forms.ValidationError(f"{where}{exc.message}") from None
        if self.kind == "map" and not isinstance(loaded, dict):
            raise forms.ValidationError("expected a mapping, e.g. `key: value` on each line")
        return loaded

    def prepare_value(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return dump(value).rstrip("\n")

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != initial
        except forms.ValidationError:
            return True


class ListField(forms.CharField):
    """Comma-separated text: `id, region` -> ["id", "region"]."""

    def __init__(self, *, single_as_text: bool = False, **kwargs: Any) -> None:
        self.single_as_text = single_as_text
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        items = [item.strip() for item in (super().to_python(value) or "").split(",") if item.strip()]
        if not items:
            return None
        return items[0] if self.single_as_text and len(items) == 1 else items

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(map(str, value)) if isinstance(value, list) else value

    def has_changed(self, initial: Any, data: Any) -> bool:
        new = self.to_python(data)
        as_list = [initial] if isinstance(initial, str) else initial
        return (new if isinstance(new, list) else [new] if new else None) != (as_list or None)


class TriStateField(forms.TypedChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=[("", "—"), ("true", "true"), ("false", "false")],
            coerce=lambda v: v == "true",
            empty_value=None,
            required=False,
            **kwargs,
        )

    def prepare_value(self, value: Any) -> Any:
        return "" if value is None else "true" if value is True else "false" if value is False else value

    def has_changed(self, initial: Any, data: Any) -> bool:
        return (None if data in ("", None) else data == "true") != initial


class KeysForm(forms.Form):
    """Every per-stream key of Sling's format; also serves `defaults`.

    Only fields the user changed are applied (`apply`), so a value written as
    `[id]` stays a list and unknown keys stay as they were.
    """

    id = forms.CharField(required=False, label="id")
    description = forms.CharField(required=False)
    mode = forms.ChoiceField(required=False, choices=[("", "—")] + [(m, m) for m in MODES])
    object = forms.CharField(required=False, help_text="schema.table or a file path; {variables} allowed")
    primary_key = ListField(single_as_text=True, help_text="comma-separated columns")
    update_key = forms.CharField(required=False)
    sql = forms.CharField(
        required=False, label="SQL", widget=forms.Textarea(attrs={"rows": 3, "class": "code"})
    )
    select = ListField(help_text="columns to keep, or -column to drop")
    where = forms.CharField(required=False)
    files = ListField()
    columns = YamlField(kind="map", help_text="column: type, one per line")
    transforms = YamlField()
    source_options = YamlField(kind="map")
    target_options = YamlField(kind="map")
    change_capture_options = YamlField(kind="map")
    single = TriStateField()
    disabled = TriStateField()
    tags = ListField()
    schedule = forms.CharField(required=False)
    hooks = YamlField(kind="map", help_text="pre / post / pre_merge / post_merge: lists of hooks")
    meta = YamlField(kind="map", help_text="meta.dagster: asset_key, deps, group, description")
    other_keys = YamlField(kind="map", label="Other keys", help_text="keys the studio does not know, kept")

    def __init__(self, *args: Any, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        own = config or {}
        initial = {key: value for key, value in own.items() if key in STREAM_KEYS and value is not None}
        others = {key: value for key, value in own.items() if key not in STREAM_KEYS}
        if others:
            initial[OTHER] = others
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.config = own
        self.was_null = config is None

    def set_inherited(self, defaults: dict[str, Any]) -> None:
        """Show the values a stream takes from `defaults` as placeholders."""
        for key, value in defaults.items():
            field = self.fields.get(key)
            if field is None or value is None:
                continue
            shown = field.prepare_value(value) if hasattr(field, "prepare_value") else value
            field.widget.attrs["placeholder"] = f"{shown}"[:200]
            field.inherited = shown

    def apply(self) -> dict[str, Any] | None:
        """The config with the changed fields applied; call after is_valid().

        A stream written as `name:` alone stays so while nothing is set."""
        config = dict(self.config)
        for name in self.changed_data:
            if name not in self.fields or name == "name":
                continue
            value = self.cleaned_data.get(name)
            if name == OTHER:
                for key in [k for k in config if k not in STREAM_KEYS]:
                    del config[key]
                config.update(value or {})
            elif value is None or value == "":
                config.pop(name, None)
            else:
                config[name] = value
        return None if self.was_null and not config else config


class StreamForm(KeysForm):
    name = forms.CharField(max_length=2000, help_text="table (schema.table), file path, glob or label")

    field_order = ["name"]

    def __init__(self, *args: Any, name: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["name"] = name


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


class SettingsForm(ReplicationForm):
    env = YamlField(kind="map", help_text="variables, e.g. SLING_THREADS: 4")
    hooks = YamlField(kind="map", help_text="start / end: lists of hooks")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # On the editor's page beside a stream's form, whose `name` and `hooks` keep their ids.
        for name in ("name", "hooks"):
            self.fields[name].widget.attrs["id"] = f"id_replication_{name}"

    def apply(self, config: ReplicationConfig, defaults: dict[str, Any]) -> ReplicationConfig:
        """`config` with these settings and `defaults`; call after is_valid()."""
        data = self.cleaned_data
        return replace(
            config,
            source=data["source"],
            target=data["target"],
            env=data["env"] or {},
            hooks=data["hooks"] or {},
            defaults=defaults,
        )


class NewStreamForm(forms.Form):
    name = forms.CharField(max_length=2000, help_text="e.g. public.users or file://data/*.csv")
    object = forms.CharField(required=False, max_length=2000)


BULK_ACTIONS = [
    ("enable", "Enable"),
    ("disable", "Disable"),
    ("duplicate", "Duplicate"),
    ("delete", "Delete"),
    ("set", "Set key…"),
]


class _StreamIds(forms.TypedMultipleChoiceField):
    """Row ids, each one of `allowed`: a set, not a choice per stream (10,000 of them made the
    form take a tenth of a second)."""

    allowed: frozenset[str] = frozenset()

    def valid_value(self, value: Any) -> bool:
        return str(value) in self.allowed


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=BULK_ACTIONS)
    streams = _StreamIds(coerce=int, error_messages={"required": "tick streams"})
    key = forms.ChoiceField(required=False, choices=[("", "—")] + [(k, k) for k in STREAM_KEYS])
    value = YamlField(help_text="YAML value; empty removes the key")
    # Every stream the table's filter matches, on any page, instead of the ticked ones.
    matching = forms.BooleanField(required=False)

    def __init__(self, *args: Any, stream_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["streams"].allowed = frozenset(str(pk) for pk in stream_ids)
        self.fields["streams"].required = not self["matching"].value()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == "set" and not data.get("key"):
            self.add_error("key", "choose the key to set")
        return data


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


class ConnectionForm(forms.Form):
    """A connection: its name, type, URL and the fields usual for its type, plus any
    others as YAML. Secret fields never show their value (`secret_names` had one)."""

    name = forms.RegexField(
        regex=r"^[A-Za-z_][A-Za-z0-9_]{0,199}$", error_messages={"invalid": "letters, digits and _"}
    )
    type = forms.ChoiceField(choices=[(t, t) for t in TYPES])
    url = forms.CharField(required=False, max_length=4000, help_text="instead of the fields below")

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
        self.secret_names = list(stored)
        example = url_example(conn_type)
        self.fields["url"].help_text = (
            f"instead of the fields below, e.g. {example}" if example else "instead of the fields below"
        )
        for field, value in (typed or {}).items():
            if field in self.fields and not isinstance(self.fields[field].widget, forms.PasswordInput):
                self.initial[field] = value

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


class DownstreamAssetForm(forms.Form):
    """A dbt model, report or job that reads the studio's tables. Keys are Dagster's
    user strings: parts joined by `/`, each of letters, digits, `_`, `-` or `.`."""

    key = forms.CharField(max_length=500, help_text="e.g. analytics/customer_orders")
    deps = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "code"}),
        help_text="keys it reads, one a line (or comma-separated); any key may be named",
    )
    description = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    group = forms.CharField(required=False, max_length=200)
    tags = ListField(max_length=2000, help_text="comma-separated, e.g. finance, dbt")

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


# --- schedules, run policy, alert channels ------------------------------------------------


class ScheduleForm(forms.Form):
    cron = forms.CharField(
        max_length=200,
        label="When (cron)",
        help_text="minute hour day-of-month month day-of-week, e.g. */15 * * * * or 0 6 * * 1-5",
        widget=forms.TextInput(attrs={"placeholder": "0 6 * * 1-5", "class": "mono", "autocomplete": "off"}),
    )
    timezone = forms.CharField(
        max_length=64, initial="UTC", label="Time zone", widget=forms.TextInput(attrs={"list": "timezones"})
    )
    streams = forms.CharField(
        required=False,
        label="Streams",
        help_text="one per line; empty: the whole replication",
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "class": "code"}),
    )
    mode = forms.ChoiceField(
        required=False, label="Mode", choices=[("", "each stream's own")] + [(m, m) for m in MODES]
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def stream_names(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["streams"].splitlines() if line.strip()]


class PolicyForm(forms.Form):
    retries = forms.IntegerField(
        min_value=0, max_value=10, initial=0, help_text="new attempts after a failed run (0 to 10)"
    )
    retry_backoff = forms.IntegerField(
        min_value=1,
        max_value=6 * 3600,
        initial=60,
        label="Backoff (s)",
        help_text="before the first retry; doubled for each next one",
    )
    freshness_minutes = forms.IntegerField(
        required=False,
        min_value=1,
        label="Freshness (min)",
        help_text="stale after this long without a success (a stream's meta.dagster.freshness_policy wins)",
    )
    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class ChannelForm(forms.Form):
    EVENTS = [("failure", "failure"), ("recovery", "recovery"), ("stale", "stale")]

    webhook = forms.CharField(
        required=False,
        max_length=2000,
        label="Webhook URL",
        help_text="JSON POST with a Slack-style text field",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.slack.com/services/…"}),
    )
    email = forms.CharField(required=False, max_length=254, label="Email", widget=forms.EmailInput)
    events = forms.MultipleChoiceField(
        choices=EVENTS, initial=["failure", "recovery"], widget=forms.CheckboxSelectMultiple, label="On"
    )
    scope = forms.ChoiceField(
        choices=[("replication", "this replication"), ("all", "every replication")],
        initial="replication",
        label="For",
    )
