"""Where a migration stands: one record per task and service way, for CLI, API and UI."""

from syncapp.models import ServiceSync, SyncTask


def _iso(value):
    return value.isoformat() if value else None


def service_status(row: ServiceSync) -> dict:
    return {
        "way": "reverse" if row.reverse else "forward",
        "namespace": row.namespace,
        "group": row.group,
        "service": row.service,
        "source_count": row.source_count,
        "dest_count": row.dest_count,
        "in_sync": row.source_count == row.dest_count and not row.last_error,
        "last_success": _iso(row.last_success_at),
        "last_error": row.last_error,
    }


def task_status(task: SyncTask) -> dict:
    rows = list(task.services.all())
    return {
        "id": task.pk,
        "task": str(task),
        "paused": task.paused,
        "last_scan": _iso(task.last_scan_at),
        "last_error": task.last_error,
        "services": [service_status(r) for r in rows],
    }


def all_status() -> list[dict]:
    tasks = SyncTask.objects.select_related("source", "destination").prefetch_related("services")
    return [task_status(t) for t in tasks]
