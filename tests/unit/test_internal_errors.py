"""Issue 13: an exception that is not a RegistryError (a bug) in a sync, a scan or a config
pass is recorded on the row or task it concerns, marked internal and logged with its
traceback; the rest of the batch goes on and the next scan tries again."""

import logging

import pytest

from syncapp import config_jobs, jobs
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.registries import memory
from syncapp.registries.base import (
    ClusterConfig,
    ConfigItem,
    ConfigKey,
    Instance,
    ServiceKey,
)
from syncapp.registries.memory import MemoryRegistry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memory")]
SERVICES = [ServiceKey("public", "DEFAULT_GROUP", f"s{n}") for n in range(3)]
BROKEN = SERVICES[1]


@pytest.fixture
def task():
    a = Cluster.objects.create(cluster_name="a", cluster_type="MEMORY", connect_keys=["m"])
    b = Cluster.objects.create(cluster_name="b", cluster_type="MEMORY", connect_keys=["m"])
    source = MemoryRegistry(ClusterConfig("a", "MEMORY", ("m",)))
    for n, service in enumerate(SERVICES):
        source.register(service, Instance("10.0.0.1", 100 + n))
    return SyncTask.objects.create(source=a, destination=b)


def boom(*args):
    raise ValueError("boom")


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
