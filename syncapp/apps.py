"""App config: system checks for settings users get wrong."""

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

MIN_REFRESH_INTERVAL = 10


class SyncappConfig(AppConfig):
    name = "syncapp"
    verbose_name = "msesync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        checks.register(check_refresh_interval)


def check_refresh_interval(app_configs, **kwargs):
    """MSE Sync warns when the recovery job runs more often than every 10 s."""
    if settings.REFRESH_INTERVAL < MIN_REFRESH_INTERVAL:
        return [
            checks.Warning(
                f"MSESYNC_DAEMON_REFRESH_INTERVAL={settings.REFRESH_INTERVAL:g}s is below "
                f"{MIN_REFRESH_INTERVAL}s: every refresh re-reads every service at both ends.",
                id="syncapp.W001",
            )
        ]
    return []
