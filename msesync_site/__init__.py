"""msesync's Django project: settings, URLs and the Celery app."""

from msesync_site.celery import app as celery_app

__all__ = ("celery_app",)
