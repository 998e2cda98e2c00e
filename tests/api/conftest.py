"""Shared fixtures of the API tests: a token of each role (of the demo's users), and a client
that sends one."""

from __future__ import annotations

import pytest
from api_client import Api
from django.contrib.auth import get_user_model

from studio import models
from studio.services.tokens import token_create

ROLES = ("viewer", "editor", "operator", "demo")  # demo is the demo's admin


@pytest.fixture
def tokens(demo) -> dict[str, str]:
    """role -> a live token of the demo's user of that role."""
    users = get_user_model().objects
    return {role: token_create(user=users.get(username=role), name=f"{role}-token")[1] for role in ROLES}


@pytest.fixture
def api(tokens) -> dict[str, Api]:
    """role -> a client sending that role's token; "admin" is the demo's admin."""
    clients = {role: Api(token) for role, token in tokens.items()}
    clients["admin"] = clients["demo"]
    return clients


@pytest.fixture
def finished_run(demo) -> models.Run:
    return models.Run.objects.create(replication=demo, replication_name="demo", status="succeeded")
