from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from investigations.events import investigation_finished
        from teamconfig.events import config_changed
        from webhooks.receivers import on_config_changed, on_investigation_finished

        investigation_finished.connect(on_investigation_finished, dispatch_uid="webhooks.investigation_finished")
        config_changed.connect(on_config_changed, dispatch_uid="webhooks.config_changed")
