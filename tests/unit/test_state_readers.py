"""Every reader of a task's state tells the same one (issue 13): the console's task page, the
REST API, `sync_status --json`, /metrics and `apply --wait`'s progress, on a fixture of each
state, never-synced rows included."""

import contextlib
import json
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from syncapp.management.commands.import_config import progress
from syncapp.models import ServiceSync, SyncTask
from tests.support.rows import nacos_task

pytestmark = pytest.mark.django_db
NOW = timezone.now()
SYNCED = dict(source_count=2, dest_count=2, last_success_at=NOW)
FAILING = dict(last_error="GET /x unreachable (refused)", last_error_at=NOW)
CASES = {
    # name: (task fields, rows, state)
    "never scanned": ({"last_scan_at": None}, [], "syncing"),
    "no services": ({}, [], "synced"),
    "in step": ({}, [SYNCED, SYNCED], "synced"),
    "never synced row": ({}, [SYNCED, dict(source_count=0, dest_count=0)], "syncing"),
    "copies not all there": ({}, [SYNCED, {**SYNCED, "dest_count": 1}], "syncing"),
    "failing row": ({}, [SYNCED, {**SYNCED, **FAILING}], "error"),
    "failing scan": ({"last_error": "a -> b: GET /x unreachable (refused)"}, [SYNCED], "error"),
    "paused": ({"paused": True}, [{**SYNCED, "last_error": "boom"}], "paused"),
}


def make(task_fields: dict, rows: list[dict]) -> SyncTask:
    task = nacos_task(**{"last_scan_at": NOW, **task_fields})
    for n, fields in enumerate(rows):
        ServiceSync.objects.create(task=task, group="G", service=f"svc-{n}", **fields)
    return task


def console_state(console, task) -> str:
    page = console.get(f"/tasks/{task.pk}/").content.decode()
    return re.search(r'id="task-state" data-state="(\w+)"', page).group(1)


def api_state(client, task) -> str:
    return client.get(f"/api/tasks/{task.pk}/").json()["state"]


def sync_status_state(task, capsys) -> str:
    with contextlib.suppress(CommandError):  # exit 1: shown in error (the JSON is out first)
        call_command("sync_status", "--json", "--task", str(task.pk))
    [shown] = json.loads(capsys.readouterr().out)
    return shown["state"]


def metrics_say_error(client, task) -> bool:
    text = client.get("/metrics").content.decode()
    pattern = rf'msesync_task_errors\{{[^}}]*task_id="{task.pk}"[^}}]*\}} (\d+\.\d+)'
    return any(float(v) > 0 for v in re.findall(pattern, text))


def wait_says_finished(task) -> bool:
    """apply --wait's progress: every service finished since long ago (in step or failed)."""
    [way] = progress([task.pk], NOW - timedelta(days=1))
    return way.services == way.finished


@pytest.mark.parametrize("case", CASES)
def test_every_reader_tells_the_same_state(case, console, capsys):
    """`console` (logged in with the admin role) reads the API and /metrics too."""
    task_fields, rows, expected = CASES[case]
    task = make(task_fields, rows)
    seen = {
        "console": console_state(console, task),
        "api": api_state(console, task),
        "sync_status": sync_status_state(task, capsys),
    }
    assert seen == dict.fromkeys(seen, expected)
    paused = expected == "paused"
    assert metrics_say_error(console, task) == (expected == "error" or paused and bool(rows))
    if rows and not paused and "scan" not in case:
        assert wait_says_finished(task) == (expected != "syncing")
