from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from investigations.events import investigation_finished
        from webhooks.receivers import on_investigation_finished

        investigation_finished.connect(on_investigation_finished, dispatch_uid="webhooks.investigation_finished")
