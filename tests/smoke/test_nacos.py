"""nacos-sdk-python's legacy HTTP NacosClient against both Nacos servers (Java and r-nacos)."""

import uuid

import nacos
import pytest

# The legacy client builds an ssl.SSLContext() the old way even for plain HTTP.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:nacos.client")

PORTS = (18001, 18002, 18003)


@pytest.fixture(params=["nacos", "nacos_alt"])
def nacos_addr(request) -> str:
    return request.getfixturevalue(request.param)


@pytest.fixture
def client(nacos_addr, tmp_path):
    client = nacos.NacosClient(
        server_addresses=nacos_addr, namespace="public", logDir=str(tmp_path)
    )
    client.set_options(snapshot_base=str(tmp_path / "snapshot"))  # not ./nacos-data
    return client


@pytest.fixture
def service(client):
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    yield name
    for port in PORTS:
        client.remove_naming_instance(name, "127.0.0.1", port)


def test_it_lists_back_the_instances_it_registered(client, service):
    for port in PORTS:
        registered = client.add_naming_instance(
            service, "127.0.0.1", port, metadata={"smoke": str(port)}
        )
        assert registered is True

    hosts = client.list_naming_instance(service)["hosts"]

    assert sorted(host["port"] for host in hosts) == list(PORTS)
    assert {host["metadata"]["smoke"] for host in hosts} == {str(port) for port in PORTS}
