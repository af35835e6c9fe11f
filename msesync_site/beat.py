"""The beat scheduler of multi-instance mode: celery-redbeat's lock, plus who holds it.

Every node runs a beat. The one holding the Redis lock sends the scans and refreshes; the
others wait on the lock and take over within MSESYNC_BEAT_LOCK_TIMEOUT of the leader's death.
The leader also writes its node id, so operators (and the failover harness) can see it.
"""

from django.conf import settings
from redbeat import RedBeatScheduler
from redbeat.schedulers import get_redis

LEADER_KEY = "msesync:beat:leader"


class LeaderScheduler(RedBeatScheduler):
    def tick(self, *args, **kwargs):
        next_tick = super().tick(*args, **kwargs)  # extends the lock, or raises if lost
        get_redis(self.app).set(LEADER_KEY, settings.NODE_ID, ex=int(self.lock_timeout))
        return next_tick
