"""The one place that talks to the `sling` binary.

- `find_binary()` finds it: it ships inside PyPI's platform wheels
  (`sling-linux-amd64` etc.) as `<package>/bin/sling-<os>-<arch>`. The `sling`
  wrapper package is not used: it downloads the binary at import time, which
  fails offline. Nothing here downloads anything.
- `environment()` builds what sling sees, an allowlist: the connections it is
  given, Sling's settings, its home, JSON logs and a few process variables;
  `check_reach()` refuses a run whose local paths leave the file fence or whose
  hosts are not open to connections (`replication.fence`, `replication.reach`).
- `prepare()` writes the replication (only the chosen streams) to a file and
  builds the argv: a list, never a shell string, so stream names, objects and
  SQL reach Sling as data. `execute()` starts sling, reads its JSON log line by
  line (`SLING_LOGGING=JSON`, so a stream named "INF" is not mangled as in
  dagster#32208), masks secrets in every line, and reports per-stream status,
  rows and timing as they happen. With `SLING_SHOW_PROGRESS=true` sling draws its
  progress bar on stderr even without a terminal: a tick a second (elapsed, rows so
  far, rows per second, bytes), space-separated on one line that ends when the
  stream's data is written; `LogReader` reads the ticks as they come.
- `call()` runs a short command (`conns test`, `conns discover`) and returns
  its output; `discovered()` reads what `conns discover` printed.
"""

from __future__ import annotations

import codecs
import contextlib
import fnmatch
import importlib.util
import json
import os
import platform
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from replication.config import ReplicationConfig, references
from replication.connections import MASK
from replication.fence import Fence, connection_paths, replication_paths
from replication.problems import format_path
from replication.reach import Reach, connection_hosts
from replication.resolve import Names, is_file_stream, is_wildcard, relative_path, split_table_name
from replication.yamlio import emit

PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED = "pending", "running", "succeeded", "failed", "cancelled"

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
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
    r"(?= " + _TICK_START + r"| ?\n| ?$)"
)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")


class RunError(Exception):
    """A run that cannot start: the message is one line for the user."""


# --- the binary ------------------------------------------------------------------------

# (sys.platform, machine) -> wheel package; its binary is the name with dashes.
_WHEELS = {
    ("linux", "x86_64"): "sling_linux_amd64",
    ("linux", "amd64"): "sling_linux_amd64",
    ("linux", "aarch64"): "sling_linux_arm64",
    ("linux", "arm64"): "sling_linux_arm64",
    ("darwin", "arm64"): "sling_mac_arm64",
    ("darwin", "x86_64"): "sling_mac_amd64",
    ("win32", "amd64"): "sling_windows_amd64",
    ("win32", "x86_64"): "sling_windows_amd64",
}


def wheel_package() -> str | None:
    """The platform wheel's package name for this machine (None: no wheel for it)."""
    return _WHEELS.get((sys.platform, platform.machine().lower()))


def find_binary(override: str | None = None) -> str:
    """The path of the sling binary: `override` (SLING_BINARY) or the platform wheel's.

    Raises RunError with a one-line message when there is none.
    """
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise RunError(f"the sling binary is missing: SLING_BINARY={override} does not exist")
        if not os.access(path, os.X_OK):
            raise RunError(f"the sling binary is not executable: SLING_BINARY={override}")
        return str(path)
    package = wheel_package()
    if package is None:
        machine = f"{sys.platform}/{platform.machine()}"
        raise RunError(f"the sling binary is missing: no sling wheel for {machine}; set SLING_BINARY")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        wheel = package.replace("_", "-")
        raise RunError(f"the sling binary is missing: pip install {wheel} (or set SLING_BINARY)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "bin"
    name = package.replace("_", "-") + (".exe" if sys.platform == "win32" else "")
    path = folder / name
    if not path.is_file():
        raise RunError(f"the sling binary is missing: {path} does not exist; reinstall {package}")
    return str(path)


# --- a run -----------------------------------------------------------------------------


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


@dataclass(slots=True)
class RunResult:
    exit_code: int
    status: str
    streams: list[StreamResult]
    error: str = ""


@dataclass(slots=True)
class Prepared:
    argv: list[str]
    config_path: Path
    streams: list[str]


def subset(replication: ReplicationConfig, streams: Iterable[str] | None) -> ReplicationConfig:
    """The replication with only `streams` (all when None); unknown names raise RunError."""
    if not streams:
        return replication
    wanted = list(dict.fromkeys(streams))
    known = {str(name): name for name in replication.streams}
    missing = [s for s in wanted if s not in known]
    if missing:
        raise RunError(f"no stream named `{missing[0]}` in this replication")
    return replace(replication, streams={known[s]: replication.streams[known[s]] for s in wanted})


def prepare(
    replication: ReplicationConfig,
    *,
    binary: str,
    workdir: Path,
    streams: Iterable[str] | None = None,
    mode: str | None = None,
) -> Prepared:
    chosen = subset(replication, streams)
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "replication.yaml"
    config_path.write_text(emit(chosen))
    argv = [binary, "run", "-r", str(config_path)]
    if mode:
        argv += ["--mode", mode]
    return Prepared(argv, config_path, [str(name) for name in chosen.streams])


def check_reach(
    fence: Fence,
    reach: Reach,
    replication: ReplicationConfig | None = None,
    *,
    names: Names | None = None,
    connections: Iterable[tuple[str, str, Mapping[str, Any]]] = (),
) -> None:
    """RunError unless every local path the run gives sling is inside the fence as things are
    now (wildcards expanded, folders walked, symlinks resolved) and every host its connections
    name may be reached. `names`: how sling names the replication's streams and objects;
    `connections`: (name, type, fields) of those the run uses."""
    paths = replication_paths(replication, names or Names()) if replication is not None else ()
    for where, verb, path in paths:
        refused = fence.expanded_refusal(path, verb)
        if refused:
            raise RunError(f"{format_path(where)}: {refused}")
    for name, conn_type, fields in connections:
        for field, path in connection_paths(conn_type, fields):
            refused = path and fence.refusal(path)
            if refused:
                raise RunError(f"connection {name}, {field}: {refused}")
        for host in connection_hosts(fields):
            refused = reach.refusal(host)
            if refused:
                raise RunError(f"connection {name}: {refused}")


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value, and any password in a URL, replaced by a mask."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, MASK)
    return _URL_PASSWORD.sub(rf"\g<1>{MASK}\g<3>", text)


# What sling gets of the studio's environment: the variables a process needs to run, and
# Sling's own settings (`SLING_*`) but those that name connections or the studio's binary.
PASSED = frozenset(
    {"PATH", "TZ", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR"}
    # Sling's settings without its prefix: the helper binaries it runs, and how.
    | {
        "SQLITE_PATH",
        "DUCKDB_PATH",
        "DUCKDB_VERSION",
        "DUCKDB_USE_INSTALLED_EXTENSIONS",
        "DUCKDB_USE_TMP_FILE",
    }
)
NOT_PASSED = frozenset({"SLING_ENV_YAML", "SLING_BINARY", "SLING_HOME_DIR"})
# The studio's own secrets: never sling's, not even as a connection a replication names.
STUDIO_SECRETS = frozenset(
    {"SECRET_KEY", "SECRET_KEY_FILE", "DATABASE_URL", "STUDIO_ENCRYPTION_KEYS", "STUDIO_ENCRYPTION_KEYS_FILE"}
)


def process_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """What sling's process sees of `base` (the studio's environment), an allowlist: a few
    process variables and Sling's own settings, nothing else."""
    base = os.environ if base is None else base
    return {
        name: value
        for name, value in base.items()
        if name in PASSED or (name.startswith("SLING_") and name not in NOT_PASSED)
    }


def environment(
    connections: Mapping[str, str],
    *,
    home: Path,
    base: Mapping[str, str] | None = None,
    text: str = "",
) -> dict[str, str]:
    """The environment for sling: `process_environment`, its home (also HOME, so no `~/.dbt` or
    `~/.ssh` of the studio's user is read), JSON logs, and `connections` (variable name -> value).

    RunError when `text` (the replication file) or a connection refers to a variable that holds a
    connection: sling would put that connection, secrets and all, in its place."""
    env = process_environment(base)
    home.mkdir(parents=True, exist_ok=True)
    # The progress bar is drawn on a terminal only, unless asked for (cmd/sling/sling_cli.go).
    env.update(
        HOME=str(home),
        SLING_HOME_DIR=str(home),
        SLING_LOGGING="JSON",
        NO_COLOR="1",
        SLING_SHOW_PROGRESS="true",
    )
    places = [
        ("the replication", text),
        *((f"connection {name}", value) for name, value in connections.items()),
    ]
    for place, value in places:
        # Sling replaces `$NAME` and `${NAME}` with the variable NAME of its environment: a
        # connection field written so, the values of the `env:` map, the text of a task (where a
        # `$NAME` inside a longer word is replaced too).
        for name in references(value, connections):
            raise RunError(
                f"{place} refers to ${name}: sling would replace it with connection {name}, "
                "secrets included; write the value itself"
            )
    env.update(connections)
    return env


def version(binary: str, *, timeout: float = 20) -> str:
    """The version the binary says it is (`sling --version`: `Version: 1.4.11`)."""
    try:
        done = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=timeout, env=process_environment()
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RunError(f"cannot ask sling its version ({binary}): {exc}") from None
    match = re.search(r"(\d+\.\d+\.\d+)", done.stdout)
    if done.returncode != 0 or not match:
        raise RunError(f"sling did not say its version ({binary} --version exited {done.returncode})")
    return match.group(1)


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

    def stream(self, name: str) -> StreamResult:
        """The result of the stream sling names `name`: the stream of that name, else one it
        names loosely (case and quotes aside) that has not started yet, else a new one (a
        wildcard expands to streams the file does not name)."""
        if name in self.streams:
            return self.streams[name]
        key = _normalize(name)
        for known, result in self.streams.items():
            if _normalize(known) == key and result.status == PENDING:
                return result
        result = self.streams[name] = StreamResult(name, expanded_from=expansion_of(name, self._wildcards))
        if result.expanded_from is not None:
            self._parts.setdefault(result.expanded_from, []).append(result)
        return result

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
            message, level = _ANSI.sub("", str(event.get("msg", ""))).rstrip(), str(event.get("lvl", "info"))
        except (ValueError, AttributeError):
            message, level = _ANSI.sub("", raw).rstrip(), "info"
        self._event(message)
        return f"{level[:3].upper()} {message}" if message else ""

    def stderr_data(self, data: str) -> list[str]:
        """Some of sling's stderr, as it comes: progress ticks update the running stream
        at once; returns the display lines it completes (ticks show on the run page, not
        in the log)."""
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
                    self._event(_ANSI.sub("", tick["status"]).strip())
                pos = tick.end()
                continue
            newline = self._err.find("\n", pos)
            if newline < 0:
                break
            shown.append(self.stderr(self._err[pos:newline]))
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
        line = _ANSI.sub("", raw).rstrip()
        header = _ERROR_HEADER.match(line)
        if header:
            self._error_stream = self.stream(header["name"])
        elif line and self._error_stream is not None:
            error = self._error_stream.error
            self._error_stream.error = (error + "\n" + line).strip()[-2000:]
        return line

    def _event(self, message: str) -> None:
        now = self.clock()
        started = _RUNNING.match(message) or _SINGLE.match(message)
        if started:
            self.current = self.stream(started["name"])
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


def _normalize(name: str) -> str:
    return name.replace('"', "").replace("`", "").strip().lower()


def execute(
    prepared: Prepared,
    *,
    env: Mapping[str, str],
    cwd: Path,
    secrets: Iterable[str] = (),
    on_line: Callable[[str], None] = lambda line: None,
    on_progress: Callable[[list[StreamResult]], None] = lambda results: None,
    should_cancel: Callable[[], bool] = lambda: False,
    on_start: Callable[[int], None] = lambda pid: None,
    grace_seconds: float = 10.0,
) -> RunResult:
    """Run sling to the end (or until `should_cancel()`), reporting as it goes."""
    secrets = [s for s in secrets if s]
    reader = LogReader(prepared.streams)
    try:
        process = subprocess.Popen(
            prepared.argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            start_new_session=True,  # its own process group, so a cancel reaches sling's children
        )
    except OSError as exc:
        raise RunError(f"cannot start sling ({prepared.argv[0]}): {exc.strerror}") from None
    try:
        on_start(process.pid)
        cancelled = _follow(process, reader, secrets, on_line, on_progress, should_cancel, grace_seconds)
    except BaseException:
        # Interrupted (Ctrl-C, a worker told to stop, an error in a callback): sling must not outlive us.
        _stop(process, grace_seconds=min(grace_seconds, 5.0))
        raise
    exit_code = process.wait()
    results = reader.finish(exit_code, cancelled)
    for result in results:
        result.error = mask(result.error, secrets)
    if cancelled:
        status = CANCELLED
    elif exit_code == 0 and all(r.status != FAILED for r in results):
        status = SUCCEEDED
    else:
        status = FAILED
    error = "" if status == SUCCEEDED else _summary(exit_code, results, cancelled)
    return RunResult(exit_code, status, results, error)


def _follow(
    process: subprocess.Popen[str],
    reader: LogReader,
    secrets: list[str],
    on_line: Callable[[str], None],
    on_progress: Callable[[list[StreamResult]], None],
    should_cancel: Callable[[], bool],
    grace_seconds: float,
) -> bool:
    """Read sling's output until both pipes close; True when a cancel was requested."""
    lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, "out", lines), daemon=True),
        threading.Thread(target=_pump_chunks, args=(process.stderr, "err", lines), daemon=True),
    ]
    for thread in readers:
        thread.start()
    open_pipes, cancelled, kill_at = 2, False, None
    while open_pipes:
        try:
            source, raw = lines.get(timeout=0.5)
        except queue.Empty:
            source, raw = "", None
        if source and raw is None:
            open_pipes -= 1
        elif raw is not None:
            shown = [reader.stdout(raw)] if source == "out" else reader.stderr_data(raw)
            for text in shown:
                if text:
                    on_line(mask(text, secrets))
            on_progress(list(reader.streams.values()))
        if not cancelled and should_cancel():
            cancelled, kill_at = True, time.monotonic() + grace_seconds
            _signal(process, signal.SIGTERM)
            on_line("--- cancel requested: sling was sent SIGTERM ---")
        if kill_at is not None and time.monotonic() > kill_at:
            _signal(process, signal.SIGKILL)
            kill_at = None
    return cancelled


def _pump(pipe: Any, source: str, lines: queue.Queue[tuple[str, str | None]]) -> None:
    for raw in pipe:
        lines.put((source, raw))
    lines.put((source, None))


def _pump_chunks(pipe: Any, source: str, lines: queue.Queue[tuple[str, str | None]]) -> None:
    """Like `_pump`, but what is written, as it is written: the progress bar ends no line."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while chunk := os.read(pipe.fileno(), 65536):
        lines.put((source, decoder.decode(chunk)))
    if rest := decoder.decode(b"", final=True):
        lines.put((source, rest))
    lines.put((source, "\n"))  # the last line, even without its newline
    lines.put((source, None))


def _signal(process: subprocess.Popen[str], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _stop(process: subprocess.Popen[str], *, grace_seconds: float) -> None:
    """SIGTERM sling's process group, then SIGKILL if it is still there after the grace time."""
    _signal(process, signal.SIGTERM)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        _signal(process, signal.SIGKILL)
        process.wait()


def _summary(exit_code: int, results: list[StreamResult], cancelled: bool) -> str:
    if cancelled:
        return "cancelled by request"
    failed = [r.name for r in results if r.status == FAILED]
    if failed:
        return f"{len(failed)} stream(s) failed: " + ", ".join(failed[:5])
    return f"sling exited with code {exit_code}"


# --- short commands: conns test, conns discover ---------------------------------------


class SlingFailed(RunError):
    """sling answered with an error; the message is masked and short."""


def call(
    binary: str,
    args: Iterable[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    secrets: Iterable[str] = (),
    timeout: float = 60,
) -> str:
    """Run `sling <args>` to its end with JSON output; its stdout, or SlingFailed."""
    args = list(args)
    if any("\x00" in arg for arg in args):
        raise RunError("a NUL character cannot be given to sling")
    env = dict(env)
    env.pop("SLING_LOGGING", None)
    env.pop("SLING_SHOW_PROGRESS", None)
    env["SLING_OUTPUT"] = "json"
    try:
        done = subprocess.run(
            [binary, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise SlingFailed(f"sling did not answer within {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = [line.strip("~ ") for line in _ANSI.sub("", done.stderr).splitlines() if line.strip()]
        detail = " ".join(line for line in lines if not line.startswith(("fatal", "INF", "DBG")))[-500:]
        raise SlingFailed(mask(detail or f"sling exited with {done.returncode}", secrets))
    return done.stdout


def _rows(output: str) -> list[dict[str, Any]]:
    try:
        table = json.loads(output.strip().splitlines()[-1]) if output.strip() else {"fields": [], "rows": []}
        fields = [str(f).lower() for f in table["fields"]]
        return [dict(zip(fields, row, strict=False)) for row in table["rows"]]
    except (ValueError, KeyError, TypeError, IndexError):
        raise SlingFailed("could not read what sling discovered") from None


def discovered(output: str, *, files: bool) -> list[str]:
    """Stream names in what `sling conns discover` printed: tables as `schema.table`,
    files as paths (`file://` paths when `files` are local)."""
    rows = _rows(output)
    if rows and "schema" in rows[0]:
        return [f"{row['schema']}.{row['name']}" for row in rows]
    prefix = "file://" if files else ""
    return [f"{prefix}{row['name']}" for row in rows]


def discover_pattern(stream: str) -> str:
    """The `--pattern` sling discovers a wildcard stream with (`ProcessWildcards`): a file
    pattern without its `file://`."""
    return stream[len("file://") :] if stream.lower().startswith("file://") else stream


def expanded(output: str, *, quote: str = '"') -> list[str]:
    """The streams a wildcard expands into, named as sling names them, from what discovering
    its pattern printed: tables as `"schema"."table"`, files as their plain path."""
    rows = _rows(output)
    if rows and "schema" in rows[0]:
        return [f"{quote}{row['schema']}{quote}.{quote}{row['name']}{quote}" for row in rows]
    return [str(row["name"]) for row in rows]
