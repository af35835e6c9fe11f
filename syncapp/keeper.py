"""The keeper: one per node, it holds this node's share of the work that outlives a job.

- membership: refresh our entry every second and learn who else is alive (membership.py);
- change feeds: watch the sources of the task ways this node owns (feeds.py);
- leases: heartbeat the registrations of the rows this node owns, every
  MSESYNC_HEARTBEAT_INTERVAL; a share a node's death hands us is renewed at once.

What to renew is read from the database each round and kept in memory, so a database outage
does not stop renewals: the last known registrations are renewed until it returns.
"""

import logging
import threading
import time

from django.db import close_old_connections

from syncapp import jobs
from syncapp.feeds import Feeds
from syncapp.membership import Membership, owner_of
from syncapp.models import Cluster

log = logging.getLogger(__name__)


class LeasePlan:
    """Every registration of ours, by row: read from the database, kept across outages."""

    def __init__(self):
        self.beats: dict[int, tuple[Cluster, list[jobs.Beat]]] = {}  # row id -> (cluster, beats)

    def reload(self) -> bool:
        try:
            beats = jobs.leases_by_row(jobs.leased_rows())  # clusters come joined to the rows
        except Exception as exc:  # database restarting: keep renewing what we knew
            close_old_connections()
            log.warning("cannot read leases (%s); renewing the %d rows known", exc, len(self.beats))
            return False
        self.beats = beats
        return True

    def owned(self, owns) -> dict[int, tuple[Cluster, list[jobs.Beat]]]:
        """This node's share, per cluster id."""
        share: dict[int, tuple[Cluster, list[jobs.Beat]]] = {}
        for row_id, (cluster, beats) in self.beats.items():
            if owns(row_id):
                share.setdefault(cluster.pk, (cluster, []))[1].extend(beats)
        return share


class Keeper:
    def __init__(self, membership: Membership, heartbeat_interval: float, send_task=None):
        self.membership = membership
        self.heartbeat_interval = heartbeat_interval
        self.feeds = Feeds(send_task=send_task, owns=self.owns_way)
        self.plan = LeasePlan()
        self.stopping = threading.Event()
        self.reconcile_soon = threading.Event()
        self.status: dict = {}

    def owns_way(self, way) -> bool:
        return self.membership.owns(f"way:{way[0]}:{way[1]}")

    def owns_row(self, row_id: int) -> bool:
        return self.membership.owns(f"row:{row_id}")

    # --- leases -----------------------------------------------------------------

    def renew_round(self) -> dict:
        """Beat this node's share of every registration we hold; returns what was done."""
        self.plan.reload()
        return self.renew(self.owns_row)

    def renew(self, owns) -> dict:
        """Beat the known registrations whose rows `owns` accepts."""
        nodes = self.membership.nodes
        beats = failures = 0
        for cluster, cluster_beats in self.plan.owned(owns).values():
            beats += len(cluster_beats)
            failures += jobs.send_beats(cluster, cluster_beats)
        close_old_connections()
        return {"nodes": list(nodes), "beats": beats, "failures": failures, "at": time.time()}

    def take_over(self, before: tuple[str, ...]) -> None:
        """Renew at once what a membership change handed us: a round in progress can take
        seconds, and the dead node's last beat is already ageing at the destination."""
        me = self.membership.node_id

        def gained(row_id: int) -> bool:
            return self.owns_row(row_id) and owner_of(f"row:{row_id}", before) != me

        def renew_gained() -> None:
            try:
                self.status["takeover"] = self.renew(gained)
            except Exception:
                log.exception("renewing a taken-over share failed")
            self.publish()

        threading.Thread(target=renew_gained, name="takeover", daemon=True).start()

    def renew_forever(self) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                self.status["round"] = self.renew_round()
            except Exception:
                log.exception("lease renewal round failed")
            self.publish()
            self.stopping.wait(max(self.heartbeat_interval - (time.monotonic() - started), 0))

    # --- membership and feeds ---------------------------------------------------

    def hold_membership(self, every: float) -> None:
        """A thread of its own: a slow feed or database must never make us look dead."""
        while not self.stopping.wait(every):
            self.refresh_membership()

    def refresh_membership(self) -> None:
        before = self.membership.nodes
        if self.membership.refresh():
            self.take_over(before)
            self.reconcile_soon.set()  # watches follow the new shares at the next step

    def start(self, membership_every: float) -> None:
        for name, target, args in (
            ("renewals", self.renew_forever, ()),
            ("membership", self.hold_membership, (membership_every,)),
        ):
            threading.Thread(target=target, args=args, name=name, daemon=True).start()

    def step_feeds(self, reconcile: bool) -> None:
        if self.reconcile_soon.is_set():
            self.reconcile_soon.clear()
            reconcile = True
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
        self.feeds.close()
        self.membership.leave()
