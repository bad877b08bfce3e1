from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from investigations.events import investigation_finished, investigation_progressed, investigation_started
        from teamconfig.events import config_changed
        from webhooks.receivers import (
            on_config_changed,
            on_investigation_finished,
            on_investigation_progressed,
            on_investigation_started,
        )

        investigation_finished.connect(on_investigation_finished, dispatch_uid="webhooks.investigation_finished")
        investigation_started.connect(on_investigation_started, dispatch_uid="webhooks.slack_started")
        investigation_progressed.connect(on_investigation_progressed, dispatch_uid="webhooks.slack_progressed")
        config_changed.connect(on_config_changed, dispatch_uid="webhooks.config_changed")
