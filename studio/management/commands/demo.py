from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from studio import models, services

DEMO_USER = ("demo", "demo")
DOWNSTREAM = [
    {
        "key": "analytics/customer_orders",
        "deps": ["target/main/customers", "target/main/orders"],
        "description": "Orders joined to the customers who placed them (dbt model)",
        "group": "analytics",
    },
    {
        "key": "analytics/revenue_by_product",
        "deps": ["target/main/orders", "target/main/products"],
        "description": "Paid revenue per product and month (dbt model)",
        "group": "analytics",
        "tags": ["finance"],
    },
    {
        "key": "reports/weekly_revenue",
        "deps": ["analytics/revenue_by_product"],
        "description": "The Monday revenue e-mail",
        "group": "reports",
    },
]


class Command(BaseCommand):
    help = "Load the demo: CSV files -> SQLite replication, downstream assets and a demo user."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> str:
        demo_db = settings.DATA_DIR / "demo.sqlite"
        services.connection_save(name="DEMO_SQLITE", fields={"type": "sqlite", "url": f"sqlite://{demo_db}"})
        text = (settings.BASE_DIR / "demo" / "replication.yaml").read_bytes()
        services.replication_import(name="demo", text=text)
        for asset in DOWNSTREAM:
            models.DownstreamAsset.objects.update_or_create(key=asset["key"], defaults=asset)
        username, password = DEMO_USER
        user_model = get_user_model()
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(username, "demo@example.com", password)
        return f"demo loaded: replication `demo`, sign in as {username} / {password}"
