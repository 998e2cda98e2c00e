from __future__ import annotations

from typing import Any

from django.db import models

from replication.connections import masked, merge_secrets


class Connection(models.Model):
    """A Sling connection. Secret fields live in `secrets`, never in `params`."""

    name = models.CharField(max_length=200, unique=True, help_text="Upper-case, as Sling names it")
    type = models.CharField(max_length=40)
    # Non-secret fields (host, user, database, url without password, ...).
    params = models.JSONField(default=dict, blank=True)
    # Passwords, keys, tokens: only ever passed to a sling process.
    secrets = models.JSONField(default=dict, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name = self.name.upper()
        super().save(*args, **kwargs)

    def shown_params(self) -> dict[str, Any]:
        return masked(self.params, self.secrets)

    def full_params(self) -> dict[str, Any]:
        return merge_secrets(self.params, self.secrets)


class Replication(models.Model):
    name = models.SlugField(max_length=200, unique=True, allow_unicode=True)
    source = models.CharField(max_length=200, blank=True)
    target = models.CharField(max_length=200, blank=True)
    defaults = models.JSONField(default=dict, blank=True)
    hooks = models.JSONField(default=dict, blank=True)
    env = models.JSONField(default=dict, blank=True)
    # Unknown top-level keys and known ones written empty, kept verbatim.
    extra = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Stream(models.Model):
    """One stream of a replication: each Sling key a column, NULL when not set."""

    replication = models.ForeignKey(Replication, on_delete=models.CASCADE, related_name="streams")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=1000)
    # True when the stream was written as `name:` with no config at all.
    is_null = models.BooleanField(default=False)

    stream_id = models.CharField("id", max_length=200, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    mode = models.CharField(max_length=40, null=True, blank=True)
    object = models.TextField(null=True, blank=True)
    primary_key = models.JSONField(null=True, blank=True)
    update_key = models.CharField(max_length=500, null=True, blank=True)
    sql = models.TextField(null=True, blank=True)
    select = models.JSONField(null=True, blank=True)
    where = models.TextField(null=True, blank=True)
    files = models.JSONField(null=True, blank=True)
    columns = models.JSONField(null=True, blank=True)
    transforms = models.JSONField(null=True, blank=True)
    source_options = models.JSONField(null=True, blank=True)
    target_options = models.JSONField(null=True, blank=True)
    change_capture_options = models.JSONField(null=True, blank=True)
    single = models.BooleanField(null=True, blank=True)
    disabled = models.BooleanField(null=True, blank=True)
    tags = models.JSONField(null=True, blank=True)
    schedule = models.CharField(max_length=200, null=True, blank=True)
    hooks = models.JSONField(null=True, blank=True)
    meta = models.JSONField(null=True, blank=True)
    # Unknown keys, and known keys written with an empty (null) value.
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["replication", "position"]
        constraints = [
            models.UniqueConstraint(fields=["replication", "name"], name="unique_stream_name"),
        ]
        indexes = [models.Index(fields=["replication", "position"])]

    def __str__(self) -> str:
        return self.name


class DownstreamAsset(models.Model):
    """An asset outside Sling that reads its tables (a dbt model, a report)."""

    key = models.CharField(max_length=500, unique=True, help_text="Asset key parts joined by /")
    deps = models.JSONField(default=list, blank=True, help_text="Keys it reads, each as a/b/c")
    description = models.TextField(blank=True)
    group = models.CharField(max_length=200, blank=True)
    tags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
