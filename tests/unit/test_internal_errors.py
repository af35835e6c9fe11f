"""Issue 13: an exception that is not a RegistryError (a bug) in a sync, a scan or a feed is
recorded on the row or task it concerns, marked internal and logged with its traceback; the
rest of the batch goes on, the next scan tries again, and a stopped feed is started again."""

import logging
import threading
import time

import pytest

from syncapp import config_jobs, jobs
from syncapp.feeds import Feeds
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.registries import memory
from syncapp.registries.base import (
    ClusterConfig,
    ConfigItem,
    ConfigKey,
    RegistryError,
    ServiceKey,
)
from syncapp.registries.eureka import EurekaRegistry
from syncapp.registries.memory import MemoryRegistry
from syncapp.registries.nacos.watcher import ServiceWatcher as NacosWatcher
from syncapp.registries.pollfeed import PollingFeed
from syncapp.registries.zk_watch import ServiceWatcher as ZkWatcher
from tests.support.memory_tasks import memory_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memory")]
SERVICES = [ServiceKey("public", "DEFAULT_GROUP", f"s{n}") for n in range(3)]
BROKEN = SERVICES[1]


@pytest.fixture
def task():
    return memory_task(SERVICES)


def boom(*args):
    raise ValueError("boom")


def wait_for(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_bug_in_one_sync_is_on_its_row_and_the_rest_of_the_batch_syncs(task, monkeypatch, caplog):
    row_ids = jobs.scan_task(task.pk)
    original = MemoryRegistry.list_instances
    monkeypatch.setattr(
        MemoryRegistry,
        "list_instances",
        lambda self, key: boom() if key == BROKEN else original(self, key),
    )
    with caplog.at_level(logging.WARNING, logger="syncapp.jobs"):
        jobs.sync_services(row_ids)
    rows = {row.service: row for row in ServiceSync.objects.all()}
    assert rows["s1"].last_error == "internal error: ValueError: boom"
    assert rows["s1"].last_error_at is not None and rows["s1"].source_digest == ""
    assert all(rows[s].last_success_at and not rows[s].last_error for s in ("s0", "s2"))
    assert sorted(memory.store("b").services) == [SERVICES[0], SERVICES[2]]
    assert any(r.exc_info and r.exc_info[0] is ValueError for r in caplog.records)


def test_a_bug_in_a_scan_is_on_its_task_and_the_next_scan_tries_again(task, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(MemoryRegistry, "list_services", boom)
        assert jobs.scan_task(task.pk) == []
    assert "internal error: ValueError: boom" in SyncTask.objects.get().last_error
    assert SyncTask.objects.get().error_kind == "internal"
    assert len(jobs.scan_task(task.pk)) == 3  # still full: the failed one did not count
    assert SyncTask.objects.get().last_error == ""


def test_a_bug_in_a_config_pass_is_on_its_task_and_the_next_pass_tries_again(monkeypatch):
    a = Cluster.objects.create(cluster_name="a", cluster_type="MEMORY", connect_keys=["m"])
    b = Cluster.objects.create(cluster_name="b", cluster_type="MEMORY", connect_keys=["m"])
    task = SyncTask.objects.create(source=a, destination=b, sync_type=SyncTask.CONFIG)
    key = ConfigKey("public", "DEFAULT_GROUP", "app.yaml")
    memory.store("a").configs[key] = ConfigItem(key, "x: 1")
    with monkeypatch.context() as patched:
        patched.setattr(MemoryRegistry, "list_config_items", boom)
        config_jobs.sync_configs(task.pk)
    assert SyncTask.objects.get().last_error == "internal error: ValueError: boom"
    config_jobs.sync_configs(task.pk)
    assert SyncTask.objects.get().last_error == "" and key in memory.store("b").configs


def test_a_polling_feed_stopped_by_a_bug_says_why():
    polls = []

    def poll():
        polls.append(1)
        if len(polls) == 1:
            raise RegistryError("unreachable")  # retried: the feed keeps running
        raise ValueError("boom")

    feed = PollingFeed("t", poll, lambda key: None, pause=0.01)
    feed.start()
    feed.thread.join(5)
    assert not feed.thread.is_alive() and len(polls) == 2
    assert (feed.failure, feed.live) == ("internal error: ValueError: boom", False)


def test_a_nacos_subscription_feed_stopped_by_a_bug_says_why(monkeypatch):
    registry = MemoryRegistry(ClusterConfig("n", "MEMORY", ("m",)))
    monkeypatch.setattr(registry, "namespaces", boom)
    watcher = NacosWatcher(registry, naming=None, on_change=lambda key: None)
    watcher.start()
    watcher._thread.join(5)
    assert not watcher._thread.is_alive()
    assert (watcher.failure, watcher.live) == ("internal error: ValueError: boom", False)


def test_a_bug_in_a_zookeeper_watch_callback_is_the_feeds_failure():
    watcher = ZkWatcher(zk=None, on_change=lambda key: None)
    watcher._guarded(boom)("/dubbo", set())  # kazoo would only log it
    assert watcher.failure == "internal error: ValueError: boom"


@pytest.fixture
def eureka_task():
    a = Cluster.objects.create(cluster_name="e", cluster_type="EUREKA", connect_keys=["e:1"])
    b = Cluster.objects.create(cluster_name="b", cluster_type="MEMORY", connect_keys=["m"])
    return SyncTask.objects.create(source=a, destination=b)


def test_a_feed_stopped_by_a_bug_runs_again_after_one_round_and_its_task_says_so(
    eureka_task, monkeypatch
):
    """A Eureka delta poll (no server needed: the poll is replaced) fails with a bug once."""
    calls, polled = [], threading.Event()

    def delta_changes(self):
        calls.append(self)
        if len(calls) == 1:
            raise ValueError("boom")
        polled.set()
        return {ServiceKey("", "", "orders")}

    monkeypatch.setattr(EurekaRegistry, "delta_changes", delta_changes)
    sent = []
    feeds = Feeds(send_task=lambda name, args, queue: sent.append((name, args)))
    try:
        feeds.step()
        first = feeds.watches[(eureka_task.pk, False)][1]
        wait_for(first.feed_failure)
        assert not first.feed_alive()
        feeds.step()  # one keeper round
        task = SyncTask.objects.get()
        assert task.last_error == (
            "change feed stopped (internal error: ValueError: boom); restarted"
        )
        assert task.error_kind == "internal"
        assert ("workers.tasks.scan_task", [task.pk]) in sent  # re-read what it missed
        second = feeds.watches[(task.pk, False)][1]
        assert second is not first and not second.feed_failure()
        assert polled.wait(5) and calls[-1] is second
        wait_for(second.feed_alive)
        feeds.step()  # the restarted feed's change is dispatched
        row = ServiceSync.objects.get(service="orders")
        assert ("workers.tasks.sync_service", [row.pk]) in sent
    finally:
        feeds.close()
