"""The form renderer: Django's templates found where the project's are (`TemplatesSetting`),
and one template for every field, `templates/studio/_field.html` (`{{ field.as_field_group }}`)."""

from __future__ import annotations

from django.forms.renderers import TemplatesSetting


class Renderer(TemplatesSetting):
    # Django's own default renderer looks only in the apps' template folders, not in
    # templates/ where the project keeps its own.
    field_template_name = "studio/_field.html"
