from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Inbound alert webhooks (API.md §7): Alertmanager, PagerDuty and incident.io start investigations."""

    name = "alerts"
    default_auto_field = "django.db.models.BigAutoField"
