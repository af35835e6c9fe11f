"""The Consul adapter against the test bed's real Consul agent."""

import time
import uuid

import pytest

from syncapp.registries import consul as consul_module
from syncapp.registries.base import ClusterConfig, Instance, Refused, ServiceKey
from syncapp.registries.consul import ConsulRegistry, service_id
from tests.support.waiting import wait_until

MARKERS = {
    "sourceClusterId": "src",
    "destClusterId": "dst",
    "syncSource": "NACOS",
    "sync.instance.tag": "src@@7",
}


@pytest.fixture
def agent(consul):
    return consul_module.client_for(consul, "")


@pytest.fixture
def registry(consul):
    adapter = ConsulRegistry(ClusterConfig("c", "CONSUL", (consul,)))
    yield adapter
    adapter.close()


@pytest.fixture
def service(agent):
    key = ServiceKey("", "", f"svc-{uuid.uuid4().hex[:8]}")
    yield key
    for sid, definition in agent.agent.services().items():
        if definition["Service"] == key.name:
            agent.agent.service.deregister(sid)


def test_it_registers_many_instances_of_one_service_passing_at_once(registry, service):
    written = [
        Instance("10.1.0.1", 8080, weight=3, metadata=MARKERS),
        Instance("10.1.0.2", 8080, metadata={"zone": "a", "consul-x": "1", "é k/€": "v"}),
        Instance("10.1.0.3", 9090, metadata={"consul.tags": '["primary","a,b"]'}),
    ]
    for instance in written:
        registry.register(service, instance)
    # No heartbeat yet: the TTL check must start passing.
    assert sorted(registry.list_instances(service), key=lambda i: i.ip) == written


def test_it_stores_meta_keys_consul_accepts_and_tags_as_tags(registry, service, agent):
    instance = Instance("10.1.0.1", 1, metadata={**MARKERS, "consul.tags": '["t1","t2"]'})
    registry.register(service, instance)
    definition = agent.agent.services()[service_id(service.name, instance)]
    assert definition["Tags"] == ["t1", "t2"]
    assert definition["Meta"]["msesync-sync_2Einstance_2Etag"] == "src@@7"
    assert definition["Meta"]["sourceClusterId"] == "src"


def test_a_reregistration_replaces_the_metadata_and_stays_passing(registry, service):
    registry.register(service, Instance("10.1.0.1", 80, metadata={"v": "1", "gone": "x"}))
    registry.register(service, Instance("10.1.0.1", 80, metadata={"v": "2"}))
    assert registry.list_instances(service) == [Instance("10.1.0.1", 80, metadata={"v": "2"})]


def test_it_lists_the_service_but_not_consul_itself(registry, service):
    registry.register(service, Instance("10.2.0.1", 1))
    listed = registry.list_services("")
    assert service in listed
    assert ServiceKey("", "", "consul") not in listed


def test_a_service_name_with_dubbo_punctuation_works(registry):
    key = ServiceKey("", "", f"providers:com.foo.Demo{uuid.uuid4().hex[:6]}:1.0:")
    instance = Instance("10.2.0.2", 20880, metadata=MARKERS)
    registry.heartbeat(key, instance)
    try:
        assert registry.list_instances(key) == [instance]
    finally:
        registry.deregister(key, instance)
    assert registry.list_instances(key) == []


def test_an_instance_whose_check_is_critical_is_not_listed(registry, service, agent):
    registry.register(service, Instance("10.3.0.1", 1))
    registry.register(service, Instance("10.3.0.2", 1))
    check = f"service:{service_id(service.name, Instance('10.3.0.1', 1))}"
    assert agent.agent.check.ttl_fail(check)
    assert [i.ip for i in registry.list_instances(service)] == ["10.3.0.2"]


def test_a_heartbeat_makes_a_critical_instance_pass_again(registry, service, agent):
    instance = Instance("10.3.0.1", 1)
    registry.register(service, instance)
    check = f"service:{service_id(service.name, instance)}"
    agent.agent.check.ttl_fail(check)
    registry.heartbeat(service, instance)
    assert registry.list_instances(service) == [instance]


def test_a_registration_without_heartbeats_drains_after_its_ttl(registry, service, monkeypatch):
    monkeypatch.setattr(consul_module, "TTL_SECONDS", 1)
    registry.register(service, Instance("10.4.0.1", 1))
    assert registry.list_instances(service) != []
    waited = wait_until(lambda: registry.list_instances(service) == [], timeout=10)
    assert waited >= 0.5


def test_heartbeats_keep_an_instance_past_its_ttl(registry, service, monkeypatch):
    monkeypatch.setattr(consul_module, "TTL_SECONDS", 1)
    instance = Instance("10.4.0.2", 1)
    registry.register(service, instance)
    for _ in range(6):  # 3 s: three TTLs
        time.sleep(0.5)
        registry.heartbeat(service, instance)
    assert registry.list_instances(service) == [instance]


def test_it_fails_over_to_the_next_agent(consul, service):
    adapter = ConsulRegistry(ClusterConfig("c", "CONSUL", ("127.0.0.1:1", consul)))
    adapter.register(service, Instance("10.5.0.1", 1))
    assert adapter.list_instances(service) == [Instance("10.5.0.1", 1)]
    adapter.close()


def test_the_cluster_password_is_the_acl_token(monkeypatch):
    monkeypatch.setenv("CONSUL_HTTP_TOKEN", "from-env")
    with_token = ConsulRegistry(ClusterConfig("c", "CONSUL", ("h:1",), password="secret"))
    without = ConsulRegistry(ClusterConfig("c", "CONSUL", ("h:1",)))
    assert with_token.clients[0].prepare_headers() == {"X-Consul-Token": "secret"}
    assert without.clients[0].prepare_headers() == {}


@pytest.mark.parametrize(
    "metadata",
    [
        {f"k{i}": "v" for i in range(65)},  # 64 keys at most
        {"k": "é" * 257},  # 512 bytes at most, not characters
        {"x" * 129: "v"},  # keys of 128 characters at most, ours encoded too
    ],
    ids=["65-keys", "value-of-514-bytes", "key-of-129"],
)
def test_meta_beyond_consuls_limits_is_refused_not_cut(registry, service, metadata):
    # The same limits and the same 400 on Consul 1.8.7 and 1.16.3.
    with pytest.raises(Refused, match="Invalid Service Meta"):
        registry.register(service, Instance("10.6.0.1", 1, metadata=metadata))
    assert registry.list_instances(service) == []
