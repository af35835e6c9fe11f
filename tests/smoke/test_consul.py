"""py-consul against the test-bed Consul agent: a TTL-checked service turns passing."""

import uuid

import consul
import pytest

from tests.testbed.pytest_plugin import host_port


@pytest.fixture
def agent(consul_addr):
    host, port = host_port(consul_addr)
    return consul.Consul(host=host, port=port)


@pytest.fixture
def consul_addr(consul):  # the `consul` fixture name would shadow the module inside tests
    return consul


@pytest.fixture
def service_id(agent):
    sid = f"smoke-{uuid.uuid4().hex[:8]}"
    yield sid
    agent.agent.service.deregister(sid)


def passing_ids(agent, name):
    _, entries = agent.health.service(name, passing=True)
    return [entry["Service"]["ID"] for entry in entries]


def test_a_ttl_service_is_passing_only_after_its_check_passes(agent, service_id):
    check = consul.Check.ttl("30s")
    agent.agent.service.register(
        service_id, service_id=service_id, address="127.0.0.1", port=18080, check=check
    )
    assert passing_ids(agent, service_id) == []  # TTL checks start critical

    agent.agent.check.ttl_pass(f"service:{service_id}")

    assert passing_ids(agent, service_id) == [service_id]
