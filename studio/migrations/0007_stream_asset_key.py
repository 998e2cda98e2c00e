from django.conf import settings
from django.db import migrations, models


def fill_asset_keys(apps, schema_editor):
    """Each stream's dagster asset key, as every save now writes it."""
    from replication.config import ReplicationConfig
    from replication.translator import asset_keys, load_translator

    translator = load_translator(settings.SLING_STUDIO_TRANSLATOR)
    Replication = apps.get_model("studio", "Replication")
    Stream = apps.get_model("studio", "Stream")
    for replication in Replication.objects.all():
        rows = list(Stream.objects.filter(replication=replication).order_by("position"))
        config = ReplicationConfig(
            source=replication.source,
            target=replication.target,
            streams={row.name: row.config for row in rows},
            defaults=replication.defaults,
        )
        keys = asset_keys(config, translator)
        for row in rows:
            row.asset_key = keys[row.name]
        Stream.objects.bulk_update(rows, ["asset_key"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("studio", "0006_revision_document")]

    operations = [
        migrations.AddField(
            model_name="stream",
            name="asset_key",
            field=models.TextField(blank=True, db_index=True, default=""),
        ),
        migrations.RunPython(fill_asset_keys, migrations.RunPython.noop),
    ]
