"""Way: one way of a task, its ends swapped for the reverse way of a two-way task."""

import datetime

import pytest

from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.ways import Way, ways_of


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


def test_each_way_reads_its_own_feed_stamp():
    then = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    t = task(ZK, DEV, SyncTask.BIDIRECTIONAL, feed_alive_at=then)
    assert (Way(t).feed_alive_at, Way(t, True).feed_alive_at) == (then, None)
