"""A new service's first copy from the scan's own read (syncapp/first_copies.py)."""

import pytest

from syncapp import jobs
from syncapp.models import ServiceSync
from syncapp.registries import memory
from syncapp.registries.base import Instance, ServiceKey
from tests.unit.test_jobs_memory import ports_at, register
from tests.unit.test_keeper_holding import closed_adapters, held_task, keeper  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memory")]
SERVICES = [ServiceKey("public", "DEFAULT_GROUP", f"s{n}") for n in range(4)]


@pytest.fixture
def source():
    """Source `a` lists its instances with its services, as ZooKeeper Dubbo does."""
    for n, service in enumerate(SERVICES):
        register("a", service, 100 + n, 200 + n)
    memory.store("a").listing_reads_instances = True
    return memory.store("a")


def test_a_scan_records_new_services_absent_at_the_destination_without_jobs(source):
    task = held_task()
    register("b", SERVICES[1], 9)  # a native instance there: a job must see it (a conflict?)
    k = keeper()
    k.apply_changes()
    queued = jobs.scan_task(task.pk)
    rows = {r.service: r for r in ServiceSync.objects.all()}
    assert queued == [rows["s1"].pk]
    assert source.instance_reads == 0  # the copied ones were not read again
    for name in ("s0", "s2", "s3"):
        n = int(name[1:])
        assert rows[name].source_digest and rows[name].source_count == 2
        assert sorted(i["port"] for i in rows[name].leases) == [100 + n, 200 + n]
    k.apply_changes()  # the keeper holds what the scan recorded
    assert ports_at("b", SERVICES[0]) == [100, 200] and ports_at("b", SERVICES[3]) == [103, 203]
    for row_id in queued:
        jobs.sync_service(row_id)
    k.apply_changes()
    assert ports_at("b", SERVICES[1]) == [9, 101, 201]


def test_the_next_scan_of_a_copied_service_syncs_it_like_any_other(source):
    """Once recorded, the row is an ordinary one: a source change reaches it by a job."""
    task = held_task()
    jobs.scan_task(task.pk)
    keeper().apply_changes()  # held: until then a scan lists nothing (coalesce.holds_awaited)
    row = ServiceSync.objects.get(service="s2")
    register("a", SERVICES[2], 300)
    assert row.pk in jobs.scan_task(task.pk)  # polled source: every row is synced again
    jobs.sync_service(row.pk)
    row.refresh_from_db()
    assert sorted(i["port"] for i in row.leases) == [102, 202, 300]


def test_rows_go_to_jobs_when_the_destination_cannot_be_listed(source, monkeypatch):
    task = held_task()

    def unlisted(self, namespace):
        raise jobs.RegistryError("destination down")

    monkeypatch.setattr(memory.HeldMemoryRegistry, "list_services", unlisted)
    queued_before = jobs.scan_task(task.pk)
    assert len(queued_before) == 4
    assert not ServiceSync.objects.exclude(source_digest="").exists()


def test_a_destination_whose_jobs_write_gets_no_first_copies(source):
    """Only copies a keeper holds are recorded without a write: others need their job's."""
    task = held_task()
    task.destination.cluster_type = "MEMORY"
    task.destination.save()
    assert len(jobs.scan_task(task.pk)) == 4
    assert source.instance_reads == 0
    assert not ServiceSync.objects.exclude(source_digest="").exists()


def test_an_instance_read_by_the_listing_is_copied_as_a_job_would(source):
    """The same plan either way: markers, and the destination's stored form."""
    task = held_task()
    jobs.scan_task(task.pk)
    by_scan = ServiceSync.objects.get(service="s3").leases
    ServiceSync.objects.all().delete()
    source.listing_reads_instances = False
    for row_id in jobs.scan_task(task.pk):
        jobs.sync_service(row_id)
    assert ServiceSync.objects.get(service="s3").leases == by_scan
    assert Instance.from_dict(by_scan[0]).metadata  # markers are there


def test_a_poll_queues_only_the_services_its_listing_read_changed(source):
    """A polled source whose listing reads instances: an unchanged service is checked by the
    scan itself (its check time moves), not by a job that would skip it after a second read."""
    task = held_task()
    jobs.scan_task(task.pk)
    keeper().apply_changes()
    before = dict(ServiceSync.objects.values_list("service", "last_success_at"))
    register("a", SERVICES[3], 999)
    queued = jobs.scan_task(task.pk)
    assert queued == [ServiceSync.objects.get(service="s3").pk]
    after = dict(ServiceSync.objects.values_list("service", "last_success_at"))
    assert all(after[name] > before[name] for name in ("s0", "s1", "s2"))
    ServiceSync.objects.filter(service="s1").update(last_error="boom")  # failed: a job retries
    assert ServiceSync.objects.get(service="s1").pk in jobs.scan_task(task.pk)


def test_new_services_are_copied_batch_by_batch_while_the_listing_goes_on(source, monkeypatch):
    """The keeper can hold a batch's copies while the rest is read (ZooKeeper reads 1,000
    interfaces at a time; the memory source one service at a time)."""
    task = held_task()
    recorded_as_heard = []
    original = memory.MemoryRegistry.list_services_read

    def observed(self, namespace, on_read=None):
        def heard(batch):
            recorded_as_heard.append(ServiceSync.objects.exclude(leases=[]).count())
            on_read(batch)

        return original(self, namespace, heard if on_read else None)

    monkeypatch.setattr(memory.MemoryRegistry, "list_services_read", observed)
    assert jobs.scan_task(task.pk) == []
    assert recorded_as_heard == [0, 1, 2, 3], "each batch recorded before the next is read"
    assert source.instance_reads == 0
    assert ServiceSync.objects.exclude(source_digest="").count() == len(SERVICES)


def test_a_destination_that_cannot_be_listed_is_asked_once_per_scan(source, monkeypatch):
    task = held_task()
    asked = []

    def unlisted(self, namespace):
        asked.append(namespace)
        raise jobs.RegistryError("destination down")

    monkeypatch.setattr(memory.HeldMemoryRegistry, "list_services", unlisted)
    assert len(jobs.scan_task(task.pk)) == len(SERVICES)
    assert len(asked) == 1, "not once per batch: each could wait for a timeout"


def test_a_destination_that_cannot_say_how_it_holds_copies_leaves_new_services_to_jobs(
    source, monkeypatch
):
    """Nacos picks gRPC or HTTP at its first connection: unreachable, it cannot tell."""
    task = held_task()

    def unreachable(self):
        raise jobs.RegistryError("destination down")

    monkeypatch.setattr(memory.HeldMemoryRegistry, "holds_by_connection", property(unreachable))
    assert len(jobs.scan_task(task.pk)) == len(SERVICES)
    assert not ServiceSync.objects.exclude(source_digest="").exists()
