"""The Celery app, named `msesync_site`: `celery -A msesync_site worker|beat`."""

import os

from celery import Celery
from celery.signals import worker_ready

from msesync_site import fsbroker

fsbroker.register()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "msesync_site.settings")

app = Celery("msesync_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"])


@worker_ready.connect
def preload_registries(**_) -> None:
    from syncapp.registries import preload  # Django is set up by now

    preload()
