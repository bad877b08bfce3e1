"""When a pending message's next attempt is due, so the maintenance loop can re-queue attempts whose task was lost.

Messages already pending count as due since they were created.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def _pending_are_due_since_creation(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    message = apps.get_model("webhooks", "WebhookMessage")
    message.objects.filter(state="pending").update(queued_for=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="webhookmessage",
            name="queued_for",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="webhookmessage",
            index=models.Index(
                condition=models.Q(("state", "pending")), fields=["queued_for"], name="webhook_message_pending_due"
            ),
        ),
        migrations.RunPython(_pending_are_due_since_creation, migrations.RunPython.noop),
    ]
