"""Reads of connections: the list, and the schemas their names stand for."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from replication.connections import DATABASE_TYPES, FILE_TYPES
from replication.lineage.join import default_schema
from replication.resolve import object_template
from studio import models
from studio.selectors.replications import replications_reading


def connection_list() -> QuerySet[models.Connection]:
    return models.Connection.objects.all()


def connection_names() -> list[str]:
    return list(models.Connection.objects.values_list("name", flat=True))


def default_schemas() -> dict[str, str | None]:
    """Connection name -> the schema an unqualified table name means there."""
    return {
        conn.name.upper(): default_schema(conn.type, conn.params) for conn in models.Connection.objects.all()
    }


def add_streams_choices(connection: models.Connection) -> dict[str, Any]:
    """Where streams discovered on `connection` can go: the replications reading from it, and
    an object template for those without `defaults.object` (or a new one, into a database)."""
    replications = replications_reading(connection.name)
    types = dict(models.Connection.objects.values_list("name", "type"))
    without = [r for r in replications if not (r.defaults or {}).get("object")]
    target = types.get(without[0].target.upper()) if without else None
    return {
        "replications": replications,
        "object": object_template(
            files=connection.type in FILE_TYPES,
            target_database=target in DATABASE_TYPES if without else True,
        ),
        "connection_names": sorted(types),
    }
