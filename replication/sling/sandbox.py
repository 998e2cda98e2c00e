"""The kernel's fence around a sling process: Landlock (Linux 5.13 and newer).

What sling may read, write and execute is decided by the studio and enforced by the kernel,
whatever a replication, a connection or an `env:` says: a path outside the rules is refused
with EACCES (sling's `permission denied`), a program not named is not started. The text checks
(`replication.fence`, `replication.reach`) give the friendly message first; this is the
guarantee.

The three system calls are made with ctypes (`landlock_create_ruleset`, `landlock_add_rule`,
`landlock_restrict_self`), in a thread of its own that then starts the process: a Landlock
domain belongs to the thread that restricts itself and to the processes it starts, so the
process gets the rules and the studio's other threads keep their rights. No `preexec_fn`
(unsafe in a process with threads), no wrapper process (a Python start per run).
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

# The system calls, the same number on every architecture (they came after the tables merged).
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# Filesystem rights (include/uapi/linux/landlock.h), and the ABI that brought each.
EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2: linking and renaming across folders
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5
_HANDLED_BY_ABI = {1: REFER - 1, 2: TRUNCATE - 1, 3: IOCTL_DEV - 1, 4: IOCTL_DEV - 1}
_ALL_FS = (IOCTL_DEV << 1) - 1
# ABI 6: a confined process may not signal, nor connect to the abstract sockets of, others.
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
_SCOPE_SIGNAL = 1 << 1

# The rights a rule on a file (not a folder) can carry.
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
READ = READ_FILE | READ_DIR
WRITE = (
    READ
    | WRITE_FILE
    | TRUNCATE
    | REMOVE_DIR
    | REMOVE_FILE
    | MAKE_DIR
    | MAKE_REG
    | MAKE_SYM
    | MAKE_FIFO
    | MAKE_SOCK
    | REFER
)
RUN = READ_FILE | EXECUTE


class SandboxError(OSError):
    """The kernel cannot confine sling: no Landlock, or a call it refused."""


@dataclass(frozen=True, slots=True)
class Rules:
    """What a confined process may do: `read` (files and folders, with what is inside),
    `write` (create, change, delete inside, and read), `run` (execute these files). A path
    that does not exist is left out (there is nothing to allow)."""

    read: tuple[Path, ...] = ()
    write: tuple[Path, ...] = ()
    run: tuple[Path, ...] = ()
    # Devices a process needs open (/dev/null, /dev/urandom): read and written, nothing more.
    devices: tuple[Path, ...] = ()

    def rights(self) -> dict[Path, int]:
        """Each path with the rights the rules give it."""
        found: dict[Path, int] = {}
        for paths, rights in (
            (self.read, READ),
            (self.write, WRITE),
            (self.run, RUN),
            (self.devices, READ_FILE | WRITE_FILE),
        ):
            for path in paths:
                found[path] = found.get(path, 0) | rights
        return found


def _libc() -> Any:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def abi() -> int:
    """The Landlock ABI this kernel offers (0: none, or not Linux)."""
    if sys.platform != "linux":
        return 0
    version = _libc().syscall(
        _CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION)
    )
    return max(int(version), 0)


def unavailable() -> str | None:
    """Why the kernel cannot confine sling here, or None when it can."""
    if sys.platform != "linux":
        return f"Landlock is a Linux feature; this is {platform.system()}"
    if not abi():
        return (
            f"this kernel ({platform.release()}) offers no Landlock: it needs Linux 5.13 or newer "
            "with Landlock enabled (CONFIG_SECURITY_LANDLOCK, `lsm=...,landlock`)"
        )
    return None


def _fail(call: str) -> SandboxError:
    number = ctypes.get_errno()
    return SandboxError(number, f"{call}: {os.strerror(number)}")


def _ruleset(rules: Rules, version: int) -> int:
    """A ruleset's file descriptor: every right handled (denied unless a rule allows it)."""
    libc = _libc()
    handled = _HANDLED_BY_ABI.get(version, _ALL_FS)
    scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if version >= 6 else 0
    attr = _RulesetAttr(handled, 0, scoped)
    size = ctypes.sizeof(_RulesetAttr) if version >= 6 else 8  # the structure as that ABI knows it
    fd = int(libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)))
    if fd < 0:
        raise _fail("landlock_create_ruleset")
    try:
        for path, rights in rules.rights().items():
            try:
                target = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # nothing there: nothing to allow
            try:
                allowed = rights & handled
                if not os.path.isdir(f"/proc/self/fd/{target}"):
                    allowed &= _FILE_RIGHTS
                rule = _PathBeneath(allowed, target)
                added = libc.syscall(
                    _ADD_RULE,
                    ctypes.c_int(fd),
                    ctypes.c_int(_RULE_PATH_BENEATH),
                    ctypes.byref(rule),
                    ctypes.c_uint32(0),
                )
                if added < 0:
                    raise _fail(f"landlock_add_rule({path})")
            finally:
                os.close(target)
    except BaseException:
        os.close(fd)
        raise
    return fd


T = TypeVar("T")


def confined(rules: Rules, start: Callable[[], T]) -> T:
    """`start()`, which starts a process, called in a thread that Landlock restricted to `rules`
    first: the process inherits the restriction, the caller's threads do not. `SandboxError`
    when the kernel cannot do it (nothing is started then)."""
    why = unavailable()
    if why:
        raise SandboxError(95, why)  # EOPNOTSUPP
    ruleset = _ruleset(rules, abi())
    outcome: dict[str, Any] = {}

    def restricted() -> None:
        libc = _libc()
        try:
            # Required by landlock_restrict_self for an unprivileged thread; the process it
            # starts can never gain privileges (setuid programs run as their caller).
            if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                raise _fail("prctl(PR_SET_NO_NEW_PRIVS)")
            if libc.syscall(_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) < 0:
                raise _fail("landlock_restrict_self")
            outcome["started"] = start()
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    try:
        thread = threading.Thread(target=restricted, name="sling-confined", daemon=True)
        thread.start()
        thread.join()
    finally:
        os.close(ruleset)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["started"]


def interpreter(program: Path) -> Path | None:
    """The dynamic loader an ELF program names (PT_INTERP: `/lib64/ld-linux-x86-64.so.2`),
    resolved; None for a static program or another format. The kernel executes it too, so a
    confined program needs it among the programs it may run."""
    try:
        with open(program, "rb") as file:
            head = file.read(64)
            if head[:4] != b"\x7fELF":
                return None
            wide, order = head[4] == 2, "<" if head[5] == 1 else ">"
            # e_phoff, e_phentsize, e_phnum; then each program header's p_type, p_offset, p_filesz.
            table, entry_size, count = (
                struct.unpack(order + "Q", head[32:40]) + struct.unpack(order + "HH", head[54:58])
                if wide
                else struct.unpack(order + "I", head[28:32]) + struct.unpack(order + "HH", head[42:46])
            )
            for i in range(count):
                file.seek(table + i * entry_size)
                entry = file.read(entry_size)
                if struct.unpack(order + "I", entry[:4])[0] != 3:  # PT_INTERP
                    continue
                offset, size = (
                    struct.unpack(order + "QQ", entry[8:16] + entry[32:40])
                    if wide
                    else struct.unpack(order + "II", entry[4:8] + entry[16:20])
                )
                file.seek(offset)
                return Path(file.read(size).rstrip(b"\0").decode()).resolve()
    except (OSError, struct.error, UnicodeDecodeError):
        return None
    return None


def script_interpreter(program: Path) -> Path | None:
    """The interpreter a script names on its `#!` line (`/bin/sh`), resolved; None otherwise."""
    try:
        with open(program, "rb") as file:
            head = file.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].split()
    return Path(words[0].decode(errors="replace")).resolve() if words else None


def programs(names: Iterable[Path]) -> tuple[Path, ...]:
    """`names` resolved, each with what the kernel starts to run it (an ELF program's loader, a
    script's interpreter and its loader): what a confined process may run."""
    found: list[Path] = []
    for name in names:
        program = Path(name).resolve()
        found.append(program)
        starter = script_interpreter(program)
        if starter is not None:
            found.append(starter)
            program = starter
        loader = interpreter(program)
        if loader is not None:
            found.append(loader)
    return tuple(dict.fromkeys(found))


# What any confined program needs to start and talk to the network: the system's libraries, time
# zones, certificates and resolver files (read), a few devices. Nothing else of /etc (not
# /etc/shadow, /etc/passwd), no home, no /proc (not /proc/1/environ), no /sys.
SYSTEM = tuple(
    Path(path)
    for path in (
        "/usr/lib",
        "/usr/lib64",
        "/lib",
        "/lib64",
        "/usr/share/zoneinfo",
        "/usr/share/ca-certificates",
        "/etc/ssl",
        "/etc/ca-certificates",
        "/etc/pki",
        "/etc/resolv.conf",
        "/etc/hosts",
        "/etc/nsswitch.conf",
        "/etc/host.conf",
        "/etc/gai.conf",
        "/etc/services",
        "/etc/protocols",
        "/etc/localtime",
        "/etc/timezone",
        "/etc/ld.so.cache",
        "/etc/mime.types",
    )
)
DEVICES = tuple(Path(path) for path in ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"))


def for_sling(
    *, binary: Path, helpers: Iterable[Path] = (), read: Iterable[Path] = (), write: Iterable[Path] = ()
) -> Rules:
    """The rules of a sling process: run the binary and the `helpers` the studio names (each with
    its loader), read the system's files and `read`, write `write`; nothing else."""
    return Rules(
        read=(*SYSTEM, *read),
        write=tuple(write),
        run=programs([binary, *helpers]),
        devices=DEVICES,
    )


def run_to_end(
    argv: list[str], *, env: dict[str, str] | Any, cwd: Path | None, timeout: float, rules: Rules | None
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run(argv)` with its output captured, confined to `rules` when given."""

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    process = confined(rules, start) if rules is not None else start()
    with process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
    return subprocess.CompletedProcess(argv, process.returncode, out, err)
