"""Rounds of the cockpit: read the facts of a bounded batch of services, store their phases.

Each round reads at most `batch` services (over all tasks, paused ones included: the
warning matters most while a task is paused), continuing where the last round stopped, so
the cost per round is fixed and a task of N services is walked every N / batch rounds. The
reads are the cockpit's own: the sync jobs never wait for them.
"""

from __future__ import annotations

from django.utils import timezone

from syncapp.cockpit.facts import read_side
from syncapp.cockpit.phases import Side, phase_of
from syncapp.connections import registry_for
from syncapp.engine.naming import dest_service_key
from syncapp.models import ServicePhase, ServiceSync, SyncTask
from syncapp.registries.base import ServiceKey
from syncapp.ways import Way


def service_tasks():
    return SyncTask.objects.filter(sync_type=SyncTask.SERVICE).select_related(
        "source", "destination"
    )


def read_round(batch: int) -> int:
    """Read up to `batch` services' phases over every service task; how many were read."""
    read = 0
    for task in service_tasks().order_by("pk"):
        if read >= batch:
            break
        read += read_task_batch(task, batch - read)
    return read


def read_task_batch(task: SyncTask, batch: int) -> int:
    """The next `batch` forward rows of the task after its cursor; wraps to the start."""
    rows = list(
        ServiceSync.objects.filter(task=task, reverse=False, pk__gt=task.phase_cursor).order_by(
            "pk"
        )[:batch]
    )
    cursor = rows[-1].pk if len(rows) == batch else 0
    SyncTask.objects.filter(pk=task.pk).update(phase_cursor=cursor)
    if rows:
        way = Way(task)
        old, new = registry_for(way.source), registry_for(way.destination)
        for row in rows:
            store(row, *read_both(way, old, new, row))
    return len(rows)


def read_both(way: Way, old, new, row: ServiceSync) -> tuple[Side, Side, str]:
    key = ServiceKey(row.namespace, row.group, row.service)
    old_side, old_error = read_side(old, way.source.cluster_name, key)
    target = dest_service_key(key, way.direction)
    new_side, new_error = read_side(new, way.destination.cluster_name, target)
    return old_side, new_side, "\n".join(e for e in (old_error, new_error) if e)


def store(row: ServiceSync, old: Side, new: Side, error: str) -> None:
    verdict = phase_of(old, new, two_way=row.task.mode == SyncTask.BIDIRECTIONAL)
    ServicePhase.objects.update_or_create(
        row=row,
        defaults=dict(
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
        ),
    )
