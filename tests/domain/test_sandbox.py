"""The kernel's fence (Landlock) around a process, as `replication.sling.sandbox` applies it: what
the rules allow works, the rest is refused by the kernel, and the studio's own threads keep
their rights."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from replication.sling import find_binary, sandbox


def run(rules: sandbox.Rules, *argv: str) -> subprocess.CompletedProcess[str]:
    return sandbox.run_to_end(list(argv), env={"PATH": "/usr/bin:/bin"}, cwd=None, timeout=30, rules=rules)


@pytest.fixture
def rules(tmp_path):
    (tmp_path / "open").mkdir()
    (tmp_path / "open" / "in.txt").write_text("inside\n")
    (tmp_path / "closed").mkdir()
    (tmp_path / "closed" / "secret.txt").write_text("secret\n")
    cat = Path("/bin/cat").resolve()
    return sandbox.for_sling(binary=cat, read=[tmp_path / "open"], write=[tmp_path / "out"])


def test_this_kernel_offers_landlock():
    # The studio runs no sling without it (STUDIO_SANDBOX=required): the machine must have it.
    assert sandbox.abi() >= 1
    assert sandbox.unavailable() is None


def test_a_confined_process_reads_what_the_rules_open_and_nothing_else(rules, tmp_path):
    assert run(rules, "/bin/cat", str(tmp_path / "open" / "in.txt")).stdout == "inside\n"

    refused = run(rules, "/bin/cat", str(tmp_path / "closed" / "secret.txt"))
    assert refused.returncode != 0 and "Permission denied" in refused.stderr
    for system in ("/etc/shadow", "/proc/1/environ", "/etc/passwd"):
        assert "Permission denied" in run(rules, "/bin/cat", system).stderr


def test_a_confined_process_starts_only_the_programs_named(rules):
    with pytest.raises(PermissionError):
        run(rules, "/bin/ls", "/")
    with pytest.raises(PermissionError):
        run(rules, sys.executable, "-c", "print(1)")


def test_a_confined_process_writes_only_where_the_rules_say(tmp_path):
    (tmp_path / "out").mkdir()
    shell = sandbox.for_sling(binary=Path("/bin/sh"), write=[tmp_path / "out"])

    allowed = run(shell, "/bin/sh", "-c", f"echo ok > {tmp_path / 'out' / 'x'}")
    refused = run(shell, "/bin/sh", "-c", f"echo no > {tmp_path / 'x'}")

    assert allowed.returncode == 0 and (tmp_path / "out" / "x").read_text() == "ok\n"
    assert refused.returncode != 0 and not (tmp_path / "x").exists()


def test_the_studios_own_threads_keep_their_rights(rules, tmp_path):
    run(rules, "/bin/cat", str(tmp_path / "open" / "in.txt"))

    # The restriction belonged to the thread that started the process, gone since.
    assert (tmp_path / "closed" / "secret.txt").read_text() == "secret\n"
    assert subprocess.run(["/bin/ls", "/"], capture_output=True).returncode == 0


def test_the_loader_and_a_scripts_interpreter_are_among_the_programs(tmp_path):
    script = tmp_path / "tool"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    binary = Path(find_binary())

    loader = sandbox.interpreter(binary)
    assert loader is not None and "ld-linux" in loader.name
    assert sandbox.programs([binary]) == (binary.resolve(), loader)
    assert Path("/bin/sh").resolve() in sandbox.programs([script])
    assert run(sandbox.for_sling(binary=script), str(script)).stdout == "hi\n"
