"""The audit trail is append-only: the model refuses to change or delete an entry, and the
database refuses UPDATE and DELETE of its rows however they are sent (the ORM's bulk queries,
raw SQL), on SQLite and on PostgreSQL alike (the suite runs on both)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from studio import models
from studio.services import audit


@pytest.fixture
def entry(db) -> models.AuditEntry:
    return audit.record("created", object_type="connection", object_name="WH", summary="type postgres")


def unchanged(entry: models.AuditEntry) -> bool:
    stored = models.AuditEntry.objects.values("actor", "action", "object_name", "summary").get(pk=entry.pk)
    return stored == {
        "actor": entry.actor,
        "action": "created",
        "object_name": "WH",
        "summary": "type postgres",
    }


def test_the_model_refuses_to_save_an_entry_again_or_delete_it(entry):
    entry.summary = "rewritten"
    with pytest.raises(models.AppendOnly):
        entry.save()
    with pytest.raises(models.AppendOnly):
        entry.delete()
    assert unchanged(entry)


def test_the_database_refuses_the_orm_s_bulk_update_and_delete(entry):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        models.AuditEntry.objects.filter(pk=entry.pk).update(summary="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        models.AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        models.AuditEntry.objects.all().delete()
    assert unchanged(entry)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE studio_auditentry SET actor = 'someone else'",
        "UPDATE studio_auditentry SET details = '{}' WHERE id > 0",
        "DELETE FROM studio_auditentry",
        "DELETE FROM studio_auditentry WHERE action = 'created'",
    ],
)
def test_the_database_refuses_raw_sql_that_changes_or_deletes_entries(entry, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert unchanged(entry)


def test_new_entries_are_still_added(entry):
    audit.record("deleted", object_type="connection", object_name="WH")
    assert list(models.AuditEntry.objects.values_list("action", flat=True)) == ["deleted", "created"]


@pytest.mark.django_db(transaction=True)
def test_flush_erases_the_whole_database_trail_included_and_seals_it_again():
    audit.record("created", object_type="connection", object_name="WH")
    call_command("flush", interactive=False, verbosity=0)
    assert not models.AuditEntry.objects.exists()
    entry = audit.record("created", object_type="connection", object_name="WH", summary="type postgres")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        models.AuditEntry.objects.all().delete()
    assert unchanged(entry)
