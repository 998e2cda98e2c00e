"""Alerts: the channels (a webhook, an email address) of a replication or of all of them;
the messages a run's end or a stale stream calls for; and their delivery, retried with
backoff and recorded (sent, failed, why).

- **failure**: a run failed and no retry follows (the last attempt); a run refused
  when someone started it by hand does not alert (they saw why).
- **recovery**: a run succeeded for streams whose last final run had failed.
- **stale**: a stream's last success got older than its freshness allows (once per
  episode: `studio.services.freshness`).

A message names the replication, the streams, the status, an excerpt of the error and
a link to the run (`AlertChannel.link_base`), and never a secret: run errors are masked when
recorded and masked again here, with every connection secret the studio holds. A
webhook gets JSON whose `text` reads well in Slack and the receivers that copy its
format (Mattermost, Rocket.Chat, Discord's /slack, Teams' workflows); its URL is
stored encrypted and shown by its host only, since such a URL is itself a secret.
"""

from __future__ import annotations

import http.client
import json
import logging
import smtplib
import socket
import ssl
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from replication import sling
from replication.reach import Address
from studio import configured, models
from studio.errors import Refused
from studio.launcher import stored_secrets
from studio.services import audit

Event = models.AlertChannel.Event
Kind = models.AlertChannel.Kind
Status = models.Alert.Status
log = logging.getLogger(__name__)

ALWAYS = "always"
# Delivery: this many attempts, the n-th retry BACKOFF * 4**(n-1) after the one before
# (30 s, 2 min, 8 min, 32 min); a claimed alert is left alone for LEASE while it is sent.
ATTEMPTS = 5
BACKOFF = timedelta(seconds=30)
LEASE = timedelta(minutes=2)
TIMEOUT_SECONDS = 10
EXCERPT = 400
STREAMS_LISTED = 10


# --- channels ---------------------------------------------------------------------------


def parse_events(events: Iterable[str]) -> list[str]:
    """The events named (`always`: all of them); `Refused` on an unknown one."""
    chosen: list[str] = []
    for event in events:
        for name in str(event).replace(",", " ").split():
            if name == ALWAYS:
                chosen.extend(Event.values)
            elif name in Event.values:
                chosen.append(name)
            else:
                raise Refused.field(
                    "on", f"unknown event `{name}`; expected {', '.join([*Event.values, ALWAYS])}"
                )
    if not chosen:
        raise Refused.field("on", f"name at least one event: {', '.join([*Event.values, ALWAYS])}")
    return [event for event in Event.values if event in chosen]


def check_webhook(url: str) -> str:
    """`url` if a webhook may be posted to it: http(s), its host allowed by the reach rules
    (`configured.webhook_reach`: never a metadata address, and only the hosts
    `STUDIO_WEBHOOK_HOSTS` lists when it is set); `Refused` at the field otherwise."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname if parts.scheme in ("http", "https") and parts.port != 0 else None
    except ValueError:  # brackets around no address, a port not from 0 to 65535 (`.port` raises)
        host = None
    if not host:
        raise Refused.field("webhook", "a webhook is an http:// or https:// URL with a host")
    refused = configured.webhook_reach().refusal(host)
    if refused:
        raise Refused.field("webhook", f"the webhook's host: {refused}")
    return url


@transaction.atomic
def channel_create(
    *,
    replication: models.Replication | None,
    events: Iterable[str],
    webhook: str = "",
    email: str = "",
    base_url: str = "",
) -> list[models.AlertChannel]:
    """A channel per target given (a webhook URL, an email address), for `replication`
    (None: every replication), told of `events`; `base_url`: the studio's address as the
    browser adding it has it, for the links of its alerts. `Refused` names the bad field."""
    chosen = parse_events(events)
    if not webhook.strip() and not email.strip():
        raise Refused.field("webhook", "give a webhook URL or an email address")
    channels = []
    if webhook.strip():
        channels.append(models.AlertChannel(kind=Kind.WEBHOOK, webhook=check_webhook(webhook)))
    if email.strip():
        try:
            validate_email(email.strip())
        except ValidationError:
            raise Refused.field("email", f"`{email.strip()}` is not an email address") from None
        channels.append(models.AlertChannel(kind=Kind.EMAIL, email=email.strip()))
    for channel in channels:
        channel.replication, channel.events, channel.base_url = replication, chosen, base_url.rstrip("/")
        channel.save()
        _audit("created", channel)
    return channels


@transaction.atomic
def channel_set_enabled(*, channel: models.AlertChannel, enabled: bool) -> models.AlertChannel:
    if models.AlertChannel.objects.filter(pk=channel.pk).exclude(enabled=enabled).update(enabled=enabled):
        channel.refresh_from_db()
        _audit("enabled" if enabled else "disabled", channel)
    return channel


@transaction.atomic
def channel_delete(*, channel: models.AlertChannel) -> None:
    """Delete the channel; the alerts it was sent keep its label."""
    _audit("deleted", channel)
    channel.delete()


def _audit(action: str, channel: models.AlertChannel) -> None:
    """An entry for `channel`, named by what pages show of it (a webhook by its host only)."""
    scope = channel.replication.name if channel.replication else "every replication"
    audit.record(
        action,
        channel,
        object_name=f"{scope}: {channel.kind} {channel.label}",
        summary=", ".join(channel.events),
        details={"replication": scope, "events": channel.events},
    )


def _channels(replication_id: int | None, event: str) -> list[models.AlertChannel]:
    channels = models.AlertChannel.objects.filter(
        Q(replication_id=replication_id) | Q(replication__isnull=True), enabled=True
    )
    return [channel for channel in channels if event in channel.events]


# --- messages ---------------------------------------------------------------------------


def _secrets() -> list[str]:
    return [*stored_secrets(), settings.EMAIL_HOST_PASSWORD]


def _masked(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return sling.mask(value, secrets)
    if isinstance(value, list):
        return [_masked(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: _masked(item, secrets) for key, item in value.items()}
    return value


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _run_message(run: models.Run, event: str, streams: list[models.RunStream], base: str) -> dict[str, Any]:
    link = f"{base}/runs/{run.pk}/"
    failed = [s for s in streams if s.status == models.RunStream.Status.FAILED]
    shown = failed if event == Event.FAILURE and failed else streams
    names = [f"{s.name} ({s.status})" for s in shown[:STREAMS_LISTED]]
    if len(shown) > STREAMS_LISTED:
        names.append(f"and {len(shown) - STREAMS_LISTED} more")
    error = _excerpt(next((s.error for s in failed if s.error), "") or run.error)
    if event == Event.FAILURE:
        head = f"❌ {run.replication_name}: run #{run.pk} failed"
        subject = f"[Sling Studio] {run.replication_name} failed (run #{run.pk})"
    else:
        head = f"✅ {run.replication_name}: run #{run.pk} succeeded again"
        subject = f"[Sling Studio] {run.replication_name} recovered (run #{run.pk})"
    attempt = f", attempt {run.attempt}" if run.attempt > 1 else ""
    lines = [f"{head} ({run.trigger_label}{attempt})"]
    if names:
        lines.append("Streams: " + ", ".join(names))
    if event == Event.FAILURE and error:
        lines.append(f"Error: {error}")
    lines.append(f"Run #{run.pk}: {link}")
    text = "\n".join(lines)
    payload = {
        "text": text,
        "event": event,
        "replication": run.replication_name,
        "status": run.status,
        "run": {"id": run.pk, "url": link, "trigger": run.trigger, "attempt": run.attempt},
        "streams": [
            {"name": s.name, "status": s.status, "rows": s.rows, "error": _excerpt(s.error)} for s in shown
        ],
        "error": error if event == Event.FAILURE else "",
    }
    return {"subject": subject, "text": text, "payload": payload, "streams": [s.name for s in shown]}


def _recovered(run: models.Run, streams: list[models.RunStream]) -> list[models.RunStream]:
    """The streams of the succeeded `run` whose last final run before it had failed
    (final: not followed by a retry; a failure that was retried was never alerted)."""
    names = [s.name for s in streams if s.status == models.RunStream.Status.SUCCEEDED]
    earlier = (
        models.RunStream.objects.filter(
            run__replication_name=run.replication_name,
            name__in=names,
            run_id__lt=run.pk,
            status__in=[models.RunStream.Status.SUCCEEDED, models.RunStream.Status.FAILED],
            run__retries__isnull=True,
        )
        .order_by("name", "-run_id")
        .values_list("name", "status")
    )
    last: dict[str, str] = {}
    for name, status in earlier:
        last.setdefault(name, status)
    return [s for s in streams if last.get(s.name) == models.RunStream.Status.FAILED]


def run_alerts(*, run: models.Run, now: datetime) -> list[models.Alert]:
    """Record the alerts the end of `run` calls for (failure, recovery), to be delivered.
    A run refused before it started alerts only when nobody was there to see it (a
    schedule's, a retry's)."""
    streams = list(run.run_streams.all())
    if run.started is None and run.trigger == models.Run.Trigger.MANUAL:
        return []  # refused when someone started it: they were told why, there and then
    if run.status == models.Run.Status.FAILED:
        event, about = Event.FAILURE, streams
    elif run.status == models.Run.Status.SUCCEEDED:
        event, about = Event.RECOVERY, _recovered(run, streams)
        if not about:
            return []
    else:
        return []
    channels = _channels(run.replication_id, event)
    secrets = _secrets() if channels else []
    return [
        _record(
            channel,
            event,
            run.replication_name,
            now,
            run=run,
            **_masked(_run_message(run, event, about, channel.link_base), secrets),
        )
        for channel in channels
    ]


def stale_alerts(*, episode: models.StaleEpisode, now: datetime) -> list[models.Alert]:
    """Record the `stale` alerts of a new staleness episode."""
    channels = _channels(episode.replication_id, Event.STALE)
    secrets = _secrets() if channels else []
    return [
        _record(
            channel,
            Event.STALE,
            episode.replication.name,
            now,
            episode=episode,
            **_masked(_stale_message(episode, now, channel.link_base), secrets),
        )
        for channel in channels
    ]


def _stale_message(episode: models.StaleEpisode, now: datetime, base: str) -> dict[str, Any]:
    name = episode.replication.name
    link = f"{base}/runs/?{urlencode({'replication': name, 'stream': episode.stream})}"
    if episode.last_success is None:
        when = "it never succeeded"
    else:
        hours = (now - episode.last_success).total_seconds() / 3600
        when = f"its last success was {hours:.1f} h ago ({episode.last_success:%Y-%m-%d %H:%M} UTC)"
    text = (
        f"⏰ {name}: stream {episode.stream} is stale: {when}; "
        f"it should be at most {episode.lag_minutes:g} minutes old\nRuns: {link}"
    )
    return {
        "subject": f"[Sling Studio] {name}: {episode.stream} is stale",
        "text": text,
        "streams": [episode.stream],
        "payload": {
            "text": text,
            "event": Event.STALE,
            "replication": name,
            "status": "stale",
            "streams": [{"name": episode.stream, "last_success": str(episode.last_success or "")}],
            "url": link,
        },
    }


def _record(
    channel: models.AlertChannel, event: str, name: str, now: datetime, **fields: Any
) -> models.Alert:
    return models.Alert.objects.create(
        channel=channel,
        channel_label=str(channel),
        event=event,
        replication_name=name,
        next_attempt=now,
        **fields,
    )


# --- delivery ---------------------------------------------------------------------------


class DeliveryError(Exception):
    """The channel did not take the message; the text says why, for the record."""


def alerts_deliver(*, now: datetime | None = None, limit: int = 50) -> list[models.Alert]:
    """Send the pending alerts due at `now`, each claimed by one worker; a failed
    attempt is tried again later, up to ATTEMPTS. Returns the alerts attempted."""
    now = now or timezone.now()
    due = models.Alert.objects.filter(status=Status.PENDING, next_attempt__lte=now).order_by(
        "next_attempt", "pk"
    )
    attempted = []
    for pk, next_attempt in list(due.values_list("pk", "next_attempt")[:limit]):
        claimed = models.Alert.objects.filter(pk=pk, status=Status.PENDING, next_attempt=next_attempt).update(
            next_attempt=now + LEASE, attempts=F("attempts") + 1
        )
        if claimed:
            attempted.append(_attempt(models.Alert.objects.select_related("channel").get(pk=pk), now))
    return attempted


def _attempt(alert: models.Alert, now: datetime) -> models.Alert:
    try:
        _send(alert)
    except DeliveryError as exc:
        why = sling.mask(str(exc), _secrets())[:500]
        if alert.attempts >= ATTEMPTS:
            alert.status, alert.error = Status.FAILED, f"{why} (gave up after {alert.attempts} attempts)"
        else:
            alert.next_attempt, alert.error = now + BACKOFF * 4 ** (alert.attempts - 1), why
    else:
        alert.status, alert.sent, alert.error = Status.SENT, now, ""
    alert.save(update_fields=["status", "sent", "error", "next_attempt"])
    return alert


def _send(alert: models.Alert) -> None:
    channel = alert.channel
    if channel is None:
        raise DeliveryError("the channel was deleted")
    if not channel.enabled:
        raise DeliveryError("the channel is paused")
    if channel.kind == Kind.WEBHOOK:
        post_webhook(str(channel.webhook), alert.payload or {"text": alert.text})
    else:
        try:
            send_mail(alert.subject, alert.text, settings.DEFAULT_FROM_EMAIL, [channel.email])
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"email to {channel.email}: {type(exc).__name__}: {exc}") from None


def post_webhook(url: str, payload: dict[str, Any]) -> None:
    """POST `payload` as JSON; DeliveryError unless the answer is 2xx. The error names the
    host only: the rest of a webhook URL is often its secret.

    The host is judged again (the setting or its DNS may have changed since the channel was
    saved), and the connection goes to the addresses judged (`Reach.reached`). A redirect is
    not followed: it could point anywhere, the metadata service included; it fails the
    delivery, saying where it pointed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    addresses, refused = configured.webhook_reach().reached(host)
    if refused:
        raise DeliveryError(f"webhook {host}: {refused}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    tls = ssl.create_default_context() if parts.scheme == "https" else None
    connection = _Pinned(host, port, addresses, tls)
    headers = {
        "Host": parts.netloc.rpartition("@")[2],
        "Content-Type": "application/json",
        "User-Agent": "sling-studio",
    }
    try:
        connection.request(
            "POST",
            urlunsplit(("", "", parts.path or "/", parts.query, "")),
            json.dumps(payload).encode(),
            headers,
        )
        answer = connection.getresponse()
        answer.read(1024)
    except TimeoutError:
        raise DeliveryError(f"webhook {host} did not answer within {TIMEOUT_SECONDS} s") from None
    except ConnectionError as exc:
        raise DeliveryError(f"webhook {host} unreachable: {exc}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"webhook {host}: {type(exc).__name__}: {exc}") from None
    finally:
        connection.close()
    if 300 <= answer.status < 400:
        target = urlsplit(urljoin(url, answer.getheader("Location", "")))
        raise DeliveryError(
            f"webhook {host} answered HTTP {answer.status} {answer.reason} pointing to "
            f"{target.scheme}://{target.netloc.rpartition('@')[2]} (redirects are not followed)"
        )
    if not 200 <= answer.status < 300:
        raise DeliveryError(f"webhook {host} answered HTTP {answer.status} {answer.reason}")


class _Pinned(http.client.HTTPConnection):
    """An HTTP connection, TLS when given a context, to the `addresses` judged rather than to
    what its host resolves to now; TLS checks the certificate against the host's name."""

    def __init__(self, host: str, port: int, addresses: list[Address], tls: ssl.SSLContext | None) -> None:
        super().__init__(host, port, timeout=TIMEOUT_SECONDS)
        self.addresses, self.tls = addresses, tls

    def connect(self) -> None:
        error: OSError = ConnectionError(f"{self.host} does not resolve")
        for address in self.addresses:  # each in turn, as socket.create_connection does
            try:
                sock = socket.create_connection((str(address), self.port), self.timeout)
            except OSError as exc:
                error = exc
                continue
            self.sock = self.tls.wrap_socket(sock, server_hostname=self.host) if self.tls else sock
            return
        raise error
