from django.apps import AppConfig


class TeamconfigConfig(AppConfig):
    name = "teamconfig"
    default_auto_field = "django.db.models.BigAutoField"
