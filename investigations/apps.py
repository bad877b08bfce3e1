from django.apps import AppConfig


class InvestigationsConfig(AppConfig):
    name = "investigations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from investigations.signals import connect_signals  # models are loaded only once the app registry is ready

        connect_signals()
