from __future__ import annotations

from django.contrib import admin

from studio import models


@admin.register(models.Connection)
class ConnectionAdmin(admin.ModelAdmin):
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
