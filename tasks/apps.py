from django.apps import AppConfig
from django.db.backends.signals import connection_created


class TasksConfig(AppConfig):
    name = "tasks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI description of the JWT authentication class.
        from tasks import schema  # noqa: F401
        from todo_project.postgres import use_fast_timestamptz_loader

        connection_created.connect(use_fast_timestamptz_loader, dispatch_uid="fast-timestamptz-loader")
