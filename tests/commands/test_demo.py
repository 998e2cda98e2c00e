from __future__ import annotations

import io

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from studio import models


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # The demo creates a user; the default hasher would take most of the test's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "replications": models.Replication.objects.count(),
        "streams": models.Stream.objects.count(),
        "connections": models.Connection.objects.count(),
        "downstream": models.DownstreamAsset.objects.count(),
        "users": get_user_model().objects.count(),
    }


@pytest.mark.django_db
def test_it_loads_the_demo_replication():
    out = run_demo()

    assert out.strip() == (
        "demo loaded: replication `demo`, sign in as demo / demo (admin) "
        "or viewer / viewer, editor / editor, operator / operator"
    )
    demo = models.Replication.objects.get(name="demo")
    assert demo.source == "LOCAL"
    assert demo.target == "DEMO_SQLITE"
    assert [(s.name, s.object, s.mode) for s in demo.streams.all()] == [
        ("file://demo/data/customers.csv", "main.customers", ""),
        ("file://demo/data/products.csv", "main.products", ""),
        ("file://demo/data/orders.csv", "main.orders", "incremental"),
    ]


@pytest.mark.django_db
def test_it_creates_the_demo_sqlite_connection():
    run_demo()

    connection = models.Connection.objects.get(name="DEMO_SQLITE")
    assert connection.type == "sqlite"
    assert connection.secrets == {}
    assert connection.full_params() == {
        "url": f"sqlite://{django_settings.DATA_DIR / 'files' / 'demo.sqlite'}"
    }


@pytest.mark.django_db
def test_it_creates_the_downstream_assets():
    run_demo()

    assert list(models.DownstreamAsset.objects.values_list("key", "deps", "group")) == [
        ("analytics/customer_orders", ["target/main/customers", "target/main/orders"], "analytics"),
        ("analytics/revenue_by_product", ["target/main/orders", "target/main/products"], "analytics"),
        ("reports/weekly_revenue", ["analytics/revenue_by_product"], "reports"),
    ]
    assert models.DownstreamAsset.objects.get(key="analytics/revenue_by_product").tags == ["finance"]


@pytest.mark.django_db
def test_it_creates_a_demo_superuser():
    run_demo()

    user = get_user_model().objects.get(username="demo")
    assert user.is_superuser
    assert user.is_staff
    assert user.check_password("demo")


@pytest.mark.django_db
def test_it_can_run_twice():
    run_demo()
    first = counts()

    run_demo()

    assert first == {"replications": 1, "streams": 3, "connections": 1, "downstream": 3, "users": 4}
    assert counts() == first


@pytest.mark.django_db
def test_it_restores_an_edited_demo():
    run_demo()
    models.Stream.objects.filter(name="file://demo/data/orders.csv").delete()
    models.DownstreamAsset.objects.filter(key="reports/weekly_revenue").update(group="other")

    run_demo()

    assert models.Stream.objects.filter(replication__name="demo").count() == 3
    assert models.DownstreamAsset.objects.get(key="reports/weekly_revenue").group == "reports"
