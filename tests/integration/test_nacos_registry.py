"""The Nacos adapter against both real servers of the test bed (Java Nacos 3 and r-nacos)."""

import uuid

import pytest

from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.nacos import NacosRegistry


@pytest.fixture(params=["nacos", "nacos_alt"])
def registry(request):
    address = request.getfixturevalue(request.param)
    adapter = NacosRegistry(ClusterConfig("n", "NACOS", (address,), ("public",)))
    yield adapter
    adapter.close()


def unique(prefix="svc") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def service(registry):
    key = ServiceKey("public", "DEFAULT_GROUP", unique())
    yield key
    for instance in registry.list_instances(key):
        registry.deregister(key, instance)


def test_it_registers_many_instances_of_one_service_with_all_fields(registry, service):
    written = [
        Instance("10.1.0.1", 8080, weight=2.5, cluster="DEFAULT", metadata={"v": "1"}),
        Instance("10.1.0.2", 8080, cluster="DEFAULT"),
        Instance("10.1.0.3", 9090, cluster="east", metadata={"zone": "e", "k": "x"}),
    ]
    for instance in written:
        registry.register(service, instance)
    assert sorted(registry.list_instances(service), key=lambda i: i.ip) == written


def test_it_reads_what_clients_see_so_a_disabled_instance_is_not_listed(registry, service):
    registry.register(service, Instance("10.1.0.1", 1))
    registry.register(service, Instance("10.1.0.2", 1, enabled=False))
    assert [i.ip for i in registry.list_instances(service)] == ["10.1.0.1"]


def test_it_lists_services_of_every_group_across_pages(registry, monkeypatch):
    monkeypatch.setattr("syncapp.registries.nacos.PAGE_SIZE", 2)
    prefix = unique("paged")
    keys = [
        ServiceKey("public", group, f"{prefix}-{n}")
        for group in ("DEFAULT_GROUP", "G2")
        for n in range(3)
    ]
    for key in keys:
        registry.register(key, Instance("10.2.0.1", 1))
    try:
        listed = [k for k in registry.list_services("public") if k.name.startswith(prefix)]
        assert sorted(listed) == sorted(keys)
    finally:
        for key in keys:
            registry.deregister(key, Instance("10.2.0.1", 1))


def test_it_creates_a_missing_namespace_and_uses_it(registry):
    namespace = unique("ns")
    registry.ensure_namespace(namespace)
    assert namespace in registry.existing_namespaces()
    key = ServiceKey(namespace, "DEFAULT_GROUP", unique())
    registry.register(key, Instance("10.3.0.1", 1))
    assert [k.name for k in registry.list_services(namespace)] == [key.name]
    registry.deregister(key, Instance("10.3.0.1", 1))
