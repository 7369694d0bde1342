from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0003_dynamic_partitions'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='runtag',
            constraint=models.UniqueConstraint(
                condition=models.Q(('key', 'orchestra/idempotency_key')),
                fields=('key', 'value'),
                name='runtag_unique_idempotency_key',
            ),
        ),
    ]
