"""Where a migration stands: one record per task and service way, for CLI, API and UI.

States come from syncapp.ui.states, the console's readers, so `sync_status` and the console
never disagree about a row.
"""

from django.db.models import Prefetch

from syncapp.config_sync import config_stats
from syncapp.models import ServiceSync, SyncTask
from syncapp.ui.states import ERROR, SYNCED, TaskCounts, counts_by_task, service_state, task_state
from syncapp.ways import Way


def _iso(value):
    return value.isoformat() if value else None


def service_status(row: ServiceSync, task: SyncTask) -> dict:
    way = Way(task, row.reverse)  # `task`: the row's, its ends read once for all its rows
    state = service_state(row)
    return {
        "way": way.name,
        "source": way.source.cluster_name,
        "destination": way.destination.cluster_name,
        "namespace": row.namespace,
        "group": row.group,
        "service": row.service,
        "state": state,
        "source_count": row.source_count,
        "dest_count": row.dest_count,
        "in_sync": state == SYNCED,  # a row never synced is not in sync, whatever its counts
        "last_success": _iso(row.last_success_at),
        "last_error": row.last_error,
        "error_kind": row.error_kind,
        "last_error_at": _iso(row.last_error_at),
        "failing_since": _iso(row.failing_since),
        "failures": row.failures,
    }


def task_status(task: SyncTask, counts: TaskCounts, with_services: bool = True) -> dict:
    rows = list(task.services.all()) if with_services else []
    return {
        "id": task.pk,
        "task": str(task),
        "source": task.source.cluster_name,
        "destination": task.destination.cluster_name,
        "type": task.sync_type,
        "mode": task.mode,
        "state": task_state(task, counts),
        "paused": task.paused,
        "last_scan": _iso(task.last_scan_at),
        "last_error": task.last_error,
        "error_kind": task.error_kind,
        "failing_since": _iso(task.failing_since),
        "failures": task.failures,
        "counts": {"services": counts.services, "synced": counts.synced, "errors": counts.errors},
        "services": [service_status(r, task) for r in rows],
        **({"configs": config_counts(task)} if task.sync_type == SyncTask.CONFIG else {}),
    }


def config_counts(task: SyncTask) -> dict:
    """A Config task's own counts (Nacos: ConfigSync rows; ZooKeeper tasks have none)."""
    stats = config_stats([task.pk]).get(task.pk) or {}
    return {
        "in_step": stats.get("in_step", 0),
        "conflicts": stats.get("conflicts", 0),
        "writes": stats.get("writes") or 0,
    }


def all_status(tasks=None, with_services: bool = True) -> list[dict]:
    """Every task (or those of the `tasks` queryset) in id order; without services, the
    tasks' states and counts only (one query whatever the number of services)."""
    tasks = (SyncTask.objects.all() if tasks is None else tasks).select_related(
        "source", "destination"
    )
    if with_services:  # not their leases: a JSON list per row, 2/3 of the time at 10,000 rows
        rows = ServiceSync.objects.defer("leases", "source_digest")
        tasks = tasks.prefetch_related(Prefetch("services", queryset=rows))
    tasks = list(tasks)
    counts = counts_by_task(t.pk for t in tasks)
    return [task_status(t, counts.get(t.pk, TaskCounts()), with_services) for t in tasks]


def in_error(record: dict) -> bool:
    """A task or service record (as above) whose state is error."""
    return record["state"] == ERROR
