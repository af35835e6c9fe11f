"""The adapter contract, the same for every registry kind, against the real servers.

Kind-specific behaviour (Eureka statuses, Consul Meta encoding, Dubbo URLs, Nacos
namespaces...) is tested in each kind's own module. Reads are polled: Nacos lists a gRPC
registration ~0.6 s after acknowledging it.
"""

import time
import uuid

import pytest

from syncapp.registries import registry_class
from syncapp.registries.base import ClusterConfig, Instance, RegistryError, ServiceKey
from tests.support.waiting import wait_until

LISTED_WITHIN = 10.0

MARKERS = {
    "sourceClusterId": "src",
    "destClusterId": "dst",
    "syncSource": "NACOS",
    "sync.instance.tag": "src@@7",
}
# flavour -> (kind, address fixture, service key for a unique name)
FLAVOURS = {
    "nacos": ("NACOS", "nacos", lambda n: ServiceKey("public", "DEFAULT_GROUP", n)),
    "nacos_alt": ("NACOS", "nacos_alt", lambda n: ServiceKey("public", "DEFAULT_GROUP", n)),
    "zookeeper-curator": ("ZOOKEEPER", "zookeeper", lambda n: ServiceKey("", "", n)),
    "zookeeper-dubbo": (
        "ZOOKEEPER",
        "zookeeper",
        lambda n: ServiceKey("", "", f"providers:com.c.{n}:1.0.0:"),
    ),
    "eureka": ("EUREKA", "eureka", lambda n: ServiceKey("", "", n)),
    "consul": ("CONSUL", "consul", lambda n: ServiceKey("", "", n)),
}


@pytest.fixture(params=FLAVOURS)
def flavour(request):
    kind, fixture, key_for = FLAVOURS[request.param]
    address = request.getfixturevalue(fixture)
    adapter = registry_class(kind)(ClusterConfig("contract", kind, (address,)))
    service = key_for(f"contract{uuid.uuid4().hex[:8]}")
    yield adapter, service
    for instance in adapter.list_instances(service):
        adapter.deregister(service, instance)
    adapter.close()


def sorted_by_address(instances):
    return sorted(instances, key=lambda i: (i.ip, i.port))


def test_it_lists_back_what_it_registered_as_it_stores_it(flavour):
    registry, service = flavour
    written = [
        Instance("10.1.0.1", 8080, weight=2, metadata=MARKERS),
        Instance("10.1.0.2", 8081, metadata={"zone": "a"}),
    ]
    for instance in written:
        registry.register(service, instance)
    expected = [registry.stored_form(service, i) for i in written]
    wait_until(
        lambda: sorted_by_address(registry.list_instances(service)) == expected, LISTED_WITHIN
    )
    assert expected[0].metadata["sync.instance.tag"] == "src@@7"  # markers always survive


def test_it_deregisters_and_a_second_deregister_is_no_error(flavour):
    registry, service = flavour
    registry.register(service, Instance("10.1.0.1", 1))
    registry.register(service, Instance("10.1.0.2", 1))
    registry.deregister(service, Instance("10.1.0.1", 1))
    registry.deregister(service, Instance("10.1.0.1", 1))
    wait_until(
        lambda: [i.ip for i in registry.list_instances(service)] == ["10.1.0.2"], LISTED_WITHIN
    )


def test_an_unknown_service_is_an_empty_list(flavour):
    registry, service = flavour
    assert registry.list_instances(service) == []


def test_a_heartbeat_for_an_unknown_instance_registers_it(flavour):
    registry, service = flavour
    instance = Instance("10.1.0.9", 7, metadata=MARKERS)
    registry.heartbeat(service, instance)
    expected = [registry.stored_form(service, instance)]
    wait_until(lambda: registry.list_instances(service) == expected, LISTED_WITHIN)


def test_the_service_is_listed(flavour):
    registry, service = flavour
    registry.register(service, Instance("10.2.0.1", 1))

    def listed() -> bool:
        names = {k.name.lower() for k in registry.list_services(service.namespace)}
        return service.name.lower() in names  # Eureka upper-cases app names

    wait_until(listed, LISTED_WITHIN)


@pytest.mark.parametrize("kind", ["NACOS", "ZOOKEEPER", "EUREKA", "CONSUL"])
def test_an_unreachable_server_is_an_error_not_an_empty_list(kind):
    registry = registry_class(kind)(ClusterConfig("down", kind, ("127.0.0.1:1",)))
    with pytest.raises(RegistryError):
        registry.list_services("public")
    with pytest.raises(RegistryError):
        registry.list_instances(ServiceKey("public", "DEFAULT_GROUP", "x"))
    registry.close()


# Kinds whose feed reports every change, new and gone services included (scans may trust it).
COMPLETE_FEEDS = {"NACOS", "ZOOKEEPER", "EUREKA"}


def test_feed_alive_only_while_a_complete_feed_runs(flavour):
    adapter, _ = flavour
    kind = adapter.kind
    assert not adapter.feed_alive(), "no feed before watch()"
    adapter.watch(lambda key: None)
    if kind in COMPLETE_FEEDS:
        wait_until(adapter.feed_alive, timeout=15, step=0.1)
    else:  # Consul's feed misses instances without checks: never trusted
        time.sleep(2)
        assert not adapter.feed_alive()
    adapter.close()
    assert not adapter.feed_alive(), "a closed adapter's feed is not live"
