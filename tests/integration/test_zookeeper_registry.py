"""The ZooKeeper adapter against the test-bed ZooKeeper: Dubbo and Curator layouts."""

import json
import time
import uuid
from urllib.parse import quote_plus, unquote_plus

import pytest

from syncapp.registries import zookeeper
from syncapp.registries.base import ClusterConfig, Instance, RegistryError, ServiceKey
from syncapp.registries.zookeeper import ZookeeperRegistry

MARKERS = {
    "sourceClusterId": "nacos-a",
    "destClusterId": "zk-b",
    "syncSource": "NACOS",
    "sync.instance.tag": "nacos-a@@3",
}


@pytest.fixture
def registry(zookeeper):
    adapter = ZookeeperRegistry(ClusterConfig("zk", "ZOOKEEPER", (zookeeper,)))
    yield adapter
    adapter.close()


@pytest.fixture
def interface(zk):
    name = f"com.msesync.it.Demo{uuid.uuid4().hex[:8]}"
    yield name
    zk.delete(f"/dubbo/{name}", recursive=True)


@pytest.fixture
def app(zk):
    name = f"it-app-{uuid.uuid4().hex[:8]}"
    yield name
    zk.delete(f"/services/{name}", recursive=True)


def dubbo_url(interface, host="10.0.0.5", port=20880, **params) -> str:
    query = {"application": "demo", "interface": interface, "side": "provider", **params}
    return f"dubbo://{host}:{port}/{interface}?" + "&".join(f"{k}={v}" for k, v in query.items())


def publish(zk, interface, url, category="providers") -> str:
    """What Dubbo's ZookeeperRegistry does: an ephemeral node named by the encoded URL."""
    path = f"/dubbo/{interface}/{category}/{quote_plus(url)}"
    zk.create(path, ephemeral=True, makepath=True)
    return path


def provider_urls(zk, interface) -> list[str]:
    return [unquote_plus(n) for n in zk.get_children(f"/dubbo/{interface}/providers")]


def nacos_style(interface, ip, port, version="", **extra) -> Instance:
    """A provider as Dubbo's Nacos registry stores it, already marked by a sync task."""
    metadata = {"interface": interface, "side": "provider", "protocol": "dubbo"}
    metadata |= {"path": interface, "category": "providers", **MARKERS, **extra}
    if version:
        metadata["version"] = version
    return Instance(ip, port, metadata=metadata)


def key(name) -> ServiceKey:
    return ServiceKey("", "", name)


# --- Dubbo layout ------------------------------------------------------------------------


def test_dubbo_providers_are_listed_under_dubbos_nacos_name_with_all_parameters(
    registry, zk, interface
):
    publish(zk, interface, dubbo_url(interface, version="1.0.0", group="g", weight="200"))
    publish(zk, interface, dubbo_url(interface, host="[::1]", version="1.0.0", group="g"))
    name = f"providers:{interface}:1.0.0:g"

    assert key(name) in registry.list_services("")
    instances = sorted(registry.list_instances(key(name)), key=lambda i: i.ip)
    assert [(i.ip, i.port, i.weight) for i in instances] == [
        ("10.0.0.5", 20880, 2.0),
        ("::1", 20880, 1.0),
    ]
    assert instances[0].metadata == {
        "application": "demo",
        "interface": interface,
        "side": "provider",
        "version": "1.0.0",
        "group": "g",
        "weight": "200",
        "protocol": "dubbo",
        "path": interface,
        "category": "providers",
    }


def test_consumers_routers_and_configurators_are_ignored(registry, zk, interface):
    publish(zk, interface, dubbo_url(interface, host="10.9.0.1", side="consumer"), "consumers")
    publish(zk, interface, f"route://0.0.0.0/{interface}?rule=x", "routers")
    publish(zk, interface, f"override://0.0.0.0/{interface}?weight=1", "configurators")
    publish(zk, interface, dubbo_url(interface))

    names = [k.name for k in registry.list_services("") if interface in k.name]
    assert names == [f"providers:{interface}::"]
    assert [i.ip for i in registry.list_instances(key(names[0]))] == ["10.0.0.5"]


def test_two_versions_of_one_interface_are_two_services(registry, zk, interface):
    publish(zk, interface, dubbo_url(interface, host="10.0.0.1", version="1.0"))
    publish(zk, interface, dubbo_url(interface, host="10.0.0.2", version="2.0"))

    names = sorted(k.name for k in registry.list_services("") if interface in k.name)
    assert names == [f"providers:{interface}:1.0:", f"providers:{interface}:2.0:"]
    assert [i.ip for i in registry.list_instances(key(names[1]))] == ["10.0.0.2"]


def test_the_listing_gives_each_dubbo_service_the_instances_list_instances_reads(
    registry, zk, interface, app
):
    """A scan copies new services from this read (syncapp/first_copies.py): it must be
    exactly what a job would read, versions and groups apart, Curator names without it."""
    publish(zk, interface, dubbo_url(interface, host="10.0.0.1", version="1.0", weight="50"))
    publish(zk, interface, dubbo_url(interface, host="10.0.0.2", version="1.0", group="g"))
    publish(zk, interface, dubbo_url(interface, host="10.0.0.3", version="2.0"))
    zk.create(f"/dubbo/{interface}/providers/not-a-url", ephemeral=True)
    zk.create(f"/services/{app}/i1", json.dumps({"name": app, "id": "i1"}).encode(), makepath=True)

    names, read = registry.list_services_read("")
    ours = [k for k in names if interface in k.name]
    assert len(ours) == 3 and set(ours) <= read.keys()
    for service in ours:
        by_key = lambda found: sorted(found, key=lambda i: i.key)  # noqa: E731
        assert by_key(read[service]) == by_key(registry.list_instances(service))
    assert key(app) in names and key(app) not in read


def test_the_listing_is_heard_in_batches_that_add_up_to_its_read(
    registry, zk, interface, monkeypatch
):
    """A scan copies each batch while the next is read (first_copies.AsRead)."""
    ours = [f"{interface}{n}" for n in range(5)]
    for name in ours:
        publish(zk, name, dubbo_url(name, host="10.0.0.1"))
    monkeypatch.setattr(zookeeper, "LISTING_BATCH", 2)
    batches = []
    try:
        _, read = registry.list_services_read("", batches.append)
    finally:
        for name in ours:
            zk.delete(f"/dubbo/{name}", recursive=True)
    assert len(batches) >= 3, "5 interfaces of ours, 2 per batch"
    heard = {}
    for batch in batches:
        assert not heard.keys() & batch.keys(), "each service once"
        heard.update(batch)
    assert heard == read
    assert sum(interface in k.name for k in heard) == 5


def test_an_odd_node_is_skipped_not_fatal(registry, zk, interface):
    zk.create(f"/dubbo/{interface}/providers/not-a-url", ephemeral=True, makepath=True)
    publish(zk, interface, dubbo_url(interface))
    assert len(registry.list_instances(key(f"providers:{interface}::"))) == 1


def test_register_writes_an_ephemeral_url_with_markers_that_lists_back_equal(
    registry, zk, interface
):
    service = key(f"providers:{interface}:1.0:")
    written = [
        nacos_style(interface, "10.2.0.1", 20880, "1.0"),
        nacos_style(interface, "fd00::2", 1, "1.0"),
    ]
    for instance in written:
        registry.register(service, instance)

    urls = provider_urls(zk, interface)
    assert len(urls) == 2
    assert all("sourceClusterId=nacos-a" in u and "sync.instance.tag=nacos-a@@3" in u for u in urls)
    assert any(u.startswith("dubbo://[fd00::2]:1/") for u in urls)
    node = zk.get_children(f"/dubbo/{interface}/providers")[0]
    _, stat = zk.get(f"/dubbo/{interface}/providers/{node}")
    assert stat.ephemeralOwner == registry._client().client_id[0]
    assert sorted(registry.list_instances(service), key=lambda i: i.ip) == written


def test_register_replaces_the_node_of_the_same_endpoint(registry, zk, interface):
    service = key(f"providers:{interface}::")
    registry.register(service, nacos_style(interface, "10.2.0.1", 20880, note="old"))
    changed = nacos_style(interface, "10.2.0.1", 20880, note="new")
    registry.register(service, changed)

    urls = provider_urls(zk, interface)
    assert len(urls) == 1 and "note=new" in urls[0]
    assert registry.list_instances(service) == [changed]


def test_register_of_an_unchanged_instance_leaves_its_node_alone(registry, zk, interface):
    service = key(f"providers:{interface}::")
    instance = nacos_style(interface, "10.2.0.1", 20880)
    registry.register(service, instance)
    folder = f"/dubbo/{interface}/providers"
    before = zk.get(f"{folder}/{zk.get_children(folder)[0]}")[1].czxid
    registry.register(service, instance)
    assert zk.get(f"{folder}/{zk.get_children(folder)[0]}")[1].czxid == before


def test_deregister_removes_only_that_endpoint(registry, zk, interface):
    service = key(f"providers:{interface}::")
    registry.register(service, nacos_style(interface, "10.2.0.1", 1))
    registry.register(service, nacos_style(interface, "10.2.0.2", 1))
    registry.deregister(service, nacos_style(interface, "10.2.0.1", 1))
    assert [i.ip for i in registry.list_instances(service)] == ["10.2.0.2"]


def test_the_apps_own_node_at_our_copys_endpoint_survives_our_writes(registry, zk, interface, app):
    """Mid-migration an app registers itself where our copy of it is: we replace and remove
    only our own nodes (same sourceClusterId), never the app's."""
    dubbo = key(f"providers:{interface}::")
    registry.register(dubbo, nacos_style(interface, "10.2.0.1", 1, note="old"))
    native = publish(zk, interface, dubbo_url(interface, "10.2.0.1", 1))
    registry.register(dubbo, nacos_style(interface, "10.2.0.1", 1, note="new"))
    assert len(provider_urls(zk, interface)) == 2
    registry.deregister(dubbo, nacos_style(interface, "10.2.0.1", 1, note="new"))
    assert zk.exists(native) and len(provider_urls(zk, interface)) == 1

    spring = key(app)
    registry.register(spring, Instance("10.3.0.1", 1, metadata=MARKERS))
    spring_publish(zk, app, "10.3.0.1", 1, {"zone": "a"})
    registry.deregister(spring, Instance("10.3.0.1", 1, metadata=MARKERS))
    assert registry.list_instances(spring) == [Instance("10.3.0.1", 1, metadata={"zone": "a"})]


def test_heartbeat_recreates_a_provider_deleted_behind_our_back(registry, zk, interface):
    service = key(f"providers:{interface}::")
    instance = nacos_style(interface, "10.2.0.1", 20880)
    registry.register(service, instance)
    folder = f"/dubbo/{interface}/providers"
    zk.delete(f"{folder}/{zk.get_children(folder)[0]}")
    assert registry.list_instances(service) == []

    registry.heartbeat(service, instance)
    assert registry.list_instances(service) == [instance]


def test_an_interface_with_an_inner_class_name_is_encoded_like_dubbo(registry, zk, interface):
    inner = f"{interface}$Inner"
    service = key(f"providers:{inner}::")
    registry.register(service, nacos_style(inner, "10.2.0.1", 1))
    assert zk.get_children(f"/dubbo/{interface}%24Inner/providers")
    assert service in registry.list_services("")
    zk.delete(f"/dubbo/{interface}%24Inner", recursive=True)


# --- Curator layout ----------------------------------------------------------------------


def spring_entry(app, node_id, address, port, metadata) -> bytes:
    """An entry as Spring Cloud Zookeeper (Curator's JsonInstanceSerializer) writes it."""
    return json.dumps(
        {
            "name": app,
            "id": node_id,
            "address": address,
            "port": port,
            "sslPort": None,
            "payload": {
                "@class": "org.springframework.cloud.zookeeper.discovery.ZookeeperInstance",
                "id": f"{app}-1",
                "name": app,
                "metadata": metadata,
            },
            "registrationTimeUTC": 1700000000000,
            "serviceType": "DYNAMIC",
            "uriSpec": {"parts": [{"value": "scheme", "variable": True}]},
        }
    ).encode()


def spring_publish(zk, app, address, port, metadata) -> None:
    node_id = str(uuid.uuid4())
    data = spring_entry(app, node_id, address, port, metadata)
    zk.create(f"/services/{app}/{node_id}", data, ephemeral=True, makepath=True)


def test_spring_cloud_entries_are_read_with_their_metadata(registry, zk, app):
    meta = {"instance_status": "UP", "zone": "a"}
    spring_publish(zk, app, "10.3.0.1", 8080, meta)

    assert key(app) in registry.list_services("")
    assert registry.list_instances(key(app)) == [Instance("10.3.0.1", 8080, metadata=meta)]


def test_an_out_of_service_spring_instance_is_read_as_disabled(registry, zk, app):
    meta = {"instance_status": "OUT_OF_SERVICE"}
    spring_publish(zk, app, "10.3.0.1", 8080, meta)
    assert [i.enabled for i in registry.list_instances(key(app))] == [False]


def test_our_curator_registrations_read_back_equal_and_are_spring_shaped(registry, zk, app):
    written = [
        Instance("10.3.0.1", 8080, metadata={**MARKERS, "zone": "a"}),
        Instance("10.3.0.2", 8080, weight=2.5, cluster="east", metadata=MARKERS),
    ]
    for instance in written:
        registry.register(key(app), instance)

    assert sorted(registry.list_instances(key(app)), key=lambda i: i.ip) == written
    node = sorted(zk.get_children(f"/services/{app}"))[0]
    data, stat = zk.get(f"/services/{app}/{node}")
    entry = json.loads(data)
    assert stat.ephemeralOwner == registry._client().client_id[0]
    assert entry["name"] == app and entry["id"] == node and entry["serviceType"] == "DYNAMIC"
    assert entry["payload"]["@class"].endswith("ZookeeperInstance")
    assert entry["payload"]["metadata"]["sourceClusterId"] == "nacos-a"


def test_curator_register_replaces_deregister_removes_heartbeat_recreates(registry, zk, app):
    service = key(app)
    registry.register(service, Instance("10.3.0.1", 1, metadata={"v": "1"}))
    registry.register(service, Instance("10.3.0.1", 1, metadata={"v": "2"}))
    registry.register(service, Instance("10.3.0.2", 1))
    listed = sorted(registry.list_instances(service), key=lambda i: i.ip)
    assert [i.metadata.get("v") for i in listed] == ["2", None]

    registry.deregister(service, Instance("10.3.0.2", 1))
    assert [i.ip for i in registry.list_instances(service)] == ["10.3.0.1"]

    zk.delete(f"/services/{app}/{zk.get_children(f'/services/{app}')[0]}")
    registry.heartbeat(service, Instance("10.3.0.1", 1, metadata={"v": "2"}))
    assert registry.list_instances(service) == [Instance("10.3.0.1", 1, metadata={"v": "2"})]


# --- reachability --------------------------------------------------------------------------


def test_an_unreachable_zookeeper_is_an_error_quickly_not_an_empty_list(monkeypatch):
    monkeypatch.setattr(zookeeper, "CONNECT_TIMEOUT", 1.0)
    adapter = ZookeeperRegistry(ClusterConfig("down", "ZOOKEEPER", ("127.0.0.1:1",)))
    started = time.monotonic()
    with pytest.raises(RegistryError):
        adapter.list_services("")
    with pytest.raises(RegistryError):
        adapter.list_instances(key("providers:com.foo.Demo::"))
    assert time.monotonic() - started < 5
    adapter.close()


def test_dubbo_consumers_and_other_categories_are_not_accepted_as_services(registry):
    assert registry.accepts(ServiceKey("", "", "providers:com.foo.Demo:1.0.0:"))
    assert registry.accepts(ServiceKey("", "", "orders"))
    assert not registry.accepts(ServiceKey("", "", "consumers:com.foo.Demo:1.0.0:"))
