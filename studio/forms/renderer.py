"""How a form's fields are drawn: every field by `FieldGroup.as_field_group` (its label, box, error
and help, one markup for the whole studio), Django's widget templates found where the project's
templates are (`TemplatesSetting`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from django.forms.renderers import TemplatesSetting
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class FieldGroup(BoundField):
    """A field with its label, error and help (`{{ field.as_field_group }}`). Besides the field it
    reads the form's `wide_code` (its code boxes take the grid's whole width) and `message_ids`
    (False: the error and help carry no `<auto_id>_error`/`_helptext` ids), and the field's
    `inherited` (what a stream takes from the defaults, said instead of the help) and
    `secret_stored` (its secret is stored; the box stays empty).

    Written here rather than in a field template: a template rendered for each field cost the
    editor's page 12 ms of its 39 (fifty fields), and the streams table's panel as much again."""

    def as_field_group(self) -> SafeString:
        if self.is_hidden:
            return SafeString(str(self))
        ids = getattr(self.form, "message_ids", True)
        wide = getattr(self.form, "wide_code", False) and self.field.widget.attrs.get("class") == "code"
        classes = "field" + (" has-error" if self.errors else "") + (" wide" if wide else "")
        badge = (
            SafeString(' <span class="badge">secret stored</span>')
            if getattr(self.field, "secret_stored", False)
            else ""
        )
        error = help_text = ""
        if self.errors:
            at = format_html(' id="{}_error"', self.auto_id) if ids else ""
            error = format_html('\n  <p class="error"{}>{}</p>', at, " ".join(self.errors))
        inherited = getattr(self.field, "inherited", None)
        if inherited:
            shown = str(inherited) if len(str(inherited)) <= 80 else str(inherited)[:79] + "…"
            help_text = format_html('\n  <p class="help">inherits <code>{}</code> from defaults</p>', shown)
        elif self.help_text:
            at = format_html(' id="{}_helptext"', self.auto_id) if ids else ""
            help_text = format_html('\n  <p class="help"{}>{}</p>', at, self.help_text)
        return format_html(
            '<div class="{}">\n  <label for="{}">{}{}</label>\n  {}{}{}\n</div>',
            classes,
            self.id_for_label,
            self.label,
            badge,
            str(self),
            error,
            help_text,
        )


class Renderer(TemplatesSetting):
    # Django's own default renderer looks only in the apps' template folders, not in
    # templates/ where the project keeps its own.
    bound_field_class = FieldGroup


class LongSelect(forms.Select):
    """A select of many options (a connection's type: over a hundred), its options written in one
    pass: Django's select template includes a template for each option (~0.2 ms each)."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> Any:
        chosen = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((key, " selected" if str(key) == chosen else "", label) for key, label in self.choices),
        )
        built = self.build_attrs(self.attrs, attrs).items()
        attributes = format_html_join(
            "",
            "{}{}",
            (
                (f" {key}", "" if value is True else format_html('="{}"', value))
                for key, value in built
                if value not in (None, False)
            ),
        )
        return format_html('<select name="{}"{}>{}</select>', name, attributes, options)
