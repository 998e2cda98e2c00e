import json

from django.db import migrations, models


def yaml_to_document(apps, schema_editor):
    """Revisions kept YAML before; keep the same document as JSON text."""
    from replication.yamlio import parse

    Revision = apps.get_model("studio", "Revision")
    for revision in Revision.objects.all():
        document = parse(revision.yaml).replication.to_dict()
        revision.document = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        revision.save(update_fields=["document"])


class Migration(migrations.Migration):
    dependencies = [("studio", "0005_role_groups")]

    operations = [
        migrations.AddField(model_name="revision", name="document", field=models.TextField(default="")),
        migrations.RunPython(yaml_to_document, migrations.RunPython.noop),
        migrations.RemoveField(model_name="revision", name="yaml"),
        migrations.AlterField(model_name="revision", name="document", field=models.TextField()),
    ]
