"""Reads of runs: whether one may start, the last run of streams, a stream's history, the run list
and logs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, OuterRef, QuerySet, Subquery, Sum

from replication import sling
from replication.config import NAME, ReplicationConfig, effective_config, needed_connections
from replication.resolve import Names, resolve_object
from replication.versions import MODES
from studio import configured, models, validation
from studio.errors import Refused
from studio.launcher import defined_outside

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


def run_streams_shown(run: models.Run, *, failed_only: bool = False) -> dict[str, Any]:
    """What the run page shows of its streams: the rows (`run_stream_rows`; only the failed ones
    with `failed_only`; once the run ended, those with a failure first, so a long run's errors
    are not found by scrolling), and how many streams are in each status (a wildcard's own line,
    which sums its matches, is not counted)."""
    rows = run_stream_rows(run)
    wildcards = {row.expanded_from for row in rows if row.expanded_from}
    counts = Counter(row.status for row in rows if row.name not in wildcards)
    failed = StreamStatus.FAILED
    if failed_only:
        rows = [row for row in rows if row.status == failed]
    elif counts[failed] and not run.is_active:
        groups: list[list[models.RunStream]] = []
        for row in rows:  # a wildcard and the streams it expanded into stay together
            if row.expanded_from and groups and row.expanded_from == groups[-1][0].name:
                groups[-1].append(row)
            else:
                groups.append([row])
        groups.sort(key=lambda group: all(row.status != failed for row in group))
        rows = [row for group in groups for row in group]
    return {
        "run_streams": rows,
        "stream_counts": [(status, counts[status]) for status in StreamStatus.values if counts[status]],
        "streams_total": sum(counts.values()),
        "failed_count": counts[failed],
        "failed_only": failed_only,
    }


def next_attempt(run: models.Run) -> models.Run | None:
    """The retry of the failed `run`, once queued."""
    return models.Run.objects.filter(retry_of=run).order_by("pk").first()


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


# Characters of log one answer carries at most (about: a page ends at a chunk's end). A log runs
# to gigabytes; the page shows its end and earlier pages on request, the download has it whole.
LOG_PAGE = 256 * 1024


@dataclass(frozen=True, slots=True)
class LogPage:
    """Some consecutive chunks of a run's log: their text, the numbers of the first and the
    last (0 and `after` when none), and whether chunks come before the first."""

    text: str
    first: int
    last: int
    earlier: bool


def _page(chunks: QuerySet[models.RunLogChunk], limit: int, *, backwards: bool) -> tuple[list[str], int, int]:
    """Texts of the chunks in the query's order, until `limit` characters (one chunk at least:
    the only chunk bigger than a page, written before chunks had a size, is cut to a page with
    a line that says so), and the numbers of the first and the last taken."""
    texts: list[str] = []
    seqs: list[int] = []
    size = 0
    for seq, text in chunks.values_list("seq", "text").iterator(chunk_size=8):
        if texts and size + len(text) > limit:
            break
        if len(text) > limit:
            left_out = f"[… {len(text) - limit:,} characters of the log here: in the download …]\n"
            text = left_out + text[-limit:] if backwards else text[:limit] + "\n" + left_out
        texts.append(text)
        seqs.append(seq)
        size += len(text)
    return texts, min(seqs, default=0), max(seqs, default=0)


def run_log(*, run: models.Run, after: int = 0, limit: int = LOG_PAGE) -> LogPage:
    """The log from the chunk after `after`, within about `limit` characters (following a run:
    `last` is where the next page starts)."""
    chunks = models.RunLogChunk.objects.filter(run=run, seq__gt=after).order_by("seq")
    texts, first, last = _page(chunks, limit, backwards=False)
    return LogPage("".join(texts), first, last or after, earlier=after > 0)


def run_log_tail(*, run: models.Run, before: int | None = None, limit: int = LOG_PAGE) -> LogPage:
    """The end of the log (before chunk `before`, when given: the page before one shown) within
    about `limit` characters."""
    chunks = models.RunLogChunk.objects.filter(run=run).order_by("-seq")
    if before is not None:
        chunks = chunks.filter(seq__lt=before)
    texts, first, last = _page(chunks, limit, backwards=True)
    earlier = first > 1 and models.RunLogChunk.objects.filter(run=run, seq__lt=first).exists()
    return LogPage("".join(reversed(texts)), first, last, earlier)


def run_log_pieces(*, run: models.Run) -> Iterator[str]:
    """The whole log, chunk by chunk (for a download)."""
    chunks = models.RunLogChunk.objects.filter(run=run).order_by("seq").values_list("text", flat=True)
    yield from chunks.iterator(chunk_size=16)


def stream_objects(config: ReplicationConfig, streams: Iterable[str]) -> dict[str, str]:
    """The target object of each of `streams`, resolved as the editor's table shows it."""
    context = validation.context()
    names = Names.of(config, context)
    return {
        stream: resolve_object(
            stream, effective_config(config.defaults, config.streams[stream], context.sling), names
        )
        or ""
        for stream in streams
    }


def run_check(config: ReplicationConfig, streams: list[str], mode: str, span: str = "") -> ReplicationConfig:
    """The replication with only the chosen streams (and `span`, a range "start,end", on each);
    RunError when a run of them cannot start (`run_create` records it refused)."""
    chosen = sling.subset(config, streams)
    if span:
        if problem := range_problem(span):
            raise sling.RunError(problem)
        chosen = chosen.with_range(span)
    if mode:
        _check_mode(chosen, mode)
    if streams:
        for stream in chosen.streams:
            if chosen.effective(stream).get("disabled") is True:
                raise sling.RunError(f"stream `{stream}` is disabled; enable it to run it")
    missing = missing_connections(config)
    if missing:
        raise sling.RunError(
            f"connection `{missing[0]}` is not defined: add it to the studio "
            f"or set the environment variable {missing[0]}"
        )
    configured.binary()  # RunError without one
    problem = configured.sandbox_problem()
    if problem:
        raise sling.RunError(problem)
    return chosen


def range_problem(span: str) -> str | None:
    """Why `span` is not a range sling's `--range` takes ("start,end": dates or numbers)."""
    if span.count(",") != 1 or not all(part.strip() for part in span.split(",")):
        return f'the range `{span[:100]}` is not "start,end" (one comma), e.g. 2024-01-01,2024-02-01'
    return None


def _check_mode(chosen: ReplicationConfig, mode: str) -> None:
    """A mode given for a run (`--mode`) applies to every stream: refuse it when sling would
    fail on it, as it would on a mode written in the file (the file was checked without it)."""
    version = configured.rules()
    if not version.has(MODES, mode):
        known = ", ".join(version.known(MODES))
        raise sling.RunError(version.newer(MODES, mode) or f"unknown mode `{mode}`; expected one of: {known}")
    for problem in validation.blocking(validation.check(chosen.with_mode(mode))):
        raise sling.RunError(f"in mode {mode}, {problem.where}: {problem.message}")


def missing_connections(config: ReplicationConfig) -> list[str]:
    """Connections the replication names that neither the studio nor the environment defines."""
    known = set(models.Connection.objects.values_list("name", flat=True))
    return [
        name
        for name in needed_connections(config)
        if name.upper() not in known and not any(defined_outside(v) for v in (name, name.upper()))
    ]


def run_refusal(run: models.Run) -> str | None:
    """Why a run of the same streams as the refused `run` would be refused now (None: it would
    start): its page says so instead of offering a Run again that cannot start."""
    if run.replication is None:
        return f"no replication named `{run.replication_name}`"
    try:
        chosen = run_check(run.replication.as_config(), list(run.streams), run.mode)
    except sling.RunError as exc:
        return str(exc)
    held = models.StreamLock.objects.filter(
        replication=run.replication, stream__in=[str(s) for s in chosen.streams]
    )
    busy = held.select_related("run").order_by("run_id", "pk").first()
    return f"stream `{busy.stream}` is already {busy.run.status} in run #{busy.run_id}" if busy else None
