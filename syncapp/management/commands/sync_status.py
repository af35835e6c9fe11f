"""`manage.py sync_status [--json]`: per task and service, counts and last outcome."""

import json

from django.core.management.base import BaseCommand

from syncapp.status import all_status

COLUMNS = (
    "way",
    "namespace",
    "group",
    "service",
    "source_count",
    "dest_count",
    "last_success",
    "last_error",
)


class Command(BaseCommand):
    help = "Show each task's services: instance counts at both ends, last success, last error."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, json: bool = False, **options):
        status = all_status()
        if json:
            self.stdout.write(_dumps(status))
            return
        for task in status:
            self.stdout.write(self._task_header(task))
            for svc in task["services"]:
                self.stdout.write("  " + "  ".join(str(svc[c] or "-") for c in COLUMNS))

    @staticmethod
    def _task_header(task) -> str:
        flags = " [paused]" if task["paused"] else ""
        error = f"  error: {task['last_error']}" if task["last_error"] else ""
        return f"task {task['id']}: {task['task']}{flags}  services: {len(task['services'])}{error}"


def _dumps(value) -> str:
    return json.dumps(value, indent=2)
