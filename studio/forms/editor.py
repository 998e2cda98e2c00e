"""Forms of the editor: a stream's keys (also the defaults'), the replication's settings, a new
stream and the bulk edit of the table. They turn fields into config values and back; the
meaning of the values is `replication.validate`'s business."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import forms

from replication.config import ReplicationConfig
from replication.versions import MODES, STREAM_KEYS
from studio.forms.fields import ListField, TriStateField, YamlField
from studio.forms.replications import ReplicationForm

OTHER = "other_keys"


class KeysForm(forms.Form):
    """Every per-stream key of Sling's format; also serves `defaults`.

    Only fields the user changed are applied (`apply`), so a value written as
    `[id]` stays a list and unknown keys stay as they were.
    """

    # Its code boxes (SQL, YAML) take the grid's whole width (studio/forms/renderer.py).
    wide_code = True

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
        # The stream's discovered columns, offered as one types (the panel's datalist).
        for key in ("primary_key", "update_key", "select"):
            self.fields[key].widget.attrs.update(list="stream-columns", autocomplete="off")


class SettingsForm(ReplicationForm):
    env = YamlField(kind="map", help_text="variables, e.g. SLING_THREADS: 4")
    hooks = YamlField(kind="map", help_text="start / end: lists of hooks")

    # Its error and help paragraphs have no ids: they would repeat those of the stream's form
    # beside it on the editor's page (`id_hooks_helptext`), whose fields' auto ids are the same.
    message_ids = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # On the editor's page beside a stream's form, whose `name` and `hooks` keep their ids.
        for name in ("name", "hooks"):
            self.fields[name].widget.attrs["id"] = f"id_replication_{name}"
        # The page's datalist of connection names, and none of the new-replication form's
        # maxlength and autocomplete="off": the editor's boxes never had them.
        for name in ("source", "target"):
            self.fields[name].widget = forms.TextInput(attrs={"list": "connection-names"})

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
    action = forms.ChoiceField(choices=BULK_ACTIONS, error_messages={"required": "choose an action"})
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
