"""The cockpit's readers agree (issue 16): the console's migration page, the API,
`sync_status --phases` and /metrics show the same phases and warnings for the same rows."""

import json
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.html import escape

from syncapp.cockpit import phases
from syncapp.models import ServicePhase, ServiceSync
from tests.support.rows import nacos_task

pytestmark = pytest.mark.django_db
WARNING = "1 consumer(s) on b reach only copies of a's providers: stopping ..."
# service -> (phase, warning); None: a service the cockpit has not read yet
FIXTURE = {
    "svc-a": (phases.NOT_STARTED, ""),
    "svc-b": (phases.CONSUMERS_MOVING, WARNING),
    "svc-c": (phases.DONE, ""),
    "svc-d": None,
}


@pytest.fixture
def task():
    task = nacos_task()
    for name, seen in FIXTURE.items():
        ServiceSync.objects.create(task=task, group="G", service=name)
        ServiceSync.objects.create(task=task, group="G", service=name, reverse=True)
        if not seen:
            ServicePhase.objects.create(task=task, group="G", service=name)  # enlisted only
        else:
            ServicePhase.objects.create(
                task=task,
                group="G",
                service=name,
                old_natives=1,
                old_copies=0,
                old_subscribers=None,
                new_natives=0,
                new_copies=1,
                new_subscribers=1,
                phase=seen[0],
                warning=seen[1],
                checked_at=timezone.now(),
            )
    return task


EXPECTED_COUNTS = {
    phases.NOT_STARTED: 1,
    phases.CONSUMERS_MOVING: 1,
    phases.PROVIDERS_MOVING: 0,
    phases.DONE: 1,
    phases.NO_PROVIDERS: 0,
    phases.UNKNOWN: 1,  # the service not read yet: unknown, never left out
}


def test_the_api_lists_counts_services_and_filters_by_phase(task, api_client):
    body = api_client.get(f"/api/tasks/{task.pk}/phases/").json()
    assert body["counts"] == EXPECTED_COUNTS and body["warnings"] == 1
    by_name = {s["service"]: s for s in body["services"]}
    assert by_name["svc-b"]["warning"] == WARNING
    assert by_name["svc-a"]["old"] == {
        "cluster": "a",
        "providers": 1,
        "copies": 0,
        "consumers": None,
    }
    assert by_name["svc-d"]["phase"] == phases.UNKNOWN and by_name["svc-d"]["error"]
    only = api_client.get(f"/api/tasks/{task.pk}/phases/", {"phase": phases.UNKNOWN}).json()
    assert [s["service"] for s in only["services"]] == ["svc-d"]
    bad = api_client.get(f"/api/tasks/{task.pk}/phases/", {"phase": "nearly done"})
    assert bad.status_code == 400 and "phase" in bad.json()


def test_sync_status_phases_says_what_the_api_says(task, api_client, capsys):
    call_command("sync_status", "--phases", "--json", "--task", str(task.pk))
    [report] = json.loads(capsys.readouterr().out)
    assert report == api_client.get(f"/api/tasks/{task.pk}/phases/").json()
    call_command("sync_status", "--phases", "--task", str(task.pk))
    text = capsys.readouterr().out
    assert "consumers moving: 1" in text and "warnings: 1" in text
    assert re.search(r"svc-a\s+not started\s+1 providers 0 copies \? consumers", text)


def test_the_console_page_and_metrics_show_the_same_counts(task, console):
    page = console.get(f"/tasks/{task.pk}/migration/").content.decode()
    shown = dict(re.findall(r'data-phase="([^"]+)" data-count="(\d+)"', page))
    assert {p: int(n) for p, n in shown.items()} == EXPECTED_COUNTS
    assert 'id="phase-warnings" data-count="1"' in page
    assert escape(WARNING) in page
    filtered = console.get(f"/tasks/{task.pk}/migration/", {"phase": phases.DONE}).content
    assert re.findall(rb'<tr data-service="([^"]+)"', filtered) == [b"svc-c"]
    metrics = console.get("/metrics").content.decode()
    mine = [
        (labels, float(value))
        for labels, value in series(metrics)
        if labels["task_id"] == str(task.pk)
    ]
    by_phase = {labels["phase"]: v for labels, v in mine if "phase" in labels}
    assert by_phase == {p: float(n) for p, n in EXPECTED_COUNTS.items()}
    assert re.search(
        rf'msesync_task_phase_warnings\{{[^}}]*task_id="{task.pk}"[^}}]*\}} 1\.0', metrics
    )
    page_of_task = console.get(f"/tasks/{task.pk}/").content.decode()
    assert f'href="/tasks/{task.pk}/migration/"' in page_of_task


def series(text: str, name: str = "msesync_task_services_by_phase"):
    """(labels, value) of each sample of a metric in Prometheus' text format."""
    for labels, value in re.findall(rf"^{name}\{{([^}}]*)\}} (\S+)$", text, re.M):
        yield dict(re.findall(r'(\w+)="([^"]*)"', labels)), value


def test_a_config_task_has_no_phases(api_client):
    task = nacos_task(sync_type="Config")
    answer = api_client.get(f"/api/tasks/{task.pk}/phases/")
    assert answer.status_code == 404 and "Config task" in answer.json()["detail"]
