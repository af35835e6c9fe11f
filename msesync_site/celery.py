"""The Celery app, named `msesync_site`: `celery -A msesync_site worker|beat`."""

import os

from celery import Celery

from msesync_site import fsbroker

fsbroker.register()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "msesync_site.settings")

app = Celery("msesync_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"])
