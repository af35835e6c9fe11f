"""Issue 5's acceptance: what msesync registers at Eureka and Consul lives by its lease.

Nacos -> Eureka and Nacos -> Consul with a product of its own (this test stops it): the copies
appear, outlive several leases/TTLs while msesync runs (its heartbeat job renews them), and
once every msesync process has stopped they expire by themselves: Eureka evicts them, and
Consul's TTL check turns critical, so they are no longer passing (what clients ask for).
"""

import time
import uuid

import consul as consul_lib
import pytest

from syncapp.registries import consul as consul_adapter
from syncapp.registries import eureka as eureka_adapter
from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.consul import ConsulRegistry
from syncapp.registries.eureka import EurekaRegistry
from tests.support.configs import cluster, config_yaml, task
from tests.support.fleet import NacosFleet
from tests.support.product import Product, wait_for
from tests.testbed.pytest_plugin import host_port

pytestmark = pytest.mark.e2e
INSTANCES = 3
# Eureka evicts a renewed instance ~2 x durationInSecs after its last renewal (eureka.py).
EUREKA_EXPIRY = 2 * eureka_adapter.LEASE_SECONDS
CONSUL_EXPIRY = consul_adapter.TTL_SECONDS
# Past every lease while msesync runs: a copy still there has been renewed, not just created.
STAY = max(EUREKA_EXPIRY, CONSUL_EXPIRY) + 5
SLACK = 15  # eviction runs, scheduling on a loaded machine


@pytest.fixture
def tag():
    return f"d{uuid.uuid4().hex[:6]}"


@pytest.fixture
def product(tmp_path):
    running = Product(tmp_path, {"MSESYNC_CONFIG_FILE": str(tmp_path / "none.yaml")})
    running.start()
    yield running
    running.stop()
    print(running.logs()[-6000:])


@pytest.fixture
def fleet(nacos):
    running = NacosFleet(nacos)
    yield running
    running.close()


def task_yaml(tag: str, nacos: str, eureka: str, consul: str) -> str:
    return config_yaml(
        [
            cluster(f"{tag}-nacos", "NACOS", nacos),
            cluster(f"{tag}-eureka", "EUREKA", eureka),
            cluster(f"{tag}-consul", "CONSUL", consul),
        ],
        [
            task(f"{tag}-nacos", f"{tag}-eureka", f"{tag}-.*"),
            task(f"{tag}-nacos", f"{tag}-consul", f"{tag}-.*"),
        ],
    )


def test_copies_live_while_msesync_runs_and_expire_after_it_stops(
    product, fleet, nacos, eureka, consul, tag
):
    name = f"{tag}-drain"
    source = ServiceKey("public", "DEFAULT_GROUP", name)
    for n in range(INSTANCES):
        fleet.add(source, Instance(f"10.53.0.{n + 1}", 7000 + n, metadata={"n": str(n)}))
    wanted = {(f"10.53.0.{n + 1}", 7000 + n) for n in range(INSTANCES)}
    at_eureka = EurekaRegistry(ClusterConfig("reader", "EUREKA", (eureka,)))
    at_consul = ConsulRegistry(ClusterConfig("reader", "CONSUL", (consul,)))
    key = ServiceKey("", "", name)

    def listed():  # (at Eureka: UP, at Consul: passing)
        return (
            {(i.ip, i.port) for i in at_eureka.list_instances(key)},
            {(i.ip, i.port) for i in at_consul.list_instances(key)},
        )

    product.apply(task_yaml(tag, nacos, eureka, consul))
    wait_for(lambda: listed() == (wanted, wanted), 60, what="copies at Eureka and Consul")

    ends = time.monotonic() + STAY
    while time.monotonic() < ends:
        assert listed() == (wanted, wanted)
        time.sleep(2)

    stopping = time.monotonic()
    product.stop()  # beat first, then the other processes: about 12 s in all
    print(f"stop took {time.monotonic() - stopping:.1f} s")
    assert "not running" in product.run("bin/msesync", "status", check=False).stderr
    # Nobody deregistered them: Eureka's lease outlasts the stop, Consul still has them.
    assert listed()[0] == wanted
    wait_for(lambda: not listed()[1], CONSUL_EXPIRY + SLACK, 1, "Consul copies critical")
    print(f"Consul: not passing {time.monotonic() - stopping:.1f} s after the stop began")
    checks = consul_lib.Consul(*host_port(consul)).health.checks(name)[1]
    assert len(checks) == INSTANCES and {c["Status"] for c in checks} == {"critical"}
    wait_for(lambda: not listed()[0], EUREKA_EXPIRY + SLACK, 1, "Eureka copies evicted")
    print(f"Eureka: evicted {time.monotonic() - stopping:.1f} s after the stop began")
    assert fleet.registry.list_instances(source)  # the source kept its instances throughout
    at_eureka.close()
    at_consul.close()
