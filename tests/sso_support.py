"""A real OpenID Connect provider for the sign-in tests: node's oidc-provider
(tests/oidc_provider/provider.mjs, installed by `make install-test` with `npm ci`) on loopback.

`OpenIDProvider.accounts(...)` sets the people it knows and their groups; `tamper("forge" |
"expire")` makes its token endpoint answer with an ID token signed by an unpublished key, or
expired (what an attacker or a wrong clock produce; a provider does not on demand)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

FOLDER = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "sling-studio"
# A value to look for in pages and logs: it must be in none.
CLIENT_SECRET = "client-secret-4f1d9c0e7b2a"


class OpenIDProvider:
    def __init__(self, redirect_uris: list[str]) -> None:
        node = shutil.which("node")
        if node is None or not (FOLDER / "node_modules" / "oidc-provider").is_dir():
            message = "node or tests/oidc_provider/node_modules is missing: run `make install-test`"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        client = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris}
        self.process = subprocess.Popen(
            [node, str(FOLDER / "provider.mjs"), json.dumps(client)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        # Its first line, once it listens (a blocking read: no polling, no sleep).
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            raise RuntimeError(f"the OpenID provider did not start (exit {self.process.wait()})")
        self.issuer: str = json.loads(line)["issuer"]

    def _post(self, path: str, body: Any) -> None:
        request = urllib.request.Request(  # noqa: S310 - our loopback provider's http:// address
            f"{self.issuer}{path}", data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - our loopback provider
            pass

    def accounts(self, **accounts: dict[str, Any]) -> None:
        """Set people by login: `alice={"email": ..., "groups": [...]}`."""
        self._post("/_test/accounts", accounts)

    def tamper(self, mode: str | None) -> None:
        self._post("/_test/tamper", {"mode": mode})

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
