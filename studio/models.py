from __future__ import annotations

from typing import Any

from django.conf import settings
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
    source = models.TextField(blank=True)
    target = models.TextField(blank=True)
    defaults = models.JSONField(default=dict, blank=True)
    hooks = models.JSONField(default=dict, blank=True)
    env = models.JSONField(default=dict, blank=True)
    # Unknown top-level keys and known ones written empty, kept verbatim.
    extra = models.JSONField(default=dict, blank=True)
    # Bumped by every save; an edit based on an older version is refused (no silent overwrite).
    version = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Revision(models.Model):
    """The whole replication as YAML after one save: who, when, what."""

    replication = models.ForeignKey(Replication, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
    summary = models.CharField(max_length=300, blank=True)
    yaml = models.TextField()

    class Meta:
        ordering = ["replication", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["replication", "version"], name="unique_revision_version"),
        ]

    def __str__(self) -> str:
        return f"{self.replication} v{self.version}"


class Stream(models.Model):
    """One stream of a replication, in file order.

    `config` holds the stream's own keys exactly as written (NULL when the
    stream was written as `name:` alone); `mode`, `object` and `disabled` are
    copies of its own values, kept for listing, searching and sorting.
    """

    replication = models.ForeignKey(Replication, on_delete=models.CASCADE, related_name="streams")
    position = models.PositiveIntegerField()
    name = models.TextField()
    config = models.JSONField(null=True, blank=True)
    mode = models.TextField(blank=True, default="")
    object = models.TextField(blank=True, default="")
    disabled = models.BooleanField(default=False)

    class Meta:
        ordering = ["replication", "position"]
        constraints = [
            models.UniqueConstraint(fields=["replication", "name"], name="unique_stream_name"),
        ]
        indexes = [models.Index(fields=["replication", "position"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.derive()
        super().save(*args, **kwargs)

    def derive(self) -> Stream:
        """Copy `mode`, `object` and `disabled` from `config` (call before bulk_create)."""
        own = self.config if isinstance(self.config, dict) else {}
        self.mode = own["mode"] if isinstance(own.get("mode"), str) else ""
        self.object = own["object"] if isinstance(own.get("object"), str) else ""
        self.disabled = own.get("disabled") is True
        return self


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
