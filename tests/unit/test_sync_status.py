"""sync_status: where a migration stands, for people and for scripts."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from syncapp.models import ServiceSync, SyncTask
from tests.support.rows import nacos_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def task():
    task = nacos_task(mode=SyncTask.BIDIRECTIONAL)
    ServiceSync.objects.create(
        task=task,
        namespace="public",
        group="G",
        service="orders",
        source_count=3,
        dest_count=3,
        last_success_at=timezone.now(),
    )
    ServiceSync.objects.create(
        task=task,
        reverse=True,
        namespace="public",
        group="G",
        service="pay",
        source_count=2,
        last_error="b is down",
    )
    return task


def run(*args) -> str:
    out = StringIO()
    call_command("sync_status", *args, stdout=out)
    return out.getvalue()


def test_json_lists_each_service_way_with_counts_and_outcome(task):
    [status] = json.loads(run("--json"))
    assert status["task"] == "a <-> b (Service)"
    by_name = {s["service"]: s for s in status["services"]}
    assert by_name["orders"]["way"] == "forward" and by_name["orders"]["in_sync"] is True
    assert (
        by_name["pay"]["way"],
        by_name["pay"]["source_count"],
        by_name["pay"]["dest_count"],
        by_name["pay"]["in_sync"],
        by_name["pay"]["last_error"],
    ) == ("reverse", 2, 0, False, "b is down")


def test_text_shows_a_line_per_service(task):
    text = run()
    assert "task 1: a <-> b (Service)" in text.replace(f"task {task.pk}:", "task 1:")
    assert "orders" in text and "b is down" in text
