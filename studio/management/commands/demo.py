from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from studio import models
from studio.services.connections import connection_save
from studio.services.replications import replication_import

DEMO_USER = ("demo", "demo")
# One user per role to try them out, each with their name as password.
ROLE_USERS = ("viewer", "editor", "operator")
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
        # In the data folder's `files/`, the part of it open to sling (STUDIO_FILE_ROOTS).
        demo_db = settings.DATA_DIR / "files" / "demo.sqlite"
        demo_db.parent.mkdir(parents=True, exist_ok=True)
        connection_save(name="DEMO_SQLITE", fields={"type": "sqlite", "url": f"sqlite://{demo_db}"})
        text = (settings.BASE_DIR / "demo" / "replication.yaml").read_bytes()
        replication_import(name="demo", text=text)
        for asset in DOWNSTREAM:
            models.DownstreamAsset.objects.update_or_create(key=asset["key"], defaults=asset)
        username, password = DEMO_USER
        user_model = get_user_model()
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(username, "demo@example.com", password)
        for role in ROLE_USERS:
            if not user_model.objects.filter(username=role).exists():
                user = user_model.objects.create_user(role, password=role)
                user.groups.add(Group.objects.get_or_create(name=role)[0])
        roles = ", ".join(f"{r} / {r}" for r in ROLE_USERS)
        return f"demo loaded: replication `demo`, sign in as {username} / {password} (admin) or {roles}"
