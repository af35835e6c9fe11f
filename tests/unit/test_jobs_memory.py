"""The jobs end to end over the memory registry: scan, sync, outage, leases, two ways."""

import pytest

from syncapp import jobs
from syncapp.engine.markers import SOURCE_CLUSTER
from syncapp.keeper import leases
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.registries import memory
from syncapp.registries.base import Instance, ServiceKey

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memory")]
SVC = ServiceKey("public", "DEFAULT_GROUP", "orders")


def make_task(mode=SyncTask.UNIDIRECTIONAL, **kw):
    a = Cluster.objects.create(cluster_name="a", cluster_type="MEMORY", connect_keys=["m"])
    b = Cluster.objects.create(cluster_name="b", cluster_type="MEMORY", connect_keys=["m"])
    return SyncTask.objects.create(source=a, destination=b, mode=mode, **kw)


def register(cluster, service, *ports, **meta):
    for port in ports:
        memory.store(cluster).services.setdefault(service, {})
        instance = Instance("10.0.0.1", port, metadata=meta)
        memory.store(cluster).services[service][instance.key] = instance


def ports_at(cluster, service=SVC):
    return sorted(i.port for i in memory.store(cluster).services.get(service, {}).values())


def sync_round(task, force=False):
    for row_id in jobs.scan_task(task.pk):
        jobs.sync_service(row_id, force)


def test_it_copies_a_service_and_records_counts_and_leases():
    task = make_task()
    register("a", SVC, 1, 2, 3)
    sync_round(task)
    assert ports_at("b") == [1, 2, 3]
    row = ServiceSync.objects.get()
    assert (row.source_count, row.dest_count, len(row.leases)) == (3, 3, 3)
    assert row.last_success_at and not row.last_error


def test_it_keeps_the_destination_when_the_source_is_down():
    task = make_task()
    register("a", SVC, 1, 2)
    sync_round(task)
    memory.store("a").fail_reads = True
    sync_round(task, force=True)
    assert ports_at("b") == [1, 2]
    assert "down" in SyncTask.objects.get().last_error
    memory.store("a").fail_reads = False
    row = ServiceSync.objects.get()
    jobs.sync_service(row.pk)
    memory.store("a").fail_reads = True
    jobs.sync_service(row.pk, force=True)
    row.refresh_from_db()
    assert "down" in row.last_error and len(row.leases) == 2
    assert ports_at("b") == [1, 2]


def test_it_removes_an_instance_removed_at_the_source():
    task = make_task()
    register("a", SVC, 1, 2)
    sync_round(task)
    memory.store("a").services[SVC].pop(("10.0.0.1", 2, "DEFAULT"))
    sync_round(task)
    assert ports_at("b") == [1]


def test_a_service_gone_from_the_source_is_cleaned_up_and_its_row_dropped():
    task = make_task()
    register("a", SVC, 1)
    sync_round(task)
    memory.store("a").services.clear()
    sync_round(task)
    assert ports_at("b") == []
    assert not ServiceSync.objects.exists()


def test_bidirectional_copies_natives_both_ways_and_never_back():
    task = make_task(mode=SyncTask.BIDIRECTIONAL)
    register("a", SVC, 1, 2)
    register("b", SVC, 3)
    for _ in range(4):
        sync_round(task, force=True)
    assert ports_at("a") == [1, 2, 3]
    assert ports_at("b") == [1, 2, 3]
    at_a = {
        i.port: i.metadata.get(SOURCE_CLUSTER) for i in memory.store("a").services[SVC].values()
    }
    assert at_a == {1: None, 2: None, 3: "b"}


def test_a_paused_task_changes_nothing():
    task = make_task(paused=True)
    register("a", SVC, 1)
    sync_round(task)
    assert ports_at("b") == []


def test_the_pattern_selects_services():
    task = make_task(service_match_pattern="ord.*")
    other = ServiceKey("public", "DEFAULT_GROUP", "payments")
    register("a", SVC, 1)
    register("a", other, 2)
    sync_round(task)
    assert ports_at("b") == [1] and ports_at("b", other) == []


def test_lease_renewal_puts_back_a_copy_the_destination_lost():
    task = make_task()
    register("a", SVC, 1, 2)
    sync_round(task)
    memory.store("b").services[SVC].clear()  # e.g. the destination restarted
    assert leases.renew_leases(task.destination_id) == 0
    assert ports_at("b") == [1, 2]
    assert leases.leased_cluster_ids() == {task.destination_id}


def test_an_unchanged_source_is_not_rewritten():
    task = make_task()
    register("a", SVC, 1)
    sync_round(task)
    memory.store("b").services[SVC].clear()
    sync_round(task)  # digest unchanged: skipped, the lease renewal is what restores
    assert ports_at("b") == []
    sync_round(task, force=True)  # the refresh job skips nothing
    assert ports_at("b") == [1]


def test_a_service_gone_with_nothing_of_ours_copied_leaves_no_row():
    task = make_task()
    register("a", SVC, 1, sourceClusterId="elsewhere")  # a copy itself: nothing to copy
    sync_round(task)
    assert ServiceSync.objects.get().leases == []
    memory.store("a").services.clear()
    sync_round(task)
    assert not ServiceSync.objects.exists()


def test_a_failed_sync_stays_failed_until_a_full_sync_succeeds():
    """Issue 13: the destination was down during a sync; the next job of an unchanged source
    must retry it, not skip it (digest unchanged) and record a success that hides the error."""
    task = make_task()
    register("a", SVC, 1)
    sync_round(task)
    memory.store("b").fail_reads = True  # the destination dies
    sync_round(task, force=True)  # a refresh reads it, and fails
    assert "b is down" in ServiceSync.objects.get().last_error
    sync_round(task)  # the source has not changed: the scan's job must still look
    assert "b is down" in ServiceSync.objects.get().last_error
    memory.store("b").fail_reads = False
    memory.store("b").services.clear()  # it came back empty: the retry must restore it
    sync_round(task)
    row = ServiceSync.objects.get()
    assert row.last_error == "" and ports_at("b") == [1]
