"""Reads of runs: the last run of streams, a stream's history, the run list and logs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import Max, OuterRef, QuerySet, Subquery, Sum

from replication.config import NAME
from studio import models
from studio.errors import Refused

StreamStatus = models.RunStream.Status
# Statuses that say nothing about how a stream last went: it never started.
UNSETTLED = (StreamStatus.PENDING, StreamStatus.SKIPPED)


def last_stream_runs(
    pairs: Iterable[tuple[str, str]], *, settled: bool = False
) -> dict[tuple[str, str], models.RunStream]:
    """The latest run of each (replication name, stream name), with its run; with `settled`,
    the latest in which the stream started (not pending, not skipped). Two queries."""
    pairs = set(pairs)
    if not pairs:
        return {}
    rows = models.RunStream.objects.filter(
        run__replication_name__in={r for r, _ in pairs}, name__in={s for _, s in pairs}
    )
    if settled:
        rows = rows.exclude(status__in=UNSETTLED)
    latest = (
        rows.values("run__replication_name", "name")
        .annotate(last=Max("pk"))
        .values_list("run__replication_name", "name", "last")
    )
    wanted = [pk for rep, name, pk in latest if (rep, name) in pairs]
    found = models.RunStream.objects.filter(pk__in=wanted).select_related("run")
    return {(row.run.replication_name, row.name): row for row in found}


def run_stream_rows(run: models.Run) -> list[models.RunStream]:
    """The streams of a run in order, each wildcard followed by the streams sling expanded it into."""
    rows = list(run.run_streams.all())
    under: dict[str, list[models.RunStream]] = {}
    for row in rows:
        if row.expanded_from:
            under.setdefault(row.expanded_from, []).append(row)
    names = {row.name for row in rows}
    out: list[models.RunStream] = []
    for row in rows:
        if not row.expanded_from or row.expanded_from not in names:
            out.append(row)
            out.extend(under.pop(row.name, []))
    return out


def stream_runs(replication_name: str, name: str, limit: int = 5) -> list[models.RunStream]:
    """The latest runs of one stream, newest first."""
    rows = models.RunStream.objects.filter(run__replication_name=replication_name, name=name)
    return list(rows.select_related("run").order_by("-run_id")[:limit])


def stream_names(replication: models.Replication, ids: list[int]) -> list[str]:
    """The names of the replication's streams with these row ids (unknown ids are left out)."""
    return list(replication.streams.filter(pk__in=ids).values_list("name", flat=True))


def runs_with_details() -> QuerySet[models.Run]:
    """Runs with what their pages show beside them."""
    return models.Run.objects.select_related("replication", "requested_by")


def run_list(
    *, replication: str = "", stream: str = "", status: str = "", trigger: str = ""
) -> QuerySet[models.Run]:
    """Run history, newest first: all runs, one replication's, or one stream's, of one status
    or trigger when given; with their row totals. `Refused`, naming the filter, for a name no
    replication can have or a status or trigger runs do not have (the runs page and the API
    refuse them alike)."""
    if replication and not NAME.fullmatch(replication):
        raise Refused.field(
            "replication", f"`{replication[:100]}` is not a replication name: letters, digits, - and _"
        )
    for field, value, values in (
        ("status", status, models.Run.Status.values),
        ("trigger", trigger, models.Run.Trigger.values),
    ):
        if value not in ("", *values):
            raise Refused.field(
                field,
                f"filter runs by a status and a trigger of the lists: {field} is one of {', '.join(values)}",
            )
    # A wildcard's line already sums the streams it expanded into.
    totals = models.RunStream.objects.filter(run=OuterRef("pk"), expanded_from="")
    totals = totals.values("run").annotate(total=Sum("rows"))
    runs = models.Run.objects.select_related("requested_by").annotate(
        rows_total=Subquery(totals.values("total"))
    )
    if replication:
        runs = runs.filter(replication_name=replication)
    if stream:
        runs = runs.filter(run_streams__name=stream).distinct()
    if status:
        runs = runs.filter(status=status)
    if trigger:
        runs = runs.filter(trigger=trigger)
    return runs.prefetch_related("run_streams")


def run_log(*, run: models.Run, after: int = 0, limit: int = 16) -> tuple[str, int]:
    """The run's log from the chunk after `after` (at most `limit` chunks of about 64 KB):
    (text, the last chunk's number, to ask for what follows)."""
    chunks = list(
        models.RunLogChunk.objects.filter(run=run, seq__gt=after)
        .order_by("seq")
        .values_list("seq", "text")[:limit]
    )
    if not chunks:
        return "", after
    return "".join(text for _, text in chunks), chunks[-1][0]


def run_log_tail(*, run: models.Run, limit: int = 256 * 1024) -> tuple[str, int, bool]:
    """The end of the run's log: its last chunks within about `limit` characters (one at
    least), the last chunk's number (where following goes on) and whether chunks before them
    were left out."""
    chunks = models.RunLogChunk.objects.filter(run=run).order_by("-seq").values_list("seq", "text")
    taken: list[tuple[int, str]] = []
    size = 0
    for seq, text in chunks.iterator(chunk_size=8):
        if taken and size + len(text) > limit:
            return "".join(t for _, t in reversed(taken)), taken[0][0], True
        taken.append((seq, text))
        size += len(text)
    return "".join(t for _, t in reversed(taken)), taken[0][0] if taken else 0, False


def run_log_pieces(*, run: models.Run) -> Iterator[str]:
    """The whole log, chunk by chunk (for a download)."""
    chunks = models.RunLogChunk.objects.filter(run=run).order_by("seq").values_list("text", flat=True)
    yield from chunks.iterator(chunk_size=16)
