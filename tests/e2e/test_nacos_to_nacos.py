"""Issue 3's acceptance, end to end: the real product between the two real Nacos servers."""

import time
import uuid

import pytest

from syncapp.engine.markers import MARKER_KEYS, SOURCE_CLUSTER
from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from tests.support.configs import cluster, config_yaml, task
from tests.support.fleet import NacosFleet
from tests.support.product import wait_for
from tests.testbed.base import start, stop
from tests.testbed.servers import load

pytestmark = pytest.mark.e2e
GROUPS = ("DEFAULT_GROUP", "G2")
NAMESPACES = ("public", "test")


def task_yaml(tag, source, dest, mode="Unidirectional") -> str:
    """A YAML whose cluster names and pattern are private to one test (tests share servers)."""
    return config_yaml(
        [
            cluster(f"{tag}-src", "NACOS", source, "public,test"),
            cluster(f"{tag}-dst", "NACOS", dest, "public,test"),
        ],
        [task(f"{tag}-src", f"{tag}-dst", f"{tag}-.*", mode=mode)],
    )


def reader(address) -> NacosRegistry:
    return NacosRegistry(ClusterConfig("reader", "NACOS", (address,)))


def natives(instances):
    return {i for i in instances if SOURCE_CLUSTER not in i.metadata}


def stripped(instances):
    """Destination copies without our markers, to compare with the source."""
    return {
        Instance(
            **{
                **i.to_dict(),
                "metadata": {k: v for k, v in i.metadata.items() if k not in MARKER_KEYS},
            }
        )
        for i in instances
    }


def varied_instance(s: int, n: int) -> Instance:
    return Instance(
        ip=f"10.{s}.{n // 250}.{n % 250 + 1}",
        port=8000 + n,
        weight=1 + n % 3,
        cluster="DEFAULT" if n % 2 else "east",
        metadata={"n": str(n), "svc": str(s), "version": "1.0"},
    )


@pytest.fixture
def fleets(nacos, nacos_alt):
    made = {}

    def fleet(address):
        made.setdefault(address, NacosFleet(address))
        return made[address]

    yield fleet
    for f in made.values():
        f.close()


@pytest.fixture
def tag():
    return f"e{uuid.uuid4().hex[:6]}"


def test_it_mirrors_services_of_both_namespaces_and_groups_and_follows_changes(
    product, nacos, nacos_alt, fleets, tag
):
    source, dest = reader(nacos), reader(nacos_alt)
    source.ensure_namespace("test")
    services = [
        ServiceKey(NAMESPACES[s % 2], GROUPS[s // 2 % 2], f"{tag}-svc-{s:02}") for s in range(20)
    ]
    fleet = fleets(nacos)
    for s, key in enumerate(services):
        for n in range(50):
            fleet.add(key, varied_instance(s, n))

    product.apply(task_yaml(tag, nacos, nacos_alt))

    def all_copied():
        return all(
            stripped(dest.list_instances(k)) == set(source.list_instances(k)) for k in services
        )

    wait_for(all_copied, timeout=120, what="20 services x 50 instances at the destination")
    assert "test" in dest.http.existing_namespaces()
    copy = dest.list_instances(services[0])[0]
    assert copy.metadata[SOURCE_CLUSTER] == f"{tag}-src"
    assert copy.metadata["destClusterId"] == f"{tag}-dst"
    assert copy.metadata["syncSource"] == "NACOS"
    assert copy.metadata["sync.instance.tag"].startswith(f"{tag}-src@@")
    assert len([i for k in services for i in dest.list_instances(k)]) == 1000

    # Later changes at the source arrive with no action from anyone.
    new_service = ServiceKey("test", "G2", f"{tag}-late")
    fleet.add(new_service, Instance("10.99.0.1", 1, metadata={"late": "yes"}))
    fleet.remove(services[1], varied_instance(1, 3))
    changed = Instance(**{**varied_instance(2, 4).to_dict(), "metadata": {"v": "2"}})
    fleet.add(services[2], changed)
    wait_for(
        lambda: stripped(dest.list_instances(new_service))
        == {Instance("10.99.0.1", 1, metadata={"late": "yes"})},
        60,
        what="new service",
    )
    wait_for(lambda: len(dest.list_instances(services[1])) == 49, 60, what="removal")
    wait_for(
        lambda: changed in stripped(dest.list_instances(services[2])), 60, what="metadata change"
    )

    rows = {r["service"]: r for t in product.status() for r in t["services"]}
    assert rows[services[0].name]["source_count"] == 50
    assert rows[services[0].name]["dest_count"] == 50
    assert rows[services[0].name]["last_success"]


def test_two_way_copies_natives_both_ways_and_nothing_back(product, nacos, nacos_alt, fleets, tag):
    a, b = reader(nacos), reader(nacos_alt)
    shared = ServiceKey("public", "DEFAULT_GROUP", f"{tag}-shared")
    only_b = ServiceKey("public", "G2", f"{tag}-only-b")
    fleets(nacos).add(shared, Instance("10.5.0.1", 1))
    fleets(nacos).add(shared, Instance("10.5.0.2", 1))
    fleets(nacos_alt).add(shared, Instance("10.5.0.3", 1))
    fleets(nacos_alt).add(only_b, Instance("10.5.0.4", 1))

    product.apply(task_yaml(tag, nacos, nacos_alt, mode="Bidirectional"))

    def converged():
        return (
            len(a.list_instances(shared)) == 3
            and len(b.list_instances(shared)) == 3
            and len(a.list_instances(only_b)) == 1
        )

    wait_for(converged, timeout=60, what="both sides with every native")
    assert {i.ip for i in natives(a.list_instances(shared))} == {"10.5.0.1", "10.5.0.2"}
    assert {i.ip for i in natives(b.list_instances(shared))} == {"10.5.0.3"}

    samples = []
    for _ in range(4):  # several refresh intervals (5 s each here)
        samples.append(
            (
                len(a.list_instances(shared)),
                len(b.list_instances(shared)),
                len(a.list_instances(only_b)),
                len(b.list_instances(only_b)),
            )
        )
        time.sleep(5)
    assert samples == [(3, 3, 1, 1)] * 4
    copies = [
        i
        for i in a.list_instances(shared) + b.list_instances(shared)
        if SOURCE_CLUSTER in i.metadata
    ]
    assert all(i.metadata[SOURCE_CLUSTER] != i.metadata["destClusterId"] for i in copies)
    assert len(copies) == 3


def test_destination_survives_a_stopped_source_and_sync_resumes(
    product, nacos, nacos_alt, fleets, tag
):
    source_server = load("rnacos")  # r-nacos restarts in about a second
    source, dest = reader(nacos_alt), reader(nacos)
    key = ServiceKey("public", "DEFAULT_GROUP", f"{tag}-outage")
    fleet = fleets(nacos_alt)
    for n in range(5):
        fleet.add(key, Instance("10.6.0.1", 100 + n))
    product.apply(task_yaml(tag, nacos_alt, nacos))
    wait_for(lambda: len(dest.list_instances(key)) == 5, 60, what="initial copy")

    stop(source_server)
    try:
        for _ in range(12):  # 2+ refresh intervals of 5 s, and past Nacos' 30 s expiry
            time.sleep(3)
            assert len(dest.list_instances(key)) == 5
    finally:
        start(source_server)
    # Clients come back and re-register (their beats do it); one new instance joins.
    fleet.add(key, Instance("10.6.0.1", 200))
    wait_for(lambda: len(dest.list_instances(key)) == 6, 60, what="sync resumed")
    assert source.list_instances(key)


def test_it_runs_on_the_storage_and_broker_of_its_mode(product):
    probe = (
        "from django.conf import settings; from django.db import connection; "
        "print(connection.vendor, settings.CELERY_BROKER_URL.split(':')[0])"
    )
    vendor, broker = product.manage("shell", "--no-imports", "-c", probe).stdout.split()
    mysql_mode = "MYSQL_URL" in product.env
    assert (vendor, broker) == (("mysql", "redis") if mysql_mode else ("sqlite", "msesyncfs"))


def test_the_ui_and_api_are_served_and_need_the_admin_login(product):
    import requests

    base = f"http://127.0.0.1:{product.port}"
    assert "Log in" in requests.get(f"{base}/admin/login/", timeout=10).text
    assert requests.get(f"{base}/static/admin/css/base.css", timeout=10).status_code == 200
    assert requests.get(f"{base}/api/clusters/", timeout=10).status_code in (401, 403)
    login = ("admin", product.env["MSESYNC_ADMIN_PASSWORD"])
    clusters = requests.get(f"{base}/api/clusters/?limit=1000", auth=login, timeout=10).json()
    # conf/config.yaml (here MSESYNC_CONFIG_FILE) was imported at start.
    assert "from-startup-config" in {c["cluster_name"] for c in clusters["results"]}
