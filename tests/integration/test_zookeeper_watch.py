"""The ZooKeeper change feed against the real server: watches name what changed."""

import queue
import uuid
from urllib.parse import quote

import pytest
from kazoo.client import KazooClient

from syncapp.registries.base import ClusterConfig, ServiceKey
from syncapp.registries.zookeeper import ZookeeperRegistry
from tests.support.waiting import reported, wait_until

WAIT = 5.0


@pytest.fixture
def feed(zookeeper):
    adapter = ZookeeperRegistry(ClusterConfig("zk", "ZOOKEEPER", (zookeeper,)))
    changes = queue.Queue()
    assert adapter.watch(changes.put)
    yield adapter, changes
    adapter.close()


def provider_node(interface, port, version="1.0.0"):
    url = (
        f"dubbo://10.9.0.1:{port}/{interface}?interface={interface}&version={version}"
        "&side=provider&application=app"
    )
    return f"/dubbo/{interface}/providers/{quote(url, safe='')}"


def test_a_new_and_a_removed_dubbo_provider_are_reported_by_service_name(feed, zk):
    _, changes = feed
    interface = f"com.example.W{uuid.uuid4().hex[:8]}"
    node = provider_node(interface, 20880)
    zk.create(node, ephemeral=True, makepath=True)
    expected = ServiceKey("", "", f"providers:{interface}:1.0.0:")
    assert reported(changes, expected, timeout=WAIT)
    zk.delete(node)
    assert reported(changes, expected, timeout=WAIT)
    zk.delete(f"/dubbo/{interface}", recursive=True)


def test_a_curator_registration_is_reported_by_its_name(feed, zk):
    _, changes = feed
    name = f"w-{uuid.uuid4().hex[:8]}"
    zk.create(f"/services/{name}/id-1", b"{}", ephemeral=True, makepath=True)
    assert reported(changes, ServiceKey("", "", name), timeout=WAIT)
    zk.delete(f"/services/{name}", recursive=True)


def test_a_lost_session_asks_for_a_full_resync_and_watches_again(feed, zookeeper, zk):
    adapter, changes = feed
    session_id, password = adapter._client().client_id
    # The classic way to expire a session: a second client takes it over and closes it.
    thief = KazooClient(hosts=zookeeper, client_id=(session_id, password))
    thief.start(timeout=5)
    thief.stop()
    thief.close()
    # Other changes may come first (the shared server is busy); the resync must come.
    while (change := changes.get(timeout=30)) is not None:
        assert isinstance(change, ServiceKey)
    # The new session has every watch again: a provider that comes now is reported.
    interface = f"com.example.W{uuid.uuid4().hex[:8]}"
    node = provider_node(interface, 20880)
    zk.create(node, ephemeral=True, makepath=True)
    assert reported(changes, ServiceKey("", "", f"providers:{interface}:1.0.0:"), timeout=WAIT)
    zk.delete(f"/dubbo/{interface}", recursive=True)


def test_a_providers_folder_deleted_and_created_again_is_still_watched(feed, zk):
    _, changes = feed
    interface = f"com.example.W{uuid.uuid4().hex[:8]}"
    expected = ServiceKey("", "", f"providers:{interface}:1.0.0:")
    zk.create(provider_node(interface, 20880), ephemeral=True, makepath=True)
    assert reported(changes, expected, timeout=WAIT)
    zk.delete(f"/dubbo/{interface}", recursive=True)
    assert reported(changes, expected, timeout=WAIT)  # its provider went with it
    zk.create(provider_node(interface, 20881), ephemeral=True, makepath=True)
    assert reported(changes, expected, timeout=WAIT)
    zk.delete(f"/dubbo/{interface}", recursive=True)


def test_what_is_there_when_the_watch_starts_is_not_reported_but_its_changes_are(zookeeper, zk):
    interface = f"com.example.W{uuid.uuid4().hex[:8]}"
    name = f"w-{uuid.uuid4().hex[:8]}"
    zk.create(provider_node(interface, 20880), ephemeral=True, makepath=True)
    zk.create(f"/services/{name}/id-1", b"{}", ephemeral=True, makepath=True)
    adapter = ZookeeperRegistry(ClusterConfig("zk", "ZOOKEEPER", (zookeeper,)))
    changes = queue.Queue()
    try:
        adapter.watch(changes.put)
        provider = ServiceKey("", "", f"providers:{interface}:1.0.0:")
        entry = ServiceKey("", "", name)
        seen = []
        with pytest.raises(queue.Empty):  # the start-up state (other tests' may change)
            while True:
                seen.append(changes.get(timeout=2))
        assert provider not in seen and entry not in seen
        zk.create(provider_node(interface, 20881), ephemeral=True)
        assert reported(changes, provider, timeout=WAIT)
        zk.create(f"/services/{name}/id-2", b"{}", ephemeral=True)
        assert reported(changes, entry, timeout=WAIT)
    finally:
        adapter.close()
        zk.delete(f"/dubbo/{interface}", recursive=True)
        zk.delete(f"/services/{name}", recursive=True)


def test_the_feed_is_ready_only_once_every_folder_there_at_its_start_is_watched(zookeeper, zk):
    """Scans for the events missed before a feed wait for this (feeds.note_ready_feeds)."""
    prefix = f"com.example.R{uuid.uuid4().hex[:8]}"
    interfaces = [f"{prefix}{n}" for n in range(200)]
    for interface in interfaces:
        zk.create(provider_node(interface, 20880), ephemeral=True, makepath=True)
    adapter = ZookeeperRegistry(ClusterConfig("zk", "ZOOKEEPER", (zookeeper,)))
    try:
        assert not adapter.feed_ready(), "no feed before watch()"
        adapter.watch(lambda key: None)
        assert not adapter.feed_ready(), "the roots are not even listed yet"
        wait_until(adapter.feed_ready, timeout=15, step=0.05)
        watched = adapter._watcher.known
        assert all(f"/dubbo/{i}/providers" in watched for i in interfaces)
    finally:
        adapter.close()
        for interface in interfaces:
            zk.delete(f"/dubbo/{interface}", recursive=True)
