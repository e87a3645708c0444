from django.apps import AppConfig
from django.contrib.auth.signals import user_login_failed
from django.db.backends.signals import connection_created


class ApiConfig(AppConfig):
    """What every endpoint shares: authentication, throttling, errors,
    rendering, health and request logs."""

    name = "api"

    def ready(self) -> None:
        # Registers the OpenAPI description of the JWT authentication class.
        from api import schema  # noqa: F401
        from api.admin_login import log_failed_login
        from api.postgres import use_fast_timestamptz_loader

        connection_created.connect(use_fast_timestamptz_loader, dispatch_uid="fast-timestamptz-loader")
        user_login_failed.connect(log_failed_login, dispatch_uid="log-failed-login")
