"""Change feeds of Eureka (/apps/delta) and Consul (blocking queries) on the real servers."""

import queue
import uuid

import pytest

from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.consul import ConsulRegistry
from syncapp.registries.eureka import EurekaRegistry
from tests.support.waiting import reported

WAIT = 8.0


@pytest.fixture(params=["eureka", "consul"])
def feed(request):
    address = request.getfixturevalue(request.param)
    cls = EurekaRegistry if request.param == "eureka" else ConsulRegistry
    writer = cls(ClusterConfig("w", request.param.upper(), (address,)))
    watcher = cls(ClusterConfig("f", request.param.upper(), (address,)))
    changes = queue.Queue()
    assert watcher.watch(changes.put)
    yield writer, changes
    watcher.close()
    writer.close()


def test_a_registration_and_a_removal_are_reported_by_service(feed):
    writer, changes = feed
    name = f"FEED-{uuid.uuid4().hex[:6]}".upper()
    service, instance = ServiceKey("", "", name), Instance("10.7.0.1", 8080)
    writer.register(service, instance)
    assert reported(changes, service, None, timeout=WAIT)  # None: everything changed
    writer.deregister(service, instance)
    assert reported(changes, service, None, timeout=WAIT)  # None: everything changed
