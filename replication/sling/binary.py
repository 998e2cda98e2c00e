"""The sling binary and its version.

It ships inside PyPI's platform wheels (`sling-linux-amd64` etc.) as
`<package>/bin/sling-<os>-<arch>`. The `sling` wrapper package is not used: it downloads the
binary at import time, which fails offline. Nothing here downloads anything.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

from replication.sling.environment import process_environment
from replication.sling.errors import RunError

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


def version(binary: str, *, home: Path, timeout: float = 20) -> str:
    """The version the binary says it is (`sling --version`: `Version: 1.4.11`). Even so sling
    makes its home (`.sling/`, and the Snowflake driver's `.cache/`): in `home`, where it also
    runs, never in the folder it was started from (without HOME it writes them there)."""
    home.mkdir(parents=True, exist_ok=True)
    env = {**process_environment(), "HOME": str(home), "SLING_HOME_DIR": str(home)}
    try:
        done = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=timeout, env=env, cwd=home
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RunError(f"cannot ask sling its version ({binary}): {exc}") from None
    match = re.search(r"(\d+\.\d+\.\d+)", done.stdout)
    if done.returncode != 0 or not match:
        raise RunError(f"sling did not say its version ({binary} --version exited {done.returncode})")
    return match.group(1)


# What each binary said (its path, modification time and size -> its version), in this process.
_known: dict[tuple[str, int, int], str | None] = {}


def known_version(binary: str, kept: Path, *, home: Path) -> str | None:
    """The version of `binary`, asked once per binary (its path, modification time and size)
    and kept in the file `kept` too, so a command that starts a run does not start sling twice;
    None when it does not say. `home`: Sling's home, should it be asked."""
    stat = Path(binary).stat()
    key = (binary, stat.st_mtime_ns, stat.st_size)
    if key not in _known:
        _known[key] = _kept_or_asked(key, kept, home)
    return _known[key]


def _kept_or_asked(key: tuple[str, int, int], kept: Path, home: Path) -> str | None:
    binary, mtime_ns, size = key
    stamp = {"binary": binary, "mtime_ns": mtime_ns, "size": size}
    try:
        known = json.loads(kept.read_text())
        if isinstance(known, dict) and known.get("key") == stamp and isinstance(known.get("version"), str):
            return known["version"]
    except (OSError, ValueError):
        pass
    try:
        found = version(binary, home=home)
    except RunError:
        return None
    written = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
    try:
        written.write_text(json.dumps({"key": stamp, "version": found}))
        os.replace(written, kept)  # whole or not at all, whoever reads it meanwhile
    except OSError:
        written.unlink(missing_ok=True)
    return found
