"""The keeper's in-memory view of every registration of ours, indexed by destination service.

Loaded whole from the rows now and then (and kept when the database is down), and updated
every step from the rows whose copies changed since (`leases_changed_at`), so that a quiet
keeper reads almost nothing and a change is held within a step.
"""

import datetime
import logging

from django.db import close_old_connections
from django.utils import timezone

from syncapp.keeper import leases
from syncapp.models import Cluster, ServiceSync
from syncapp.registries.base import Instance, ServiceKey

log = logging.getLogger(__name__)
# Rows changed this far back are looked at again: worker hosts' clocks differ a little, and a
# job's transaction commits a moment after it stamps the row. Later ones wait for the reload.
CHANGES_OVERLAP = datetime.timedelta(seconds=2)

Target = tuple[int, ServiceKey]  # (destination cluster id, destination service)
Entry = tuple[Cluster, list[leases.Beat]]


class LeasePlan:
    def __init__(self):
        self.beats: dict[int, Entry] = {}  # row id -> (destination cluster, its copies)
        self.rows_of: dict[Target, set[int]] = {}  # destination service -> rows copying into it
        self.seen: dict[int, datetime.datetime] = {}  # row id -> stamp folded in (recent ones)

    # --- loading ------------------------------------------------------------------

    def reload(self) -> bool:
        """Everything from the database; on failure keep what we knew (an outage)."""
        try:
            beats = leases.leases_by_row(leases.leased_rows())
        except Exception as exc:  # database restarting: keep renewing what we knew
            close_old_connections()
            log.warning("cannot read leases (%s); renewing the %d rows known", exc, len(self.beats))
            return False
        self.beats, self.rows_of = {}, {}
        for row_id, entry in beats.items():
            self._set(row_id, entry)
        return True

    def read_changes(self) -> set[Target]:
        """Fold in the rows whose copies changed lately; returns the targets they touch."""
        since = timezone.now() - CHANGES_OVERLAP
        stamps = ServiceSync.objects.filter(leases_changed_at__gte=since).values_list(
            "pk", "leases_changed_at"
        )
        new = {pk: at for pk, at in stamps if self.seen.get(pk) != at}
        self.seen = {pk: at for pk, at in {**self.seen, **new}.items() if at >= since}
        if not new:
            return set()
        rows = list(leases.leased_rows(everything=True).filter(pk__in=list(new)))
        touched = {t for row in rows for t in self.targets_of(row.pk)}
        fresh = leases.leases_by_row([row for row in rows if row.leases])
        for row in rows:
            self._set(row.pk, fresh.get(row.pk))
        return touched | {t for row_id in fresh for t in self.targets_of(row_id)}

    def _set(self, row_id: int, entry: Entry | None) -> None:
        for target in self.targets_of(row_id):
            self.rows_of.get(target, set()).discard(row_id)
            if not self.rows_of.get(target):
                self.rows_of.pop(target, None)
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
        return {cluster.pk: cluster for cluster, _ in self.beats.values()}

    def owned(self, owns) -> dict[int, Entry]:
        """This node's share, per cluster id."""
        share: dict[int, Entry] = {}
        for cluster, beats in self.beats.values():
            mine = [b for b in beats if owns((cluster.pk, b[0]))]
            if mine:
                share.setdefault(cluster.pk, (cluster, []))[1].extend(mine)
        return share
