"""Sling's log, read as it comes: display lines (secrets masked) and each stream's outcome.

With `SLING_LOGGING=JSON` sling writes one JSON object a line on stdout, so a stream named
"INF" is not mangled as in dagster#32208; its error report closes a failed run on stderr. With
`SLING_SHOW_PROGRESS=true` it draws its progress bar on stderr even without a terminal: a tick
a second (elapsed, rows so far, rows per second, bytes), space-separated on one line that ends
when the stream's data is written; `LogReader` reads the ticks as they come.
"""

from __future__ import annotations

import fnmatch
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from replication.connections import MASK
from replication.resolve import is_file_stream, is_wildcard, relative_path, split_table_name

# A stream's status as sling reports it (a run's too: `Run.Status` and `RunStream.Status` name these).
PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED = "pending", "running", "succeeded", "failed", "cancelled"

ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RUNNING = re.compile(r"^\[\d+ / \d+\] running stream (?P<name>.+)$")
_SINGLE = re.compile(r"^Sling Replication \| .+ -> .+ \| (?P<name>.+)$")
_ROWS = re.compile(
    r"^(?:inserted (?P<n1>\d+) rows into (?P<t1>.+?) in \d"
    r"|wrote (?P<n2>\d+) rows (?:\[.*?\] )?to (?P<t2>.+?)(?: in \d+ secs.*)?$)"
)
_ERROR_HEADER = re.compile(r"^-{3,} (?P<name>.+?) -{3,}$")
# One tick of sling's progress bar (core/sling/pbar.go: `{{etime}} {{counters}} {{speed "%s r/s"}}
# {{bytes}} {{status}}`), e.g. `1m5s 994,750 17696 r/s 34 MB`, each written with a space after it
# and no newline: `? p/s` until a rate is known, and `| text` when a message came while the bar
# was drawn (sling shows it there instead of logging it). Whole when the next tick or line begins.
_TICK_START = r"(?:\d+h)?(?:\d+m)?\d+(?:\.\d+)?s \d[\d,]* "
_TICK = re.compile(
    r" *(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?P<s>\d+(?:\.\d+)?)s (?P<rows>\d[\d,]*) "
    r"(?P<rate>[\d.,]+|\?) [rp]/s (?P<size>[\d.]+ [kMGTPE]?i?B)(?: \| (?P<status>[^\n]*?))?"
    r"(?= " + _TICK_START + r"| ?\{| ?\n| ?$)"
)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value, and any password in a URL, replaced by a mask."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, MASK)
    return _URL_PASSWORD.sub(rf"\g<1>{MASK}\g<3>", text)


@dataclass(frozen=True, slots=True)
class Progress:
    """A running stream as sling's progress bar last showed it."""

    rows: int
    rate: float | None  # rows per second
    elapsed: float  # seconds
    size: str  # bytes read, as sling writes them ("34 MB")


@dataclass(slots=True)
class StreamResult:
    name: str
    status: str = PENDING
    rows: int | None = None
    target: str | None = None
    started: float | None = None
    ended: float | None = None
    error: str = ""
    progress: Progress | None = None
    # The wildcard stream of the file (`main.*`) sling expanded into this one.
    expanded_from: str | None = None

    @property
    def duration(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return self.ended - self.started


def expansion_of(name: str, wildcards: Iterable[str]) -> str | None:
    """The wildcard stream (`main.*`, `file://data/*.csv`) sling expanded into the stream it
    reports as `name` (`"main"."users"`, `data/a.csv`), or None. Sling 1.4.11 names a table
    it found by its quoted schema and table, and a file by its path without the scheme."""
    for wildcard in wildcards:
        if is_file_stream(wildcard):
            if fnmatch.fnmatchcase(relative_path(name), relative_path(wildcard)):
                return wildcard
        elif not is_file_stream(name):
            schema, table = split_table_name(name)
            pattern = ".".join(part for part in split_table_name(wildcard) if part)
            if fnmatch.fnmatchcase(f"{schema}.{table}".lower(), pattern.lower()):
                return wildcard
    return None


class LogReader:
    """Turns sling's output into display lines and per-stream results. A stream a wildcard
    expanded into is reported under it (`expanded_from`); the wildcard's own result sums
    those of its expansions (rows, time; failed if one failed)."""

    def __init__(self, streams: Iterable[str], clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.streams = {name: StreamResult(name) for name in streams}
        self._wildcards = [name for name in self.streams if is_wildcard(name)]
        self._parts: dict[str, list[StreamResult]] = {}  # wildcard -> the streams it expanded into
        self.current: StreamResult | None = None
        self._error_stream: StreamResult | None = None
        self._err = ""  # stderr not read yet: an unfinished tick or line
        self._status = ""

    def stream(self, name: str) -> StreamResult | None:
        """The result of the stream sling names `name`: the stream of that name, else one it
        names loosely (case and quotes aside) that has not started yet, else a new one for a
        stream a wildcard of the run expanded into. None for any other name: sling's output has
        lines shaped like a stream's (with `DEBUG=TRACE` its error report lists Go source
        locations as `--- proc.go:283 main ---`), and only a stream the run named, or one of its
        wildcards found, has a result."""
        if name in self.streams:
            return self.streams[name]
        key = _normalize(name)
        for known, result in self.streams.items():
            if _normalize(known) == key and result.status == PENDING:
                return result
        wildcard = expansion_of(name, self._wildcards)
        if wildcard is None:
            return None
        result = self.streams[name] = StreamResult(name, expanded_from=wildcard)
        self._parts.setdefault(wildcard, []).append(result)
        return result

    def _reported(self, name: str) -> StreamResult | None:
        """The stream an error report's header names: one the run named or sling ran (loosely
        too, whatever its status), else None (the header is a line of the report)."""
        key = _normalize(name)
        return next((r for n, r in self.streams.items() if n == name or _normalize(n) == key), None)

    def _parent(self, result: StreamResult) -> StreamResult | None:
        """The wildcard `result` is a match of, running while its matches run."""
        parent = self.streams.get(result.expanded_from or "")
        if parent is not None:
            parent.status = RUNNING
            parent.started = parent.started if parent.started is not None else result.started
        return parent

    def _settle(self) -> None:
        """Each wildcard that expanded, ended as the worst of its matches (failed, cancelled,
        succeeded), with the rows, time and failures of all of them."""
        for name, parts in self._parts.items():
            parent = self.streams[name]
            statuses = {r.status for r in parts}
            parent.status = next(s for s in (RUNNING, FAILED, CANCELLED, SUCCEEDED, PENDING) if s in statuses)
            counted = [r.rows for r in parts if r.rows is not None]
            parent.rows = sum(counted) if counted else None
            parent.started = min((r.started for r in parts if r.started is not None), default=None)
            parent.ended = max((r.ended for r in parts if r.ended is not None), default=None)
            failed = [r.name for r in parts if r.status == FAILED]
            parent.error = f"failed: {', '.join(failed)}" if failed else ""

    def stdout(self, raw: str) -> str:
        """One line of sling's stdout (a JSON object when JSON logging is on)."""
        try:
            event = json.loads(raw)
            message, level = ANSI.sub("", str(event.get("msg", ""))).rstrip(), str(event.get("lvl", "info"))
        except (ValueError, AttributeError):
            message, level = ANSI.sub("", raw).rstrip(), "info"
        self._event(message)
        return f"{level[:3].upper()} {message}" if message else ""

    def output(self, data: str) -> list[str]:
        """Some of sling's output, as it comes: progress ticks update the running stream
        at once; returns the display lines it completes (ticks show on the run page, not
        in the log). Sling's stdout may come through here too (`process` reads both through
        one pipe, so lines keep the order sling wrote them in): a line that is one of its JSON
        events is read as `stdout` reads it, even right after a tick (which ends no line)."""
        self._err += data
        shown, pos = [], 0
        while pos < len(self._err):
            tick = _TICK.match(self._err, pos)
            if tick:
                self._progress(tick)
                if tick["status"] is not None and not self._err[tick.end() :].strip(" "):
                    break  # a message may still be coming: read it with the next tick
                if tick["status"] and tick["status"] != self._status:
                    self._status = tick["status"]
                    self._event(ANSI.sub("", tick["status"]).strip())
                pos = tick.end()
                continue
            newline = self._err.find("\n", pos)
            if newline < 0:
                break
            line = self._err[pos:newline]
            event = line.lstrip(" ")  # after a tick: the space that ends it
            shown.append(self.stdout(event) if _is_event(event) else self.stderr(line))
            pos = newline + 1
        self._err = self._err[pos:]
        return [line for line in shown if line]

    def _progress(self, tick: re.Match[str]) -> None:
        if self.current is None:
            return
        rate = None if tick["rate"] == "?" else float(tick["rate"].replace(",", ""))
        elapsed = int(tick["h"] or 0) * 3600 + int(tick["m"] or 0) * 60 + float(tick["s"])
        self.current.progress = Progress(int(tick["rows"].replace(",", "")), rate, elapsed, tick["size"])

    def stderr(self, raw: str) -> str:
        """One line of sling's stderr: the error report closing a failed run."""
        line = ANSI.sub("", raw).rstrip()
        header = _ERROR_HEADER.match(line)
        reported = self._reported(header["name"]) if header else None
        if reported is not None:
            self._error_stream = reported
        elif line and self._error_stream is not None:
            error = self._error_stream.error
            self._error_stream.error = (error + "\n" + line).strip()[-2000:]
        return line

    def _event(self, message: str) -> None:
        now = self.clock()
        started = _RUNNING.match(message) or _SINGLE.match(message)
        if started:
            # A stream the run does not have reports nothing (nor into the one before it).
            self.current = self.stream(started["name"])
            if self.current is not None:
                self.current.status, self.current.started = RUNNING, now
                self._parent(self.current)
            return
        if self.current is None:
            return
        rows = _ROWS.match(message)
        if rows:
            count = rows["n1"] or rows["n2"]
            self.current.rows = (self.current.rows or 0) + int(count)
            self.current.target = rows["t1"] or rows["t2"]
            parent = self._parent(self.current)
            if parent is not None:
                parent.rows = (parent.rows or 0) + int(count)
        elif message.startswith("execution succeeded"):
            self._finish(SUCCEEDED, now)
        elif message.startswith("execution failed"):
            self._finish(FAILED, now)

    def _finish(self, status: str, now: float) -> None:
        assert self.current is not None
        self.current.status, self.current.ended = status, now
        self.current = None

    def finish(self, exit_code: int, cancelled: bool) -> list[StreamResult]:
        now = self.clock()
        for result in self.streams.values():
            if result.status == RUNNING:
                result.status, result.ended = (CANCELLED if cancelled else FAILED), now
            elif result.status == PENDING and cancelled:
                result.status = CANCELLED
            if result.status == FAILED and not result.error and exit_code != 0:
                result.error = "sling stopped before this stream finished" if not cancelled else ""
        self._settle()
        return list(self.streams.values())


def _is_event(line: str) -> bool:
    """A line of sling's JSON log (`SLING_LOGGING=JSON`): an object with its level and message."""
    if not line.startswith("{"):
        return False
    try:
        event = json.loads(line)
    except ValueError:
        return False
    return isinstance(event, dict) and "lvl" in event and "msg" in event


def _normalize(name: str) -> str:
    return name.replace('"', "").replace("`", "").strip().lower()
