"""The Eureka adapter against the test bed's real Spring Cloud Eureka server."""

import time
import uuid

import pytest
import requests

from syncapp.registries import eureka as eureka_module
from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.eureka import EurekaRegistry, instance_id
from tests.support.waiting import wait_until

JSON = {"Accept": "application/json"}
MARKERS = {
    "sourceClusterId": "src",
    "destClusterId": "dst",
    "syncSource": "NACOS",
    "sync.instance.tag": "src@@7",
}


@pytest.fixture
def registry(eureka):
    adapter = EurekaRegistry(ClusterConfig("e", "EUREKA", (eureka,)))
    yield adapter
    adapter.close()


def all_instance_ids(base_url: str, app: str) -> list[str]:
    """Every instance of an app, whatever its status (the adapter lists only UP ones)."""
    resp = requests.get(f"{base_url}/apps/{app}", headers=JSON, timeout=5)
    if resp.status_code == 404:
        return []
    return [i["instanceId"] for i in eureka_module.as_list(resp.json()["application"]["instance"])]


@pytest.fixture
def service(eureka):
    key = ServiceKey("", "", f"app-{uuid.uuid4().hex[:8]}")
    yield key
    app = key.name.upper()
    for iid in all_instance_ids(eureka, app):
        requests.delete(f"{eureka}/apps/{app}/{iid}", timeout=5)


def set_status(base_url: str, service: ServiceKey, instance: Instance, status: str) -> None:
    iid = instance_id(service.name, instance)
    resp = requests.put(
        f"{base_url}/apps/{service.name.upper()}/{iid}/status",
        params={"value": status},
        timeout=5,
    )
    assert resp.status_code == 200


def test_it_registers_many_instances_of_one_service_with_their_metadata(registry, service):
    written = [
        Instance("10.1.0.1", 8080, metadata=MARKERS),
        Instance("10.1.0.2", 8080, metadata={"zone": "a", "weird key": "v", "@x": "y"}),
        Instance("10.1.0.3", 9090),
    ]
    for instance in written:
        registry.register(service, instance)
    assert sorted(registry.list_instances(service), key=lambda i: i.ip) == written


def test_a_reregistration_replaces_the_metadata(registry, service):
    registry.register(service, Instance("10.1.0.1", 80, metadata={"v": "1", "gone": "x"}))
    registry.register(service, Instance("10.1.0.1", 80, metadata={"v": "2"}))
    assert registry.list_instances(service) == [Instance("10.1.0.1", 80, metadata={"v": "2"})]


def test_it_lists_the_service_under_its_upper_cased_name(registry, service):
    registry.register(service, Instance("10.2.0.1", 1))
    listed = registry.list_services("")
    assert ServiceKey("", "", service.name.upper()) in listed
    assert ServiceKey("", "", service.name) not in listed


@pytest.mark.parametrize("status", ["OUT_OF_SERVICE", "DOWN"])
def test_an_instance_that_is_not_up_is_not_listed(registry, service, eureka, status):
    registry.register(service, Instance("10.3.0.1", 1))
    registry.register(service, Instance("10.3.0.2", 1))
    set_status(eureka, service, Instance("10.3.0.1", 1), status)
    assert [i.ip for i in registry.list_instances(service)] == ["10.3.0.2"]


def test_a_heartbeat_does_not_override_an_operator_status(registry, service, eureka):
    instance = Instance("10.3.0.1", 1)
    registry.register(service, instance)
    set_status(eureka, service, instance, "OUT_OF_SERVICE")
    registry.heartbeat(service, instance)
    registry.register(service, instance)
    assert registry.list_instances(service) == []


def test_a_heartbeat_keeps_an_instance_past_its_lease(registry, service, monkeypatch):
    monkeypatch.setattr(eureka_module, "LEASE_SECONDS", 2)
    instance = Instance("10.4.0.1", 1)
    registry.register(service, instance)
    for _ in range(10):  # 5 s: well past the 2-3 s an unrenewed lease lasts
        time.sleep(0.5)
        registry.heartbeat(service, instance)
    assert registry.list_instances(service) == [instance]


def test_a_registration_without_heartbeats_drains_after_its_lease(registry, service, monkeypatch):
    monkeypatch.setattr(eureka_module, "LEASE_SECONDS", 2)
    registry.register(service, Instance("10.4.0.2", 1))
    assert registry.list_instances(service) != []
    # Lease of 2 s, then the next eviction run (every second in the test bed).
    waited = wait_until(lambda: registry.list_instances(service) == [], timeout=10)
    assert waited >= 1.5
