"""The keeper: one per node, it holds this node's share of the work that outlives a job.

- membership: refresh our entry every second and learn who else is alive (membership.py),
  and hold a socket to every other keeper to see one die within milliseconds (peers.py);
- change feeds: watch the sources of the task ways this node owns (feeds.py);
- registrations (leases.py): each (destination, service) has one owner among the live nodes.
  Where copies live as long as a connection (Nacos gRPC), the owner's connection holds them:
  rows whose copies changed are applied within STEP seconds, a share handed over by a death
  is held at once, and a share given away is withdrawn only after HANDOVER_GRACE, once the new
  owner had time to register it (register before withdraw). Other destinations' leases are
  renewed every MSESYNC_HEARTBEAT_INTERVAL.

What to keep is read from the database and kept in memory, so a database outage does not
stop renewals: the last known registrations are kept until it returns.
"""

import logging
import threading
import time

from django.db import close_old_connections, transaction
from django.utils import timezone

from syncapp.feeds import Feeds
from syncapp.keeper import leases
from syncapp.keeper.leases import Failed
from syncapp.keeper.plan import LeasePlan, Target
from syncapp.membership import Membership, owner_of
from syncapp.models import Cluster, ServiceSync, outcome
from syncapp.registries.base import UNREACHABLE, RegistryError

log = logging.getLogger(__name__)
HANDOVER_GRACE = 2.0  # Nacos lists a new registration ~0.6 s after it; its push takes ~0.55 s
RELOAD_EVERY = 60.0  # seconds between full reads of every row (changes arrive every step)
KEEPER_ERROR = ServiceSync.KEEPER_ERROR  # how our errors start on a row (see there)
CONNECTION_LOST = Failed(
    "unreachable: the connection holding our copies is down; reconnecting", UNREACHABLE
)
ROWS_PER_STATEMENT = 500  # SQLite limits a statement's parameters


def chunks(ids: list[int]) -> list[list[int]]:
    return [ids[n : n + ROWS_PER_STATEMENT] for n in range(0, len(ids), ROWS_PER_STATEMENT)]


def clear_keeper_errors(row_ids: list[int]) -> None:
    """A hold or renewal there succeeded: the keeper's errors on these rows end (their runs
    with them); an error a job recorded stays for the job to clear."""
    for chunk in chunks(row_ids):
        rows = ServiceSync.objects.filter(pk__in=chunk, last_error__startswith=KEEPER_ERROR)
        rows.update(**outcome("", None))


def item_of(target: Target) -> str:
    return f"keep:{target[0]}:{target[1]}"


class Keeper:
    def __init__(
        self,
        membership: Membership,
        heartbeat_interval: float,
        send_task=None,
        reload_every: float = RELOAD_EVERY,
    ):
        self.membership = membership
        self.heartbeat_interval = heartbeat_interval
        self.reload_every = reload_every
        self.reloaded_at = float("-inf")
        self.feeds = Feeds(send_task=send_task, owns=self.owns_way)
        self.plan = LeasePlan()
        self.peers = None  # syncapp.keeper.peers.Peers, where there are other nodes
        self.stopping = threading.Event()
        self.reconcile_soon = threading.Event()
        self.status: dict = {}
        self.held_clusters: dict[int, Cluster] = {}  # clusters whose copies we may hold
        self.released: dict[Target, float] = {}  # share given away -> when we noticed
        self.failed_holds: dict[Target, Failed] = {}  # held services whose last write failed
        self._owned: dict[Target, bool] = {}  # owns_target's answers for `_owned_for`
        self._owned_for: tuple[str, ...] = ()
        self._membership_lock = threading.Lock()
        self._withdrawn_for: tuple = ()  # (plan generation, nodes) of the last quiet check
        # One writer of held sets at a time, reading them from the plan as it writes: a round
        # that read a set before a change was applied wrote the old set back after it (a
        # removed copy came back until the next full round, a minute later).
        self.writing_held = threading.RLock()

    def owns_way(self, way) -> bool:
        return self.membership.owns(f"way:{way[0]}:{way[1]}")

    def owns_target(self, target: Target) -> bool:
        """Rendezvous hashing, remembered until the live nodes change (checked every round
        for every copy: 30,000 hashes per round would be most of a quiet keeper's work)."""
        nodes = self.membership.nodes
        if self._owned_for != nodes:
            self._owned, self._owned_for = {}, nodes
        owned = self._owned.get(target)
        if owned is None:
            owned = self._owned[target] = self.membership.owns(item_of(target))
        return owned

    # --- keeping registrations ----------------------------------------------------

    def renew_round(self) -> dict:
        """Renew this node's share of every lease; now and then re-read everything and hold
        it all again (held copies need nothing between changes: the connection keeps them)."""
        full = time.monotonic() - self.reloaded_at >= self.reload_every
        with self.writing_held:
            if full and self.plan.reload():
                self.reloaded_at = time.monotonic()
        status = self.renew(self.owns_target, held_too=full)
        self.check_held_connections()
        with self.writing_held:
            self.withdraw_released()
        return status

    def renew(self, owns, held_too: bool = True) -> dict:
        """Keep the known registrations whose (cluster, service) `owns` accepts: leases
        first, then (with `held_too`) held sets, read from the plan under `writing_held`."""
        nodes = self.membership.nodes
        clusters = self.plan.clusters()
        held = {pk for pk, cluster in clusters.items() if self.holds(cluster)}
        leased = clusters.keys() - held
        beats, failures = self._keep_owned(owns, leased)
        if held_too and held:
            with self.writing_held:
                held_beats, held_failures = self._keep_owned(owns, held)
            beats, failures = beats + held_beats, failures + held_failures
        with self.writing_held:
            failures += self.retry_failed_holds()
        close_old_connections()
        return {"nodes": list(nodes), "beats": beats, "failures": failures, "at": time.time()}

    def _keep_owned(self, owns, cluster_ids: set[int]) -> tuple[int, int]:
        """(copies kept, failures) of our share at these clusters, as the plan has it now."""
        beats = failures = 0
        if not cluster_ids:
            return beats, failures
        for cluster, cluster_beats in self.plan.owned(owns, cluster_ids).values():
            beats += len(cluster_beats)
            failures += leases.keep(cluster, cluster_beats, on_holds=self.record_written)
        return beats, failures

    def apply_changes(self) -> int:
        """Hold at once the copies jobs changed since the last look; returns services held."""
        with self.writing_held:
            return self._apply_changes()

    def _apply_changes(self) -> int:
        changed = self.plan.read_changes()
        mine = [t for t in changed if self.owns_target(t)]
        for target in changed.difference(mine):  # their holder records them
            self.plan.left.pop(target, None)
        if mine:
            self.hold_targets(mine)
        return len(mine)

    def hold_targets(self, targets: list[Target]) -> int:
        """Hold each target's copies as the plan has them now, recording the outcome on its
        rows; returns the copies that failed. Targets at leased (not held) clusters are left
        to the round: their job registered them."""
        failing = 0
        clusters = self.plan.clusters()
        for cluster_id in {t[0] for t in targets}:
            # A cluster whose last row just emptied is gone from the plan: still withdraw there.
            cluster = clusters.get(cluster_id) or Cluster.objects.filter(pk=cluster_id).first()
            adapter = cluster and self._held_adapter(cluster)
            if adapter is None:
                continue
            groups = {t[1]: self.plan.copies_of(t) for t in targets if t[0] == cluster_id}
            # Written even if held already: a job that found copies missing asks for it.
            written = leases.hold_all(adapter, groups, force=True)
            self.record_written(cluster, written)
            failing += sum(len(groups[service]) for service, e in written.items() if e)
        return failing

    # --- the outcome of holds: on the rows ------------------------------------------------

    def record_written(self, cluster: Cluster, outcomes: dict, counts: bool = True) -> None:
        """Outcomes per destination service (None: kept; else Failed) go on their rows: an
        error until a later success clears it; with `counts` (held copies), each kept set's
        rows get the count of copies now held. Every round writes only what changed (rows
        already showing an error are left alone), whatever the number of services."""
        errors = {(cluster.pk, s): e for s, e in outcomes.items() if e is not None}
        kept = [(cluster.pk, s) for s, e in outcomes.items() if e is None]
        recovered = [t for t in kept if self.failed_holds.pop(t, None) is not None]
        self.failed_holds.update(errors)
        if counts:
            self._on_rows(lambda: self._write_held(kept), len(kept))
        elif recovered:
            self._on_rows(lambda: self._clear_errors(recovered), len(recovered))
        if errors:
            self._on_rows(lambda: self._write_errors(cluster, errors), len(errors))

    def _rows(self, targets) -> list[int]:
        return [row for t in targets for row in self.plan.rows_of.get(t, ())]

    def _write_errors(self, cluster: Cluster, errors: dict[Target, Failed]) -> None:
        by_error: dict[tuple[str, str], list[Target]] = {}
        for target, (error, kind) in errors.items():
            text = f"{KEEPER_ERROR}{cluster}: {error}"[:2000]
            by_error.setdefault((text, kind), []).append(target)
        now = timezone.now()
        for (text, kind), targets in by_error.items():
            for chunk in chunks(self._rows(targets)):
                # A round that repeats the same error is not counted again (a 5 s beat).
                rows = ServiceSync.objects.filter(pk__in=chunk).exclude(last_error=text)
                rows.update(**outcome(text, now, kind=kind), last_error_at=now)

    def _clear_errors(self, targets: list[Target]) -> None:
        clear_keeper_errors(self._rows(targets))

    def _write_held(self, targets: list[Target]) -> None:
        """dest_count of each row = its copies now held (0 for rows that left the set)."""
        counts: dict[int, int] = {}
        for target in targets:
            for row_id in self.plan.left.pop(target, ()):
                counts[row_id] = 0
            for row_id in self.plan.rows_of.get(target, ()):
                counts[row_id] = len(self.plan.beats[row_id][1])
        by_count: dict[int, list[int]] = {}
        for row_id, count in counts.items():
            by_count.setdefault(count, []).append(row_id)
        with transaction.atomic():
            for count, row_ids in by_count.items():
                for chunk in chunks(row_ids):
                    ServiceSync.objects.filter(pk__in=chunk).update(dest_count=count)
            clear_keeper_errors(list(counts))

    def check_held_connections(self) -> None:
        """A lost connection drops every copy it held at the destination: their rows say so
        until it is back and holds them again (retry_failed_holds, at the next round)."""
        for cluster in list(self.held_clusters.values()):
            adapter = self._held_adapter(cluster)
            if adapter is not None and not adapter.holding_connected():
                lost = {s: CONNECTION_LOST for s in adapter.held_services()}
                self.record_written(cluster, lost, counts=False)

    @staticmethod
    def _on_rows(write, rows: int) -> None:
        if not rows:
            return
        try:
            write()
        except Exception as exc:  # the database may be down: the next retry writes it
            close_old_connections()
            log.warning("cannot record hold outcome on %d rows: %s", rows, exc)

    def retry_failed_holds(self) -> int:
        """Hold again, every round, what failed; returns the copies still failing."""
        for target in list(self.failed_holds):  # given away, or nobody wants it: not ours
            if not (self.owns_target(target) and self.plan.wanted(target)):
                del self.failed_holds[target]
        # Not through a connection that is down: each write would wait for it in vain.
        up = {pk for pk, cluster in self.held_clusters.items() if self._holding_connected(cluster)}
        down = self.held_clusters.keys() - up
        return self.hold_targets([t for t in self.failed_holds if t[0] not in down])

    def _holding_connected(self, cluster: Cluster) -> bool:
        adapter = self._held_adapter(cluster)
        return adapter is not None and adapter.holding_connected()

    def holds(self, cluster: Cluster) -> bool:
        return self._held_adapter(cluster) is not None

    def _held_adapter(self, cluster: Cluster):
        try:
            adapter = leases.held_at(cluster)
        except RegistryError:
            return None
        if adapter is not None:
            self.held_clusters[cluster.pk] = cluster
        return adapter

    def withdraw_released(self) -> None:
        """Withdraw held copies nobody wants any more at once, and copies now owned by
        another node once it has had HANDOVER_GRACE to register them."""
        settled = (self.plan.generation, self.membership.nodes)
        if settled == self._withdrawn_for and not self.released:
            return  # nothing wanted or owned moved since a check that withdrew nothing
        now, failed = time.monotonic(), False
        for cluster in {**self.plan.clusters(), **self.held_clusters}.values():
            adapter = self._held_adapter(cluster)
            if adapter is None:
                continue
            gone = []
            for service in adapter.held_services():
                target = (cluster.pk, service)
                wanted = self.plan.wanted(target)
                if wanted and self.owns_target(target):
                    self.released.pop(target, None)
                elif not wanted or now - self.released.setdefault(target, now) > HANDOVER_GRACE:
                    gone.append(service)
            if gone:
                written = leases.hold_all(adapter, {service: [] for service in gone})
                failed |= any(written.values())
                for service in gone:
                    self.released.pop((cluster.pk, service), None)
        self._withdrawn_for = () if failed else settled

    def take_over(self, before: tuple[str, ...]) -> None:
        """Keep at once what a membership change handed us: a round in progress can take
        seconds, and the dead node's copies are already vanishing at the destination."""
        me = self.membership.node_id

        def gained(target: Target) -> bool:
            return self.owns_target(target) and owner_of(item_of(target), before) != me

        def keep_gained() -> None:
            try:
                self.status["takeover"] = self.renew(gained)
            except Exception:
                log.exception("keeping a taken-over share failed")
            self.publish()

        threading.Thread(target=keep_gained, name="takeover", daemon=True).start()

    def hold_before_joining(self) -> None:
        """Hold the share we are about to own before the others see us: they withdraw what
        moves to us HANDOVER_GRACE after they see us, and our first read of every row and
        first connections can take longer than that (register before withdraw)."""
        self.membership.nodes = self.membership.peek()
        self.status["round"] = self.renew_round()

    def renew_forever(self) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                self.status["round"] = self.renew_round()
            except Exception:
                log.exception("lease renewal round failed")
            self.publish()
            self.stopping.wait(max(self.heartbeat_interval - (time.monotonic() - started), 0))

    def apply_changes_forever(self, every: float) -> None:
        while not self.stopping.wait(every):
            try:
                self.apply_changes()
            except Exception:  # the database may be restarting: the next look catches up
                close_old_connections()
                log.exception("applying changed copies failed")

    # --- membership and feeds -------------------------------------------------------

    def hold_membership(self, every: float) -> None:
        """A thread of its own: a slow feed or database must never make us look dead."""
        while not self.stopping.wait(every):
            self.refresh_membership()

    def refresh_membership(self) -> None:
        with self._membership_lock:
            before = self.membership.nodes
            changed = self.membership.refresh()
        if self.peers is not None:
            self.peers.publish()
            self.peers.follow(self.membership.nodes)
        if changed:
            self.take_over(before)
            self.reconcile_soon.set()  # watches follow the new shares at the next step

    def peer_died(self, node: str) -> None:
        """A peer's socket closed: its share is ours to hold now, before Redis expires it."""
        with self._membership_lock:
            before = self.membership.nodes
            changed = self.membership.suspect(node)
        if changed:
            self.take_over(before)
            self.reconcile_soon.set()

    def start(self, membership_every: float, changes_every: float = 0.2) -> None:
        for name, target, args in (
            ("renewals", self.renew_forever, ()),
            ("membership", self.hold_membership, (membership_every,)),
            ("changes", self.apply_changes_forever, (changes_every,)),
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

    def close(self, grace: float = 0.0) -> None:
        """Leave: the others take our share over at once; we hold ours `grace` seconds
        more, so that copies are registered by their new holders before ours go."""
        self.stopping.set()
        self.membership.leave()
        if self.peers is not None:
            self.peers.close()
        self.feeds.close()
        if grace and self.held_clusters:
            time.sleep(grace)
