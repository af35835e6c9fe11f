"""The keeper: one per node, it holds this node's share of the work that outlives a job.

- membership: refresh our entry every second and learn who else is alive (membership.py);
- change feeds: watch the sources of the task ways this node owns (feeds.py);
- leases: heartbeat the registrations of the rows this node owns, every
  MSESYNC_HEARTBEAT_INTERVAL, and at once when a node's death hands us a share.

What to renew is read from the database each round and kept in memory, so a database outage
does not stop renewals: the last known registrations are renewed until it returns.
"""

import logging
import threading
import time

from django.db import close_old_connections

from syncapp import jobs
from syncapp.feeds import Feeds
from syncapp.membership import Membership
from syncapp.models import Cluster

log = logging.getLogger(__name__)


class LeasePlan:
    """Every registration of ours, by row: read from the database, kept across outages."""

    def __init__(self):
        self.beats: dict[int, tuple[int, list[jobs.Beat]]] = {}  # row id -> (cluster id, beats)
        self.clusters: dict[int, Cluster] = {}

    def reload(self) -> bool:
        try:
            beats = jobs.leases_by_row(jobs.leased_rows())
            clusters = {
                c.pk: c for c in Cluster.objects.filter(pk__in={c for c, _ in beats.values()})
            }
        except Exception as exc:  # database restarting: keep renewing what we knew
            close_old_connections()
            log.warning("cannot read leases (%s); renewing the %d rows known", exc, len(self.beats))
            return False
        self.beats, self.clusters = beats, clusters
        return True

    def owned(self, owns) -> dict[int, list[jobs.Beat]]:
        """This node's share, per cluster id."""
        share: dict[int, list[jobs.Beat]] = {}
        for row_id, (cluster_id, beats) in self.beats.items():
            if owns(row_id):
                share.setdefault(cluster_id, []).extend(beats)
        return share


class Keeper:
    def __init__(self, membership: Membership, heartbeat_interval: float, send_task=None):
        self.membership = membership
        self.heartbeat_interval = heartbeat_interval
        self.feeds = Feeds(send_task=send_task, owns=self.owns_way)
        self.plan = LeasePlan()
        self.stopping = threading.Event()
        self.renew_now = threading.Event()
        self.status: dict = {}

    def owns_way(self, way) -> bool:
        return self.membership.owns(f"way:{way[0]}:{way[1]}")

    def owns_row(self, row_id: int) -> bool:
        return self.membership.owns(f"row:{row_id}")

    # --- leases -----------------------------------------------------------------

    def renew_round(self) -> dict:
        """Beat this node's share of every registration we hold; returns what was done."""
        self.plan.reload()
        nodes = self.membership.nodes
        share = self.plan.owned(self.owns_row)
        beats = failures = 0
        for cluster_id, cluster_beats in share.items():
            beats += len(cluster_beats)
            failures += jobs.send_beats(self.plan.clusters[cluster_id], cluster_beats)
        close_old_connections()
        return {"nodes": list(nodes), "beats": beats, "failures": failures, "at": time.time()}

    def renew_forever(self) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                self.status["round"] = self.renew_round()
            except Exception:
                log.exception("lease renewal round failed")
            self.publish()
            wait = self.heartbeat_interval - (time.monotonic() - started)
            self.renew_now.wait(max(wait, 0))
            self.renew_now.clear()

    # --- membership and feeds ---------------------------------------------------

    def refresh_membership(self) -> None:
        if self.membership.refresh():
            self.renew_now.set()  # a dead node's leases are ours now: do not wait a round
            self.step_feeds(reconcile=True)

    def step_feeds(self, reconcile: bool) -> None:
        try:
            self.feeds.step(reconcile)
        except Exception:  # the database or broker may be restarting: try again next step
            close_old_connections()
            log.exception("change-feed step failed")
        self.status["ways"] = len(self.feeds.watches)

    def publish(self) -> None:
        self.membership.publish({"node": self.membership.node_id, **self.status})

    def close(self) -> None:
        self.stopping.set()
        self.renew_now.set()
        self.feeds.close()
        self.membership.leave()
