from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from replication.connections import moved_fields
from studio import models


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
        return data


@admin.register(models.Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionAdminForm
    list_display = ["name", "type", "updated"]
    search_fields = ["name"]
    # `secrets` is not editable and never shown; `shown_params` masks them.
    fields = ["name", "type", "params", "shown_params"]
    readonly_fields = ["shown_params"]


class StreamInline(admin.TabularInline):
    model = models.Stream
    fields = ["position", "name", "config"]
    extra = 0
    show_change_link = True


@admin.register(models.Replication)
class ReplicationAdmin(admin.ModelAdmin):
    list_display = ["name", "source", "target", "updated"]
    search_fields = ["name", "source", "target"]
    inlines = [StreamInline]


@admin.register(models.Stream)
class StreamAdmin(admin.ModelAdmin):
    list_display = ["name", "replication", "mode", "object", "disabled"]
    list_filter = ["mode", "replication"]
    search_fields = ["name", "object"]
    list_select_related = ["replication"]
    # mode, object and disabled are derived from `config` when a stream is saved.
    fields = ["replication", "position", "name", "config"]


@admin.register(models.DownstreamAsset)
class DownstreamAssetAdmin(admin.ModelAdmin):
    list_display = ["key", "group", "description"]
    search_fields = ["key", "description"]
