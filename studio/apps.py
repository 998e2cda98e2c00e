from __future__ import annotations

from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"

    def ready(self) -> None:
        # The audit trail hears of sign-ins, lockouts and role changes by Django's and
        # django-axes' signals, and seals its table on every SQLite connection.
        from studio.services import audit

        audit.connect()
