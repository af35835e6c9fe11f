"""Subscriber counts for the migration cockpit (issue 16), against the real servers.

Nacos 3 (v1 off) lists a service's subscribers on its v3 admin API: an official client's
subscription counts, msesync's own does not. r-nacos lists no gRPC subscriber: unknown.
ZooKeeper Dubbo: consumers under /dubbo/<interface>/consumers, by version and group.
"""

import uuid

from syncapp.registries.base import ClusterConfig, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from syncapp.registries.zookeeper import ZookeeperRegistry
from tests.support.nacos_sdk import subscribed
from tests.support.waiting import wait_until


def nacos_at(address) -> NacosRegistry:
    return NacosRegistry(ClusterConfig("subs", "NACOS", (address,)))


def test_nacos_counts_an_apps_subscription_and_not_msesyncs_own(nacos, tmp_path):
    name = f"subs-{uuid.uuid4().hex[:8]}"
    key = ServiceKey("public", "DEFAULT_GROUP", name)
    registry = nacos_at(nacos)
    assert registry.count_subscribers(key) == 0
    registry.naming().subscribe(key)  # msesync's own subscription (its feed does this)
    assert registry.count_subscribers(key) == 0

    with subscribed(nacos, name, str(tmp_path)):
        wait_until(lambda: registry.count_subscribers(key) == 1, 10)
    wait_until(lambda: registry.count_subscribers(key) == 0, 10)
    registry.close()


def test_r_nacos_lists_no_grpc_subscriber_so_the_count_is_unknown(nacos_alt, tmp_path):
    """r-nacos 0.8 serves v1's subscriber list, but it stays empty while an app subscribes over
    gRPC (checked here): msesync says unknown rather than 0."""
    name = f"subs-{uuid.uuid4().hex[:8]}"
    key = ServiceKey("public", "DEFAULT_GROUP", name)
    registry = nacos_at(nacos_alt)
    with subscribed(nacos_alt, name, str(tmp_path)):
        assert registry.http.subscribers(key) == []  # the server's own answer, app subscribed
        assert registry.count_subscribers(key) is None
    registry.close()


def consumer_node(interface: str, version: str = "", group: str = "", host="10.9.0.1") -> str:
    from urllib.parse import quote

    query = f"interface={interface}&side=consumer&category=consumers"
    query += f"&version={version}" if version else ""
    query += f"&group={group}" if group else ""
    return quote(f"consumer://{host}/{interface}?{query}", safe="")


def test_zookeeper_counts_the_dubbo_consumers_of_that_version_and_group(zookeeper, zk):
    interface = f"com.example.subs{uuid.uuid4().hex[:6]}.Api"
    folder = f"/dubbo/{interface}/consumers"
    for node in (
        consumer_node(interface, "1.0.0", host="10.9.0.1"),
        consumer_node(interface, "*", host="10.9.0.2"),  # any version
        consumer_node(interface, "2.0.0", host="10.9.0.3"),  # another version
        consumer_node(interface, "1.0.0", "blue", host="10.9.0.4"),  # another group
    ):
        zk.create(f"{folder}/{node}", ephemeral=True, makepath=True)
    registry = ZookeeperRegistry(ClusterConfig("subs", "ZOOKEEPER", (zookeeper,)))
    try:
        assert registry.count_subscribers(ServiceKey("", "", f"providers:{interface}:1.0.0:")) == 2
        blue = ServiceKey("", "", f"providers:{interface}:1.0.0:blue")
        assert registry.count_subscribers(blue) == 1  # no group asked: not a group's consumer
        nobody = ServiceKey("", "", f"providers:com.example.none{uuid.uuid4().hex[:6]}:1.0.0:")
        assert registry.count_subscribers(nobody) == 0
        assert registry.count_subscribers(ServiceKey("", "", "curator-app")) is None
    finally:
        registry.close()
