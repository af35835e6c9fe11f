"""Change feeds: a pushed change queues the sync of exactly that service."""

import pytest

from syncapp.feeds import Feeds
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.registries import memory
from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.memory import MemoryRegistry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memory")]
ORDERS = ServiceKey("public", "DEFAULT_GROUP", "orders")


@pytest.fixture
def task():
    a = Cluster.objects.create(cluster_name="a", cluster_type="MEMORY", connect_keys=["m"])
    b = Cluster.objects.create(cluster_name="b", cluster_type="MEMORY", connect_keys=["m"])
    return SyncTask.objects.create(source=a, destination=b, service_match_pattern="ord.*")


@pytest.fixture
def feeds():
    sent = []
    running = Feeds(send_task=lambda name, args, queue: sent.append((name, args)))
    running.sent = sent
    yield running
    running.close()


def source_client():
    return MemoryRegistry(ClusterConfig("a", "MEMORY", ("m",)))


def test_a_change_at_the_source_queues_that_services_sync(task, feeds):
    feeds.step()
    source_client().register(ORDERS, Instance("10.0.0.1", 1))
    source_client().register(ORDERS, Instance("10.0.0.2", 1))  # coalesced with the first
    assert feeds.step() == 1
    row = ServiceSync.objects.get()
    assert (row.service, row.reverse) == ("orders", False)
    assert feeds.sent == [("workers.tasks.sync_service", [row.pk])]


def test_a_service_outside_the_pattern_is_ignored(task, feeds):
    feeds.step()
    source_client().register(ServiceKey("public", "DEFAULT_GROUP", "pay"), Instance("1.1.1.1", 1))
    assert feeds.step() == 0 and not ServiceSync.objects.exists()


def test_a_reconnect_asks_for_a_full_resync(task, feeds):
    feeds.step()
    for on_change in memory.store("a").watchers:
        on_change(None)
    feeds.step()
    assert feeds.sent == [("workers.tasks.scan_task", [task.pk])]


def test_pausing_a_task_closes_its_watch(task, feeds):
    feeds.step()
    assert len(memory.store("a").watchers) == 1
    SyncTask.objects.filter(pk=task.pk).update(paused=True)
    feeds.step()
    assert memory.store("a").watchers == []


def test_without_autoscan_only_known_services_are_synced(task, feeds):
    SyncTask.objects.filter(pk=task.pk).update(auto_scan=False)
    feeds.step()
    source_client().register(ORDERS, Instance("10.0.0.1", 1))
    assert feeds.step() == 0
