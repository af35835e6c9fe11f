"""`manage.py run_feeds`: keep change-feed watches open and queue syncs as changes arrive."""

import logging
import signal
import threading

from django.core.management.base import BaseCommand

from syncapp.feeds import Feeds

log = logging.getLogger(__name__)

STEP_SECONDS = 0.2  # how long changes may gather before their jobs are queued
RECONCILE_EVERY = 25  # steps between re-reading the tasks (5 s)


class Command(BaseCommand):
    help = "Watch push-capable sources and queue the sync of each service that changes."

    def handle(self, *args, **options):
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        feeds = Feeds()
        steps = 0
        try:
            while not stopping.wait(STEP_SECONDS):
                self.step(feeds, reconcile=steps % RECONCILE_EVERY == 0)
                steps += 1
        finally:
            feeds.close()

    @staticmethod
    def step(feeds: Feeds, reconcile: bool) -> None:
        try:
            feeds.step(reconcile)
        except Exception:  # the database or broker may be restarting: try again next step
            log.exception("change-feed step failed")
