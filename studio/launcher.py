"""Sling as this studio runs it, made once for each run, test or discover: its binary, Sling's
home and the folder it runs in, what it may reach (the file fence and the hosts, as text before
it starts; what it may read, write and run, by the kernel while it runs), the connections the
run names (and nothing else of the studio's) with their secrets, and every stored secret masked
in what it prints. Every sling process the studio starts is started from here."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from replication import sling
from replication.config import ReplicationConfig, needed_connections
from replication.fence import Fence
from replication.reach import Reach
from replication.resolve import Names
from replication.sling import sandbox
from studio import configured, models, validation


@dataclass(frozen=True, slots=True)
class Launch:
    """A run, ready to start: sling's file and argv, its environment, the secrets to mask."""

    prepared: sling.Prepared
    env: dict[str, str]
    secrets: list[str]
    cwd: Path
    rules: sandbox.Rules | None  # None: STUDIO_SANDBOX=off

    def execute(self, **follow: Callable[..., Any]) -> sling.RunResult:
        """Run it to its end; `follow`: `sling.execute`'s callbacks (on_line, on_progress, ...)."""
        return sling.execute(
            self.prepared, env=self.env, cwd=self.cwd, secrets=self.secrets, rules=self.rules, **follow
        )


@dataclass(frozen=True, slots=True)
class Launcher:
    home: Path  # Sling's folder: each test or discover gets a home of its own in it (a run, in its folder)
    cwd: Path  # the project folder: the demo's relative `file://` paths are in it
    fence: Fence
    reach: Reach

    @classmethod
    def here(cls) -> Launcher:
        """This studio's sling (its binary is looked for when it starts: `sling.RunError` without)."""
        return cls(
            home=settings.SLING_HOME_DIR,
            cwd=settings.BASE_DIR,
            fence=configured.fence(),
            reach=configured.reach(),
        )

    def run(
        self, config: ReplicationConfig, *, streams: list[str] | None, mode: str | None, workdir: Path
    ) -> Launch:
        """Sling ready to run `config` (only `streams`, when given) in `workdir`: the file written,
        its paths and hosts checked as things are now (`sling.RunError` when one is refused), the
        environment holding only the connections it names. One query reads the studio's
        connections: those it names, the names of its objects, every secret to mask."""
        stored = {c.name: c for c in models.Connection.objects.all()}
        chosen = sling.subset(config, streams)
        prepared = sling.prepare(chosen, binary=configured.binary(), workdir=workdir, mode=mode)
        # The connections of the chosen streams only (a part of a run has its own streams' hooks).
        named = [stored[name.upper()] for name in needed_connections(chosen) if name.upper() in stored]
        if settings.STUDIO_TEXT_CHECKS:
            sling.check_reach(
                self.fence,
                self.reach,
                chosen,
                names=Names.of(config, validation.context(connections=stored.values())),
                connections=[(c.name, c.type, c.full_params()) for c in named],
            )
        rules = self.confinement(write=[workdir])
        connections, secrets = _environment_of(chosen, stored)
        # Every studio secret is masked in the log, named by the run or not (a file may be named so).
        secrets += stored_secrets(stored.values())
        # A home of the run's own: what one run writes there (sling's env.yaml, its store) is
        # never read by another.
        env = sling.environment(connections, home=workdir / "home", text=prepared.config_path.read_text())
        return Launch(prepared, env, secrets, self.cwd, rules)

    def command(self, connection: models.Connection | None, *args: str, timeout: float = 60) -> str:
        """`sling <args>` (a short command: `conns test`, `conns discover`, a preview) with only
        `connection` (none: sling's own LOCAL) in its environment, its hosts and paths checked
        first, stopped after `timeout` seconds: its output, or `sling.RunError` (`SlingFailed`
        when sling answered with an error or in time)."""
        named: dict[str, str] = {}
        if connection is not None:
            fields = connection.full_params()
            if settings.STUDIO_TEXT_CHECKS:
                sling.check_reach(
                    self.fence, self.reach, connections=[(connection.name, connection.type, fields)]
                )
            named = {connection.name: connection.sling_env()}
        self.home.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="call-", dir=self.home) as home:
            rules = self.confinement(write=[Path(home)])
            env = sling.environment(named, home=Path(home))
            secrets = connection.secret_values() if connection else []
            return sling.call(
                configured.binary(),
                args,
                env=env,
                cwd=self.cwd,
                secrets=secrets,
                rules=rules,
                timeout=timeout,
            )

    def confinement(self, *, write: Iterable[Path] = ()) -> sandbox.Rules | None:
        """What the kernel lets a sling process do: run sling and the helpers the studio names,
        read the file roots, write the writable ones and `write` (its folder, with its home);
        None when STUDIO_SANDBOX is off. `sling.RunError` when the kernel cannot confine it, or
        when a root holds what sling may never use (the kernel cannot fence a folder inside an
        open one: the data folder inside a root is refused here, not judged path by path)."""
        if settings.STUDIO_SANDBOX == "off":
            return None
        problem = configured.sandbox_problem()
        if problem:
            raise sling.RunError(problem)
        for root in self.fence.roots:
            for refused, what in self.fence.refused:
                if refused == root or root in refused.parents:
                    raise sling.RunError(
                        f"{self.fence.setting}: `{root}` holds `{refused}` ({what.removeprefix('in ')}): "
                        "the kernel cannot keep sling out of a folder inside one it may use; choose folders "
                        "beside it"
                    )
        certificates = [Path(os.environ[v]) for v in ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(v)]
        temp = [Path(os.environ["SLING_TEMP_DIR"])] if os.environ.get("SLING_TEMP_DIR") else []
        return sandbox.for_sling(
            binary=Path(configured.binary()),
            helpers=configured.helpers(),
            read=[*self.fence.roots, *certificates],
            write=[*(self.fence.writable or ()), *temp, *write],
        )


def _environment_of(
    config: ReplicationConfig, stored: dict[str, models.Connection]
) -> tuple[dict[str, str], list[str]]:
    """The connections the replication names, as sling's environment variables, and their
    secrets (to mask): the studio's, or those the worker's own environment defines."""
    env: dict[str, str] = {}
    secrets: list[str] = []
    for name in needed_connections(config):
        connection = stored.get(name.upper())
        if connection is not None:
            env[connection.name] = connection.sling_env()
            secrets += connection.secret_values()
            continue
        variable = next((v for v in (name, name.upper()) if defined_outside(v)), None)
        if variable is not None:
            env[variable] = os.environ[variable]
            secrets.append(os.environ[variable])
    return env, secrets


def defined_outside(variable: str) -> bool:
    """Whether the worker's own environment defines a connection named `variable` for sling
    (the studio's secrets never count as one)."""
    return variable in os.environ and variable not in sling.STUDIO_SECRETS


def stored_secrets(connections: Iterable[models.Connection] | None = None) -> list[str]:
    """Every secret value the studio stores (of `connections`, when given: read already), to
    mask wherever sling's output or an error is shown, whoever it belongs to."""
    if connections is None:
        connections = models.Connection.objects.all()
    return [value for c in connections for value in c.secret_values()]
