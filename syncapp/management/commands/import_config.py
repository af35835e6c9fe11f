"""`manage.py import_config -f FILE [--dry-run] [--wait [--timeout S]]`: import the MSE Sync
YAML; with --wait, follow the first full sync of the file's tasks and print a summary.

"First full sync", counted from the moment the import committed:
- a Service task has been scanned since (SyncTask.last_scan_at), and every service that scan
  found (live ServiceSync rows, both ways) has a success or an error recorded since;
- a Config task has completed a pass since (last_scan_at; a failing pass records only its
  error, so a Config task that keeps failing ends in the timeout, its error shown);
- paused tasks are not waited for.
An error known since the import ends the wait at once, its text shown (exit status 1): a
service way's error recorded since, a Service task's scan error recorded since, a task error
that was not there at the import (a failing Config pass records no time, so an error it
already had is not taken for a new one: that task waits out the timeout, its error shown).
The workers (`bin/msesync start`) do the syncing; this only reads the rows they record.
"""

import io
import time
from dataclasses import dataclass
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Q, Sum
from django.utils import timezone

from syncapp import jobs
from syncapp.importer import ConfigError, apply_config, diff_config, parse_config
from syncapp.importer.parse import read_config_file
from syncapp.models import ServiceSync, SyncTask
from syncapp.ui.states import SYNCED_ROW
from syncapp.ways import Way, ways_of

POLL_SECONDS = 0.5
BAR_WIDTH = 30


@dataclass
class WayProgress:
    """One task way's state since the import; a Config task has exactly one way."""

    task_id: int
    label: str
    config: bool
    paused: bool
    scanned: bool
    services: int = 0
    finished: int = 0  # services with a success or an error recorded since the import
    source: int = 0
    dest: int = 0
    errors: int = 0
    task_error: str = ""

    @property
    def done(self) -> bool:
        return self.paused or (self.scanned and self.finished >= self.services)


class Command(BaseCommand):
    help = "Import clusters and tasks from an MSE Sync YAML file (all or nothing)."
    # Django's checks import every view and serializer (~0.3 s of an apply); the web
    # process runs them at every start, and a migration runs its own.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("-f", "--file", required=True, help="YAML file")
        parser.add_argument("--dry-run", action="store_true", help="print changes only")
        parser.add_argument(
            "--wait",
            action="store_true",
            help="after importing, show progress until the first full sync of the file's tasks",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=300.0,
            help="seconds --wait waits before giving up with exit status 1 (default 300)",
        )
        # bin/msesync apply: its set-up in this process (each Django start-up is ~0.5-1 s
        # of the time a user counts from "apply" to "synced").
        parser.add_argument(
            "--prepare",
            action="store_true",
            help="first run `manage.py prepare` (migrate...), quietly, as bin/msesync apply does",
        )
        parser.add_argument(
            "--startup-config",
            metavar="FILE",
            help="then import this file first, quietly, if it exists (MSESYNC_CONFIG_FILE)",
        )

    def handle(self, *args, file, dry_run, wait, timeout, prepare, startup_config, **options):
        if wait and dry_run:
            raise CommandError("--wait and --dry-run exclude each other: nothing imported")
        if timeout <= 0:
            raise CommandError("--timeout must be a positive number of seconds: nothing imported")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        if prepare:
            call_command("prepare", stdout=io.StringIO())
        if startup_config and Path(startup_config).is_file():
            scan_soon_after(imported(Path(startup_config), dry_run=False)[0])
        spec, changes = imported(path, dry_run)
        applied_at = timezone.now()
        if not dry_run:
            scan_soon_after(spec)
        for change in changes:
            self.stdout.write(("would " if dry_run else "") + str(change))
        changed = sum(c.action != "unchanged" for c in changes)
        self.stdout.write(f"{changed} change(s){' (dry run)' if dry_run else ''}")
        if wait:
            task_ids = _task_ids(spec)
            self._wait(task_ids, Since(applied_at, _task_errors(task_ids)), timeout)

    # --- --wait ----------------------------------------------------------------------

    def _wait(self, task_ids: list[int], since: "Since", timeout: float) -> None:
        started = time.monotonic()
        tty = self.stdout.isatty()
        shown = None
        while True:
            ways = progress(task_ids, since.at)
            errors = known_errors(task_ids, since)
            line = progress_line(ways, time.monotonic() - started)
            if tty:
                self.stdout.write("\r\033[K" + line, ending="")
                self.stdout.flush()
            elif line.split(" | ")[:-1] != shown:  # a new line per change, not per tick
                self.stdout.write(line)
                shown = line.split(" | ")[:-1]
            if errors or all(w.done for w in ways) or time.monotonic() - started >= timeout:
                break
            time.sleep(POLL_SECONDS)
        if tty:
            self.stdout.write("")
        self.stdout.write(summary_table(ways))
        self._verdict(ways, errors, timeout)

    @staticmethod
    def _verdict(ways: list[WayProgress], errors: list[str], timeout: float) -> None:
        if errors:  # known errors first: waiting longer would not make them go away
            raise CommandError(_errors_message(errors))
        pending = [w for w in ways if not w.done]
        if pending:
            detail = "; ".join(_pending_reason(w) for w in pending)
            raise CommandError(
                f"timed out after {timeout:g} s before the first full sync: {detail} "
                "(is msesync running? bin/msesync status)"
            )


def imported(path: Path, dry_run: bool):
    """(spec, changes) of importing the file (or of comparing it: a dry run)."""
    try:
        spec = parse_config(read_config_file(path))
        return spec, diff_config(spec) if dry_run else apply_config(spec)
    except ConfigError as exc:
        raise CommandError(f"{path}: nothing imported:\n{exc}") from None


def scan_soon_after(spec) -> None:
    """The file's tasks start now, not at the next beat."""
    jobs.scan_soon(_task_ids(spec))


def _task_ids(spec) -> list[int]:
    """The ids of the file's tasks, in file order."""
    ids = []
    for t in spec.tasks:
        ids += SyncTask.objects.filter(
            source__cluster_name=t.source,
            destination__cluster_name=t.destination,
            sync_type=t.type,
        ).values_list("pk", flat=True)
    return ids


@dataclass(frozen=True)
class Since:
    """The import's commit time, and each task's error as it stood then."""

    at: object  # datetime
    task_errors: dict[int, str]


def _task_errors(task_ids: list[int]) -> dict[int, str]:
    return dict(SyncTask.objects.filter(pk__in=task_ids).values_list("pk", "last_error"))


MAX_ERRORS_SHOWN = 5


def known_errors(task_ids: list[int], since: Since) -> list[str]:
    """`label: error` for each error known to be new since the import (module docstring)."""
    tasks = SyncTask.objects.filter(pk__in=task_ids, paused=False).exclude(last_error="")
    errors = [
        f"{t}: {_one_line(t.last_error)}"
        for t in tasks.select_related("source", "destination")
        if t.last_error != since.task_errors.get(t.pk, "")
        or (t.last_scan_at and t.last_scan_at >= since.at)
    ]
    rows = (
        ServiceSync.objects.filter(
            task_id__in=task_ids, task__paused=False, retired=False, last_error_at__gte=since.at
        )
        .exclude(last_error="")
        .select_related("task__source", "task__destination")
    )
    for row in rows[: MAX_ERRORS_SHOWN + 1]:
        name = "/".join(p for p in (row.namespace, row.group, row.service) if p)
        errors.append(f"{Way.of_row(row).label} {name}: {_one_line(row.last_error)}")
    return errors


def _errors_message(errors: list[str]) -> str:
    shown = errors[:MAX_ERRORS_SHOWN]
    more = " (more: manage.py sync_status --errors)" if len(errors) > len(shown) else ""
    return "first full sync failed:\n  " + "\n  ".join(shown) + more


def _one_line(text: str) -> str:
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())[:500]


def _pending_reason(way: WayProgress) -> str:
    if not way.scanned:
        reason = "not scanned since the import"
    else:
        reason = f"{way.finished}/{way.services} services synced"
    error = f" (last error: {way.task_error[:200]})" if way.task_error else ""
    return f"{way.label}: {reason}{error}"


def progress(task_ids: list[int], since) -> list[WayProgress]:
    """Each task way's state, read fresh from the rows the workers record."""
    tasks = SyncTask.objects.filter(pk__in=task_ids).select_related("source", "destination")
    by_id = {t.pk: t for t in tasks}
    stats = _row_stats(task_ids, since)
    ways = []
    for task in (by_id[i] for i in task_ids if i in by_id):
        scanned = bool(task.last_scan_at and task.last_scan_at >= since)
        for one in ways_of(task):
            config = task.sync_type == SyncTask.CONFIG
            way = WayProgress(task.pk, one.label, config, task.paused, scanned)
            # One scan error per task (it names the way at fault): shown once, on the first way.
            way.task_error = "" if one.reverse else task.last_error
            if not config:
                _fill(way, stats.get(one.key, {}))
            ways.append(way)
    return ways


def _row_stats(task_ids: list[int], since) -> dict[tuple[int, bool], dict]:
    """Per (task, way): live services, those finished since `since`, counts and errors."""
    # In step since (a success whose copies are all at the destination: a keeper holding
    # them records that after the job), or failed since.
    finished = (SYNCED_ROW & Q(last_success_at__gte=since)) | Q(last_error_at__gte=since)
    rows = (
        ServiceSync.objects.filter(task_id__in=task_ids, retired=False)
        .values("task_id", "reverse")
        .annotate(
            services=Count("id"),
            finished=Count("id", filter=finished),
            source=Sum("source_count"),
            dest=Sum("dest_count"),
            errors=Count("id", filter=~Q(last_error="")),
        )
    )
    return {(r["task_id"], r["reverse"]): r for r in rows}


def _fill(way: WayProgress, stats: dict) -> None:
    way.services = stats.get("services", 0)
    way.finished = stats.get("finished", 0)
    way.source = stats.get("source") or 0
    way.dest = stats.get("dest") or 0
    way.errors = stats.get("errors", 0)


def progress_line(ways: list[WayProgress], elapsed: float) -> str:
    """`[####----] 12/40 services | 1/2 tasks scanned | 0 errors | 3 s`"""
    active = [w for w in ways if not w.paused]
    services = sum(w.services for w in active)
    finished = sum(min(w.finished, w.services) for w in active)
    tasks = {w.task_id for w in active}
    scanned = len({w.task_id for w in active if w.scanned})
    # Scans count as units too, so the bar does not read 100% before anything was found.
    units, units_done = services + len(tasks), finished + scanned
    filled = BAR_WIDTH * units_done // units if units else BAR_WIDTH
    errors = sum(w.errors + bool(w.task_error) for w in active)
    return (
        f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {finished}/{services} services | "
        f"{scanned}/{len(tasks)} tasks scanned | {errors} errors | {elapsed:.0f} s"
    )


def summary_table(ways: list[WayProgress]) -> str:
    header = ("TASK", "SERVICES", "SOURCE INSTANCES", "DEST INSTANCES", "ERRORS")
    rows = [header] + [_summary_row(w) for w in ways]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(r, widths, strict=True)) for r in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


def _summary_row(way: WayProgress) -> tuple[str, ...]:
    label = way.label + (" [paused]" if way.paused else "")
    errors = way.errors + bool(way.task_error)
    if way.config:
        return (label, "-", "-", "-", str(errors))
    return (label, str(way.services), str(way.source), str(way.dest), str(errors))
