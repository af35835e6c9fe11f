"""Issue 5's acceptance, end to end: the real product from Eureka and from Consul into Nacos.

The sources are written the way applications write them: Eureka through py-eureka-client,
Consul through py-consul with a TTL check the application passes. "Within 5 s" is a
wait_for(timeout=5) started right after the change (for a TTL lapse: at the lapse).
"""

import asyncio
import threading
import time
import uuid

import consul as consul_lib
import pytest
from py_eureka_client import eureka_client as ec

from syncapp.engine.markers import MARKER_KEYS, SOURCE_CLUSTER, SYNC_SOURCE
from syncapp.registries.base import ClusterConfig, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from tests.support.configs import cluster, config_yaml, task
from tests.support.product import wait_for
from tests.testbed.pytest_plugin import host_port

pytestmark = pytest.mark.e2e
APPS, PER_APP = 30, 5
WITHIN = 5.0  # seconds from a change at the source to the destination following it
TTL = 2  # seconds: the Consul check TTL our applications pass every PASS_EVERY
PASS_EVERY = 0.5


def task_yaml(tag: str, kind: str, source: str, nacos: str, pattern: str) -> str:
    """A YAML whose cluster names and pattern are private to one test (tests share servers)."""
    return config_yaml(
        [cluster(f"{tag}-src", kind, source), cluster(f"{tag}-dst", "NACOS", nacos)],
        [task(f"{tag}-src", f"{tag}-dst", pattern)],
    )


@pytest.fixture
def tag():
    return f"e{uuid.uuid4().hex[:6]}"


@pytest.fixture
def nacos_reader(nacos):
    reader = NacosRegistry(ClusterConfig("reader", "NACOS", (nacos,)))
    yield reader
    reader.close()


def timed_wait(predicate, what: str, timeout: float = WITHIN, since: float | None = None):
    """wait_for(timeout) from `since` (default: now); prints how long it took."""
    since = time.monotonic() if since is None else since
    wait_for(predicate, timeout=timeout - (time.monotonic() - since), interval=0.1, what=what)
    print(f"{what}: {time.monotonic() - since:.2f} s")


def endpoints_at(reader: NacosRegistry, name: str) -> set[tuple[str, int]]:
    return {(i.ip, i.port) for i in reader.list_instances(ServiceKey("public", "", name))}


# --- Eureka -----------------------------------------------------------------------------


class EurekaApps:
    """Instances registered as Python services register themselves, renewed every 20 s."""

    def __init__(self, url: str):
        self.url = url
        self.registered: dict[tuple[str, str], str] = {}  # (APP, instanceId) -> lastDirty
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.renewer = threading.Thread(target=self.renew_loop, daemon=True)
        self.renewer.start()

    def register(self, app: str, ip: str, port: int, metadata: dict) -> str:
        iid, dirty = f"{ip}:{app.lower()}:{port}", str(int(time.time() * 1000))
        instance = ec.Instance(
            instanceId=iid,
            app=app,
            hostName=ip,
            ipAddr=ip,
            status="UP",
            vipAddress=app.lower(),
            port=ec.PortWrapper(port=port, enabled=True),
            securePort=ec.PortWrapper(port=443, enabled=False),
            dataCenterInfo=ec.DataCenterInfo(),
            leaseInfo=ec.LeaseInfo(renewalIntervalInSecs=30, durationInSecs=90),
            metadata=metadata,
            lastDirtyTimestamp=dirty,
        )
        asyncio.run(ec.register(self.url, instance))
        with self.lock:
            self.registered[(app.upper(), iid)] = dirty
        return iid

    def set_status(self, app: str, iid: str, status: str) -> None:
        dirty = self.registered[(app.upper(), iid)]
        asyncio.run(ec.status_update(self.url, app.upper(), iid, dirty, status))

    def cancel(self, app: str, iid: str) -> None:
        with self.lock:
            self.registered.pop((app.upper(), iid), None)
        asyncio.run(ec.cancel(self.url, app.upper(), iid))

    def renew_loop(self) -> None:
        while not self.stopped.wait(20):
            with self.lock:
                current = list(self.registered.items())
            for (app, iid), dirty in current:
                asyncio.run(ec.send_heartbeat(self.url, app, iid, dirty))

    def close(self) -> None:
        self.stopped.set()
        self.renewer.join(timeout=30)
        for app, iid in list(self.registered):
            self.cancel(app, iid)


@pytest.fixture
def eureka_apps(eureka):
    apps = EurekaApps(eureka)
    yield apps
    apps.close()


def test_eureka_apps_reach_nacos_lower_cased_and_leave_when_not_up(
    product, eureka, nacos, nacos_reader, eureka_apps, tag
):
    apps = [f"{tag}-app-{a:02}" for a in range(APPS)]
    ids = {}
    for a, app in enumerate(apps):
        for n in range(PER_APP):
            ip, port = f"10.51.{a}.{n + 1}", 8000 + n
            ids[app, n] = (ip, port, eureka_apps.register(app, ip, port, {"zone": f"z{n % 2}"}))
    expected = {app: {ids[app, n][:2] for n in range(PER_APP)} for app in apps}

    product.apply(task_yaml(tag, "EUREKA", eureka, nacos, f"{tag.upper()}-APP-.*"))
    wait_for(
        lambda: all(endpoints_at(nacos_reader, app) == expected[app] for app in apps),
        timeout=120,
        what=f"{APPS} apps x {PER_APP} instances in Nacos",
    )
    # Eureka upper-cased the names; Nacos has them lower-cased, and only so.
    names = {k.name for k in nacos_reader.list_services("public") if tag in k.name.lower()}
    assert names == set(apps)
    copy = next(i for i in nacos_reader.list_instances(ServiceKey("public", "", apps[0])))
    assert copy.metadata["zone"] in ("z0", "z1")
    assert (copy.metadata[SOURCE_CLUSTER], copy.metadata[SYNC_SOURCE]) == (f"{tag}-src", "EUREKA")

    def leaves(app, n, change):
        ip, port, iid = ids[app, n]
        change(app, iid)
        timed_wait(lambda: (ip, port) not in endpoints_at(nacos_reader, app), f"{app} {iid} gone")
        expected[app].discard((ip, port))

    leaves(apps[0], 0, lambda app, iid: eureka_apps.set_status(app, iid, "OUT_OF_SERVICE"))
    leaves(apps[1], 1, lambda app, iid: eureka_apps.set_status(app, iid, "DOWN"))
    leaves(apps[2], 2, eureka_apps.cancel)
    # Back in service: back in Nacos.
    eureka_apps.set_status(apps[0], ids[apps[0], 0][2], "UP")
    timed_wait(lambda: ids[apps[0], 0][:2] in endpoints_at(nacos_reader, apps[0]), "back UP")
    expected[apps[0]].add(ids[apps[0], 0][:2])
    assert all(endpoints_at(nacos_reader, app) == expected[app] for app in apps)


# --- Consul -----------------------------------------------------------------------------


class ConsulApps:
    """Services registered with a TTL check, passed every PASS_EVERY s while they live."""

    def __init__(self, address: str):
        host, port = host_port(address)
        self.client = consul_lib.Consul(host=host, port=port)
        self.services: set[str] = set()
        self.passing: dict[str, float] = {}  # service ID -> when its last pass was sent
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.passer = threading.Thread(target=self.pass_loop, daemon=True)
        self.passer.start()

    def register(self, name: str, ip: str, port: int, live: bool = True) -> str:
        sid = f"{name}-{ip}-{port}"
        check = consul_lib.Check.ttl(f"{TTL}s")  # starts critical until passed
        self.client.agent.service.register(
            name, service_id=sid, address=ip, port=port, meta={"zone": "z1"}, check=check
        )
        self.services.add(sid)
        if live:
            self.client.agent.check.ttl_pass(f"service:{sid}")
            with self.lock:
                self.passing[sid] = time.monotonic()
        return sid

    def stop_passing(self, sid: str) -> float:
        """No more passes; returns the moment the TTL lapses (at the latest)."""
        with self.lock:
            sent = self.passing.pop(sid)
        return sent + TTL

    def pass_loop(self) -> None:
        while not self.stopped.wait(PASS_EVERY):
            with self.lock:
                live = list(self.passing)
            for sid in live:
                with self.lock:
                    if sid not in self.passing:
                        continue
                    self.passing[sid] = time.monotonic()  # before sending: lapse >= TTL later
                self.client.agent.check.ttl_pass(f"service:{sid}")

    def close(self) -> None:
        self.stopped.set()
        self.passer.join(timeout=10)
        for sid in self.services:
            self.client.agent.service.deregister(sid)


@pytest.fixture
def consul_apps(consul):
    apps = ConsulApps(consul)
    yield apps
    apps.close()


def test_consul_passing_instances_reach_nacos_and_lapsed_ones_leave_and_new_ones_arrive(
    product, consul, nacos, nacos_reader, consul_apps, tag
):
    services = [f"{tag}-svc-{s}" for s in range(3)]
    live, sids = {}, {}
    for s, name in enumerate(services):
        for n in range(3):
            ip, port = f"10.52.{s}.{n + 1}", 9000 + n
            sids[name, n] = consul_apps.register(name, ip, port, live=n != 2)
        live[name] = {(f"10.52.{s}.{n + 1}", 9000 + n) for n in range(2)}

    product.apply(task_yaml(tag, "CONSUL", consul, nacos, f"{tag}-.*"))
    wait_for(
        lambda: all(endpoints_at(nacos_reader, name) == live[name] for name in services),
        timeout=60,
        what="the passing Consul instances (only) in Nacos",
    )
    time.sleep(3)  # several scans later, the never-passing instances are still not copied
    assert all(endpoints_at(nacos_reader, name) == live[name] for name in services)
    copy = nacos_reader.list_instances(ServiceKey("public", "", services[0]))[0]
    assert copy.metadata["zone"] == "z1" and copy.metadata[SYNC_SOURCE] == "CONSUL"

    lapse = consul_apps.stop_passing(sids[services[0], 0])
    time.sleep(max(0.0, lapse - time.monotonic()))
    timed_wait(
        lambda: ("10.52.0.1", 9000) not in endpoints_at(nacos_reader, services[0]),
        "lapsed instance gone from Nacos",
        since=lapse,
    )

    late = f"{tag}-late"
    consul_apps.register(late, "10.52.9.1", 9100)
    wait_for(
        lambda: endpoints_at(nacos_reader, late) == {("10.52.9.1", 9100)},
        timeout=30,
        what="a service registered after the task started, in Nacos",
    )
    copy = nacos_reader.list_instances(ServiceKey("public", "", late))[0]
    assert set(MARKER_KEYS) <= set(copy.metadata)
