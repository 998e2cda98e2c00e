"""A sling run as a process: the replication written to a file with only the chosen streams,
the argv (a list, never a shell string, so stream names, objects and SQL reach sling as data),
then sling started, its output followed as it comes, and stopped on request or when we are.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from replication.config import ReplicationConfig
from replication.sling.errors import RunError
from replication.sling.log import CANCELLED, FAILED, SUCCEEDED, LogReader, StreamResult, mask
from replication.sling.sandbox import Rules, confined
from replication.yamlio import emit


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
    replication: ReplicationConfig, *, binary: str, workdir: Path, mode: str | None = None
) -> Prepared:
    """Write `replication` (the streams to run, `subset`) to `workdir` and build the argv."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "replication.yaml"
    config_path.write_text(emit(replication))
    argv = [binary, "run", "-r", str(config_path)]
    if mode:
        argv += ["--mode", mode]
    return Prepared(argv, config_path, [str(name) for name in replication.streams])


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
    rules: Rules | None = None,
) -> RunResult:
    """Run sling to the end (or until `should_cancel()`), reporting as it goes; confined by the
    kernel to `rules` (`sandbox`) when given."""
    secrets = [s for s in secrets if s]
    reader = LogReader(prepared.streams)

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            prepared.argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            # One pipe for both: read apart, sling's JSON lines (stdout) and its error report and
            # progress bar (stderr) interleaved by chance, and a log could show a failure's report
            # before the lines that led to it. Each line is one write, so lines never mix.
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a cancel reaches sling's children
        )

    try:
        process = confined(rules, start) if rules is not None else start()
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
    process: subprocess.Popen[bytes],
    reader: LogReader,
    secrets: list[str],
    on_line: Callable[[str], None],
    on_progress: Callable[[list[StreamResult]], None],
    should_cancel: Callable[[], bool],
    grace_seconds: float,
) -> bool:
    """Read sling's output until its pipe closes; True when a cancel was requested."""
    chunks: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, chunks), daemon=True).start()
    cancelled, kill_at = False, None
    while True:
        try:
            data = chunks.get(timeout=0.5)
        except queue.Empty:
            data = ""
        if data is None:
            break
        if data:
            for text in reader.output(data):
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


def _pump(pipe: Any, chunks: queue.Queue[str | None]) -> None:
    """What sling writes, as it writes it (the progress bar ends no line); None at its end."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while chunk := os.read(pipe.fileno(), 65536):
        chunks.put(decoder.decode(chunk))
    if rest := decoder.decode(b"", final=True):
        chunks.put(rest)
    chunks.put("\n")  # the last line, even without its newline
    chunks.put(None)


def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _stop(process: subprocess.Popen[bytes], *, grace_seconds: float) -> None:
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
