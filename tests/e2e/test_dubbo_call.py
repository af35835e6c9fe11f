"""Issue 4's first acceptance item: a real Dubbo consumer on Nacos calls a real provider
that is registered only in ZooKeeper, through msesync; stopping the provider removes it."""

import uuid

import pytest

from syncapp.registries.base import ClusterConfig, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from tests.harness.java_apps import GREETING_SERVICE, dubbo_provider, run_dubbo_consumer
from tests.support.configs import cluster, config_yaml, task
from tests.support.product import wait_for

pytestmark = pytest.mark.e2e


def test_a_nacos_consumer_calls_a_zookeeper_provider_through_msesync(product, zookeeper, nacos):
    tag = f"d{uuid.uuid4().hex[:6]}"
    version = f"7.{uuid.uuid4().int % 10000}.0"  # private to this test on shared servers
    name = f"providers:{GREETING_SERVICE}:{version}:"
    product.apply(
        config_yaml(
            [cluster(f"{tag}-zk", "ZOOKEEPER", zookeeper), cluster(f"{tag}-n", "NACOS", nacos)],
            [task(f"{tag}-zk", f"{tag}-n", f"providers:{GREETING_SERVICE}:{version}:")],
        )
    )
    at_nacos = NacosRegistry(ClusterConfig("reader", "NACOS", (nacos,)))
    key = ServiceKey("public", "DEFAULT_GROUP", name)
    with dubbo_provider(zookeeper, version=version) as provider:
        wait_for(lambda: at_nacos.list_instances(key), 60, what="the provider in Nacos")
        code, output = run_dubbo_consumer(
            nacos, version=version, calls=3, timeout=30, name="msesync"
        )
        assert code == 0, output
        replies = [line for line in output.splitlines() if line.startswith("RESULT ")]
        assert len(replies) == 3 and all("hello msesync from" in r for r in replies), output
        assert provider.host in {i.ip for i in at_nacos.list_instances(key)}
    # The provider stopped (SIGTERM): Dubbo removed its node, and msesync its copy.
    wait_for(lambda: not at_nacos.list_instances(key), 30, what="the provider gone from Nacos")
