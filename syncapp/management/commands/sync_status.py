"""`manage.py sync_status [--task NAME_OR_ID] [--errors] [--summary] [--json]`: per task and
service way, its state, instance counts at both ends and last outcome.

`--phases [--task ...] [--json]`: the migration cockpit instead: per Service task, services
per migration phase, then each service's phase, evidence on both sides and warning.

Exit status: 0, or 1 when any task or service shown is in error (so scripts and
`bin/msesync status` can act on it), 2 when --task names no task.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from syncapp.cockpit.report import task_phases
from syncapp.models import SyncTask
from syncapp.status import all_status, in_error

COLUMNS = (
    ("WAY", "way"),
    ("NAMESPACE", "namespace"),
    ("GROUP", "group"),
    ("SERVICE", "service"),
    ("STATE", "state"),
    ("SOURCE", "source_count"),
    ("DEST", "dest_count"),
    ("LAST SUCCESS", "last_success"),
    ("LAST ERROR", "last_error"),
)


class Command(BaseCommand):
    # Read-only, and run by scripts every few seconds: the system checks (URL conf, admin,
    # schema) would double its start-up, and `check`/`migrate` run them where they matter.
    requires_system_checks = []

    help = "Show each task's services: state, instance counts at both ends, last outcome."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.add_argument(
            "--task",
            metavar="NAME_OR_ID",
            help="one task: its id, its name as shown (`a -> b (Service)`) or `SOURCE->DEST`",
        )
        parser.add_argument(
            "--errors", action="store_true", help="only tasks and services in error"
        )
        parser.add_argument(
            "--summary", action="store_true", help="one line per task, without its services"
        )
        parser.add_argument(
            "--phases", action="store_true", help="the migration phase of each service"
        )

    def handle(self, *args, json=False, task=None, errors=False, summary=False, **options):
        tasks = SyncTask.objects.filter(pk__in=select_tasks(task)) if task else None
        if options.get("phases"):
            self.stdout.write(phases_output(tasks, json))
            return
        status = all_status(tasks, with_services=not summary)
        if errors:
            status = only_errors(status)
        if json:
            self.stdout.write(_dumps(status))
        else:
            self.stdout.write(
                render(status, summary) or ("nothing in error" if errors else "no tasks")
            )
        failing = error_count(status)
        if failing:
            raise CommandError(f"{failing} task(s) or service way(s) in error", returncode=1)


PHASE_COLUMNS = ("SERVICE", "PHASE", "OLD SIDE", "NEW SIDE", "WARNING")


def phases_output(tasks, as_json: bool) -> str:
    chosen = (tasks if tasks is not None else SyncTask.objects.all()).filter(
        sync_type=SyncTask.SERVICE
    )
    reports = [task_phases(t) for t in chosen.select_related("source", "destination")]
    if as_json:
        return _dumps(reports)
    return "\n".join(phase_block(r) for r in reports) or "no Service tasks"


def phase_block(report: dict) -> str:
    """`task 3: zk -> nacos  not started: 5  consumers moving: 1 ... warnings: 1`, a table."""
    counts = "  ".join(f"{phase}: {n}" for phase, n in report["counts"].items())
    head = f"task {report['task']}: {report['old']} -> {report['new']}  {counts}"
    rows = [PHASE_COLUMNS] + [
        (
            s["service"],
            s["phase"],
            side_text(s["old"]),
            side_text(s["new"]),
            s["warning"] or s["error"] or "-",
        )
        for s in report["services"]
    ]
    table_lines = ["  " + line for line in aligned(rows)]
    return "\n".join([f"{head}  warnings: {report['warnings']}", *table_lines])


def side_text(side: dict) -> str:
    """`3 providers 2 copies 1 consumers`, with `?` for what is not known."""

    def shown(n):
        return "?" if n is None else str(n)

    return (
        f"{shown(side['providers'])} providers {shown(side['copies'])} copies"
        f" {shown(side['consumers'])} consumers"
    )


def select_tasks(wanted: str) -> list[int]:
    """Ids of the tasks `wanted` names (id, name as shown, or SOURCE->DEST of any type)."""
    if wanted.isdigit():
        ids = list(SyncTask.objects.filter(pk=int(wanted)).values_list("pk", flat=True))
    else:
        key = _squeeze(wanted)
        tasks = SyncTask.objects.select_related("source", "destination")
        ids = [t.pk for t in tasks if key in (_squeeze(str(t)), _squeeze(_ends(t)))]
    if not ids:
        raise CommandError(f"no task matches {wanted!r} (see sync_status --summary)", returncode=2)
    return ids


def _ends(task: SyncTask) -> str:
    return str(task).rsplit(" (", 1)[0]  # "a <-> b (Service)" -> "a <-> b"


def _squeeze(text: str) -> str:
    return "".join(text.split())


def only_errors(status: list[dict]) -> list[dict]:
    """Tasks in error or with services in error, each with only its services in error."""
    shown = []
    for task in status:
        services = [s for s in task["services"] if in_error(s)]
        if in_error(task) or services:
            shown.append({**task, "services": services})
    return shown


def error_count(status: list[dict]) -> int:
    return sum(in_error(t) + sum(map(in_error, t["services"])) for t in status)


def render(status: list[dict], summary: bool) -> str:
    blocks = []
    for task in status:
        lines = [task_line(task)]
        if not summary and task["services"]:
            lines += ["  " + line for line in table(task["services"])]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def task_line(task: dict) -> str:
    """`task 3: a -> b (Service)  state: error  services: 12 (10 in step, 2 in error)  ...`"""
    parts = [f"task {task['id']}: {task['task']}", f"state: {task['state']}"]
    if task["type"] == SyncTask.SERVICE:  # Config tasks have configs or znodes, not services
        c = task["counts"]
        parts.append(f"services: {c['services']} ({c['synced']} in step, {c['errors']} in error)")
    elif task.get("configs"):  # Nacos configs (ZooKeeper Config tasks keep no rows)
        c = task["configs"]
        parts.append(f"configs: {c['in_step']} in step, {c['conflicts']} in conflict")
    if task["last_error"]:
        parts.append(f"error: {_one_line(task['last_error'])}")
    return "  ".join(parts)


def table(services: list[dict]) -> list[str]:
    rows = [[title for title, _ in COLUMNS]]
    rows += [[_cell(key, s[key]) for _, key in COLUMNS] for s in services]
    return aligned(rows)


def aligned(rows: list) -> list[str]:
    """The rows' cells padded to their column's widest, two spaces apart."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def _cell(key: str, value) -> str:
    """Counts print as numbers, 0 included; only a missing value prints as "-"."""
    if value is None or value == "":
        return "-"
    if key == "last_success":  # ISO time in UTC: to the second is enough here
        return value[:19] + "Z"
    return _one_line(str(value))


def _one_line(text: str) -> str:
    if "\n" not in text and "\r" not in text:  # nearly every cell: 90,000 at 10,000 rows
        return text.strip()
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def _dumps(value) -> str:
    # One line: an indent would make json use its pure-Python encoder (0.5 s of a 1 s answer at
    # 10,000 services, bench.services_page). Scripts parse it; people pipe it to `jq`.
    return json.dumps(value)
