"""The credential epoch that invalidates the per-process token cache (``tenancy.credential_cache``).

The row is created here so caching works from the first request; ``epoch_bump`` recreates it if it is ever deleted.
"""

import time

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def _create_row(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("tenancy", "CredentialEpoch").objects.create(pk=1, value=time.time_ns() // 1000)


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0003_ratelimit_counters_unlogged")]

    operations = [
        migrations.CreateModel(
            name="CredentialEpoch",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("value", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(_create_row, migrations.RunPython.noop),
    ]
