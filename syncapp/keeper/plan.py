"""The keeper's in-memory view of every registration of ours, indexed by destination service.

Loaded whole from the rows now and then (and kept when the database is down), and updated
every step from the rows whose copies changed since (`leases_changed_at`), so that a quiet
keeper reads almost nothing and a change is held within a step.
"""

import datetime
import logging

from django.db import close_old_connections, models
from django.utils import timezone

from syncapp.jobs import CHANGES_OVERLAP
from syncapp.keeper import leases
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.registries.base import Instance, ServiceKey

log = logging.getLogger(__name__)
# Rows changed CHANGES_OVERLAP back are looked at again (later ones wait for the full
# reload). Only stamps are re-read, so a wide window is cheap.

RELOAD_CHUNK = 500  # rows per query (SQLite limits a statement's parameters)

Target = tuple[int, ServiceKey]  # (destination cluster id, destination service)
Entry = tuple[Cluster, list[leases.Beat]]


class LeasePlan:
    def __init__(self):
        self.beats: dict[int, Entry] = {}  # row id -> (destination cluster, its copies)
        self.rows_of: dict[Target, set[int]] = {}  # destination service -> rows copying into it
        # destination service -> rows whose latest change took them out of it (their count
        # there becomes 0 once the set without them is held; see Keeper._write_held)
        self.left: dict[Target, set[int]] = {}
        self.seen: dict[int, datetime.datetime] = {}  # row id -> stamp folded in (recent ones)
        self.stamps: dict[int, datetime.datetime | None] = {}  # row id -> stamp of its entry
        self.version = None  # clusters and tasks as they were at the last reload
        self.looked_at = None  # when read_changes last read the stamps
        # Bumped by every change to `beats`: what is derived from them is kept until it moves.
        self.generation = 0
        self._clusters: tuple[int, dict[int, Cluster]] = (-1, {})

    # --- loading ------------------------------------------------------------------

    def reload(self) -> bool:
        """Catch up with the database; on failure keep what we knew (an outage).

        Only rows whose stamp differs from the one we hold are read whole (a row's copies are
        JSON: parsing 10,000 of them every minute would be most of a quiet keeper's work);
        an edited cluster or task re-reads everything, as names and connections may change.
        """
        try:
            self._catch_up()
        except Exception as exc:  # database restarting: keep renewing what we knew
            close_old_connections()
            log.warning("cannot read leases (%s); renewing the %d rows known", exc, len(self.beats))
            return False
        return True

    def _catch_up(self) -> None:
        """Every database read first, then the swap: a read that fails half-way (a database
        restarting) must leave the plan as it was, never emptied."""
        version = _configuration_version()
        stamps = dict(ServiceSync.objects.exclude(leases=[]).values_list("pk", "leases_changed_at"))
        known = self.stamps if version == self.version else {}
        stale = [pk for pk, at in stamps.items() if at is None or known.get(pk) != at]
        fresh = {}
        for start in range(0, len(stale), RELOAD_CHUNK):
            rows = leases.leased_rows().filter(pk__in=stale[start : start + RELOAD_CHUNK])
            fresh.update(leases.leases_by_row(leases.read_rows(rows)))
        if version != self.version:
            self.beats, self.rows_of = {}, {}
            self.generation += 1
        for row_id in [pk for pk in self.beats if pk not in stamps]:
            self._set(row_id, None)
        for row_id, entry in fresh.items():
            self._set(row_id, entry)
        self.stamps = {pk: stamps[pk] for pk in self.beats if pk in stamps}
        self.version = version

    def read_changes(self) -> set[Target]:
        """Fold in the rows whose copies changed lately; returns the targets they touch."""
        # From the last look on, however long ago: a step that held 5,000 services took 6 s,
        # and rows stamped during it fell out of a window counted back from now (their
        # copies waited for the full reload, a minute).
        now = timezone.now()
        since = min(now, self.looked_at or now) - CHANGES_OVERLAP
        stamps = list(
            ServiceSync.objects.filter(leases_changed_at__gte=since).values_list(
                "pk", "leases_changed_at"
            )
        )
        self.looked_at = now
        new = {pk: at for pk, at in stamps if self.seen.get(pk) != at}
        self.seen = {pk: at for pk, at in {**self.seen, **new}.items() if at >= since}
        if not new:
            return set()
        rows = leases.read_rows(leases.leased_rows(everything=True).filter(pk__in=list(new)))
        touched = {t for row in rows for t in self.targets_of(row.pk)}
        fresh = leases.leases_by_row([row for row in rows if row.leases])
        for row in rows:
            before = self.targets_of(row.pk)
            self._set(row.pk, fresh.get(row.pk))
            for target in before - self.targets_of(row.pk):
                self.left.setdefault(target, set()).add(row.pk)
            self.stamps[row.pk] = row.leases_changed_at
        return touched | {t for row_id in fresh for t in self.targets_of(row_id)}

    def _set(self, row_id: int, entry: Entry | None) -> None:
        for target in self.targets_of(row_id):
            self.rows_of.get(target, set()).discard(row_id)
            if not self.rows_of.get(target):
                self.rows_of.pop(target, None)
        self.generation += 1
        self.beats.pop(row_id, None)
        if entry is not None:
            self.beats[row_id] = entry
            for target in self.targets_of(row_id):
                self.rows_of.setdefault(target, set()).add(row_id)

    # --- reading ------------------------------------------------------------------

    def targets_of(self, row_id: int) -> set[Target]:
        cluster, beats = self.beats.get(row_id, (None, []))
        return {(cluster.pk, target) for target, _ in beats}

    def copies_of(self, target: Target) -> list[Instance]:
        """Every copy wanted in one destination service (rows of several tasks may share it)."""
        found = {}
        for row_id in self.rows_of.get(target, ()):
            for service, instance in self.beats[row_id][1]:
                if service == target[1]:
                    found[instance.key] = instance
        return list(found.values())

    def wanted(self, target: Target) -> bool:
        return target in self.rows_of

    def clusters(self) -> dict[int, Cluster]:
        """The destination clusters of every row (one row object each, the newest read)."""
        generation, clusters = self._clusters
        if generation != self.generation:
            clusters = {cluster.pk: cluster for cluster, _ in self.beats.values()}
            self._clusters = (self.generation, clusters)
        return clusters

    def owned(self, owns, clusters=None) -> dict[int, Entry]:
        """This node's share, per cluster id (of `clusters` only, if given)."""
        share: dict[int, Entry] = {}
        if clusters is not None and not clusters:
            return share
        for cluster, beats in self.beats.values():
            if clusters is not None and cluster.pk not in clusters:
                continue
            mine = [b for b in beats if owns((cluster.pk, b[0]))]
            if mine:
                share.setdefault(cluster.pk, (cluster, []))[1].extend(mine)
        return share


def _configuration_version() -> tuple:
    """Changes whenever a cluster or task is created, edited or deleted."""
    clusters = Cluster.objects.aggregate(n=models.Count("pk"), at=models.Max("updated_at"))
    tasks = SyncTask.objects.aggregate(n=models.Count("pk"), at=models.Max("updated_at"))
    return tuple(clusters.values()) + tuple(tasks.values())
