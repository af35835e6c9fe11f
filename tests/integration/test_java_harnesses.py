"""The Java client harnesses (tests/harness) on their own, against the real test-bed servers.

They are the two ends of the later end-to-end test "a Dubbo provider registered only in
ZooKeeper is called by a Dubbo consumer registered only in Nacos, through msesync". Here we
check each end alone and pin down what msesync must write into Nacos: the last tests do by hand
what msesync will do (turn the provider's ZooKeeper node into a Nacos instance) and show that a
real consumer then calls the provider, and that the result equals what Dubbo itself writes into
Nacos.
"""

from __future__ import annotations

import contextlib
import json
import signal
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import requests
from kazoo.client import KazooClient

from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from tests.harness.java_apps import (
    GREETING_SERVICE,
    curator_instance,
    dubbo_provider,
    free_port,
    run_dubbo_consumer,
)

PROVIDERS_PATH = f"/dubbo/{GREETING_SERVICE}/providers"
GONE_TIMEOUT = 20.0  # SIGTERM unregisters at once; a crash waits for the 10 s ZK session


@pytest.fixture
def zk(zookeeper):
    client = KazooClient(hosts=zookeeper, timeout=5)
    client.start(timeout=10)
    yield client
    client.stop()
    client.close()


def unique_version() -> str:
    """A service version nobody else registers: keeps tests apart in shared registries."""
    return f"9.{uuid.uuid4().int % 10**6}.0"


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def forget_definition(zk: KazooClient, version: str) -> None:
    """Remove the service definition a stock Dubbo provider leaves (persistent) in ZooKeeper,
    /dubbo/metadata/<interface>/<version>[/<group>]/provider/<application>."""
    zk.delete(f"/dubbo/metadata/{GREETING_SERVICE}/{version}", recursive=True)


def provider_urls(zk: KazooClient, port: int) -> list[str]:
    """Decoded provider URLs of GreetingService in ZooKeeper that point at `port`."""
    if not zk.exists(PROVIDERS_PATH):
        return []
    urls = [unquote(child) for child in zk.get_children(PROVIDERS_PATH)]
    return [url for url in urls if urlsplit(url).port == port]


# --- what msesync must write into Nacos for a ZooKeeper Dubbo provider ----------------------


@dataclass(frozen=True)
class NacosInstance:
    service_name: str  # in group DEFAULT_GROUP, cluster DEFAULT
    ip: str
    port: int
    metadata: dict[str, str]


def nacos_form_of(provider_url: str) -> NacosInstance:
    """The Nacos instance Dubbo's own NacosRegistry (3.3, doRegister/createInstance) writes for
    a provider URL, i.e. what a Nacos-only consumer needs to find and call that provider:

    - service name "providers:<interface>:<version>:<group>" (empty parts stay empty, so no
      group gives a trailing ":"), group DEFAULT_GROUP, ephemeral, weight 1.0;
    - ip and port of the URL;
    - metadata = every query parameter of the URL, plus "category": "providers",
      "protocol": the URL scheme ("dubbo") and "path": the URL path (the interface name).

    The consumer rebuilds the provider URL from metadata["protocol"], ip, port,
    metadata["path"] and the rest of the metadata, then keeps it only if interface, version,
    group and category match its reference and "enabled" is not false; Nacos' `enabled` flag
    must be true, `healthy` is not consulted.
    """
    parts = urlsplit(provider_url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    path = parts.path.lstrip("/")
    interface = params.get("interface") or path
    category = params.get("category", "providers")
    metadata = {**params, "category": category, "protocol": parts.scheme, "path": path}
    service_name = ":".join(
        [category, interface, params.get("version", ""), params.get("group", "")]
    )
    return NacosInstance(service_name, parts.hostname or "", parts.port or 0, metadata)


@contextlib.contextmanager
def registered_in_nacos(nacos: str, instance: NacosInstance) -> Iterator[None]:
    """Register as an ephemeral instance over gRPC, as a Nacos 2.x/3.x client does; it lives
    as long as the connection, closed at the end."""
    registry = NacosRegistry(ClusterConfig("harness", "NACOS", (nacos,)))
    service = ServiceKey("public", "DEFAULT_GROUP", instance.service_name)
    registry.register(service, Instance(instance.ip, instance.port, metadata=instance.metadata))
    try:
        yield
    finally:
        registry.close()


def nacos_instances(nacos: str, service_name: str) -> list[dict]:
    """The instance list as Nacos' v3 HTTP client API serves it (no v1 on current Nacos)."""
    reply = requests.get(
        f"http://{nacos}/nacos/v3/client/ns/instance/list",
        params={"serviceName": service_name, "namespaceId": "public", "groupName": "DEFAULT_GROUP"},
        timeout=10,
    )
    reply.raise_for_status()
    return reply.json().get("data") or []


# --- the provider ----------------------------------------------------------------------------


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["term", "crash"])
def test_the_provider_registers_its_url_in_zookeeper_and_it_goes_away_with_the_provider(
    zk, zookeeper, stop_signal
):
    port = free_port()
    with dubbo_provider(zookeeper, port=port) as provider:
        urls = wait_until(lambda: provider_urls(zk, port), 15, "the provider node")
        assert len(urls) == 1
        url = urlsplit(urls[0])
        params = dict(parse_qsl(url.query))
        assert (url.scheme, url.hostname, url.port) == ("dubbo", provider.host, port)
        assert url.path == f"/{GREETING_SERVICE}"
        assert params["interface"] == GREETING_SERVICE
        assert params["version"] == "1.0.0"
        assert "group" not in params
        assert params["side"] == "provider"
        assert params["methods"] == "greet"
        child = next(c for c in zk.get_children(PROVIDERS_PATH) if unquote(c) == urls[0])
        assert zk.exists(f"{PROVIDERS_PATH}/{child}").ephemeralOwner != 0
        # interface-level registration only: no application-level instance under /services
        assert not zk.exists("/services/msesync-harness-provider")
        # SIGTERM: Dubbo's shutdown hook unregisters; SIGKILL: the 10 s ZK session expires
        provider.process.stop(stop_signal)
    wait_until(lambda: not provider_urls(zk, port), GONE_TIMEOUT, "the node to go away")


# --- the Curator registration ----------------------------------------------------------------


def test_the_curator_registration_appears_under_services_and_goes_away(zk, zookeeper):
    name = f"harness-{uuid.uuid4().hex[:8]}"
    metadata = {"zone": "east", "version": "2"}
    with curator_instance(name, 8080, metadata, zookeeper=zookeeper) as instance:
        data, stat = zk.get(instance.path)
        node = json.loads(data)
        assert stat.ephemeralOwner != 0
        assert instance.path == f"/services/{name}/{node['id']}"
        assert node == instance.data
        assert {k: node[k] for k in ("name", "address", "port", "sslPort", "serviceType")} == {
            "name": name,
            "address": "127.0.0.1",
            "port": 8080,
            "sslPort": None,
            "serviceType": "DYNAMIC",
        }
        # Spring Cloud Zookeeper's payload: its own class, its context id, the app name, and the
        # metadata plus the instance_status Spring adds
        assert node["payload"] == {
            "@class": "org.springframework.cloud.zookeeper.discovery.ZookeeperInstance",
            "id": name,
            "name": name,
            "metadata": {**metadata, "instance_status": "UP"},
        }
        assert isinstance(node["registrationTimeUTC"], int)
        assert [p["value"] for p in node["uriSpec"]["parts"]] == [
            "scheme",
            "://",
            "address",
            ":",
            "port",
        ]
    wait_until(lambda: not zk.exists(instance.path), GONE_TIMEOUT, "the node to go away")
    zk.delete(f"/services/{name}")  # the empty parent Curator leaves behind


# --- the consumer ----------------------------------------------------------------------------


def test_the_consumer_fails_quickly_when_nacos_has_no_provider(nacos):
    started = time.monotonic()
    code, output = run_dubbo_consumer(nacos, version=unique_version(), timeout=3)
    assert code != 0, output
    assert "FAILED" in output and "No provider available" in output, output
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("nacos_server", ["nacos", "nacos_alt"])
def test_the_consumer_calls_the_zookeeper_provider_once_its_url_is_in_nacos(
    request, nacos_server, zk, zookeeper
):
    nacos = request.getfixturevalue(nacos_server)
    port = free_port()
    with dubbo_provider(zookeeper, port=port) as provider:
        [url] = wait_until(lambda: provider_urls(zk, port), 15, "the provider node")
        instance = nacos_form_of(url)
        assert instance.service_name == f"providers:{GREETING_SERVICE}:1.0.0:"
        assert (instance.ip, instance.port) == (provider.host, port)
        with registered_in_nacos(nacos, instance):
            code, output = run_dubbo_consumer(nacos, calls=3, timeout=30, name="zk")
    assert code == 0, output
    results = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert results == [f"RESULT hello zk from {port}"] * 3, output


def test_a_running_consumer_retries_until_the_provider_shows_up_in_nacos(zk, zookeeper, nacos):
    port, version = free_port(), unique_version()
    with dubbo_provider(zookeeper, port=port, version=version) as provider:
        [url] = wait_until(lambda: provider_urls(zk, port), 15, "the provider node")
        with ThreadPoolExecutor(max_workers=1) as pool:
            consumer = pool.submit(run_dubbo_consumer, nacos, version=version, timeout=40)
            time.sleep(8)  # the consumer is up, finding nothing, retrying
            assert not consumer.done(), consumer.result()
            with registered_in_nacos(nacos, nacos_form_of(url)):
                code, output = consumer.result(timeout=60)
    forget_definition(zk, version)
    assert code == 0, output
    assert f"RESULT hello msesync from {provider.port}" in output, output
    assert "No provider available" not in output.split("RESULT")[-1]


def test_what_we_write_into_nacos_is_what_dubbo_itself_writes(zk, zookeeper, nacos):
    version, group = unique_version(), "harness"
    zk_port, nacos_port = free_port(), free_port()
    with dubbo_provider(zookeeper, port=zk_port, version=version, group=group):
        [url] = wait_until(lambda: provider_urls(zk, zk_port), 15, "the provider node")
    forget_definition(zk, version)
    ours = nacos_form_of(url)
    assert ours.service_name == f"providers:{GREETING_SERVICE}:{version}:{group}"

    # the same provider registered by Dubbo itself in Nacos (gRPC, Nacos 2.x client)
    with dubbo_provider(
        zookeeper, port=nacos_port, version=version, group=group, registry=f"nacos://{nacos}"
    ):
        [theirs] = wait_until(
            lambda: nacos_instances(nacos, ours.service_name), 15, "Dubbo's own Nacos instance"
        )
    # with Nacos as registry, Dubbo keeps the service definition as a Nacos config instead
    requests.delete(
        f"http://{nacos}/nacos/v3/admin/cs/config",
        params={
            "dataId": f"{GREETING_SERVICE}:{version}:{group}:provider:msesync-harness-provider",
            "groupName": "dubbo",
            "namespaceId": "public",
        },
        timeout=10,
    )
    assert (theirs["ip"], theirs["port"]) == (ours.ip, nacos_port)
    assert theirs["clusterName"] == "DEFAULT" and theirs["ephemeral"] and theirs["enabled"]
    assert theirs["weight"] == 1.0
    different = {"timestamp"}  # when each provider started
    assert {k: v for k, v in theirs["metadata"].items() if k not in different} == {
        k: v for k, v in ours.metadata.items() if k not in different
    }
