from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running it in production: worker processes and their heartbeats, readiness, metrics, access logs."""

    name = "ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ops import checks  # noqa: F401  (registers the deployment checks)
