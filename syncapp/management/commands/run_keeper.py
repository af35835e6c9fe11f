"""`manage.py run_keeper`: this node's membership, change feeds and registrations."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from syncapp.keeper import HANDOVER_GRACE, Keeper
from syncapp.keeper.peers import Peers
from syncapp.membership import Membership
from syncapp.registries import preload

STEP_SECONDS = 0.2  # how long changes may gather before their jobs are queued
MEMBERSHIP_SECONDS = 1.0  # a third of the default MSESYNC_MEMBER_TTL
RECONCILE_EVERY = 25  # steps between re-reading the tasks for watches (5 s)


def redis_client():
    if not settings.REDIS_URL:
        return None
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


class Command(BaseCommand):
    help = "Hold this node's share of change feeds and registrations."

    def handle(self, *args, **options):
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        redis = redis_client()
        membership = Membership(settings.NODE_ID, redis, settings.MEMBER_TTL)
        preload()
        keeper = Keeper(membership, settings.HEARTBEAT_INTERVAL)
        keeper.hold_before_joining()
        membership.refresh()
        if redis is not None:  # several nodes: watch the others' sockets
            keeper.peers = Peers(settings.NODE_ID, redis, settings.PEER_ADDRESS, keeper.peer_died)
            keeper.refresh_membership()
        keeper.start(membership_every=MEMBERSHIP_SECONDS, changes_every=STEP_SECONDS)
        steps = 0
        try:
            while not stopping.wait(STEP_SECONDS):
                keeper.step_feeds(reconcile=steps % RECONCILE_EVERY == 0)
                steps += 1
        finally:
            keeper.close(grace=HANDOVER_GRACE if redis is not None else 0.0)
