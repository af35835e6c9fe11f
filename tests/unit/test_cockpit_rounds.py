"""Cockpit rounds over the memory registry: the phase walks with the facts, reads are bounded,
a paused task is still read, and a side that cannot be read is unknown with its error."""

import pytest

from syncapp import jobs
from syncapp.cockpit import phases
from syncapp.cockpit.rounds import read_round
from syncapp.models import Cluster, ServicePhase, ServiceSync, SyncTask
from syncapp.registries import memory
from syncapp.registries.base import Instance, ServiceKey

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memory")]
SVC = ServiceKey("public", "DEFAULT_GROUP", "orders")


def make_task(**kw):
    old = Cluster.objects.create(cluster_name="old", cluster_type="MEMORY", connect_keys=["m"])
    new = Cluster.objects.create(cluster_name="new", cluster_type="MEMORY", connect_keys=["m"])
    return SyncTask.objects.create(source=old, destination=new, **kw)


def provider(cluster, port, service=SVC):
    instance = Instance("10.0.0.1", port)
    memory.store(cluster).services.setdefault(service, {})[instance.key] = instance


def leave(cluster, port, service=SVC):
    del memory.store(cluster).services[service][Instance("10.0.0.1", port).key]


def consumers(cluster, n, service=SVC):
    memory.store(cluster).subscribers[service] = n


def synced(task):
    for row_id in jobs.scan_task(task.pk):
        jobs.sync_service(row_id, force=True)


def phase_now(task) -> ServicePhase:
    read_round(batch=100)
    return ServicePhase.objects.get(task=task, service=SVC.name)


def test_the_phase_walks_from_not_started_to_done_as_consumers_then_providers_move():
    task = make_task()
    provider("old", 1)
    consumers("old", 1)
    consumers("new", 0)
    synced(task)
    seen = phase_now(task)
    assert (seen.phase, seen.old_natives, seen.new_copies) == (phases.NOT_STARTED, 1, 1)
    consumers("new", 1)  # the consumer moves
    consumers("old", 0)
    seen = phase_now(task)
    assert seen.phase == phases.CONSUMERS_MOVING
    assert "reach only copies of old's providers" in seen.warning
    provider("new", 2)  # then the provider
    seen = phase_now(task)
    assert (seen.phase, seen.new_natives, seen.warning) == (phases.PROVIDERS_MOVING, 1, "")
    leave("old", 1)
    seen = phase_now(task)
    assert (seen.phase, seen.old_natives, seen.old_subscribers) == (phases.DONE, 0, 0)


def test_kinds_without_subscriber_data_stay_unknown_and_never_reach_done():
    task = make_task()
    provider("new", 2)
    provider("old", 1)
    synced(task)
    leave("old", 1)  # no subscriber counts were set: the kind does not say
    seen = phase_now(task)
    assert seen.old_subscribers is None and seen.new_subscribers is None
    assert seen.phase == phases.PROVIDERS_MOVING


def test_a_paused_task_is_read_and_warns():
    task = make_task()
    provider("old", 1)
    consumers("new", 2)
    synced(task)
    SyncTask.objects.filter(pk=task.pk).update(paused=True)
    assert "2 consumer(s) on new" in phase_now(task).warning


def test_an_unreadable_side_makes_the_phase_unknown_until_it_answers():
    task = make_task()
    provider("old", 1)
    synced(task)
    memory.store("new").fail_reads = True
    seen = phase_now(task)
    assert seen.phase == phases.UNKNOWN and seen.new_natives is None
    assert seen.error.startswith("new: ") and "down" in seen.error
    memory.store("new").fail_reads = False
    seen = phase_now(task)
    assert seen.phase == phases.NOT_STARTED and seen.error == ""


def test_each_round_reads_at_most_its_batch_and_walks_every_service_in_turn(monkeypatch):
    task = make_task()
    names = [f"s{i}" for i in range(5)]
    for name in names:
        provider("old", 1, ServiceKey("public", "DEFAULT_GROUP", name))
    synced(task)
    reads = []
    original = memory.MemoryRegistry.list_instances

    def counted(self, service):
        reads.append(service.name)
        return original(self, service)

    monkeypatch.setattr(memory.MemoryRegistry, "list_instances", counted)
    assert [read_round(batch=2) for _ in range(4)] == [2, 2, 1, 2]
    # Two reads (old and new side) per service; all five once before the walk starts again.
    assert sorted(reads[:10]) == sorted(names * 2)
    assert ServicePhase.objects.count() == ServiceSync.objects.filter(reverse=False).count()


def test_a_moved_service_stays_done_after_the_old_side_forgets_it_and_goes_when_gone():
    task = make_task()
    provider("old", 1)
    synced(task)
    assert phase_now(task).phase == phases.NOT_STARTED
    provider("new", 2)
    leave("old", 1)
    synced(task)  # its copy goes
    consumers("old", 0)
    ServiceSync.objects.filter(task=task).delete()  # the scan dropped the retired row
    assert phase_now(task).phase == phases.DONE
    leave("new", 2)  # the service is gone from both sides
    read_round(batch=100)
    assert not ServicePhase.objects.filter(task=task).exists()


def test_a_service_the_pattern_no_longer_matches_leaves_the_cockpit():
    task = make_task()
    provider("old", 1)
    synced(task)
    read_round(batch=100)
    SyncTask.objects.filter(pk=task.pk).update(service_match_pattern="other-.*")
    read_round(batch=100)
    assert not ServicePhase.objects.filter(task=task).exists()


def test_a_large_task_does_not_starve_a_small_one():
    big = make_task()
    for n in range(6):
        provider("old", 1, ServiceKey("public", "DEFAULT_GROUP", f"big-{n}"))
    small_old = Cluster.objects.create(
        cluster_name="small", cluster_type="MEMORY", connect_keys=["m"]
    )
    small = SyncTask.objects.create(source=small_old, destination=big.destination)
    provider("small", 1, ServiceKey("public", "DEFAULT_GROUP", "lonely"))
    synced(big)
    synced(small)
    read_round(batch=2)
    read_round(batch=2)
    lonely = ServicePhase.objects.get(task=small, service="lonely")
    assert lonely.phase == phases.NOT_STARTED  # read in the second round, not after the big one


def test_rounds_that_waited_behind_a_backlog_do_not_run_back_to_back():
    task = make_task()
    provider("old", 1)
    synced(task)
    assert read_round(batch=100, min_gap=7.5) == 1
    assert read_round(batch=100, min_gap=7.5) == 0  # right after: skipped
    assert read_round(batch=100) == 1  # no gap asked (tests, a forced round)
