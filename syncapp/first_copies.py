"""A new service's first copy, made by the scan that found it, from the scan's own read.

A ZooKeeper Dubbo listing reads every provider folder to learn the services' versions and
groups (Registry.list_services_read). Where the destination's copies are held by a keeper's
connection (Nacos over gRPC: jobs only record what to hold) and the destination lists no such
service, a job would read the same providers again and an empty destination service, to record
exactly what the scan can record now. At 10,000 services that was 10,000 messages, 20,000
reads and 10,000 row loads: half the worker's time to a first full sync.

Only new rows (never synced, never failed) qualify; anything else, and every row when the
destination cannot be listed, goes to a job as before. A native instance registered at the
destination between this listing and the keeper's hold is found by the next sync of the
service (a source change or the refresh), which then leaves it alone (a conflict).

Where the listing reads in steps (ZooKeeper: 1,000 interfaces at a time), `AsRead` copies
each step's new services as soon as it is read: the keeper holds them while the rest is
read, instead of waiting for the whole listing (seconds at 10,000 services).
"""

import logging

from django.db import transaction

from syncapp.engine.naming import dest_service_key
from syncapp.engine.sync import planned, source_digest
from syncapp.models import ServiceSync
from syncapp.registries.base import Instance, RegistryError, ServiceKey
from syncapp.row_writes import insert_missing, update_each
from syncapp.ways import Way

log = logging.getLogger(__name__)
ROWS_PER_COMMIT = 500  # the keeper holds each commit's copies while the next is planned
# What the scan loads of each row: enough to tell a new row and to record its outcome.
RECORDED_FIELDS = (
    "id",
    "namespace",
    "group",
    "service",
    "retired",
    "leases",
    "leases_changed_at",
    "last_error",
)


def holds_by_connection(dest) -> bool:
    """False too where the destination cannot tell (unreachable: Nacos picks gRPC or HTTP
    at its first connection): the scan goes on, and its jobs report the destination."""
    try:
        return dest.holds_by_connection
    except RegistryError:
        return False


class AsRead:
    """`on_read` for a scan's listing (Registry.list_services_read): rows for the services
    of each batch that the task does not know yet, and their first copies (copy_new_rows).
    The scan's own pass after the listing finds them recorded, read unchanged."""

    def __init__(self, way: Way, dest, rows, fields_of):
        self.way, self.dest, self.rows, self.fields_of = way, dest, rows, fields_of
        self.known: set[tuple[str, str, str]] | None = None  # the rows' keys, read once
        self.listed = DestinationListing(dest)
        self.copied: set[int] = set()

    def keys(self) -> set[tuple[str, str, str]]:
        """The keys of the way's rows, read at the first batch (new ones added since)."""
        if self.known is None:
            self.known = known_keys(self.rows)
        return self.known

    def __call__(self, batch: dict[ServiceKey, list[Instance]]) -> None:
        known, direction = self.keys(), self.way.direction
        fresh = [
            key
            for key in batch
            if _ident(key) not in known and self.dest.accepts(dest_service_key(key, direction))
        ]
        if not fresh:
            return
        for namespace in {dest_service_key(k, direction).namespace for k in fresh}:
            self.dest.ensure_namespace(namespace)
        add_rows(self.way, fresh, known)
        new = [row for row in self._rows_of(fresh) if never_synced(row)]
        self.copied |= copy_new_rows(self.way, self.dest, new, batch, self.fields_of, self.listed)

    def _rows_of(self, keys: list[ServiceKey]) -> list[ServiceSync]:
        wanted = set(keys)
        rows = self.rows.only(*RECORDED_FIELDS, "source_digest")
        found = []
        for start in range(0, len(keys), ROWS_PER_COMMIT):
            names = [k.name for k in keys[start : start + ROWS_PER_COMMIT]]
            found += [row for row in rows.filter(service__in=names) if _key(row) in wanted]
        return found


class DestinationListing:
    """The destination's services per namespace, listed once for a whole scan: a scan
    copies only into services absent when it listed them (see the module's docstring)."""

    def __init__(self, dest):
        self.dest = dest
        self.services: dict[str, set[ServiceKey]] = {}
        self.failure: RegistryError | None = None  # not asked again within the scan

    def __call__(self, namespaces: set[str]) -> set[ServiceKey]:
        if self.failure is not None:
            raise self.failure
        try:
            for namespace in namespaces - self.services.keys():
                self.services[namespace] = set(self.dest.list_services(namespace))
        except RegistryError as exc:
            self.failure = exc
            raise
        return {key for namespace in namespaces for key in self.services[namespace]}


def known_keys(rows) -> set[tuple[str, str, str]]:
    return set(rows.values_list("namespace", "group", "service"))


def add_rows(way: Way, keys: list[ServiceKey], known: set[tuple[str, str, str]]) -> None:
    """Rows for the services of `keys` not in `known` (the keys of the way's rows, which
    then include them)."""
    new = [
        {
            "task_id": way.task.pk,
            "reverse": way.reverse,
            "namespace": k.namespace,
            "group": k.group,
            "service": k.name,
        }
        for k in keys
        if _ident(k) not in known
    ]
    insert_missing(ServiceSync, new)
    known.update(_ident(k) for k in keys)


def never_synced(row: ServiceSync) -> bool:
    """A row no job has synced or failed yet, holding nothing."""
    return not (row.source_digest or row.last_error or row.retired or row.leases)


def copy_new_rows(
    way: Way,
    dest,
    new: list[ServiceSync],
    read: dict[ServiceKey, list[Instance]],
    fields_of,
    listed=None,
) -> set[int]:
    """Record the copies of `new` rows (never synced; their source instances in `read`, the
    listing's) whose destination service does not exist; returns their ids (no job needed).
    `fields_of(row, result)`: what a job's success writes on its row (jobs.success_fields;
    None: delete it). `listed(namespaces)`: the destination's services there (a
    DestinationListing; default: listed now)."""
    if not new or not holds_by_connection(dest):
        return set()
    direction = way.direction
    targets = {row.pk: dest_service_key(_key(row), direction) for row in new}
    try:
        existing = (listed or DestinationListing(dest))({t.namespace for t in targets.values()})
    except RegistryError as exc:  # the jobs read it service by service
        log.info("%s: destination not listed (%s): new services go to jobs", way.task, exc)
        return set()
    fresh = [row for row in new if targets[row.pk] not in existing]
    copied = set()
    for start in range(0, len(fresh), ROWS_PER_COMMIT):
        chunk = fresh[start : start + ROWS_PER_COMMIT]
        updates, gone = {}, []
        for row in chunk:
            instances = read[_key(row)]
            digest = source_digest(instances)
            result = planned(direction, instances, dest, targets[row.pk], [], digest)
            if (fields := fields_of(row, result)) is None:
                gone.append(row.pk)
            else:
                updates[row.pk] = fields
            copied.add(row.pk)
        with transaction.atomic():
            update_each(ServiceSync, updates)
            ServiceSync.objects.filter(pk__in=gone).delete()
    if copied:
        log.info("%s: %d new services copied from the scan's read", way.task, len(copied))
    return copied


def _key(row: ServiceSync) -> ServiceKey:
    return ServiceKey(row.namespace, row.group, row.service)


def _ident(key: ServiceKey) -> tuple[str, str, str]:
    return (key.namespace, key.group, key.name)
