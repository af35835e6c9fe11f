"""Every ordered pair of registry kinds, in both modes, through the jobs and the real servers.

Kinds: Nacos, ZooKeeper with Dubbo provider names and with Curator names, Eureka, Consul.
A same-kind pair runs between two servers (Nacos and r-nacos, two Eureka servers, two Consul
agents) or two chroots of one ZooKeeper. The engine runs in-process as the workers run it
(syncapp.jobs: scan_task, sync_service for each row; the keeper's renew_leases), with the test
database. Natives are written by separate adapters and kept alive; on ZooKeeper as Dubbo and
Spring write them (a node of their own, whatever else is at that ip:port).

For each pair and mode: natives at both ends converge (the source's copied to the
destination; in Bidirectional also the destination's to the source; one endpoint registered
natively at both is never copied), forced extra rounds plan no write at all (no copy of a
copy, markers once, no churn), a deleted native's copy is deleted and a metadata change
follows, and an app that registers itself at the destination and then leaves the source
keeps its own registration there.
"""

import re
import time
import uuid
from dataclasses import dataclass, field

import pytest
from kazoo.client import KazooClient

from syncapp import jobs
from syncapp.connections import forget_all
from syncapp.engine.markers import DEST_CLUSTER, MARKER_KEYS, SOURCE_CLUSTER, SYNC_TAG
from syncapp.keeper import leases
from syncapp.models import Cluster, SyncTask
from syncapp.registries import curator, dubbo_url, registry_class
from syncapp.registries.base import Instance, Registry, RegistryError, ServiceKey
from syncapp.registries.zookeeper import ZookeeperRegistry

pytestmark = pytest.mark.django_db
ZK_CHROOTS = ("/msesync-matrix-a", "/msesync-matrix-b")
# kind -> (cluster type, fixture of the first server, fixture of the second)
KINDS = {
    "NACOS": ("NACOS", "nacos", "nacos_alt"),
    "ZK_DUBBO": ("ZOOKEEPER", "zookeeper", "zookeeper"),
    "ZK_CURATOR": ("ZOOKEEPER", "zookeeper", "zookeeper"),
    "EUREKA": ("EUREKA", "eureka", "eureka_alt"),
    "CONSUL": ("CONSUL", "consul", "consul_alt"),
}
# One ZooKeeper service name is either Dubbo's or Curator's: the two layouts never pair.
PAIRS = [
    (a, b) for a in KINDS for b in KINDS if {a, b} != {"ZK_DUBBO", "ZK_CURATOR"}
]  # 23 ordered pairs
MODES = (SyncTask.UNIDIRECTIONAL, SyncTask.BIDIRECTIONAL)
MAX_ROUNDS = 20  # rounds to converge: servers may show a write a moment later
EXTRA_ROUNDS = 3
REFRESH_EVERY = 4  # see test_a_conflict_freed_at_the_destination_is_seen_before_the_next_refresh


@dataclass
class End:
    """One side of a pair: its cluster row, a natives' adapter (also the reader), its key."""

    cluster: Cluster
    natives: Registry
    key: ServiceKey
    native_instances: list[Instance] = field(default_factory=list)
    # r-nacos lists an endpoint registered by two connections once, with the FIRST writer's
    # metadata, kept after that writer leaves (PROTOCOLS.md): an app that registers itself
    # where our copy already is shows our markers until it registers again. No client can
    # change that; everywhere else a native must show as itself.
    keeps_first_writer: bool = False

    @property
    def name(self) -> str:
        return self.cluster.cluster_name

    def listed(self) -> list[Instance]:
        return self.natives.list_instances(self.key)

    def add(self, instance: Instance) -> None:
        self.natives.register(self.key, instance)
        self.native_instances.append(instance)

    def update(self, old: Instance, new: Instance) -> None:
        """Register again at the same endpoint: a new version of the same instance."""
        self.natives.register(self.key, new)
        self.native_instances[self.native_instances.index(old)] = new

    def remove(self, instance: Instance) -> None:
        self.native_instances.remove(instance)
        self.natives.deregister(self.key, instance)

    def renew(self) -> None:
        for instance in self.native_instances:
            self.natives.heartbeat(self.key, instance)

    def clean(self) -> None:
        """Remove everything of this test's service here (natives and copies)."""
        try:
            for instance in self.listed():
                registry_class(self.cluster.cluster_type).deregister(
                    self.natives, self.key, instance
                )
        except RegistryError:
            pass
        self.natives.close()


class ZookeeperApps(ZookeeperRegistry):
    """Natives as Dubbo and Spring Cloud write them: each its own node, touching no other
    (Dubbo: one node per URL; Spring: a random id), unlike msesync's own registrations."""

    def __init__(self, config):
        super().__init__(config)
        self.nodes: dict[tuple[str, int], str] = {}

    def register(self, service: ServiceKey, instance: Instance) -> None:
        self.deregister(service, instance)
        if dubbo_url.is_dubbo_name(service.name):
            url = dubbo_url.from_instance(service.name, instance)
            path = f"{self._providers_folder(service.name)}/{dubbo_url.encode_node(url)}"
            data = b""
        else:
            node = str(uuid.uuid4())
            path = f"{self._entries_folder(service.name)}/{node}"
            data = curator.to_json(service.name, node, instance)
        self._create(path, data)
        self.nodes[instance.ip, instance.port] = path

    def deregister(self, service: ServiceKey, instance: Instance) -> None:
        if path := self.nodes.pop((instance.ip, instance.port), None):
            self._delete([path])

    def heartbeat(self, service: ServiceKey, instance: Instance) -> None:
        pass  # ephemeral nodes live as long as this session


@pytest.fixture(scope="module")
def zk_chroots(zookeeper):
    client = KazooClient(hosts=zookeeper, timeout=5)
    client.start(timeout=10)
    for chroot in ZK_CHROOTS:
        client.ensure_path(chroot)
    client.stop()
    client.close()
    return {chroot: f"{zookeeper}{chroot}" for chroot in ZK_CHROOTS}


@pytest.fixture(autouse=True)
def fresh_adapters():
    forget_all()
    yield
    forget_all()


def service_name(source: str, dest: str, tag: str) -> str:
    """Valid at both ends: a Dubbo name only with a ZK_DUBBO end; lower case (Eureka)."""
    if "ZK_DUBBO" in (source, dest):
        return f"providers:com.msesync.matrix.{tag}:1.0.0:g{tag}"
    return f"{tag}-svc"


def make_end(request, kind: str, second: bool, tag: str, name: str) -> End:
    cluster_type, *fixtures = KINDS[kind]
    address = request.getfixturevalue(fixtures[second])
    if cluster_type == "ZOOKEEPER":
        address = request.getfixturevalue("zk_chroots")[ZK_CHROOTS[second]]
    cluster = Cluster.objects.create(
        cluster_name=f"{tag}-{'b' if second else 'a'}-{kind.lower()}",
        cluster_type=cluster_type,
        connect_keys=[address],
    )
    config = cluster.config()
    writer = ZookeeperApps if cluster_type == "ZOOKEEPER" else registry_class(cluster_type)
    natives = writer(type(config)(**{**config.__dict__, "name": f"native-{config.name}"}))
    key = ServiceKey("public", "DEFAULT_GROUP", name) if cluster_type == "NACOS" else None
    first_writer = fixtures[second] == "nacos_alt"  # r-nacos
    return End(cluster, natives, key or ServiceKey("", "", name), keeps_first_writer=first_writer)


def native(ip: str, port: int, role: str, **fields) -> Instance:
    meta = {"application": "matrix", "side": "provider", "role": role}
    return Instance(ip, port, metadata=meta, **fields)


def sync_round(task: SyncTask, ends: tuple[End, End], force: bool = False) -> None:
    """What beat and workers do: scan, sync each service, renew our leases; apps beat too."""
    for row_id in jobs.scan_task(task.pk):
        jobs.sync_service(row_id, force)
    for end in ends:  # every destination: one whose copies all left must withdraw them
        assert leases.renew_leases(end.cluster.pk) == 0
    for end in ends:
        end.renew()


def problems(task: SyncTask, here: End, there: End, copied: bool) -> list[str]:
    """Why `here` is not exactly its natives plus (if `copied`) copies of `there`'s natives."""
    found = []
    listed = here.listed()
    by_endpoint = {(i.ip, i.port): i for i in listed}
    if len(by_endpoint) != len(listed):
        found.append(f"{here.name}: an endpoint listed twice: {listed}")
    originals = {(i.ip, i.port): i for i in there.listed() if SOURCE_CLUSTER not in i.metadata}
    wanted = {(i.ip, i.port) for i in here.native_instances}
    if copied:
        wanted |= {(i.ip, i.port) for i in there.native_instances}
        if there.keeps_first_writer:  # an app that took over our copy's endpoint there shows
            # our markers, so it reads as a copy and is not copied back: End.keeps_first_writer
            marked = {(i.ip, i.port) for i in there.listed() if SOURCE_CLUSTER in i.metadata}
            theirs = {(i.ip, i.port) for i in there.native_instances}
            wanted -= (marked & theirs) - {(i.ip, i.port) for i in here.native_instances}
    if set(by_endpoint) != wanted:
        found.append(f"{here.name}: has {sorted(by_endpoint)}, wants {sorted(wanted)}")
    for endpoint, instance in by_endpoint.items():
        meta = instance.metadata
        if not any(k in meta for k in MARKER_KEYS):
            continue  # a native
        if endpoint in {(i.ip, i.port) for i in here.native_instances}:
            if here.keeps_first_writer and endpoint not in originals:
                continue  # its app took over our copy's endpoint: see End.keeps_first_writer
            found.append(f"{here.name}: our native {endpoint} was replaced by a copy")
        expect = {
            SOURCE_CLUSTER: there.name,
            DEST_CLUSTER: here.name,
            SYNC_TAG: f"{there.name}@@{task.pk}",
        }
        if {k: meta.get(k) for k in expect} != expect:
            found.append(f"{here.name}: copy {endpoint} has markers {dict(meta)}")
        original = originals.get(endpoint)
        if original and not original.metadata.items() <= meta.items():
            found.append(f"{here.name}: copy {endpoint} lacks metadata of {original}")
    return found


def state(ends: tuple[End, End]) -> list:
    return [sorted((i.ip, i.port, sorted(i.metadata.items())) for i in e.listed()) for e in ends]


def converge(task: SyncTask, ends: tuple[End, End], bidirectional: bool, refresh=0) -> None:
    """Rounds until both ends are as they should be; every `refresh`-th round is forced, as
    the refresh job's are (0: none)."""
    source, dest = ends
    for n in range(1, MAX_ROUNDS + 1):
        sync_round(task, ends, force=bool(refresh) and n % refresh == 0)
        found = problems(task, dest, source, True)
        found += problems(task, source, dest, bidirectional)
        if not found:
            return
        time.sleep(0.3)
    pytest.fail("did not converge:\n" + "\n".join(found))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("source_kind", "dest_kind"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_pair(request, caplog, source_kind, dest_kind, mode):
    run_pair(request, caplog, source_kind, dest_kind, mode, refresh=REFRESH_EVERY)


@pytest.mark.xfail(
    strict=True,
    reason="engine: a way whose source is unchanged skips its sync (digest), so a conflict "
    "freed at its destination is seen only at the next refresh (MSESYNC_DAEMON_REFRESH_INTERVAL)",
)
def test_a_conflict_freed_at_the_destination_is_seen_before_the_next_refresh(request, caplog):
    run_pair(request, caplog, "EUREKA", "CONSUL", SyncTask.BIDIRECTIONAL, refresh=0)


def run_pair(request, caplog, source_kind, dest_kind, mode, refresh):
    tag = f"m{uuid.uuid4().hex[:6]}"
    name = service_name(source_kind, dest_kind, tag)
    same = KINDS[source_kind][0] == KINDS[dest_kind][0]
    source = make_end(request, source_kind, False, tag, name)
    dest = make_end(request, dest_kind, same, tag, name)
    ends = (source, dest)
    try:
        task = SyncTask.objects.create(
            source=source.cluster,
            destination=dest.cluster,
            mode=mode,
            service_match_pattern="(?i)" + re.escape(name),
        )
        bidirectional = mode == SyncTask.BIDIRECTIONAL
        gone = native("10.61.0.1", 8001, "a")
        source.add(gone)
        # Weight and cluster: kept where the kind can hold them, dropped (or scaled) elsewhere.
        source.add(native("10.61.0.2", 8002, "a", weight=2, cluster="east"))
        dest_native = native("10.62.0.1", 9001, "b")
        dest.add(dest_native)
        # Registered at both (an app double-registering during a migration): never copied.
        source.add(native("10.63.0.1", 7001, "both"))
        dest.add(native("10.63.0.1", 7001, "both"))

        converge(task, ends, bidirectional)
        settled = state(ends)
        caplog.clear()
        with caplog.at_level("INFO", logger="syncapp.engine.sync"):
            for _ in range(EXTRA_ROUNDS):  # nothing loops, nothing is rewritten
                sync_round(task, ends, force=True)
                assert problems(task, dest, source, True) == []
                assert problems(task, source, dest, bidirectional) == []
                assert state(ends) == settled
        assert [r.getMessage() for r in caplog.records] == []  # no write planned at all

        source.remove(gone)  # and a metadata change on the way
        kept = source.native_instances[0]
        source.update(kept, native(kept.ip, kept.port, "a2", weight=2, cluster="east"))
        if bidirectional:
            dest.remove(dest_native)
        converge(task, ends, bidirectional)
        assert len(dest.listed()) == (2 if bidirectional else 3)

        # Migrating: the app whose copy is at the destination registers there itself, then
        # leaves the source. Its own registration at the destination must survive that.
        moved = source.native_instances[0]
        dest.add(native(moved.ip, moved.port, "moved"))
        sync_round(task, ends)
        source.remove(moved)
        converge(task, ends, bidirectional, refresh)
    finally:
        for end in ends:
            end.clean()
