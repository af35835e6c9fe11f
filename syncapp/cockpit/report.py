"""The cockpit as people and scripts read it: one reader for the console, the API,
`sync_status --phases` and /metrics, so they never disagree."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count, Q

from syncapp.cockpit.phases import PHASES, UNKNOWN
from syncapp.models import ServicePhase, SyncTask

NOT_READ = "not read yet"  # the error of a service the cockpit has not reached yet


def _side(cluster: str, natives, copies, subscribers) -> dict:
    return {"cluster": cluster, "providers": natives, "copies": copies, "consumers": subscribers}


def service_phase(row: ServicePhase, task: SyncTask) -> dict:
    """One service's phase and the facts behind it (None: not known)."""
    old, new = task.source.cluster_name, task.destination.cluster_name
    return {
        "namespace": row.namespace,
        "group": row.group,
        "service": row.service,
        "phase": row.phase or UNKNOWN,
        "warning": row.warning,
        "old": _side(old, row.old_natives, row.old_copies, row.old_subscribers),
        "new": _side(new, row.new_natives, row.new_copies, row.new_subscribers),
        "checked_at": row.checked_at.isoformat() if row.checked_at else None,
        "error": row.error or ("" if row.phase else NOT_READ),
    }


def phase_rows(task: SyncTask, phase: str | None = None):
    """The task's services as the cockpit lists them, only `phase`'s if given; a service not
    read yet is in "unknown"."""
    rows = ServicePhase.objects.filter(task=task)
    if phase == UNKNOWN:
        rows = rows.filter(phase__in=("", UNKNOWN))
    elif phase:
        rows = rows.filter(phase=phase)
    return rows.order_by("namespace", "group", "service")


def phase_counts(task: SyncTask) -> tuple[dict[str, int], int]:
    """Services per phase (every phase listed, 0 included) and services with a warning."""
    return phase_counts_by_task(task.pk).get(task.pk, (dict.fromkeys(PHASES, 0), 0))


def task_phases(task: SyncTask, phase: str | None = None) -> dict:
    """Counts per phase, warnings, and the services (only those in `phase` when given)."""
    counts, warnings = phase_counts(task)
    return {
        "task": task.pk,
        "old": task.source.cluster_name,
        "new": task.destination.cluster_name,
        "counts": counts,
        "warnings": warnings,
        "services": [service_phase(row, task) for row in phase_rows(task, phase)],
    }


def phase_counts_by_task(task_id: int | None = None) -> dict[int, tuple[dict[str, int], int]]:
    """task id -> (phase -> services, services with a warning), of one task or all; services
    not read yet count as unknown, as everywhere else. One aggregate query."""
    rows = ServicePhase.objects.all()
    if task_id is not None:
        rows = rows.filter(task_id=task_id)
    grouped = rows.values("task_id", "phase").annotate(
        n=Count("id"), warned=Count("id", filter=~Q(warning=""))
    )
    totals: dict[int, Counter] = {}
    warned: Counter = Counter()
    for g in grouped:
        totals.setdefault(g["task_id"], Counter())[g["phase"] or UNKNOWN] += g["n"]
        warned[g["task_id"]] += g["warned"]
    return {t: ({p: c.get(p, 0) for p in PHASES}, warned[t]) for t, c in totals.items()}
