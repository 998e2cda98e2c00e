"""The Django admin: a look at the rows, and the few edits that go through the studio's services.

Replications and streams are read-only here, each with a link to its editor. An edit of them is
a new version of a whole replication: checked as sling would check it, refused when someone
saved in between (the edited version), kept as a revision and recorded in the audit trail; the
admin's forms of raw rows can do none of that (a stream's `config` typed as JSON, saved without
a check, no revision), and the editor already does all of it. Connections are edited through
`connection_edit` and deleted through the services, downstream assets deleted through theirs, so
those are versioned and audited wherever they are made. The audit trail is read-only for everyone.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from replication.connections import moved_fields
from studio import models
from studio.services.connections import connection_delete, connection_edit, connection_problems


class ConnectionAdminForm(forms.ModelForm):
    """The admin edits a connection's public fields only: a change of where it goes (`type`,
    host, port, user...) would send its stored secrets there, so that one is refused and made
    in the studio's own form, where they are typed again."""

    class Meta:
        model = models.Connection
        fields = ["name", "type", "params"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        stored = self.instance  # as saved: the form's values reach it after clean()
        if stored.pk is not None and stored.secrets and isinstance(data.get("params"), dict):
            moved = moved_fields(stored.type, stored.params, {}, str(data.get("type")), data["params"])
            if moved:
                changed = ", ".join(f"`{name}`" for name in moved)
                raise forms.ValidationError(
                    f"{changed} changed: the stored secrets would go elsewhere; change it in the "
                    "studio's connection form, typing them again"
                )
        if isinstance(data.get("params"), dict) and data.get("name") and data.get("type"):
            problems = connection_problems(str(data["name"]), str(data["type"]), data["params"])
            if problems:
                raise forms.ValidationError([f"`{'.'.join(p.path)}`: {p.message}" for p in problems])
        return data


@admin.register(models.Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionAdminForm
    list_display = ["name", "type", "updated"]
    search_fields = ["name"]
    # `secrets` is not editable and never shown; `shown_params` masks them.
    fields = ["name", "type", "params", "shown_params"]
    readonly_fields = ["shown_params"]

    def save_model(self, request: HttpRequest, obj: models.Connection, form: Any, change: bool) -> None:
        # Through the studio's service: a new version, its secrets carried, an audit entry.
        stored = models.Connection.objects.get(pk=obj.pk) if change else None
        fields = {"type": obj.type, **obj.params}
        saved = connection_edit(instance=stored, name=obj.name, fields=fields)
        obj.pk, obj.version = saved.pk, saved.version

    def delete_model(self, request: HttpRequest, obj: models.Connection) -> None:
        connection_delete(connection=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[models.Connection]) -> None:
        for connection in queryset:
            connection_delete(connection=connection)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Seen here, changed in the studio's own pages (see the module's docstring)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StreamInline(admin.TabularInline):
    model = models.Stream
    fields = ["position", "name", "config"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.Replication)
class ReplicationAdmin(ReadOnlyAdmin):
    list_display = ["name", "source", "target", "version", "updated", "open_in_editor"]
    search_fields = ["name", "source", "target"]
    readonly_fields = ["open_in_editor"]
    inlines = [StreamInline]

    @admin.display(description="editor")
    def open_in_editor(self, obj: models.Replication) -> str:
        return format_html('<a href="{}">Edit in the studio</a>', reverse("editor", args=[obj.name]))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the studio's delete page says first what it affects (schedules, lineage)


@admin.register(models.Stream)
class StreamAdmin(ReadOnlyAdmin):
    list_display = ["name", "replication", "mode", "object", "disabled"]
    list_filter = ["mode", "replication"]
    search_fields = ["name", "object"]
    list_select_related = ["replication"]
    fields = ["replication", "position", "name", "config", "open_in_editor"]
    readonly_fields = ["open_in_editor"]

    @admin.display(description="editor")
    def open_in_editor(self, obj: models.Stream) -> str:
        url = reverse("stream-edit", args=[obj.replication.name, obj.pk])
        return format_html('<a href="{}">Edit in the studio</a>', url)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # removing a stream is an edit of its replication: a new version, in the editor


@admin.register(models.DownstreamAsset)
class DownstreamAssetAdmin(ReadOnlyAdmin):
    list_display = ["key", "group", "description"]
    search_fields = ["key", "description"]
    readonly_fields = ["open_in_lineage"]

    @admin.display(description="lineage")
    def open_in_lineage(self, obj: models.DownstreamAsset) -> str:
        return format_html(
            '<a href="{}">Edit in the studio</a>', reverse("lineage-downstream-edit", args=[obj.pk])
        )

    def delete_model(self, request: HttpRequest, obj: models.DownstreamAsset) -> None:
        self.delete_queryset(request, [obj])

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        # Imported here: the service reads the lineage (networkx), which a run's start never loads
        # (the admin is loaded by every process of the full settings).
        from studio.services.downstream import downstream_delete

        for asset in queryset:
            downstream_delete(instance=asset)


@admin.register(models.AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read only, for everyone: the trail is append-only (the database refuses changes too)."""

    list_display = ["at", "actor", "token", "via", "action", "object_type", "object_name", "summary"]
    list_filter = ["via", "action", "object_type"]
    search_fields = ["actor", "object_name"]
    date_hierarchy = "at"
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
