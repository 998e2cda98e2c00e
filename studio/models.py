from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone

from replication import sling
from replication.config import ReplicationConfig, canonical_stream
from replication.connections import env_value, masked, merge_secrets
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
    # How many sling processes may use it at once, across all workers; NULL: its type's default
    # (`replication.parallel.default_limit`: one writer on a SQLite or DuckDB file).
    max_streams = models.PositiveSmallIntegerField(null=True, blank=True)

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
    def document_of(cls, config: ReplicationConfig, fragments: dict[str, str] | None = None) -> str:
        """The JSON of `config`'s document; `fragments` (`stream_fragment` of each stream, when
        known) are put in as they are: the same text, without writing every stream again."""
        if not fragments or not config.streams:
            return _json(config.to_dict())
        top = replace(config, streams={"": None}).to_dict()  # the streams in their place
        parts = (
            f'"streams":{{{",".join(map(fragments.__getitem__, config.streams))}}}'
            if key == "streams"
            else f"{_json(key)}:{_json(value)}"
            for key, value in top.items()
        )
        return f"{{{','.join(parts)}}}"

    @staticmethod
    def stream_fragment(name: str, config: Any) -> str:
        """One stream's part of the document's JSON (`name` is text: JSON's keys are)."""
        return f"{_json(name)}:{_json(None if config is None else canonical_stream(config))}"

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
                from replication.textedit import patch_text  # a save's work: commands start without it

                self.text = patch_text(base.text, base.config, self.config, renames)
            Revision.objects.filter(pk=self.pk).update(text=self.text)
        return self.text


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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
        # How it ended: as sling reports a run (`replication.sling` names them).
        RUNNING = sling.RUNNING
        SUCCEEDED = sling.SUCCEEDED
        FAILED = sling.FAILED
        CANCELLED = sling.CANCELLED

    class Trigger(models.TextChoices):
        MANUAL = "manual"  # a person: `requested_by`, or the command line
        SCHEDULE = "schedule"  # `schedule` fired it
        RETRY = "retry"  # `retry_of` failed and the replication's policy tries again

    # NULL when the name was unknown (a refused run) or the replication was deleted since.
    replication = models.ForeignKey(
        Replication, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    replication_name = models.CharField(max_length=200)
    # The chosen stream names; empty means the whole replication.
    streams = models.JSONField(default=list, blank=True)
    mode = models.CharField(max_length=40, blank=True, help_text="overrides every chosen stream's mode")
    # `start,end`: every chosen stream's `source_options.range` (sling's `--range`, for backfill).
    range = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    # Queued to start no sooner than this (a retry waits out its backoff); NULL: at once.
    not_before = models.DateTimeField(null=True, blank=True)
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
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    schedule = models.ForeignKey(
        "Schedule", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    # Set, once, by the worker that acted on the run's end (a retry queued, alerts recorded).
    followed_up = models.BooleanField(default=False)
    # How many sling processes may run its streams at once (the run's limit; 1: one process,
    # as `sling run -r` runs a file), and why its streams wait when they do.
    parallel = models.PositiveSmallIntegerField(default=1)
    waiting = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["replication", "-created"]),
            models.Index(fields=["status"]),
            models.Index(
                fields=["followed_up"], condition=models.Q(followed_up=False), name="run_to_follow_up"
            ),
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
    def refused(self) -> bool:
        """Failed before sling started: refused (a connection missing, a stream busy...)."""
        return self.status == self.Status.FAILED and self.started is None

    @property
    def duration(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return (self.finished - self.started).total_seconds()

    @property
    def trigger_label(self) -> str:
        """What started the run: `schedule #3`, `retry of #12` or `manual (alice)`."""
        if self.trigger == self.Trigger.SCHEDULE:
            return f"schedule #{self.schedule_id}" if self.schedule_id else "schedule (deleted)"
        if self.trigger == self.Trigger.RETRY:
            return f"retry of #{self.retry_of_id}" if self.retry_of_id else "retry"
        return f"manual ({self.requested_by.get_username() if self.requested_by else 'command line'})"


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
        # As sling reports a stream (`replication.sling` names them).
        PENDING = sling.PENDING
        RUNNING = sling.RUNNING
        SUCCEEDED = sling.SUCCEEDED
        FAILED = sling.FAILED
        CANCELLED = sling.CANCELLED
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
    # While it runs, sling's progress bar: {"rows", "rate" (rows/s), "elapsed" (s), "size"}.
    progress = models.JSONField(default=dict, blank=True)
    # The wildcard stream (`main.*`) this one is a match of, as sling expanded it.
    expanded_from = models.TextField(blank=True)
    # The target object the stream was queued to write, as the editor resolves it: its "Last run"
    # is shown only while the stream still writes there (a restore or an edit may move it).
    object = models.TextField(blank=True)
    # When sling started and ended it, as its log says; and the process group that took it
    # (`RunSlot.holder`) when the run's streams run side by side.
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    holder = models.CharField(max_length=100, blank=True)

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


class RunSlot(models.Model):
    """A sling process of a run using a connection: the rows counted against each connection's
    limit (and the run's), across all workers and machines; deleted when the process ends, or
    by the reaper when it died (its `host` and `pid`, or no `heartbeat` for a while)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="slots")
    holder = models.CharField(max_length=100)
    connection = models.CharField(max_length=200)
    host = models.CharField(max_length=255)
    pid = models.IntegerField()
    sling_pid = models.IntegerField(null=True, blank=True)
    heartbeat = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["connection"])]
        constraints = [
            models.UniqueConstraint(fields=["run", "holder", "connection"], name="one_slot_per_connection"),
        ]

    def __str__(self) -> str:
        return f"{self.connection} ({self.holder}, run #{self.run_id})"


class Schedule(models.Model):
    """A replication (or some of its streams) run on a cron clock by the workers.

    `next_fire` is the next due time; the worker that moves it on (an UPDATE that
    names the old value and the version) is the one that fires it, so each due time
    fires once, whatever the number of workers. NULL while paused.
    """

    replication = models.ForeignKey(Replication, on_delete=models.CASCADE, related_name="schedules")
    cron = models.CharField(max_length=200, help_text="5 fields: minute hour day-of-month month day-of-week")
    timezone = models.CharField(max_length=64, default="UTC")
    # The chosen stream names; empty means the whole replication.
    streams = models.JSONField(default=list, blank=True)
    mode = models.CharField(max_length=40, blank=True, help_text="overrides every chosen stream's mode")
    # sling's `--range` for each fired run ("start,end"), as a run's `range`; empty: none.
    range = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True)
    next_fire = models.DateTimeField(null=True, blank=True)
    # Bumped by every edit; an edit based on an older version is refused.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["replication", "id"]
        indexes = [models.Index(fields=["enabled", "next_fire"])]

    def __str__(self) -> str:
        return f"schedule #{self.pk} of {self.replication_id}"


class ScheduleFire(models.Model):
    """What became of a due time of a schedule: one row per due time (missed ones summed up)."""

    class Status(models.TextChoices):
        FIRED = "fired"  # a run was created (`run`: queued, or failed when refused)
        SKIPPED = "skipped"  # its streams were still running from before
        MISSED = "missed"  # no worker looked within the grace time

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="fires")
    due = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    # A missed row stands for `count` due times, from `due` to `last_due`.
    count = models.PositiveIntegerField(default=1)
    last_due = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due", "-id"]
        constraints = [models.UniqueConstraint(fields=["schedule", "due"], name="one_fire_per_due_time")]

    def __str__(self) -> str:
        return f"{self.schedule} at {self.due:%Y-%m-%d %H:%M}: {self.status}"


class RunPolicy(models.Model):
    """How a replication's runs are retried, and how fresh its streams should be."""

    replication = models.OneToOneField(Replication, on_delete=models.CASCADE, related_name="policy")
    retries = models.PositiveSmallIntegerField(default=0, help_text="new attempts after a failed run")
    retry_backoff = models.PositiveIntegerField(
        default=60, help_text="seconds before the first retry; doubled for each next one"
    )
    freshness_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="a stream is stale when its last success is older (unless its "
        "meta.dagster.freshness_policy says otherwise)",
    )
    # What a run meets when its streams no longer send a column of their table, or send one of
    # another type (by the columns last read): a warning, or the run refused.
    schema_changes = models.CharField(
        max_length=10,
        choices=[("warn", "warn"), ("refuse", "refuse the run")],
        default="warn",
        help_text="when a stream no longer sends a column of its table, or changes its type",
    )
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"policy of {self.replication_id}"


class AlertChannel(models.Model):
    """Where a replication's events are told (`replication` NULL: every replication's)."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook"
        EMAIL = "email"

    class Event(models.TextChoices):
        FAILURE = "failure"  # a run failed (after its last retry)
        RECOVERY = "recovery"  # the first success of streams after they failed
        STALE = "stale"  # a stream's last success got older than its freshness allows

    replication = models.ForeignKey(
        Replication, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_channels"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    email = models.EmailField(blank=True)
    # The webhook's URL, encrypted at rest: a Slack-style URL is its own secret.
    webhook = EncryptedJSONField(null=True, blank=True, editable=False)
    events = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    # The studio's address as the browser that added the channel had it (`https://host:port`):
    # its alerts link there unless STUDIO_BASE_URL says where the studio is. Empty: added by
    # the command line.
    base_url = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["replication", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.label}"

    @property
    def link_base(self) -> str:
        """Where the links of its alerts point: STUDIO_BASE_URL when set (the operator said where
        the studio is), else the address it was added from, else `make run`'s."""
        return settings.STUDIO_BASE_URL or self.base_url or "http://127.0.0.1:8000"

    @property
    def label(self) -> str:
        """What pages show of the target: an address, or a webhook's host (its path may be a token)."""
        if self.kind == self.Kind.EMAIL:
            return self.email
        url = urlsplit(str(self.webhook or ""))
        return f"{url.scheme}://{url.hostname or ''}{':' + str(url.port) if url.port else ''}/…"


class StaleEpisode(models.Model):
    """A stream stale from `since` until `ended`: one `stale` alert per episode."""

    replication = models.ForeignKey(Replication, on_delete=models.CASCADE, related_name="+")
    stream = models.TextField()
    since = models.DateTimeField()
    last_success = models.DateTimeField(null=True, blank=True)
    lag_minutes = models.FloatField()
    ended = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-since", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["replication", "stream"],
                condition=models.Q(ended__isnull=True),
                name="one_open_stale_episode",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stream} stale since {self.since:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """One message to one channel, and how its delivery went."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"  # given up after the last attempt

    channel = models.ForeignKey(
        AlertChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the channel was (kept when it is deleted).
    channel_label = models.CharField(max_length=300)
    event = models.CharField(max_length=20, choices=AlertChannel.Event.choices)
    replication_name = models.CharField(max_length=200)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    episode = models.ForeignKey(
        StaleEpisode, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    streams = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=300)
    # The message; a webhook gets `payload` (its `text` is this), an email this under `subject`.
    text = models.TextField()
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt = models.DateTimeField()
    # Why the last attempt failed (secrets masked).
    error = models.TextField(blank=True)
    sent = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt"])]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "run", "event"],
                condition=models.Q(run__isnull=False),
                name="one_alert_per_run_event",
            ),
            models.UniqueConstraint(
                fields=["channel", "episode"],
                condition=models.Q(episode__isnull=False),
                name="one_alert_per_episode",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} alert to {self.channel_label}: {self.status}"


class WorkerBeat(models.Model):
    """A worker process says it is alive (every few seconds, whatever host it runs on): what
    `/readyz` and `/metrics` read, so they see every worker, not the process answering."""

    worker_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=255)
    pid = models.IntegerField()
    started = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"worker {self.pid} on {self.host}"


class ApiToken(models.Model):
    """A personal API token: a request carrying it acts as its user, with the user's roles or
    (`read_only`) a viewer's. Only its SHA-256 is kept (`digest`): the token is shown once, when
    it is made; `prefix` (its first characters) tells tokens apart on the tokens page."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    read_only = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class SignOn(models.Model):
    """A studio user as an OpenID provider knows them: its issuer and the person's `sub` there. A
    person is found by this link alone, never by an e-mail address or a user name, so an account
    at the provider never takes over a local account that happens to share them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_ons")
    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    created = models.DateTimeField(auto_now_add=True)
    last_signed_in = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="sign_on_unique")]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class DiscoveredColumns(models.Model):
    """The columns sling reported for one stream object of a connection (`conns discover
    --columns`), and when: kept per stream, so a page reads them instead of asking sling."""

    # A connection's name (upper case), the studio's or sling's own LOCAL: no foreign key.
    connection = models.CharField(max_length=200)
    stream = models.CharField(max_length=1000)  # `replication.columns.stream_key`
    # [[name, general type, native type], ...] in sling's order.
    columns = models.JSONField(default=list)
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "stream"], name="discovered_columns_once")
        ]

    def __str__(self) -> str:
        return f"{self.connection}: {self.stream}"


class AuditEntry(models.Model):
    """One change, as it happened: who (`actor`, and how they were signed in: `actor_kind`, the
    `token` they used), through what (`via`: a page, the API, the admin, the command line, a
    worker), to what (`object_type`, `object_id`, `object_name`), and what (`action`, `summary`,
    `details`). Append-only: the model refuses to save an entry twice or to delete one, and the
    database refuses UPDATE and DELETE on the table (triggers of migration 0017). Nothing points
    at the people and objects it names: their entries outlive them, unchanged."""

    at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=20)
    actor = models.CharField(max_length=200, help_text="the user name, or the OS user of the command line")
    token = models.CharField(max_length=100, blank=True, help_text="the API token's name, when one was used")
    via = models.CharField(max_length=20)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64, blank=True)
    object_name = models.CharField(max_length=300, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        # In the order they were written (the page pages by id: no OFFSET, no COUNT of the table).
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        # The page's filters (a time range, a person, an object) each read an index, newest first.
        indexes = [
            models.Index(fields=["at"], name="audit_at"),
            models.Index(fields=["actor", "-id"], name="audit_actor"),
            models.Index(fields=["object_type", "object_name", "-id"], name="audit_object"),
        ]
        # Read and add only: no change or delete permission for anyone, superusers included
        # (the admin asks has_*_permission, which refuse too).
        default_permissions = ("add", "view")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_type} {self.object_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnly("audit entries are append-only: an entry is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly("audit entries are append-only: an entry is never deleted")


class AppendOnly(Exception):
    """A change or deletion of an audit entry was asked for (the database refuses it too)."""
