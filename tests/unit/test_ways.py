"""Way: one way of a task, its ends swapped for the reverse way of a two-way task."""

import datetime

import pytest

from syncapp.engine.naming import dest_service_key
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.registries.base import ServiceKey
from syncapp.ways import Way, ways_of, where_copies_go


def cluster(name, kind, namespaces=""):
    return Cluster(
        cluster_name=name, cluster_type=kind, connect_keys=["h:1"], namespaces=namespaces
    )


def task(source, dest, mode=SyncTask.UNIDIRECTIONAL, sync_type=SyncTask.SERVICE, **kw):
    return SyncTask(pk=7, source=source, destination=dest, mode=mode, sync_type=sync_type, **kw)


ZK = cluster("zk", "ZOOKEEPER")
DEV = cluster("nacos", "NACOS", " dev , test")
BARE = cluster("plain", "NACOS")
CONSUL = cluster("consul", "CONSUL")


def test_the_forward_way_goes_from_the_tasks_source_to_its_destination():
    way = Way(task(ZK, DEV))
    assert (way.source, way.destination) == (ZK, DEV)
    assert (way.key, way.name) == ((7, False), "forward")
    assert way.label == "zk -> nacos (Service)"


def test_the_reverse_way_swaps_the_ends():
    way = Way(task(ZK, DEV, SyncTask.BIDIRECTIONAL), reverse=True)
    assert (way.source, way.destination) == (DEV, ZK)
    assert (way.key, way.name) == ((7, True), "reverse")
    assert way.ends == "nacos -> zk"
    assert way.label == "nacos -> zk (Service)"


def test_a_row_gives_its_way_and_its_label():
    row = ServiceSync(task=task(ZK, DEV, SyncTask.BIDIRECTIONAL), reverse=True, service="s")
    assert Way.of_row(row).label == "nacos -> zk (Service)"
    assert Way.of_row(row) == Way(row.task, True)


def test_ways_are_dict_keys_by_task_and_reverse():
    t = task(ZK, DEV, SyncTask.BIDIRECTIONAL)
    assert {Way(t): 1, Way(t, True): 2}[Way(task(ZK, DEV), False)] == 1


@pytest.mark.parametrize(
    ("mode", "sync_type", "reverses"),
    [
        (SyncTask.UNIDIRECTIONAL, SyncTask.SERVICE, [False]),
        (SyncTask.BIDIRECTIONAL, SyncTask.SERVICE, [False, True]),
        # A two-way Config task is one pass over both sides, not two ways.
        (SyncTask.BIDIRECTIONAL, SyncTask.CONFIG, [False]),
    ],
)
def test_ways_of_a_task(mode, sync_type, reverses):
    ways = ways_of(task(DEV, BARE, mode, sync_type))
    assert [w.reverse for w in ways] == reverses


def test_the_direction_carries_the_ends_the_task_and_the_destination_namespace():
    t = task(ZK, DEV, SyncTask.BIDIRECTIONAL, keep_case=True)
    forward, back = Way(t).direction, Way(t, True).direction
    assert (forward.source, forward.dest, forward.source_kind, forward.dest_kind) == (
        "zk",
        "nacos",
        "ZOOKEEPER",
        "NACOS",
    )
    assert (forward.task_id, forward.keep_case, forward.dest_namespace) == (7, True, "dev")
    assert (back.source, back.dest, back.dest_namespace) == ("nacos", "zk", "")
    # The destination adapter's capability: Nacos copies only live instances, memory all.
    assert not forward.dest_syncs_health
    assert Way(task(ZK, cluster("m", "MEMORY"))).direction.dest_syncs_health


def test_copies_of_a_two_way_task_land_where_each_way_says():
    t = task(ZK, DEV, SyncTask.BIDIRECTIONAL)
    service = ServiceKey("", "", "providers:com.foo.Demo:1.0.0:")
    assert dest_service_key(service, Way(t).direction).namespace == "dev"
    # The reverse way reads the namespaces configured at nacos: dev, where the forward copies
    # are, and test. What it copies to ZooKeeper loses its namespace.
    native = ServiceKey("test", "G", "orders")
    assert dest_service_key(native, Way(t, True).direction) == ServiceKey("", "", "orders")


@pytest.mark.parametrize(
    ("source", "dest", "said"),
    [
        (ZK, DEV, 'namespace "dev"'),
        (CONSUL, BARE, 'namespace "public"'),
        (BARE, DEV, "the source's namespaces"),
        (DEV, ZK, ""),
        (DEV, CONSUL, ""),
    ],
)
def test_copies_go_to(source, dest, said):
    assert Way(task(source, dest)).copies_go_to == said


@pytest.mark.parametrize(
    ("source", "dest", "mode", "said"),
    [
        (ZK, DEV, SyncTask.UNIDIRECTIONAL, 'copies go to namespace "dev"'),
        (ZK, DEV, SyncTask.BIDIRECTIONAL, 'copies go to namespace "dev"'),
        (DEV, ZK, SyncTask.BIDIRECTIONAL, 'copies back to nacos go to namespace "dev"'),
        (DEV, BARE, SyncTask.BIDIRECTIONAL, "copies go to the source's namespaces"),
        (DEV, CONSUL, SyncTask.UNIDIRECTIONAL, ""),
    ],
)
def test_where_a_tasks_copies_go(source, dest, mode, said):
    assert where_copies_go(task(source, dest, mode)) == said


def test_each_way_reads_its_own_feed_stamp():
    then = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    t = task(ZK, DEV, SyncTask.BIDIRECTIONAL, feed_alive_at=then)
    assert (Way(t).feed_alive_at, Way(t, True).feed_alive_at) == (then, None)
