"""Rounds of the cockpit: read the facts of a bounded batch of services, store their phases.

Each round reads at most `batch` services (over all tasks, paused ones included: the
warning matters most while a task is paused), continuing where the last round stopped, so
the cost per round is fixed and a task of N services is walked every N / batch rounds. The
reads are the cockpit's own: the sync jobs never wait for them.

Which services: every service of the task's forward way (its rows, retired ones included) is
enlisted at the start of a round; a service stays listed after it leaves the old side (that
is how a migration ends: "done"), and is dropped once a read finds it on neither side, or
when the task's pattern no longer matches it.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from syncapp import patterns
from syncapp.cockpit.facts import read_side
from syncapp.cockpit.phases import Side, phase_of
from syncapp.connections import registry_for
from syncapp.engine.naming import dest_service_key
from syncapp.models import ServicePhase, ServiceSync, SyncTask
from syncapp.registries.base import ServiceKey
from syncapp.row_writes import insert_missing
from syncapp.ways import Way


def service_tasks():
    return SyncTask.objects.filter(sync_type=SyncTask.SERVICE).select_related(
        "source", "destination"
    )


def read_round(batch: int, min_gap: float = 0.0) -> int:
    """Read up to `batch` services' phases, serving the tasks read longest ago (or never)
    first, so that a large task cannot starve the others; how many were read.

    A round within `min_gap` seconds of the last one reads nothing: beat's messages that
    waited behind a backlog of sync jobs run back to back, and must not add up to a burst."""
    if min_gap and last_round_within(min_gap):
        return 0
    read = 0
    order = (F("phases_read_at").asc(nulls_first=True), "pk")
    for task in service_tasks().order_by(*order):
        if read >= batch:
            break
        read += read_task_batch(task, batch - read)
        SyncTask.objects.filter(pk=task.pk).update(phases_read_at=timezone.now())
    return read


def last_round_within(seconds: float) -> bool:
    since = timezone.now() - datetime.timedelta(seconds=seconds)
    return SyncTask.objects.filter(phases_read_at__gt=since).exists()


def enlist(task: SyncTask) -> None:
    """A phase row (not read yet) for each forward service of the task that has none."""
    listed = ServicePhase.objects.filter(
        task=task,
        namespace=OuterRef("namespace"),
        group=OuterRef("group"),
        service=OuterRef("service"),
    )
    missing = (
        ServiceSync.objects.filter(task=task, reverse=False)
        .exclude(Exists(listed))
        .values_list("namespace", "group", "service")
    )
    insert_missing(  # skips a row that a round on another worker enlisted first
        ServicePhase,
        [{"task_id": task.pk, "namespace": n, "group": g, "service": s} for n, g, s in missing],
    )


def read_task_batch(task: SyncTask, batch: int) -> int:
    """The next `batch` phase rows of the task after its cursor; wraps to the start."""
    enlist(task)
    rows = list(
        ServicePhase.objects.filter(task=task, pk__gt=task.phase_cursor).order_by("pk")[:batch]
    )
    cursor = rows[-1].pk if len(rows) == batch else 0
    SyncTask.objects.filter(pk=task.pk).update(phase_cursor=cursor)
    if rows:
        way = Way(task)
        old, new = registry_for(way.source), registry_for(way.destination)
        matches, two_way = matcher(task), task.mode == SyncTask.BIDIRECTIONAL
        kept = [row for row in rows if matches(row.service)]
        # Read everything first, then write the batch in one transaction: no database lock
        # is held across network reads, and SQLite syncs once per round, not per service.
        read = [(row, read_both(way, old, new, row)) for row in kept]
        with transaction.atomic():
            ServicePhase.objects.filter(pk__in={r.pk for r in rows} - {r.pk for r in kept}).delete()
            for row, (old_side, new_side, error) in read:
                store(row, two_way, old_side, new_side, error)
    return len(rows)


def matcher(task: SyncTask):
    """The task's pattern as a predicate (one that fails to compile matches everything: the
    scan reports that pattern; the cockpit keeps what it has)."""
    try:
        return patterns.compile(task.service_match_pattern).fullmatch
    except patterns.PatternError:
        return lambda name: True


def read_both(way: Way, old, new, row: ServicePhase) -> tuple[Side, Side, str]:
    key = ServiceKey(row.namespace, row.group, row.service)
    old_side, old_error = read_side(old, way.source.cluster_name, key)
    target = dest_service_key(key, way.direction)
    new_side, new_error = read_side(new, way.destination.cluster_name, target)
    return old_side, new_side, "\n".join(e for e in (old_error, new_error) if e)


def gone_from_both(old: Side, new: Side) -> bool:
    return not any((old.natives, old.copies, new.natives, new.copies)) and None not in (
        old.natives,
        new.natives,
    )


def store(row: ServicePhase, two_way: bool, old: Side, new: Side, error: str) -> None:
    if gone_from_both(old, new) and not still_a_forward_service(row):
        row.delete()
        return
    verdict = phase_of(old, new, two_way)
    ServicePhase.objects.filter(pk=row.pk).update(
        old_natives=old.natives,
        old_copies=old.copies,
        old_subscribers=old.subscribers,
        new_natives=new.natives,
        new_copies=new.copies,
        new_subscribers=new.subscribers,
        phase=verdict.phase,
        warning=verdict.warning,
        error=error,
        checked_at=timezone.now(),
    )


def still_a_forward_service(row: ServicePhase) -> bool:
    return ServiceSync.objects.filter(
        task_id=row.task_id,
        reverse=False,
        namespace=row.namespace,
        group=row.group,
        service=row.service,
    ).exists()
