"""Prometheus metrics, computed from the database at scrape time.

Jobs run in worker processes on any host, so counters in the web process would see none of
them: every figure is read from the rows the jobs record (ServiceSync, SyncTask).

Labels of every per-task series: task ("src->dst"), task_id, type (Service | Config) and way
(forward: source -> destination; reverse: the way back of a Bidirectional task).

Definitions:
- services: the way's ServiceSync rows still listed by the source (retired rows left out).
- source/destination instances: the sums of the rows' counts (instances eligible to copy at
  the source, our copies present at the destination), as `sync_status` shows them.
- last success: the newest last_success_at of the way's services (Config: the task's last
  successful pass, SyncTask.last_scan_at).
- sync lag: now minus the OLDEST last_success_at among services that succeeded once, i.e. how
  stale the least recently confirmed service is (Config: now minus the last pass). Services
  that never succeeded are counted by msesync_task_services_unsynced instead.
- errors by kind: services whose last job failed, by the kind stored with the error
  (`error_kind`, decided by the adapter that failed: unreachable, rejected, other, internal;
  see registries.base.error_kind), plus one per way while the task's scan of it fails
  (Config: the task's own last error, 0 or 1). Errors stored before kinds were (no kind)
  are classified from their text, as before.
- job duration: max and mean of each service's last sync_service job.
- migration phases (forward way only: the old side is the task's source): services per
  phase of the migration cockpit (syncapp/cockpit/phases.py; not read yet: unknown), and
  services with a warning (stopping the sync would leave consumers without providers).
- Config tasks between Nacos clusters: configs (ConfigSync rows in step: no conflict, no
  error), config conflicts, and config writes (writes and deletes msesync made, summed over
  the task's rows: it stays flat while nothing changes).
"""

import re
from collections import defaultdict

from django.db.models import Avg, Count, Max, Min, Q, Sum
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from syncapp import coalesce
from syncapp.cockpit.phases import PHASES
from syncapp.cockpit.report import phase_counts_by_task
from syncapp.config_sync import config_stats
from syncapp.models import ServiceSync, SyncTask
from syncapp.registries.base import ERROR_KINDS, INTERNAL, OTHER, REJECTED, UNREACHABLE
from syncapp.ways import Way, ways_of

LABELS = ["task", "task_id", "type", "way"]
# Only for errors stored without a kind (before migration 0012): the adapters' wording for
# "nobody answered" versus "the server answered no", and error_text's mark of a bug of ours.
UNREACHABLE_TEXT = re.compile(
    r"unreachable|cannot connect|connection ?(loss|refused|error)|timed? ?out|timeout", re.I
)
REJECTED_TEXT = re.compile(
    r"HTTP [45]\d\d|login failed|refused|denied|NoAuth|forbidden|not found", re.I
)
INTERNAL_TEXT = re.compile(r"(^|: )internal error: ")


def classify_error(message: str) -> str:
    """The kind of an error stored without one (written before kinds were stored), guessed
    from its text. Every error written since carries the kind its adapter decided: this is a
    fallback for upgrades only, never to be used for new errors."""
    if UNREACHABLE_TEXT.search(message):
        return UNREACHABLE
    if REJECTED_TEXT.search(message):
        return REJECTED
    if INTERNAL_TEXT.search(message):
        return INTERNAL
    return OTHER


def kind_of(error: str, stored_kind: str) -> str:
    """An error's kind: as stored, or from its text when it was stored without one."""
    return stored_kind or classify_error(error)


def _ts(value) -> float:
    return value.timestamp() if value else float("nan")


class Families:
    """The metric families of one scrape, filled per task and way."""

    def __init__(self):
        g = GaugeMetricFamily
        self.services = g("msesync_task_services", "Services of the task way", labels=LABELS)
        self.unsynced = g(
            "msesync_task_services_unsynced",
            "Services with no successful sync yet",
            labels=LABELS,
        )
        self.source = g(
            "msesync_task_source_instances",
            "Instances eligible to copy at the source",
            labels=LABELS,
        )
        self.dest = g(
            "msesync_task_destination_instances",
            "Our copies present at the destination",
            labels=LABELS,
        )
        self.last_success = g(
            "msesync_task_last_success_timestamp_seconds",
            "Newest successful sync of the way (Unix time)",
            labels=LABELS,
        )
        self.lag = g(
            "msesync_task_sync_lag_seconds",
            "Now minus the oldest last success among the way's services",
            labels=LABELS,
        )
        self.errors = g(
            "msesync_task_errors",
            "Services whose last sync failed, by kind",
            labels=[*LABELS, "kind"],
        )
        self.duration_max = g(
            "msesync_task_job_duration_max_seconds",
            "Longest last sync_service job among the way's services",
            labels=LABELS,
        )
        self.duration_avg = g(
            "msesync_task_job_duration_avg_seconds",
            "Mean last sync_service job of the way's services",
            labels=LABELS,
        )
        self.paused = g("msesync_task_paused", "1 when the task is paused", labels=LABELS)
        self.phases = g(
            "msesync_task_services_by_phase",
            "Services per migration phase (forward way)",
            labels=[*LABELS, "phase"],
        )
        self.phase_warnings = g(
            "msesync_task_phase_warnings",
            "Services where stopping the sync would leave consumers without providers",
            labels=LABELS,
        )
        self.configs = g("msesync_task_configs", "Configs in step (Config tasks)", labels=LABELS)
        self.config_conflicts = g(
            "msesync_task_config_conflicts", "Configs in conflict (Config tasks)", labels=LABELS
        )
        self.config_writes = g(
            "msesync_task_config_writes",
            "Config writes and deletes msesync made (Config tasks)",
            labels=LABELS,
        )

    def all(self):
        return list(vars(self).values())


def _labels(way: Way) -> list[str]:
    """The task's ends as it names them (both ways alike), its id, type and which way."""
    task = way.task
    return [
        f"{task.source.cluster_name}->{task.destination.cluster_name}",
        str(task.pk),
        task.sync_type,
        way.name,
    ]


def _service_stats() -> dict[tuple[int, bool], dict]:
    """One aggregate per (task, way) over live rows: one query for all tasks."""
    rows = (
        ServiceSync.objects.filter(retired=False)
        .values("task_id", "reverse")
        .annotate(
            services=Count("id"),
            unsynced=Count("id", filter=Q(last_success_at__isnull=True)),
            source=Sum("source_count"),
            dest=Sum("dest_count"),
            newest=Max("last_success_at"),
            oldest=Min("last_success_at"),
            duration_max=Max("last_duration"),
            duration_avg=Avg("last_duration"),
        )
    )
    return {(r["task_id"], r["reverse"]): r for r in rows}


def _error_counts() -> dict[tuple[int, bool], dict[str, int]]:
    counts = defaultdict(lambda: dict.fromkeys(ERROR_KINDS, 0))
    failing = ServiceSync.objects.filter(retired=False).exclude(last_error="")
    fields = ("task_id", "reverse", "last_error", "error_kind")
    for task_id, reverse, message, kind in failing.values_list(*fields):
        counts[(task_id, reverse)][kind_of(message, kind)] += 1
    return counts


def _with_scan_error(errors: dict[str, int], way: Way) -> dict[str, int]:
    """A way's failing services, plus one while the task's scan of that way fails (a source
    that cannot be listed leaves its rows as they were: the failure is the task's). A scan
    error names its way as "src -> dst:" (jobs.scan_task); other task errors are the
    forward way's. The task stores one kind (its first failing way's): both ways count it."""
    prefix = f"{way.ends}:"
    errors = dict(errors)
    task = way.task
    for line in task.last_error.splitlines():
        if line.startswith(prefix) or (not way.reverse and " -> " not in line.split(":")[0]):
            kind = kind_of(line, task.error_kind)
            errors[kind] = errors.get(kind, 0) + 1
    return errors


def _add_service_way(f: Families, labels, stats: dict | None, errors: dict, now) -> None:
    stats = stats or {}
    f.services.add_metric(labels, stats.get("services", 0))
    f.unsynced.add_metric(labels, stats.get("unsynced", 0))
    f.source.add_metric(labels, stats.get("source") or 0)
    f.dest.add_metric(labels, stats.get("dest") or 0)
    f.last_success.add_metric(labels, _ts(stats.get("newest")))
    oldest = stats.get("oldest")
    f.lag.add_metric(labels, (now - oldest).total_seconds() if oldest else float("nan"))
    f.duration_max.add_metric(labels, _or_nan(stats.get("duration_max")))
    f.duration_avg.add_metric(labels, _or_nan(stats.get("duration_avg")))
    for kind in ERROR_KINDS:
        f.errors.add_metric([*labels, kind], errors.get(kind, 0))


def _add_config_task(f: Families, labels, task: SyncTask, now, stats: dict | None) -> None:
    """A Config task has no per-service rows: its one pass is its only unit."""
    stats = stats or {}
    f.configs.add_metric(labels, stats.get("in_step", 0))
    f.config_conflicts.add_metric(labels, stats.get("conflicts", 0))
    f.config_writes.add_metric(labels, stats.get("writes") or 0)
    f.last_success.add_metric(labels, _ts(task.last_scan_at))
    lag = (now - task.last_scan_at).total_seconds() if task.last_scan_at else float("nan")
    f.lag.add_metric(labels, lag)
    failing = kind_of(task.last_error, task.error_kind) if task.last_error else None
    for kind in ERROR_KINDS:
        f.errors.add_metric([*labels, kind], int(kind == failing))


def _add_phases(f: Families, labels, counted: tuple[dict, int] | None) -> None:
    by_phase, warnings = counted or ({}, 0)
    for phase in PHASES:
        f.phases.add_metric([*labels, phase], by_phase.get(phase, 0))
    f.phase_warnings.add_metric(labels, warnings)


def _or_nan(value) -> float:
    return float("nan") if value is None else float(value)


class DatabaseCollector:
    """A prometheus_client collector reading the current state on every collect()."""

    def collect(self):
        families = Families()
        now = timezone.now()
        stats, errors, configs = _service_stats(), _error_counts(), config_stats()
        phases = phase_counts_by_task()
        for task in SyncTask.objects.select_related("source", "destination"):
            for way in ways_of(task):
                labels = _labels(way)
                families.paused.add_metric(labels, int(task.paused))
                if task.sync_type == SyncTask.CONFIG:
                    _add_config_task(families, labels, task, now, configs.get(task.pk))
                else:
                    failing = _with_scan_error(errors.get(way.key, {}), way)
                    _add_service_way(families, labels, stats.get(way.key), failing, now)
                    if not way.reverse:
                        _add_phases(families, labels, phases.get(task.pk))
        yield from families.all()
        yield _waiting_jobs()


def _waiting_jobs() -> GaugeMetricFamily:
    """The work queue's real length: services with a job waiting (one per queue at most)."""
    waiting = GaugeMetricFamily(
        "msesync_services_waiting",
        "Services whose sync job is queued and not started, per queue",
        labels=["queue"],
    )
    for queue, count in coalesce.waiting().items():
        waiting.add_metric([queue], count)
    return waiting
