"""The file fence: the folders sling may read and write for the studio.

Sling reads and writes local files wherever it is told: `file://` streams (on any
source: a database source reads `file://x.sql` as SQL), `file://` targets, plain paths
on the local file connection, a `sql: file://...`, the database file of a sqlite or
duckdb connection, the folder a `file` connection lists. An editor decides all of them,
so each (`replication.local_paths` finds them) is checked against a `Fence`: inside one of
its roots, and never inside what it always refuses (the studio's data folder, its database
and key files, /proc, /sys, /dev), with symlinks resolved.

`Fence.refusal` judges a path as written (validation); `Fence.expanded_refusal` judges what
it stands for just before sling starts: its wildcard's matches and, for a folder, every
symlink inside it.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Where a path stops being literal: a glob, or a runtime variable of a target object.
_WILD = re.compile(r"[*?\[{]")


@dataclass(frozen=True, slots=True)
class Fence:
    """`roots`: the folders sling may use; `writable`: those of them it may write (None: all).
    `refused`: (path, what it is) never used, unless a path is inside one of `reopened` that is
    itself inside the refused one (the data folder's `files/`). `base`: the folder relative paths
    are read from (sling's working directory). `setting`: what to tell people to change."""

    roots: tuple[Path, ...]
    refused: tuple[tuple[Path, str], ...] = ()
    reopened: tuple[Path, ...] = ()
    base: Path = Path()
    setting: str = "STUDIO_FILE_ROOTS"
    writable: tuple[Path, ...] | None = None

    def resolve(self, path: str | Path) -> Path:
        """The absolute path, normalised, with the symlinks of its existing parts resolved."""
        return (self.base / Path(os.path.normpath(path))).resolve()

    def refusal(self, path: str, verb: str = "use") -> str | None:
        """Why sling may not `verb` (read, write) `path` (a file, a folder, a glob or a
        template), or None. Judged on what can be known before a run: the folder a wildcard
        or variable starts in, and no `..` after it."""
        literal, wild = _split_wild(path)
        if wild and ".." in Path(wild).parts:
            return f"sling may not {verb} `{path}`: `..` after a wildcard or variable leaves its folder"
        why = self._why(self.resolve(literal or "."), verb)
        return f"sling may not {verb} `{path}`: {why}" if why else None

    def expanded_refusal(self, path: str, verb: str = "use") -> str | None:
        """`refusal`, then the same for what `path` stands for now: each file its wildcard
        matches and, in a folder, every symlink (resolved: it may point anywhere)."""
        refused = self.refusal(path, verb)
        if refused or "{" in path:
            return refused
        full = str(self.base / path)
        matches = glob.glob(full, recursive=True) if _WILD.search(path) else [full]
        for match in matches:
            for found in _with_symlinks(Path(match)):
                resolved = found.resolve()
                why = self._why(resolved, verb)
                if why:
                    shown = f"`{found}`" if found == resolved else f"`{found}` (a link to {resolved})"
                    return f"sling may not {verb} {shown}, found for `{path}`: {why}"
        return None

    def _why(self, resolved: Path, verb: str) -> str | None:
        for folder, what in self.refused:
            if _inside(resolved, folder) and not any(
                _inside(resolved, opened) and _inside(opened, folder) and opened != folder
                for opened in self.reopened
            ):
                return f"it is {what}, never open to sling ({self.setting})"
        if not any(_inside(resolved, root) for root in self.roots):
            roots = ", ".join(str(root) for root in self.roots) or "none"
            return f"it is outside the folders open to sling ({self.setting}: {roots})"
        if (
            verb == "write"
            and self.writable is not None
            and not any(_inside(resolved, w) for w in self.writable)
        ):
            return f"sling may only read there ({self.setting}: a folder sling writes to is marked `:rw`)"
        return None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _split_wild(path: str) -> tuple[str, str]:
    """(the folder a path's wildcard or variable starts in, the rest); no wildcard: (path, "")."""
    match = _WILD.search(path)
    if match is None:
        return path, ""
    cut = path.rfind("/", 0, match.start()) + 1
    return path[:cut], path[cut:]


def _with_symlinks(path: Path) -> Iterator[Path]:
    """`path`, and when it is a folder every symlink under it (walked without following them)."""
    yield path
    if path.is_dir() and not path.is_symlink():
        for folder, dirs, files in os.walk(path):
            for name in dirs + files:
                entry = Path(folder) / name
                if entry.is_symlink():
                    yield entry
