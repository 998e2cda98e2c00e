from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from studio import models


class Command(BaseCommand):
    help = "Re-encrypt every connection secret with the first key of STUDIO_ENCRYPTION_KEYS."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> str:
        count = 0
        for connection in models.Connection.objects.select_for_update():
            connection.save(update_fields=["secrets"])  # decrypts with any key, encrypts with the first
            count += 1
        return f"re-encrypted the secrets of {count} connection(s)"
