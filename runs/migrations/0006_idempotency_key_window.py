"""Idempotency keys move from a partial unique index on run tags (which kept a key for ever) to their own
table, whose rows a submission may move to a new run once the key's run is older than the window."""

import django.db.models.deletion
from django.db import migrations, models


def copy_keys(apps, schema_editor):
    RunTag = apps.get_model("runs", "RunTag")
    IdempotencyKey = apps.get_model("runs", "IdempotencyKey")
    tags = RunTag.objects.filter(key="orchestra/idempotency_key").values_list("value", "run__run_id", "run__created_at")
    IdempotencyKey.objects.bulk_create(
        [IdempotencyKey(key=value, run_id=run_id, created_at=created_at) for value, run_id, created_at in tags.iterator()],
        batch_size=1000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0005_daemon_cursor'),
    ]

    operations = [
        migrations.CreateModel(
            name='IdempotencyKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.TextField(unique=True)),
                ('created_at', models.DateTimeField()),
                ('run', models.ForeignKey(db_column='run_id', on_delete=django.db.models.deletion.CASCADE,
                                          related_name='+', to='runs.run', to_field='run_id')),
            ],
        ),
        migrations.RunPython(copy_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name='runtag',
            name='runtag_unique_idempotency_key',
        ),
    ]
