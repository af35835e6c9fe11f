"""Shared fixtures: one session fixture per test-bed server, returning its address."""

import pytest

from tests.support.fleet import NacosFleet
from tests.support.zk import kazoo_client
from tests.testbed.pytest_plugin import endpoint_fixture

nacos = endpoint_fixture("nacos")
nacos_alt = endpoint_fixture("nacos_alt")
zookeeper = endpoint_fixture("zookeeper")
eureka = endpoint_fixture("eureka")
eureka_alt = endpoint_fixture("eureka_alt")
consul = endpoint_fixture("consul")
consul_alt = endpoint_fixture("consul_alt")
mysql = endpoint_fixture("mysql")
redis = endpoint_fixture("redis")


@pytest.fixture
def zk(zookeeper):
    """An independent kazoo session: plays Dubbo / Spring apps and checks what we wrote."""
    client = kazoo_client(zookeeper)
    yield client
    client.stop()
    client.close()


@pytest.fixture
def source_fleet(nacos_alt):
    """Live instances at r-nacos (the usual source), beaten like real clients until the end."""
    fleet = NacosFleet(nacos_alt)
    yield fleet
    fleet.close()
