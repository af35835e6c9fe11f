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
"""

import logging

from django.db import transaction

from syncapp.engine.naming import dest_service_key
from syncapp.engine.sync import planned, source_digest
from syncapp.models import ServiceSync
from syncapp.registries.base import Instance, RegistryError, ServiceKey
from syncapp.row_writes import update_each
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


def copy_new_rows(
    way: Way, dest, new: list[ServiceSync], read: dict[ServiceKey, list[Instance]], fields_of
) -> set[int]:
    """Record the copies of `new` rows (never synced; their source instances in `read`, the
    listing's) whose destination service does not exist; returns their ids (no job needed).
    `fields_of(row, result)`: what a job's success writes on its row (jobs.success_fields;
    None: delete it)."""
    if not new or not dest.holds_by_connection:
        return set()
    direction = way.direction
    targets = {row.pk: dest_service_key(_key(row), direction) for row in new}
    try:
        existing = _listed(dest, {t.namespace for t in targets.values()})
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


def _listed(dest, namespaces: set[str]) -> set[ServiceKey]:
    return {key for namespace in namespaces for key in dest.list_services(namespace)}
