"""The Nacos adapter against both real servers of the test bed: Java Nacos 3.1 with the v1/v2
HTTP APIs switched off (as current Nacos ships) and r-nacos, both over gRPC; and the v1 HTTP
path, kept for servers without gRPC (Nacos 1.x), against r-nacos's v1 API."""

import queue
import time
import uuid

import pytest

from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.nacos import NacosRegistry, naming_grpc
from syncapp.registries.nacos.http_api import NacosHttp
from tests.support.waiting import wait_until


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
    wait_until(lambda: sorted(registry.list_instances(service), key=lambda i: i.ip) == written, 10)


def test_it_reads_what_clients_see_so_a_disabled_instance_is_not_listed(registry, service):
    registry.register(service, Instance("10.1.0.1", 1))
    registry.register(service, Instance("10.1.0.2", 1, enabled=False))
    wait_until(lambda: [i.ip for i in registry.list_instances(service)] == ["10.1.0.1"], 10)


def test_it_lists_services_of_every_group_across_pages(registry, monkeypatch):
    monkeypatch.setattr("syncapp.registries.nacos.http_api.PAGE_SIZE", 2)
    prefix = unique("paged")
    keys = [
        ServiceKey("public", group, f"{prefix}-{n}")
        for group in ("DEFAULT_GROUP", "G2")
        for n in range(3)
    ]
    for key in keys:
        registry.register(key, Instance("10.2.0.1", 1))
    try:

        def listed():
            return [k for k in registry.list_services("public") if k.name.startswith(prefix)]

        wait_until(lambda: sorted(listed()) == sorted(keys), 10)
    finally:
        for key in keys:
            registry.deregister(key, Instance("10.2.0.1", 1))


def test_it_creates_a_missing_namespace_and_uses_it(registry):
    namespace = unique("ns")
    registry.ensure_namespace(namespace)
    assert namespace in registry.http.existing_namespaces()
    key = ServiceKey(namespace, "DEFAULT_GROUP", unique())
    registry.register(key, Instance("10.3.0.1", 1))
    wait_until(lambda: [k.name for k in registry.list_services(namespace)] == [key.name], 10)
    registry.deregister(key, Instance("10.3.0.1", 1))


# --- gRPC: what a connection holds -------------------------------------------------------


def another(address: str) -> NacosRegistry:
    """A second, independent client (its own connection) to check what others see."""
    return NacosRegistry(ClusterConfig("observer", "NACOS", (address,)))


@pytest.fixture(params=["nacos", "nacos_alt"])
def address(request) -> str:
    return request.getfixturevalue(request.param)


def fifty(metadata_of_first: str = "a") -> list[Instance]:
    return [
        Instance(f"10.50.0.{n}", 8000 + n, metadata={"n": str(n), "v": metadata_of_first})
        if n == 0
        else Instance(f"10.50.0.{n}", 8000 + n, metadata={"n": str(n)})
        for n in range(50)
    ]


def test_both_servers_are_spoken_to_over_grpc(registry):
    assert registry.protocol == "grpc" and registry.holds_by_connection


def test_fifty_copies_held_by_one_connection_stay_fifty_through_a_change_to_one(address):
    holder, observer = another(address), another(address)
    service = ServiceKey("public", "DEFAULT_GROUP", unique("fifty"))
    try:
        holder.hold(service, fifty())
        wait_until(lambda: len(observer.list_instances(service)) == 50, 10)
        holder.hold(service, fifty(metadata_of_first="b"))  # one instance's metadata changes
        wait_until(
            lambda: {i.metadata.get("v") for i in observer.list_instances(service)} == {"b", None},
            10,
        )
        assert len(observer.list_instances(service)) == 50
        holder.hold(service, fifty()[1:])  # one leaves
        wait_until(lambda: len(observer.list_instances(service)) == 49, 10)
        single = [i for i in observer.list_instances(service) if i.ip == "10.50.0.0"]
        assert single == []
    finally:
        holder.close()
        observer.close()


def test_copies_live_as_long_as_the_connection_that_holds_them(address):
    holder, observer = another(address), another(address)
    service = ServiceKey("public", "DEFAULT_GROUP", unique("life"))
    holder.hold(service, fifty()[:3])
    wait_until(lambda: len(observer.list_instances(service)) == 3, 10)
    holder.close()
    wait_until(lambda: observer.list_instances(service) == [], 10)
    observer.close()


def test_a_broken_connection_is_reopened_and_its_copies_registered_again(address):
    holder, observer = another(address), another(address)
    service = ServiceKey("public", "DEFAULT_GROUP", unique("redo"))
    try:
        holder.hold(service, fifty()[:2])
        wait_until(lambda: len(observer.list_instances(service)) == 2, 10)
        connection = holder.naming().conn("public")
        first = connection.link().connection_id
        connection.link().close()  # as if the network dropped it: the server drops the copies
        wait_until(lambda: connection.connected and connection.link().connection_id != first, 10)
        wait_until(lambda: len(observer.list_instances(service)) == 2, 10)
    finally:
        holder.close()
        observer.close()


def test_a_forced_hold_writes_again_copies_the_server_lost(nacos_alt):
    """The connection cannot see its copies go (an operator deleted them, the server lost
    them while our reconnect was pending): a forced hold writes the set though it believes
    it holds it. The keeper forces the sets a job found missing, and those it retries."""
    holder, observer = another(nacos_alt), another(nacos_alt)
    service = ServiceKey("public", "DEFAULT_GROUP", unique("lost"))
    copies = fifty()[:2]
    try:
        holder.hold(service, copies)
        wait_until(lambda: len(observer.list_instances(service)) == 2, 10)
        http = NacosHttp(ClusterConfig("operator", "NACOS", (nacos_alt,)))
        for copy in copies:  # r-nacos's v1 API deletes any instance, whoever holds it
            http.call(
                "DELETE",
                "/v1/ns/instance",
                params={
                    "serviceName": service.name,
                    "ip": copy.ip,
                    "port": copy.port,
                    "ephemeral": "true",
                    "namespaceId": "public",
                    "groupName": "DEFAULT_GROUP",
                },
            )
        wait_until(lambda: observer.list_instances(service) == [], 10)
        holder.hold(service, copies, force=True)
        wait_until(lambda: len(observer.list_instances(service)) == 2, 10)
    finally:
        holder.close()
        observer.close()


def many(prefix: str, count: int) -> dict[ServiceKey, list[Instance]]:
    """`count` services of 1-3 copies each (more services than writes in flight at once)."""
    tag = unique(prefix)
    return {
        ServiceKey("public", "DEFAULT_GROUP", f"{tag}-{n}"): fifty()[: 1 + n % 3]
        for n in range(count)
    }


def listed_counts(observer, services) -> dict[ServiceKey, int]:
    return {service: len(observer.list_instances(service)) for service in services}


def test_many_sets_written_at_once_are_each_held_as_asked(nacos):
    """Java Nacos takes a connection's sets pipelined (hold_many): every one is held, a
    changed set replaces its service's, an empty one withdraws it, and the connection's
    record follows what the server was told."""
    holder, observer = another(nacos), another(nacos)
    groups = many("pipe", 3 * naming_grpc.HOLD_WINDOW)
    try:
        assert holder.pipelines_holds
        assert not any(holder.hold_many(groups).values())
        wait_until(
            lambda: listed_counts(observer, groups) == {s: len(c) for s, c in groups.items()}, 30
        )
        services = list(groups)
        changed = {s: fifty()[5:9] for s in services[::3]}
        withdrawn = {s: [] for s in services[1::3]}
        assert not any(holder.hold_many({**changed, **withdrawn}).values())
        expected = {s: len(c) for s, c in {**groups, **changed, **withdrawn}.items()}
        wait_until(lambda: listed_counts(observer, groups) == expected, 30)
        assert set(holder.held_services()) == {s for s, n in expected.items() if n}
        assert holder.held(services[0]) == fifty()[5:9]
    finally:
        holder.close()
        observer.close()


def test_r_nacos_writes_its_sets_one_service_at_a_time(nacos_alt):
    """r-nacos's batches add to what a connection holds: a set may take several requests,
    so its sets are not pipelined (the keeper spreads them over threads instead)."""
    holder = another(nacos_alt)
    try:
        holder.naming()
        assert holder.holds_by_connection and not holder.pipelines_holds
    finally:
        holder.close()


def test_a_closed_connection_fails_every_set_at_once(nacos):
    """No answer can come on a closed connection: every set fails at once (one wait for
    the connection, not one per service)."""
    holder = another(nacos)
    groups = many("shut", 2 * naming_grpc.HOLD_WINDOW)
    holder.naming().conn("public").close()
    started = time.monotonic()
    outcomes = holder.hold_many(groups)
    assert set(outcomes) == set(groups) and all(outcomes.values())
    assert time.monotonic() - started < 3
    assert holder.held_services() == []
    holder.close()


def test_a_reconnect_writes_many_held_sets_again(nacos):
    holder, observer = another(nacos), another(nacos)
    groups = many("again", 2 * naming_grpc.HOLD_WINDOW)
    wanted = {s: len(c) for s, c in groups.items()}
    try:
        assert not any(holder.hold_many(groups).values())
        wait_until(lambda: listed_counts(observer, groups) == wanted, 30)
        connection = holder.naming().conn("public")
        first = connection.link().connection_id
        connection.link().close()  # the server drops every copy the connection held
        wait_until(lambda: connection.connected and connection.link().connection_id != first, 10)
        wait_until(lambda: listed_counts(observer, groups) == wanted, 30)
    finally:
        holder.close()
        observer.close()


def test_the_push_feed_reports_a_changed_service(address):
    source, writer = another(address), another(address)
    service = ServiceKey("public", "DEFAULT_GROUP", unique("push"))
    changes = queue.Queue()
    seen = []

    def reported() -> bool:
        while not changes.empty():
            seen.append(changes.get())
        return service in seen

    try:
        writer.hold(service, fifty()[:1])
        assert source.watch(changes.put)
        wait_until(lambda: service in (source._watcher.known or set()), 15)
        reported()
        seen.clear()
        writer.hold(service, fifty()[:2])
        wait_until(reported, 10)
    finally:
        source.close()
        writer.close()


def test_the_push_after_a_subscription_is_no_change_but_a_later_one_is(address):
    """Both servers push each service's state right after its subscription: reported, 1,000
    subscriptions were 1,000 sync jobs at every keeper start."""
    source, writer = another(address), another(address)
    prefix = unique("sub")
    services = [ServiceKey("public", "DEFAULT_GROUP", f"{prefix}-{n}") for n in range(20)]
    changes = queue.Queue()
    try:
        for service in services:
            writer.hold(service, fifty()[:2])
        wait_until(lambda: all(len(source.list_instances(s)) == 2 for s in services), 15)
        assert source.watch(changes.put)
        wait_until(lambda: set(services) <= (source._watcher.known or set()), 15)
        time.sleep(3)  # the servers push within ~0.5-1 s of a subscription
        mine = lambda: [k for k in drained(changes) if k in services]  # noqa: E731
        assert mine() == [], "what was there at the subscription is no change"
        writer.hold(services[7], fifty()[:3])
        wait_until(lambda: services[7] in mine(), 10)
    finally:
        source.close()
        writer.close()


def drained(changes: queue.Queue) -> list:
    found = []
    while not changes.empty():
        found.append(changes.get())
    return found


def test_no_v1_call_reaches_a_server_that_has_grpc(nacos, monkeypatch):
    """Nacos 3.1 with v1 off: every adapter operation, and not one /v1/ request."""
    paths = []
    real = NacosHttp.call

    def recording(self, method, path, *args, **kwargs):
        paths.append(path)
        return real(self, method, path, *args, **kwargs)

    monkeypatch.setattr(NacosHttp, "call", recording)
    namespace = unique("ns")
    registry = NacosRegistry(ClusterConfig("v3", "NACOS", (nacos,), (namespace,)))
    try:
        registry.ensure_namespace(namespace)
        service = ServiceKey(namespace, "G", unique())
        registry.hold(service, fifty()[:2])
        wait_until(lambda: service in registry.list_services(namespace), 10)
        assert len(registry.list_instances(service)) == 2
        assert registry.watch(lambda key: None)
        registry._watcher.step()
    finally:
        registry.close()
    assert paths and not [p for p in paths if p.startswith("/v1/")], paths


def test_the_v1_path_serves_a_server_without_grpc(nacos_alt):
    """Nacos 1.x has no gRPC: r-nacos's v1 HTTP API plays it, through the forced path."""
    registry = NacosRegistry(ClusterConfig("v1", "NACOS", (nacos_alt,)), protocol="http")
    service = ServiceKey("public", "DEFAULT_GROUP", unique("v1"))
    try:
        assert registry.protocol == "http" and not registry.holds_by_connection
        registry.register(service, Instance("10.9.0.1", 1, metadata={"k": "v"}))
        registry.heartbeat(service, Instance("10.9.0.2", 2))  # unknown: registered
        listed = sorted(registry.list_instances(service), key=lambda i: i.ip)
        assert [(i.ip, i.metadata.get("k")) for i in listed] == [
            ("10.9.0.1", "v"),
            ("10.9.0.2", None),
        ]
        registry.deregister(service, listed[0])
        assert [i.ip for i in registry.list_instances(service)] == ["10.9.0.2"]
    finally:
        for instance in registry.list_instances(service):
            registry.deregister(service, instance)
        registry.close()


# --- test connection ------------------------------------------------------------------------


@pytest.mark.django_db
def test_test_connection_reads_an_instance_list_so_an_unusable_server_fails(nacos, monkeypatch):
    """Nacos 3.1 with v1 off lists services over v3 but refuses v1 instance reads: an adapter
    that only spoke v1 could not sync, and the probe says so instead of "connected"."""
    from functools import partial

    from syncapp.models import Cluster
    from syncapp.ui import discovery

    cluster = Cluster.objects.create(
        cluster_name="probe", cluster_type="NACOS", connect_keys=[nacos]
    )
    usable = discovery.probe(cluster)
    assert usable.ok and usable.protocol == "grpc", usable.error
    monkeypatch.setattr(
        discovery, "registry_class", lambda kind: partial(NacosRegistry, protocol="http")
    )
    refused = discovery.probe(cluster)
    assert not refused.ok and "410" in refused.error
