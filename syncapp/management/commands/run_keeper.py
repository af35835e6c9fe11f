"""`manage.py run_keeper`: this node's membership, change feeds and lease renewals."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from syncapp.keeper import Keeper
from syncapp.membership import Membership

STEP_SECONDS = 0.2  # how long changes may gather before their jobs are queued
MEMBERSHIP_SECONDS = 1.0  # a third of the default MSESYNC_MEMBER_TTL
RECONCILE_EVERY = 25  # steps between re-reading the tasks for watches (5 s)


def redis_client():
    if not settings.REDIS_URL:
        return None
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


class Command(BaseCommand):
    help = "Hold this node's share of change feeds and lease renewals."

    def handle(self, *args, **options):
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        membership = Membership(settings.NODE_ID, redis_client(), settings.MEMBER_TTL)
        membership.refresh()
        keeper = Keeper(membership, settings.HEARTBEAT_INTERVAL)
        keeper.start(membership_every=MEMBERSHIP_SECONDS)
        steps = 0
        try:
            while not stopping.wait(STEP_SECONDS):
                keeper.step_feeds(reconcile=steps % RECONCILE_EVERY == 0)
                steps += 1
        finally:
            keeper.close()
