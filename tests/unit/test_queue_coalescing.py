"""Bounded work (issue 12): at most one waiting job per service and queue, one scan per task."""

import datetime
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from syncapp import coalesce, jobs
from syncapp.feeds import Feeds
from syncapp.models import ServiceSync, SyncTask
from syncapp.registries import memory
from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.memory import MemoryRegistry
from tests.support.memory_tasks import memory_task
from workers import tasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memory")]
SERVICES = [ServiceKey("public", "DEFAULT_GROUP", f"s{n}") for n in range(3)]


@pytest.fixture
def task():
    return memory_task(SERVICES)


@pytest.fixture
def sent(monkeypatch):
    """Messages the Celery tasks send, by job name: nothing runs until the test says so."""
    sent = {"scan_task": [], "sync_services": [], "sync_configs": []}
    for name, queue in sent.items():
        monkeypatch.setattr(getattr(tasks, name), "delay", lambda *args, q=queue: q.append(args))
    return sent


def queued(sent) -> list[int]:
    """Rows sent to the scan queue, in order (scans send them in batches)."""
    return [row_id for (batch,) in sent["sync_services"] for row_id in batch]


def test_scans_while_jobs_wait_queue_each_service_once(task, sent):
    tasks.scan_task(task.pk)
    assert len(queued(sent)) == 3 and len(sent["sync_services"]) == 1  # one batch
    for _ in range(5):  # the workers are busy: beat keeps scanning
        tasks.scan_task(task.pk)
    assert len(queued(sent)) == 3
    tasks.sync_services(queued(sent))  # their jobs started: the next poll queues them again
    tasks.scan_task(task.pk)
    assert sorted(queued(sent)[3:]) == sorted(queued(sent)[:3])


def test_a_scan_while_rows_of_its_task_wait_reads_nothing_and_keeps_a_full_scan_due(
    task, sent, monkeypatch
):
    """Its findings would wait behind those rows: it runs once they are taken."""
    tasks.scan_task(task.pk)
    coalesce.want_full_scan([task.pk])
    listed = []
    real = jobs.list_matching_read
    monkeypatch.setattr(jobs, "list_matching_read", lambda *a: listed.append(1) or real(*a))
    tasks.scan_task(task.pk)
    assert listed == [] and len(queued(sent)) == 3
    assert SyncTask.objects.get(pk=task.pk).full_scan_due
    tasks.sync_services(queued(sent)[:2])
    tasks.scan_task(task.pk)  # one row still waits
    assert listed == []
    tasks.sync_services(queued(sent)[2:])
    tasks.scan_task(task.pk)  # none waits: the full scan lists and queues every row again
    assert listed == [1] and len(queued(sent)) == 6


def test_a_scan_sends_its_services_in_bounded_batches(task, sent, monkeypatch):
    monkeypatch.setattr(tasks, "SYNC_BATCH", 2)
    tasks.scan_task(task.pk)
    assert [len(batch) for (batch,) in sent["sync_services"]] == [2, 1]
    tasks.sync_services(sent["sync_services"][0][0])  # a batch's jobs clear their marks
    assert ServiceSync.objects.filter(queued_at__isnull=False).count() == 1


def test_n_pushed_changes_while_its_job_waits_give_one_job(task):
    out = []
    feeds = Feeds(send_task=lambda name, args, queue: out.append((name, args)))
    try:
        feeds.step()
        source = MemoryRegistry(ClusterConfig("a", "MEMORY", ("m",)))
        for port in range(5):  # five changes, each in a step of its own
            source.register(SERVICES[0], Instance("10.0.0.2", 200 + port))
            feeds.step()
        assert [name for name, _ in out] == ["workers.tasks.sync_service"]
        row_id = out[0][1][0]
        tasks.sync_service(row_id)
        source.register(SERVICES[0], Instance("10.0.0.2", 300))
        feeds.step()
        assert out[1:] == [("workers.tasks.sync_service", [row_id])]
    finally:
        feeds.close()


def test_a_pushed_change_is_not_held_back_by_the_scan_queue(task, sent):
    """A scan's job may wait behind a backlog; the change queue has a mark of its own."""
    tasks.scan_task(task.pk)
    row = ServiceSync.objects.get(service="s0")
    assert coalesce.claim_rows([row.pk], coalesce.CHANGE_QUEUE) == [row.pk]
    assert coalesce.waiting() == {"scan": 3, "change": 1}


def test_beat_queues_one_scan_per_task_until_it_starts(task, sent):
    for _ in range(4):
        tasks.scan_all()
    assert sent["scan_task"] == [(task.pk,)]
    tasks.scan_task(task.pk)
    tasks.scan_all()
    assert sent["scan_task"] == [(task.pk,), (task.pk,)]


def test_a_scan_while_another_of_the_task_runs_does_nothing(task, sent):
    with coalesce.scanning(task.pk) as first:
        assert first
        tasks.scan_task(task.pk)
        assert queued(sent) == []
    tasks.scan_task(task.pk)  # the first one finished
    assert len(queued(sent)) == 3


def test_a_mark_left_by_a_dead_process_expires(task, sent):
    """A message lost with its worker: the mark expires and the next trigger queues again."""
    tasks.scan_task(task.pk)
    long_ago = timezone.now() - coalesce.MARK_EXPIRES - datetime.timedelta(seconds=1)
    ServiceSync.objects.update(queued_at=long_ago)
    SyncTask.objects.update(scanning_since=long_ago - coalesce.SCAN_LEASE)
    tasks.scan_task(task.pk)
    assert len(queued(sent)) == 6


def test_a_scanner_dead_for_longer_than_its_lease_frees_its_task_within_seconds(task, sent):
    """A worker killed mid-scan renews nothing: 20 s later its task is scanned again (the
    lease was a fixed 300 s, and a kill during a first sync left the task unscanned so long)."""
    dead_since = timezone.now() - datetime.timedelta(seconds=21)
    SyncTask.objects.update(scanning_since=dead_since)
    tasks.scan_task(task.pk)
    assert len(queued(sent)) == 3


@pytest.mark.django_db(transaction=True)  # the renewer writes on a connection of its own
def test_a_running_scan_renews_its_lease_and_releases_it_at_the_end(task):
    def lease():
        return SyncTask.objects.get(pk=task.pk).scanning_since

    with coalesce.scanning(task.pk, renew_every=0.05) as mine:
        assert mine
        taken = lease()
        deadline = time.monotonic() + 10
        while lease() == taken and time.monotonic() < deadline:
            time.sleep(0.3)  # few reads: the test database is SQLite in shared-cache mode
        assert lease() > taken, "renewed while the scan runs"
        with coalesce.scanning(task.pk) as second:
            assert not second, "a live lease keeps a second scan out"
    assert lease() is None


def test_a_refresh_forgets_digests_and_coalesces_with_waiting_scans(task, sent):
    tasks.scan_task(task.pk)
    tasks.sync_services(queued(sent))
    assert all(ServiceSync.objects.values_list("source_digest", flat=True))
    tasks.scan_all()
    tasks.refresh_all()  # a scan is waiting already: no second message, nothing skipped
    assert sent["scan_task"] == [(task.pk,)]
    assert set(ServiceSync.objects.values_list("source_digest", flat=True)) == {""}
    assert memory.store("b").services  # the copies were made by the jobs above


def test_a_scan_run_outside_celery_clears_its_mark_too(task):
    """The keeper's in-process paths (benches, tests) call the jobs directly."""
    assert coalesce.claim_scans([task.pk]) == [task.pk]
    jobs.scan_task(task.pk)
    assert coalesce.claim_scans([task.pk]) == [task.pk]


def test_a_scan_while_a_rows_job_runs_leaves_the_row_to_that_job(task, sent, monkeypatch):
    """A refresh forgot the digests: its jobs have started but not recorded yet. A scan then
    (beat's 5 s scan, on another node) would queue the same rows again only for want of the
    digests the running jobs are about to write: each service was read twice."""
    tasks.scan_task(task.pk)
    tasks.sync_services(queued(sent))
    tasks.refresh_all()
    tasks.scan_task(task.pk)
    batch = sent["sync_services"][-1][0]
    assert len(batch) == 3
    real_sync_row, during = jobs.sync_row, []

    def sync_row_with_a_scan_meanwhile(row, force=False):
        tasks.scan_task(task.pk)
        during.append(len(queued(sent)))
        return real_sync_row(row, force)

    monkeypatch.setattr(jobs, "sync_row", sync_row_with_a_scan_meanwhile)
    before = len(queued(sent))
    tasks.sync_services(batch)
    assert during == [before] * 3  # no row was queued while its job ran
    ServiceSync.objects.update(source_digest="")  # e.g. the next refresh
    tasks.scan_task(task.pk)
    assert sorted(queued(sent)[before:]) == sorted(batch)  # the jobs ended: queued again


# --- a new, imported, edited or resumed task is scanned at once, not at the next beat ---------

IMPORTED = """\
clusters:
  - {clusterName: a, clusterType: ZOOKEEPER, connectKeyList: ["127.0.0.1:1"]}
  - {clusterName: b, clusterType: NACOS, connectKeyList: ["127.0.0.1:2"]}
  - {clusterName: c, clusterType: ZOOKEEPER, connectKeyList: ["127.0.0.1:3"]}
tasks:
  - {source: a, destination: b, type: Service}
  - {source: a, destination: c, type: Config, serviceMatchPattern: /app}
"""


@pytest.fixture
def sent_now(monkeypatch):
    """(job name, task id) of every scan the web side sends straight to the broker."""
    out = []
    send = lambda name, args: out.append((name.rsplit(".", 1)[1], args[0]))  # noqa: E731
    monkeypatch.setattr(jobs.current_app, "send_task", send)
    return out


def test_an_import_queues_its_tasks_scans_at_once_once(tmp_path, sent_now):
    path = tmp_path / "config.yaml"
    path.write_text(IMPORTED)
    call_command("import_config", "-f", str(path), stdout=StringIO())
    ids = dict(SyncTask.objects.values_list("sync_type", "pk"))
    assert sorted(sent_now) == sorted(
        [("scan_task", ids[SyncTask.SERVICE]), ("sync_configs", ids[SyncTask.CONFIG])]
    )
    call_command("import_config", "-f", str(path), stdout=StringIO())
    assert len(sent_now) == 2  # both still wait: the beat's coalescing holds here too
    call_command("import_config", "-f", str(path), "--dry-run", stdout=StringIO())
    assert len(sent_now) == 2


def test_a_task_created_or_resumed_by_the_api_is_scanned_at_once(api_client, sent_now):
    memory_task(SERVICES)
    created = api_client.post("/api/tasks/", {"source": "b", "destination": "a"}, format="json")
    assert created.status_code == 201, created.content
    assert sent_now == [("scan_task", created.json()["id"])]
    pk = created.json()["id"]
    api_client.post(f"/api/tasks/{pk}/pause/")
    coalesce.scan_started(pk)  # its scan ran
    assert len(sent_now) == 1  # paused: nothing to scan
    api_client.post(f"/api/tasks/{pk}/resume/")
    assert sent_now[1:] == [("scan_task", pk)]


def test_a_broker_that_cannot_take_the_scan_leaves_it_to_the_beat(task, sent, monkeypatch):
    def refuse(name, args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(jobs.current_app, "send_task", refuse)
    jobs.scan_soon([task.pk])
    tasks.scan_all()  # the claim was released: the beat queues the scan
    assert sent["scan_task"] == [(task.pk,)]
