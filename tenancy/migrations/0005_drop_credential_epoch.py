"""Tokens are read from their row on every request now, so the epoch that invalidated a per-process cache goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0004_credential_epoch")]

    operations = [migrations.DeleteModel(name="CredentialEpoch")]
