"""Rate-limit counters need no crash safety: on PostgreSQL the table is UNLOGGED, so counting a request writes no
WAL and its commit waits for no disk flush."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def _set_unlogged(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tenancy_ratelimitcounter SET UNLOGGED")


def _set_logged(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tenancy_ratelimitcounter SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0002_node_subtree_cascade")]

    operations = [migrations.RunPython(_set_unlogged, _set_logged)]
