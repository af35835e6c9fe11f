"""What we registered, and keeping it alive: beats for leases, holds for held copies.

Every registration of ours is on its ServiceSync row (`leases`: the desired copies of that
service in that way). A destination whose adapter `holds_by_connection` (Nacos over gRPC)
keeps a copy exactly as long as the connection that wrote it: the keeper that owns the
(destination, service) writes the whole set in one `hold` and keeps its connection open.
Other destinations hold leases any node can renew: Eureka renew, Consul TTL pass, Nacos v1
beats, ZooKeeper (re-created if its session lost it).
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from syncapp.connections import registry_for
from syncapp.engine.naming import dest_service_key
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.registries.base import Instance, RegistryError, ServiceKey, error_kind
from syncapp.ways import Way

log = logging.getLogger(__name__)
RENEW_THREADS = 16

Beat = tuple[ServiceKey, Instance]


class Failed(NamedTuple):
    """Why a hold or renewal failed: the registry's words and the kind of failure, taken
    from the exception where it was raised (the rows store both)."""

    text: str
    kind: str

    @classmethod
    def of(cls, exc: Exception) -> "Failed":
        return cls(str(exc), error_kind(exc))


class LeaseRow(NamedTuple):
    """What the keeper reads of a row: plain values, not a model object with its task and
    clusters (a first full sync hands it 10,000 rows in seconds; building those objects was
    most of its time)."""

    pk: int
    task_id: int
    reverse: bool
    namespace: str
    group: str
    service: str
    leases: list
    leases_changed_at: object  # datetime | None


def leased_rows(everything: bool = False):
    """Rows holding registrations of ours (every row, with `everything`)."""
    return ServiceSync.objects.all() if everything else ServiceSync.objects.exclude(leases=[])


def read_rows(rows) -> list[LeaseRow]:
    return [LeaseRow(*values) for values in rows.values_list(*LeaseRow._fields)]


def leases_by_row(rows: list[LeaseRow]) -> dict[int, tuple[Cluster, list[Beat]]]:
    """row id -> (destination cluster, what to keep there); rows of a task deleted meanwhile
    are left out."""
    tasks = SyncTask.objects.select_related("source", "destination")
    tasks = tasks.in_bulk({row.task_id for row in rows})
    result = {}
    directions = {}  # one per task and way: building one looks up the destination adapter
    for row in rows:
        if row.task_id not in tasks:
            continue
        way = Way(tasks[row.task_id], row.reverse)
        if way.key not in directions:
            directions[way.key] = way.direction
        # The key the job wrote to (engine/naming.py: the destination's namespace included).
        target = dest_service_key(
            ServiceKey(row.namespace, row.group, row.service), directions[way.key]
        )
        result[row.pk] = (way.destination, [(target, Instance.from_dict(d)) for d in row.leases])
    return result


def beats_by_cluster(rows) -> dict[int, tuple[Cluster, list[Beat]]]:
    """What to keep, per destination cluster id."""
    beats: dict[int, tuple[Cluster, list[Beat]]] = {}
    for cluster, row_beats in leases_by_row(read_rows(rows)).values():
        beats.setdefault(cluster.pk, (cluster, []))[1].extend(row_beats)
    return beats


def by_target(beats: list[Beat]) -> dict[ServiceKey, list[Instance]]:
    """Copies grouped per destination service: rows of several tasks may share one."""
    grouped: dict[ServiceKey, dict[tuple, Instance]] = {}
    for target, instance in beats:
        grouped.setdefault(target, {})[instance.key] = instance
    return {target: list(copies.values()) for target, copies in grouped.items()}


def held_at(cluster: Cluster):
    """The cluster's adapter if it holds copies by connection, else None (raises if down)."""
    dest = registry_for(cluster)
    return dest if dest.holds_by_connection else None


def keep(cluster: Cluster, beats: list[Beat], withdraw_others: bool = False, on_holds=None) -> int:
    """Keep these registrations alive at their cluster; returns how many failed.

    `withdraw_others`: `beats` is everything that should be held there, so copies this
    process holds for any other service are withdrawn. `on_holds(cluster, outcomes,
    counts=True)` hears how each destination service went (None: kept; else Failed), to
    write it on their rows: every set written where copies are held (with the count now
    held), every service renewed elsewhere (`counts=False`: its job wrote the count).
    """
    try:
        dest = registry_for(cluster)
        held = dest.holds_by_connection
    except RegistryError as exc:
        log.warning("%s: cannot keep %d registrations: %s", cluster, len(beats), exc)
        if on_holds is not None:
            on_holds(cluster, {target: Failed.of(exc) for target, _ in beats}, counts=False)
        return len(beats)
    if held:
        groups = by_target(beats)
        if withdraw_others:
            groups.update({t: [] for t in dest.held_services() if t not in groups})
        outcomes = hold_all(dest, groups)
        if outcomes and on_holds is not None:
            on_holds(cluster, outcomes)
        return sum(len(groups[service]) or 1 for service, error in outcomes.items() if error)
    outcomes = run_all(lambda beat: _beat(dest, *beat), beats)
    failures = sum(error is not None for error in outcomes)
    if failures:
        log.warning("%s: %d of %d lease renewals failed", cluster, failures, len(beats))
    if on_holds is not None:
        on_holds(cluster, per_target(beats, outcomes), counts=False)
    return failures


def per_target(beats: list[Beat], outcomes: list[Failed | None]) -> dict[ServiceKey, Failed | None]:
    """Each destination service's outcome: the first of its renewals that failed, or None."""
    result: dict[ServiceKey, Failed | None] = {}
    for (target, _), error in zip(beats, outcomes, strict=True):
        if result.get(target) is None:
            result[target] = error
    return result


def hold_all(
    dest, groups: dict[ServiceKey, list[Instance]], force: bool = False
) -> dict[ServiceKey, Failed | None]:
    """Hold each service's set (empty: withdraw); returns each written set's outcome: None
    when held, else why it failed (Failed). `force`: write sets held already too (a job found them
    missing at the destination).

    Sets held already are skipped here, not in a pool thread: a full round re-holds 10,000
    services of which almost none changed, and handing each to a thread cost more CPU than
    everything else a quiet keeper does."""
    items = [
        (s, copies) for s, copies in groups.items() if force or not dest.holds_exactly(s, copies)
    ]
    if dest.pipelines_holds and items:
        return held_outcomes(dest, dest.hold_many(dict(items), force=True))
    outcomes = run_all(lambda item: _hold(dest, *item, force), items)
    return {service: error for (service, _), error in zip(items, outcomes, strict=True)}


def held_outcomes(dest, written: dict) -> dict[ServiceKey, Failed | None]:
    """hold_many's outcomes as Failed, the failures logged once for them all."""
    failed = {service: error for service, error in written.items() if error is not None}
    if failed:
        service, error = next(iter(failed.items()))
        log.warning(
            "holding %d services at %s failed (%s: %s)",
            len(failed),
            dest.config.name,
            service,
            error,
        )
    return {service: error and Failed.of(error) for service, error in written.items()}


def run_all(work, items) -> list:
    items = list(items)
    if len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(min(RENEW_THREADS, len(items))) as pool:
        return list(pool.map(work, items))


def _hold(dest, target: ServiceKey, copies: list[Instance], force: bool) -> Failed | None:
    try:
        dest.hold(target, copies, force)
        return None
    except RegistryError as exc:
        log.warning("holding %s at %s failed: %s", target, dest.config.name, exc)
        return Failed.of(exc)


def _beat(dest, service: ServiceKey, instance: Instance) -> Failed | None:
    """None when renewed, else why not."""
    try:
        dest.heartbeat(service, instance)
        return None
    except RegistryError as exc:
        log.debug("heartbeat of %s %s failed: %s", service, instance.key, exc)
        return Failed.of(exc)


def renew_leases(cluster_id: int) -> int:
    """Keep every registration of ours at one cluster, whoever owns it, as a keeper would,
    held copies counted on their rows (tests): a row whose first copies no keeper has
    counted yet holds its task's listings back (coalesce.holds_awaited)."""
    rows = leases_by_row(read_rows(leased_rows()))
    here = {pk: row_beats for pk, (cluster, row_beats) in rows.items() if cluster.pk == cluster_id}
    cluster = Cluster.objects.get(pk=cluster_id)
    beats = [beat for row_beats in here.values() for beat in row_beats]
    failures = keep(cluster, beats, withdraw_others=True)
    if not failures and held_at(cluster) is not None:
        for pk, row_beats in here.items():  # the count the keeper writes (Keeper._write_held)
            ServiceSync.objects.filter(pk=pk).update(dest_count=len(row_beats))
    return failures


def leased_cluster_ids() -> set[int]:
    """Clusters that currently hold registrations of ours."""
    return set(beats_by_cluster(leased_rows()))
