"""Finding the `sling` binary.

It ships inside PyPI's platform wheels (`sling-linux-amd64` etc.) as
`<package>/bin/sling-<os>-<arch>`. The `sling` wrapper package and its `sling`
console script are not used: they download the binary at import time, which
fails offline. Nothing here downloads anything.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from pathlib import Path

from replication.runner import RunError

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
