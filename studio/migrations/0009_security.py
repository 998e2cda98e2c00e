"""Issue 12: versions of connections and downstream assets, run logs in the database, and
connection secrets split again by their type's table (failing closed)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def split_by_type(apps, schema_editor):
    """Move into `secrets` what the table of Sling's connection types says is secret: fields the
    former rule (by name) left public, like `apikey`, `pwd` or a URL's non-public query values."""
    from replication.connections import merge_secrets, split_secrets

    for connection in apps.get_model("studio", "Connection").objects.all():
        params, secrets = split_secrets(connection.type, merge_secrets(connection.params, connection.secrets))
        if (params, secrets) != (connection.params, connection.secrets):
            connection.params, connection.secrets = params, secrets
            connection.save(update_fields=["params", "secrets"])


def logs_to_the_database(apps, schema_editor):
    """Each run's log file in this machine's data folder becomes its first chunk."""
    chunk = apps.get_model("studio", "RunLogChunk")
    for run in apps.get_model("studio", "Run").objects.exclude(log_path=""):
        path = settings.DATA_DIR / run.log_path
        if path.is_file():
            chunk.objects.create(run=run, seq=1, text=path.read_text(encoding="utf-8", errors="replace"))


class Migration(migrations.Migration):

    dependencies = [
        ('studio', '0008_revision_text'),
    ]

    operations = [
        migrations.AddField(
            model_name='connection',
            name='version',
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.AddField(
            model_name='downstreamasset',
            name='version',
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.CreateModel(
            name='RunLogChunk',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.PositiveIntegerField()),
                ('text', models.TextField()),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='log_chunks', to='studio.run')),
            ],
            options={
                'ordering': ['run', 'seq'],
                'constraints': [models.UniqueConstraint(fields=('run', 'seq'), name='one_log_chunk_per_seq')],
            },
        ),
        migrations.RunPython(split_by_type, migrations.RunPython.noop),
        migrations.RunPython(logs_to_the_database, migrations.RunPython.noop),
    ]
