"""Shared fixtures: one session fixture per test-bed server, returning its address."""

from tests.testbed.pytest_plugin import endpoint_fixture

nacos = endpoint_fixture("nacos")
nacos_alt = endpoint_fixture("nacos_alt")
zookeeper = endpoint_fixture("zookeeper")
eureka = endpoint_fixture("eureka")
consul = endpoint_fixture("consul")
mysql = endpoint_fixture("mysql")
redis = endpoint_fixture("redis")
