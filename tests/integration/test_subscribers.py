"""Subscriber counts for the migration cockpit (issue 16), against the real servers.

Nacos 3 (v1 off) lists a service's subscribers on its v3 admin API: an official client's
subscription counts, msesync's own does not. r-nacos serves no subscriber list: unknown.
ZooKeeper Dubbo: consumers under /dubbo/<interface>/consumers, by version and group.
"""

import asyncio
import uuid

from syncapp.registries.base import ClusterConfig, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from syncapp.registries.zookeeper import ZookeeperRegistry
from tests.support.waiting import wait_until


def nacos_at(address) -> NacosRegistry:
    return NacosRegistry(ClusterConfig("subs", "NACOS", (address,)))


async def official_subscriber(address: str, cache_dir: str, service: str):
    """nacos-sdk-python's gRPC client, subscribed to `service` (as a Java or Go app would be)."""
    from v2.nacos import ClientConfigBuilder, NacosNamingService
    from v2.nacos.naming.model.naming_param import SubscribeServiceParam

    config = (
        ClientConfigBuilder()
        .server_address(address)
        .namespace_id("public")
        .cache_dir(cache_dir)
        .log_dir(cache_dir)
        .build()
    )
    client = await NacosNamingService.create_naming_service(config)

    async def on_change(instances):
        pass

    await client.subscribe(
        SubscribeServiceParam(service_name=service, subscribe_callback=on_change)
    )
    return client


def test_nacos_counts_an_apps_subscription_and_not_msesyncs_own(nacos, tmp_path):
    name = f"subs-{uuid.uuid4().hex[:8]}"
    key = ServiceKey("public", "DEFAULT_GROUP", name)
    registry = nacos_at(nacos)
    assert registry.count_subscribers(key) == 0
    registry.naming().subscribe(key)  # msesync's own subscription (its feed does this)
    assert registry.count_subscribers(key) == 0

    async def scenario():
        client = await official_subscriber(nacos, str(tmp_path), name)
        try:
            await asyncio.to_thread(wait_until, lambda: registry.count_subscribers(key) == 1, 10)
        finally:
            await client.shutdown()
        await asyncio.to_thread(wait_until, lambda: registry.count_subscribers(key) == 0, 10)

    asyncio.run(scenario())
    registry.close()


def test_r_nacos_has_no_subscriber_list_so_the_count_is_unknown(nacos_alt):
    registry = nacos_at(nacos_alt)
    assert registry.count_subscribers(ServiceKey("public", "DEFAULT_GROUP", "any")) is None
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
        assert registry.count_subscribers(blue) == 2  # its own and the "*" version
        nobody = ServiceKey("", "", f"providers:com.example.none{uuid.uuid4().hex[:6]}:1.0.0:")
        assert registry.count_subscribers(nobody) == 0
        assert registry.count_subscribers(ServiceKey("", "", "curator-app")) is None
    finally:
        registry.close()
