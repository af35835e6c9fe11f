"""Copies from a source without namespaces land in the destination's configured namespace.

ZooKeeper (Dubbo providers) -> the real Nacos, through the product's jobs as workers run them
(scan_task, sync_service per row) and the keeper's holding (renew_leases), with the test
database: copies go to the first namespace the Nacos cluster names (created there when
missing), never to `public`; a two-way task's reverse way reads that namespace and copies
Nacos' own providers to ZooKeeper without copying our copies back; a cluster edited to name
a namespace moves the copies that were in `public` there.
"""

import re
import uuid
from urllib.parse import quote_plus

import pytest

from syncapp import jobs
from syncapp.connections import forget_all
from syncapp.engine.markers import SOURCE_CLUSTER
from syncapp.keeper import leases
from syncapp.models import Cluster, SyncTask
from syncapp.registries import dubbo_url
from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from syncapp.registries.zookeeper import ZookeeperRegistry
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db
SETTLE = 15.0  # seconds for Nacos to list what was held


@pytest.fixture(autouse=True)
def fresh_adapters():
    forget_all()
    yield
    forget_all()  # closes the connections holding our copies: they vanish from Nacos


@pytest.fixture
def interface(zk):
    name = f"com.msesync.it.Ns{uuid.uuid4().hex[:8]}"
    yield name
    zk.delete(f"/dubbo/{name}", recursive=True)


@pytest.fixture
def nacos_reader(nacos):
    reader = NacosRegistry(ClusterConfig("reader", "NACOS", (nacos,)))
    yield reader
    reader.close()


def publish(zk, interface: str, ip: str, port: int) -> None:
    """A Dubbo provider as Dubbo's ZookeeperRegistry writes it: an ephemeral URL node."""
    url = f"dubbo://{ip}:{port}/{interface}?application=it&interface={interface}&side=provider"
    zk.create(f"/dubbo/{interface}/providers/{quote_plus(url)}", ephemeral=True, makepath=True)


def make_task(zookeeper, nacos, interface, namespaces="", mode=SyncTask.UNIDIRECTIONAL):
    tag = uuid.uuid4().hex[:6]
    zk = Cluster.objects.create(
        cluster_name=f"ns-{tag}-zk", cluster_type="ZOOKEEPER", connect_keys=[zookeeper]
    )
    dest = Cluster.objects.create(
        cluster_name=f"ns-{tag}-nacos",
        cluster_type="NACOS",
        connect_keys=[nacos],
        namespaces=namespaces,
    )
    pattern = re.escape(dubbo_url.service_name(interface))
    return SyncTask.objects.create(
        source=zk, destination=dest, mode=mode, service_match_pattern=pattern
    )


def sync_round(task: SyncTask, force: bool = False) -> None:
    """What beat, workers and keepers do: scan, sync each service, hold our copies."""
    for row_id in jobs.scan_task(task.pk):
        jobs.sync_service(row_id, force)
    for cluster in (task.source, task.destination):
        assert leases.renew_leases(cluster.pk) == 0


def endpoints(registry, key: ServiceKey) -> set[tuple[str, int]]:
    return {(i.ip, i.port) for i in registry.list_instances(key)}


def in_nacos(reader, namespace: str, interface: str) -> set[tuple[str, int]]:
    return endpoints(reader, ServiceKey(namespace, "DEFAULT_GROUP", _name(interface)))


def _name(interface: str) -> str:
    return dubbo_url.service_name(interface)


def test_copies_land_in_the_destinations_first_namespace(
    zk, zookeeper, nacos, nacos_reader, interface
):
    namespace = f"it-ns-{uuid.uuid4().hex[:8]}"
    task = make_task(zookeeper, nacos, interface, f"{namespace},other")
    publish(zk, interface, "10.81.0.1", 20880)
    publish(zk, interface, "10.81.0.2", 20880)

    sync_round(task)

    assert namespace in nacos_reader.http.existing_namespaces()  # created by the scan
    wanted = {("10.81.0.1", 20880), ("10.81.0.2", 20880)}
    wait_until(lambda: in_nacos(nacos_reader, namespace, interface) == wanted, SETTLE)
    assert in_nacos(nacos_reader, "public", interface) == set()
    copy = nacos_reader.list_instances(ServiceKey(namespace, "DEFAULT_GROUP", _name(interface)))[0]
    assert copy.metadata[SOURCE_CLUSTER] == task.source.cluster_name


def test_without_a_namespace_copies_land_in_public(zk, zookeeper, nacos, nacos_reader, interface):
    task = make_task(zookeeper, nacos, interface)
    publish(zk, interface, "10.82.0.1", 20880)

    sync_round(task)

    wanted = {("10.82.0.1", 20880)}
    wait_until(lambda: in_nacos(nacos_reader, "public", interface) == wanted, SETTLE)


def test_a_two_way_task_reads_back_the_namespace_its_copies_went_to(
    zk, zookeeper, nacos, nacos_reader, interface
):
    namespace = f"it-ns-{uuid.uuid4().hex[:8]}"
    task = make_task(zookeeper, nacos, interface, namespace, SyncTask.BIDIRECTIONAL)
    publish(zk, interface, "10.83.0.1", 20880)
    nacos_reader.ensure_namespace(namespace)
    app = NacosRegistry(ClusterConfig("it-app", "NACOS", (nacos,)))  # a Dubbo app on Nacos
    try:
        native = Instance("10.84.0.1", 20880, metadata={"side": "provider"})
        app.register(ServiceKey(namespace, "DEFAULT_GROUP", _name(interface)), native)
        zk_reader = ZookeeperRegistry(ClusterConfig("zk-reader", "ZOOKEEPER", (zookeeper,)))
        both = {("10.83.0.1", 20880), ("10.84.0.1", 20880)}

        def converged() -> bool:
            sync_round(task, force=True)
            at_zk = endpoints(zk_reader, ServiceKey("", "", _name(interface)))
            return at_zk == both and in_nacos(nacos_reader, namespace, interface) == both

        wait_until(converged, SETTLE, step=0.5)
        for _ in range(2):  # settled: no copy of a copy either way
            sync_round(task, force=True)
        assert endpoints(zk_reader, ServiceKey("", "", _name(interface))) == both
        assert in_nacos(nacos_reader, namespace, interface) == both
        assert in_nacos(nacos_reader, "public", interface) == set()
        zk_reader.close()
    finally:
        app.close()


def test_naming_a_namespace_moves_the_copies_out_of_public(
    zk, zookeeper, nacos, nacos_reader, interface
):
    """What an upgrade, or an edited cluster, does to copies an earlier sync put in public:
    the keepers hold them in the namespace and withdraw them from public."""
    task = make_task(zookeeper, nacos, interface)
    publish(zk, interface, "10.85.0.1", 20880)
    sync_round(task)
    wanted = {("10.85.0.1", 20880)}
    wait_until(lambda: in_nacos(nacos_reader, "public", interface) == wanted, SETTLE)

    namespace = f"it-ns-{uuid.uuid4().hex[:8]}"
    dest = task.destination
    dest.namespaces = namespace
    dest.save()
    sync_round(SyncTask.objects.get(pk=task.pk))  # the source is unchanged: no forced sync

    wait_until(lambda: in_nacos(nacos_reader, namespace, interface) == wanted, SETTLE)
    wait_until(lambda: in_nacos(nacos_reader, "public", interface) == set(), SETTLE)
