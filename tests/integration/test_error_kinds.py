"""Issue 13: each adapter raises the kind of its failure, against the real servers.

No answer (a closed port, a name that does not resolve) is Unreachable; the server saying no
is Refused, with the server's own reason in the message. /metrics and the rows store the
kind the adapter raised (tests/unit/test_error_kinds.py), so these types are the contract.
"""

import socket
import uuid

import pytest
from kazoo.security import make_digest_acl

from syncapp.registries import registry_class
from syncapp.registries.base import (
    ClusterConfig,
    Instance,
    Refused,
    ServiceKey,
    Unreachable,
    error_kind,
)
from syncapp.registries.eureka import EurekaRegistry
from syncapp.registries.nacos import NacosRegistry

KINDS = ("NACOS", "CONSUL", "EUREKA", "ZOOKEEPER")


def closed_port() -> int:
    """A local port nobody listens on (bound, then released: the connect is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def adapters():
    made = []

    def make(kind: str, address: str, **kwargs):
        made.append(registry_class(kind)(ClusterConfig("kinds", kind, (address,)), **kwargs))
        return made[-1]

    yield make
    for adapter in made:
        adapter.close()


def tag() -> str:
    return uuid.uuid4().hex[:8]


# --- no answer -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_an_adapter_at_a_closed_port_is_unreachable(adapters, kind):
    adapter = adapters(kind, f"127.0.0.1:{closed_port()}")
    with pytest.raises(Unreachable) as raised:
        adapter.list_services(adapter.namespaces()[0])
    assert error_kind(raised.value) == "unreachable"


@pytest.mark.parametrize("kind", KINDS)
def test_an_adapter_at_a_name_that_does_not_resolve_is_unreachable(adapters, kind):
    adapter = adapters(kind, "no-such-registry.invalid:8848")
    with pytest.raises(Unreachable):
        adapter.list_services(adapter.namespaces()[0])


def test_nacos_over_grpc_at_a_closed_port_is_unreachable(adapters):
    nacos = adapters("NACOS", f"127.0.0.1:{closed_port()}", protocol="grpc")
    with pytest.raises(Unreachable, match="unreachable"):
        nacos.list_instances(ServiceKey("public", "DEFAULT_GROUP", "orders"))


def test_a_reachable_server_is_not_reported_unreachable(nacos, consul, eureka, zookeeper):
    """The same calls against the live servers succeed: the kind is not the address's."""
    for kind, address in zip(KINDS, (nacos, consul, eureka, zookeeper), strict=True):
        adapter = registry_class(kind)(ClusterConfig("kinds", kind, (address,)))
        try:
            assert isinstance(adapter.list_services(adapter.namespaces()[0]), list)
        finally:
            adapter.close()


# --- the server says no ------------------------------------------------------------------


def test_consul_refusing_a_meta_value_over_512_characters_is_refused_with_its_reason(
    adapters, consul
):
    registry = adapters("CONSUL", consul)
    service = ServiceKey("", "", f"kinds-{tag()}")
    with pytest.raises(Refused, match=r"Value is too long \(limit: 512 characters\)"):
        registry.register(service, Instance("10.77.0.9", 8080, metadata={"big": "y" * 600}))


def test_nacos_refusing_metadata_over_1024_characters_over_grpc_is_refused_with_its_reason(
    adapters, nacos
):
    registry: NacosRegistry = adapters("NACOS", nacos)
    service = ServiceKey("public", "DEFAULT_GROUP", f"kinds-{tag()}")
    big = Instance("10.77.0.9", 8080, metadata={"big": "x" * 1500})
    with pytest.raises(Refused, match=r"Param 'Metadata' is illegal.*1024") as raised:
        registry.hold(service, [big])
    assert registry.protocol == "grpc" and error_kind(raised.value) == "rejected"


def test_a_nacos_http_error_answer_is_refused_with_its_reason(adapters, nacos):
    registry: NacosRegistry = adapters("NACOS", nacos)
    with pytest.raises(Refused, match="HTTP 400 .*serviceName"):
        registry.http.call("GET", "/v3/admin/ns/service", {"serviceName": ""})


def test_eureka_refusing_a_registration_it_cannot_parse_is_refused_with_its_reason(
    adapters, eureka
):
    registry: EurekaRegistry = adapters("EUREKA", eureka)
    # The adapter's one place where a status becomes an error; a body without an instance.
    with pytest.raises(Refused, match="HTTP 400 .*cannot parse request body"):
        registry._call("POST", f"/apps/KINDS-{tag()}", (204,), json={"instance": {}})


def test_zookeeper_refusing_a_write_under_an_acl_is_refused(adapters, zookeeper, zk):
    path = f"/msesync-kinds-{tag()}"
    zk.add_auth("digest", "owner:secret")
    zk.create(path, b"theirs", acl=[make_digest_acl("owner", "secret", all=True)])
    try:
        registry = adapters("ZOOKEEPER", zookeeper)
        with pytest.raises(Refused, match="NoAuth"):
            registry.put_config(path, b"ours")
        assert zk.get(path)[0] == b"theirs"
    finally:
        zk.delete(path)
