"""Reads of connections: the list, and the schemas their names stand for."""

from __future__ import annotations

from django.db.models import QuerySet

from replication.lineage.join import default_schema
from studio import models


def connection_list() -> QuerySet[models.Connection]:
    return models.Connection.objects.all()


def connection_names() -> list[str]:
    return list(models.Connection.objects.values_list("name", flat=True))


def default_schemas() -> dict[str, str | None]:
    """Connection name -> the schema an unqualified table name means there."""
    return {
        conn.name.upper(): default_schema(conn.type, conn.params) for conn in models.Connection.objects.all()
    }
