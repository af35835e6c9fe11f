"""A run of failures as people read it: since when a row or task fails, and how many attempts
failed; the first failure's time stays through the run, a success ends it."""

import pytest
from django.utils import timezone

from syncapp import jobs
from syncapp.models import ServiceSync, SyncTask
from syncapp.registries.base import ServiceKey
from syncapp.registries.memory import MemoryRegistry
from tests.support.memory_tasks import memory_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memory")]
SERVICE = ServiceKey("public", "DEFAULT_GROUP", "orders")


def boom(*args):
    raise ValueError("boom")


@pytest.fixture
def row():
    task = memory_task([SERVICE])
    jobs.scan_task(task.pk)
    return ServiceSync.objects.get()


def test_a_rows_failures_count_up_from_their_first_and_a_success_ends_the_run(row, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(MemoryRegistry, "list_instances", boom)
        jobs.sync_services([row.pk])
        first = ServiceSync.objects.get()
        jobs.sync_services([row.pk])
        jobs.sync_services([row.pk])
    failing = ServiceSync.objects.get()
    assert (failing.failures, failing.failing_since) == (3, first.failing_since)
    assert failing.last_error_at > failing.failing_since  # the latest failure moves on
    jobs.sync_services([row.pk])
    ended = ServiceSync.objects.get()
    assert (ended.last_error, ended.failures, ended.failing_since) == ("", 0, None)


def test_a_kept_keeper_error_goes_on_without_counting_a_new_failure(row):
    started = timezone.now() - timezone.timedelta(minutes=3)
    error = f"{ServiceSync.KEEPER_ERROR}b: connection lost"
    ServiceSync.objects.filter(pk=row.pk).update(
        last_error=error, failing_since=started, failures=2, leases=[{"ip": "x"}]
    )
    held = ServiceSync.objects.get()
    result = type("Result", (), {"skipped": False, "leases": [], "source_count": 1})()
    result.dest_count, result.present_count, result.digest = 1, 0, "d"
    jobs.record_success(held, result, keep_row=True)
    kept = ServiceSync.objects.get()
    assert (kept.last_error, kept.failures, kept.failing_since) == (error, 2, started)


def test_a_tasks_scan_failures_make_a_run_too(monkeypatch):
    task = memory_task([SERVICE])
    with monkeypatch.context() as patched:
        patched.setattr(MemoryRegistry, "list_services", boom)
        jobs.scan_task(task.pk)
        jobs.scan_task(task.pk)
    failing = SyncTask.objects.get()
    assert failing.failures == 2 and failing.failing_since is not None
    jobs.scan_task(task.pk)
    assert SyncTask.objects.filter(failures=0, failing_since=None, last_error="").exists()
