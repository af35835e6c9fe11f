"""Task and service states for the console, derived from the ServiceSync rows.

The states are computed in the database (one GROUP BY for a page of tasks), never by
loading every row: a task may hold tens of thousands of services.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Min, Q, Sum

from syncapp.models import ServiceSync, SyncTask

PAUSED, ERROR, SYNCING, SYNCED, RETIRED = "paused", "error", "syncing", "synced", "retired"

# A row is synced once a sync succeeded, left no error, and both sides hold the same count.
SYNCED_ROW = Q(last_error="", last_success_at__isnull=False, source_count=F("dest_count"))


@dataclass(frozen=True)
class TaskCounts:
    services: int = 0
    synced: int = 0
    errors: int = 0
    source_instances: int = 0
    dest_instances: int = 0
    failing_since: datetime | None = None  # the oldest failure run among its rows


def counts_by_task(task_ids) -> dict[int, TaskCounts]:
    """Service and instance counts per task, for live (not retired) rows, in one query."""
    grouped = (
        ServiceSync.objects.filter(task_id__in=list(task_ids), retired=False)
        .order_by()
        .values("task_id")
        .annotate(
            services=Count("id"),
            synced=Count("id", filter=SYNCED_ROW),
            errors=Count("id", filter=~Q(last_error="")),
            source_instances=Sum("source_count"),
            dest_instances=Sum("dest_count"),
            failing_since=Min("failing_since"),
        )
    )
    return {g.pop("task_id"): TaskCounts(**g) for g in grouped}


def task_state(task: SyncTask, counts: TaskCounts) -> str:
    if task.paused:
        return PAUSED
    if task.last_error or counts.errors:
        return ERROR
    if task.last_scan_at is None or counts.synced < counts.services:
        return SYNCING
    return SYNCED


def service_state(row: ServiceSync) -> str:
    if row.retired:
        return RETIRED
    if row.last_error:
        return ERROR
    if row.last_success_at and row.source_count == row.dest_count:
        return SYNCED
    return SYNCING


def task_failing_since(task: SyncTask, counts: TaskCounts) -> datetime | None:
    """Since when something of the task fails: its own scans, or any of its rows."""
    runs = [t for t in (task.failing_since, counts.failing_since) if t]
    return min(runs) if runs else None
