"""The API tests' client: Django's test client sending a token and JSON bodies."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client


class Api:
    """The test client, sending `token` and JSON bodies, answering (status, JSON or text)."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.token = token

    def __call__(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(self.client, method.lower())(f"/api/v1{path}", **kwargs)


def answer(response: Any) -> Any:
    return json.loads(response.content) if response.content else None
