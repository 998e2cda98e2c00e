"""The field classes the forms of several areas share: YAML typed into a box, a comma-separated
list, and true / false / unset."""

from __future__ import annotations

from typing import Any

from django import forms

from replication.yamlio import YamlError, dump, load_value


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
