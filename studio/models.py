from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models

from replication.config import ReplicationConfig
from replication.connections import env_value, masked, merge_secrets
from replication.textedit import patch_text
from replication.yamlio import emit
from studio.fields import EncryptedJSONField


class Connection(models.Model):
    """A Sling connection. Secret fields live in `secrets`, never in `params`."""

    name = models.CharField(max_length=200, unique=True, help_text="Upper-case, as Sling names it")
    type = models.CharField(max_length=40)
    # Non-secret fields (host, user, database, url without password, ...).
    params = models.JSONField(default=dict, blank=True)
    # Passwords, keys, tokens: encrypted at rest, only ever passed to a sling process.
    secrets = EncryptedJSONField(default=dict, blank=True, editable=False)
    # Bumped by every save; an edit of an older version is refused (no silent overwrite).
    version = models.PositiveIntegerField(default=1, editable=False)
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

    def state(self) -> dict[str, Any]:
        """What an editor sees of it, to tell them what someone else changed (secrets masked)."""
        return {"name": self.name, "type": self.type, **self.shown_params()}

    def full_params(self) -> dict[str, Any]:
        return merge_secrets(self.params, self.secrets)

    def sling_env(self) -> str:
        """The value of the environment variable (named as the connection) that gives sling it."""
        return env_value(self.type, self.full_params())

    def secret_values(self) -> list[str]:
        """Every secret value, to mask wherever sling's output is shown."""
        return [str(value) for value in self.secrets.values() if value not in (None, "")]


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

    def as_config(self, streams: dict[str, Any] | None = None) -> ReplicationConfig:
        """The `replication` package's object for this row; its streams are read
        (one query) unless given as {name: config}."""
        if streams is None:
            streams = dict(self.streams.values_list("name", "config"))
        return ReplicationConfig(
            source=self.source or None,
            target=self.target or None,
            streams=streams,
            defaults=self.defaults,
            hooks=self.hooks,
            env=self.env,
            extra=self.extra,
        )


class Revision(models.Model):
    """The whole replication after one save: who, when, what.

    Kept as the JSON of its document (text, so key and stream order survive any
    database), and as YAML text: the text an import or a restore gave, or, for an
    edit, written the first time someone looks (at 10,000 streams patching the text
    takes a second, and every save writes a revision).
    """

    replication = models.ForeignKey(Replication, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
    summary = models.CharField(max_length=300, blank=True)
    document = models.TextField()
    # The YAML text of this version, exactly: as imported or restored, or the text of the
    # version before with this one's changes patched in (written the first time it is read;
    # empty until then: a replication's text never is).
    text = models.TextField(blank=True, default="")
    # The streams this save renamed, old name -> new, so their text keeps its comments.
    renamed = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["replication", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["replication", "version"], name="unique_revision_version"),
        ]

    def __str__(self) -> str:
        return f"{self.replication} v{self.version}"

    @classmethod
    def document_of(cls, config: ReplicationConfig) -> str:
        return json.dumps(config.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @property
    def config(self) -> ReplicationConfig:
        return ReplicationConfig.from_dict(json.loads(self.document))

    @property
    def yaml(self) -> str:
        """This version's text: as stored, else the nearest earlier version's text with the
        changes since patched in (then kept), else the canonical layout."""
        if not self.text:
            earlier = Revision.objects.filter(replication_id=self.replication_id, version__lt=self.version)
            base = earlier.exclude(text="").order_by("-version").first()
            if base is None:
                self.text = emit(self.config)
            else:
                between = earlier.filter(version__gt=base.version).order_by("version")
                renames: dict[str, str] = {}
                for renamed in [*between.values_list("renamed", flat=True), self.renamed]:
                    renames = _chain(renames, renamed)
                self.text = patch_text(base.text, base.config, self.config, renames)
            Revision.objects.filter(pk=self.pk).update(text=self.text)
        return self.text


def _chain(first: dict[str, str], then: dict[str, str]) -> dict[str, str]:
    """Renames one after the other, as one: a -> b then b -> c is a -> c."""
    out = {old: then.get(new, new) for old, new in first.items()}
    out.update({old: new for old, new in then.items() if old not in first.values()})
    return out


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
    # Its dagster asset key (`target/main/orders`), '' when it has none: written on every save,
    # so clashes with other replications' keys are one indexed query.
    asset_key = models.TextField(blank=True, default="", db_index=True)

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
    # Bumped by every save; an edit of an older version is refused (no silent overwrite).
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    def state(self) -> dict[str, Any]:
        """What an editor sees of it, to tell them what someone else changed."""
        fields = ("key", "deps", "description", "group", "tags")
        return {name: getattr(self, name) for name in fields}


class Run(models.Model):
    """One execution of a replication, whole or some of its streams, by the `sling` binary."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    # NULL when the name was unknown (a refused run) or the replication was deleted since.
    replication = models.ForeignKey(
        Replication, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    replication_name = models.CharField(max_length=200)
    # The chosen stream names; empty means the whole replication.
    streams = models.JSONField(default=list, blank=True)
    mode = models.CharField(max_length=40, blank=True, help_text="overrides every chosen stream's mode")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    # One line, secrets masked: why the run failed or was refused.
    error = models.TextField(blank=True)
    # The process executing the run (a worker or run_replication), for the reaper.
    pid = models.IntegerField(null=True, blank=True)
    host = models.CharField(max_length=255, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    sling_pid = models.IntegerField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # A copy of the log on the executing machine (secrets masked), relative to its DATA_DIR;
    # empty for a refused run. The log itself is in the database (`RunLogChunk`).
    log_path = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["replication", "-created"]),
            models.Index(fields=["status"]),
        ]

    def __str__(self) -> str:
        return f"run #{self.pk} of {self.replication_name}"

    @property
    def log_file(self) -> Path | None:
        return settings.DATA_DIR / self.log_path if self.log_path else None

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def duration(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return (self.finished - self.started).total_seconds()


class RunLogChunk(models.Model):
    """Some lines of a run's log (secrets masked), written as they come: the run page reads the
    log from here, whichever machine executed the run."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="log_chunks")
    seq = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="one_log_chunk_per_seq")]

    def __str__(self) -> str:
        return f"{self.run_id}.{self.seq}"


class RunStream(models.Model):
    """The outcome of one stream in a run, filled in as sling reports it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"
        # Never started: sling skipped it, or the run ended first.
        SKIPPED = "skipped"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="run_streams")
    position = models.PositiveIntegerField()
    name = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    rows = models.BigIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="seconds")
    target = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "position"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class StreamLock(models.Model):
    """A stream being run: the unique constraint refuses a second run of it, across processes.

    Taken in the transaction that creates the run, released when the run ends.
    """

    replication = models.ForeignKey(Replication, on_delete=models.CASCADE, related_name="+")
    stream = models.TextField()
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="locks")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["replication", "stream"], name="one_run_per_stream"),
        ]

    def __str__(self) -> str:
        return f"{self.stream} (run #{self.run_id})"
