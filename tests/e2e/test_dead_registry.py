"""A registry killed under a synced task (issue 13): every reader says "error" (kind
unreachable) within 15 s and for as long as it is down, and "synced" again once it is back,
with nothing restarted by hand.

Readers: `sync_status --json`, the REST API, /metrics and the console's task list (the state
of the task's row, as a person logged in sees it). One storage mode only: the states come from the
same rows in both, and each case costs a kill and a restart.
"""

import re
import socket
import time
import uuid

import pytest
import requests
from kazoo.client import KazooClient

from syncapp.registries.base import ClusterConfig, ServiceKey
from syncapp.registries.consul import ConsulRegistry
from syncapp.registries.nacos import NacosRegistry
from tests.e2e.test_metrics import healthy, of_task, scrape
from tests.e2e.test_secrets import admin_session
from tests.support.configs import cluster, config_yaml, task
from tests.support.product import wait_for
from tests.support.zk import dubbo_provider, kazoo_client
from tests.testbed.base import halt, resume
from tests.testbed.servers import load

pytestmark = pytest.mark.e2e
SERVICES, PER_SERVICE = 2, 2
ERROR_WITHIN = 15.0  # seconds from the kill (issue 13)
DOWN_FOR = 25.0  # seconds the registry stays dead: every look meanwhile must say error
BACK_WITHIN = 90.0


@pytest.fixture(scope="module", params=["embedded"])
def product(request, tmp_path_factory):
    """The e2e product in its default storage mode only (see the module's docstring)."""
    from tests.e2e.conftest import STARTUP_CONFIG
    from tests.support.product import Product

    data_dir = tmp_path_factory.mktemp("product-dead-registry")
    (data_dir / "config.yaml").write_text(STARTUP_CONFIG)
    running = Product(data_dir, {"MSESYNC_CONFIG_FILE": str(data_dir / "config.yaml")})
    running.start()
    yield running
    running.stop()
    print(running.logs()[-6000:])


class Readers:
    """The task's state as sync_status, the API, /metrics and the console tell it."""

    def __init__(self, product, source: str, dest: str):
        self.product, self.source, self.dest = product, source, dest
        self.base = f"http://127.0.0.1:{product.port}"
        wait_for(lambda: healthy(self.base), 60, what="the web process")
        self.token = product.manage("api_token", "admin").stdout.strip()
        self.console = admin_session(self.base, "e2e-admin-pw")  # tests.support.product

    def look(self) -> dict[str, str]:
        [shown] = [t for t in self.product.status() if t["source"] == self.source]
        headers = {"Authorization": f"Token {self.token}"}
        listed = requests.get(f"{self.base}/api/tasks/?limit=1000", headers=headers, timeout=10)
        [api] = [t for t in listed.json()["results"] if t["source"] == self.source]
        return {
            "sync_status": shown["state"],
            "api": api["state"],
            "metrics": self.metrics_state(scrape(self.base, self.token)),
            "console": self.console_state(api["id"]),
        }

    def console_state(self, task_id: int) -> str:
        """The state on the task's row of Service Synchronization (the console's list)."""
        page = self.console.get(f"{self.base}/", timeout=10).text
        shown = re.search(rf'<tr data-task="{task_id}" data-state="(\w+)"', page)
        return shown.group(1) if shown else "not listed"

    def metrics_state(self, metrics) -> str:
        """What a Prometheus rule would conclude: errors of kind unreachable, or every
        service synced at least once and no error of any kind."""
        label = f"{self.source}->{self.dest}"
        unreachable = of_task(metrics, "msesync_task_errors", label, kind="unreachable")
        errors = sum(
            v for labels, v in metrics["msesync_task_errors"].items() if ("task", label) in labels
        )
        unsynced = of_task(metrics, "msesync_task_services_unsynced", label)
        if unreachable > 0:
            return "error"
        return (
            "synced" if errors == 0 and unsynced == 0 else f"{errors} errors, {unsynced} unsynced"
        )

    def all_say(self, state: str) -> bool:
        self.last = self.look()
        return set(self.last.values()) == {state}

    def wait_all(self, state: str, within: float, what: str) -> None:
        try:
            wait_for(lambda: self.all_say(state), within, 1, what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the readers said {self.last}") from None


def outage(readers: Readers, server_name: str, copies_present=None) -> None:
    """Kill the server; every reader says error within ERROR_WITHIN and at every look until
    DOWN_FOR; then restart it and wait until every reader says synced again."""
    server = load(server_name)
    halt(server)
    killed = time.monotonic()
    try:
        readers.wait_all("error", ERROR_WITHIN, f"error: {server_name} died")
        while time.monotonic() - killed < DOWN_FOR:
            seen = readers.look()
            assert set(seen.values()) == {"error"}, (time.monotonic() - killed, seen)
            if copies_present is not None:
                assert copies_present(), "a copy was lost while the source was dead"
    finally:
        resume(server)
    readers.wait_all("synced", BACK_WITHIN, f"synced after {server_name}")


@pytest.fixture(scope="module")
def listening_ports():
    """Ports that accept connections: r-nacos probes persistent instances by TCP and marks
    the unreachable ones unhealthy, and its gRPC queries list healthy instances only (even
    when asked for all): copies of instances at dead addresses would vanish on their own."""
    sockets = [socket.create_server(("127.0.0.1", 0)) for _ in range(PER_SERVICE)]
    yield [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()


def persistent_instances(rnacos: str, tag: str, ports: list[int]) -> list[ServiceKey]:
    """Persistent instances at r-nacos: they outlive its restart (nobody beats them)."""
    keys = [ServiceKey("public", "DEFAULT_GROUP", f"{tag}-svc-{s}") for s in range(SERVICES)]
    for key in keys:
        for port in ports:
            requests.post(
                f"http://{rnacos}/nacos/v1/ns/instance",
                params={
                    "serviceName": key.name,
                    "ip": "127.0.0.1",
                    "port": port,
                    "ephemeral": "false",
                },
                timeout=10,
            ).raise_for_status()
    return keys


def synced_task(product, readers, source, dest, pattern) -> None:
    product.apply(config_yaml([source, dest], [task(readers.source, readers.dest, pattern)]))
    readers.wait_all("synced", 90, "the first sync")


def synced_from_rnacos(product, rnacos, ports, tag, dest_kind, dest_addr):
    """A task from persistent instances at r-nacos to `dest_addr`, synced."""
    keys = persistent_instances(rnacos, tag, ports)
    readers = Readers(product, f"{tag}-src", f"{tag}-dst")
    source = cluster(readers.source, "NACOS", rnacos)
    synced_task(product, readers, source, cluster(readers.dest, dest_kind, dest_addr), f"{tag}-.*")
    return readers, keys


def test_a_dead_source_is_an_error_and_no_copy_is_lost(product, nacos, nacos_alt, listening_ports):
    tag = f"ds{uuid.uuid4().hex[:6]}"
    readers, keys = synced_from_rnacos(product, nacos_alt, listening_ports, tag, "NACOS", nacos)
    dest = NacosRegistry(ClusterConfig("reader", "NACOS", (nacos,)))

    def all_copies():
        return sum(len(dest.list_instances(k)) for k in keys) == SERVICES * PER_SERVICE

    assert all_copies()
    outage(readers, "rnacos", copies_present=all_copies)
    assert all_copies()


def test_a_dead_destination_holding_copies_is_an_error_until_it_holds_them_again(
    product, nacos_alt, zookeeper
):
    """r-nacos as the destination: our copies live on the keeper's gRPC connection."""
    tag = f"dh{uuid.uuid4().hex[:6]}"
    interface = f"com.example.{tag}.Stock"
    zk: KazooClient = kazoo_client(zookeeper)
    try:
        for n in range(PER_SERVICE):
            dubbo_provider(zk, interface, "10.62.0.1", 20880 + n)
        readers = Readers(product, f"{tag}-zk", f"{tag}-rn")
        synced_task(
            product,
            readers,
            cluster(readers.source, "ZOOKEEPER", zookeeper),
            cluster(readers.dest, "NACOS", nacos_alt),
            f"providers:com.example.{tag}.*",
        )
        outage(readers, "rnacos")
        dest = NacosRegistry(ClusterConfig("reader", "NACOS", (nacos_alt,)))
        name = f"providers:{interface}:1.0.0:"
        key = ServiceKey("public", "DEFAULT_GROUP", name)
        assert len(dest.list_instances(key)) == PER_SERVICE  # held again after the restart
    finally:
        zk.stop()
        zk.close()


def test_a_dead_destination_renewing_leases_is_an_error_until_they_are_renewed(
    product, nacos_alt, consul_alt, listening_ports
):
    """Consul as the destination: the keeper renews each copy's TTL check (dev mode: Consul
    comes back empty, and the renewals register the copies again)."""
    tag = f"dl{uuid.uuid4().hex[:6]}"
    readers, keys = synced_from_rnacos(
        product, nacos_alt, listening_ports, tag, "CONSUL", consul_alt
    )
    outage(readers, "consul_alt")
    dest = ConsulRegistry(ClusterConfig("reader", "CONSUL", (consul_alt,)))
    listed = {k.name: len(dest.list_instances(ServiceKey("", "", k.name))) for k in keys}
    assert listed == {k.name: PER_SERVICE for k in keys}
