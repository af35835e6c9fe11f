"""Change-to-destination latency through the change feeds: Eureka, Consul and r-nacos -> Nacos 3,
and Nacos 3 -> Consul (Nacos as the source: its gRPC push feed).

    .venv/bin/python -m bench.feed_latency [--changes 200] [--services 10]

Needs the test bed (python -m tests.testbed up eureka consul consul_alt nacos rnacos). msesync runs
in-process on the product's path: the keeper (syncapp/keeper/, stepped as run_keeper steps it)
watches the sources (Eureka's /apps/delta poll, Consul's blocking query, Nacos' gRPC push) and
holds our copies at Nacos over gRPC; its jobs go to syncapp.jobs.sync_service on a thread pool
instead of Celery (so: "keeper and engine, no broker"). The database is a private SQLite file.

Each change is one registration or deregistration at the source (Eureka: py-eureka-client;
Consul: py-consul; r-nacos and Nacos 3: a gRPC client), alternating. The clock starts when
the source acknowledged the write; baseline, same change, same moment: the source's own read
until it shows the change (read-after-write); then msesync's: the destination read until it
shows it. Nacos' own floor as a destination (a write at Nacos until listed) is measured in
the same run too.
"""

import argparse
import asyncio
import os
import random
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from bench.common import percentile, print_table
from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from tests.testbed.pytest_plugin import exported

POLL = 0.005  # seconds between reads while waiting for a change to show
SEED = 5  # the random pauses between changes, the same every run
TIMEOUT = 30.0
SCAN_EVERY_STEPS = 25  # 5 s, the product's MSESYNC_SCAN_INTERVAL
MODE_VARIABLES = ("MYSQL_URL", "MYSQL_USER_NAME", "MYSQL_PASSWORD", "REDIS_URL")


def setup_django(data_dir: str) -> None:
    """A private SQLite database: the bench never touches var/ or a MySQL of the shell."""
    for name in MODE_VARIABLES:
        os.environ.pop(name, None)
    os.environ["MSESYNC_DATA_DIR"] = data_dir
    os.environ.setdefault("MSESYNC_LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "msesync_site.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def wait(predicate, what: str) -> float:
    """Seconds until predicate() holds, polling every POLL s."""
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > TIMEOUT:
            raise SystemExit(f"{what}: not seen within {TIMEOUT} s")
        time.sleep(POLL)
    return time.perf_counter() - started


def endpoints(registry, key: ServiceKey) -> set[tuple[str, int]]:
    return {(i.ip, i.port) for i in registry.list_instances(key)}


# --- the product's feed path, in-process ------------------------------------------------


class InProcessProduct:
    """The keeper as run_keeper runs it (feeds stepped, held copies applied, leases renewed),
    with jobs on threads instead of Celery, and every task scanned every 5 s as beat does (a
    change a feed missed then arrives late, as in the product, instead of never)."""

    def __init__(self):
        from django.conf import settings

        from syncapp import jobs
        from syncapp.keeper import Keeper
        from syncapp.management.commands import run_keeper
        from syncapp.membership import Membership

        self.jobs, self.steps = jobs, run_keeper
        self.pool = ThreadPoolExecutor(8)
        self.keeper = Keeper(
            Membership("bench"), settings.HEARTBEAT_INTERVAL, send_task=self.send_task
        )
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.step, daemon=True)

    def send_task(self, name: str, args, queue: str | None = None) -> None:
        job = {
            "workers.tasks.sync_service": self.jobs.sync_service,
            "workers.tasks.scan_task": self.scan,
        }.get(name)
        if job:
            self.pool.submit(job, *args)

    def scan(self, task_id: int, force: bool = False) -> None:
        for row_id in self.jobs.scan_task(task_id):
            self.jobs.sync_service(row_id, force)

    def step(self) -> None:
        steps = 0
        while not self.stopped.wait(self.steps.STEP_SECONDS):
            self.keeper.step_feeds(reconcile=steps % self.steps.RECONCILE_EVERY == 0)
            steps += 1
            if steps % SCAN_EVERY_STEPS == 0:  # as beat's scan: the net under the feeds
                for task_id in self.jobs.active_tasks().values_list("id", flat=True):
                    self.pool.submit(self.scan, task_id)

    def start(self) -> None:
        self.keeper.start(membership_every=1.0, changes_every=self.steps.STEP_SECONDS)
        self.thread.start()

    def stop(self) -> None:
        from syncapp.connections import forget_all

        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()
        self.keeper.close()
        self.pool.shutdown()
        forget_all()  # closes the connections that held our Nacos copies


# --- sources, written as applications write them ----------------------------------------


class EurekaSource:
    kind, label = "EUREKA", "Eureka"
    pause = 1.0  # the delta poll period: changes land at any point of it

    def __init__(self, url: str, tag: str):
        from syncapp.registries.eureka import EurekaRegistry

        self.url, self.tag = url, tag
        self.reader = EurekaRegistry(ClusterConfig("bench-eureka-reader", "EUREKA", (url,)))
        self.live: dict[tuple[str, int, str], str] = {}  # (ip, port, app) -> instanceId
        self.address = url
        self.pattern = f"{tag.upper()}-APP-.*"

    def service(self, s: int) -> str:
        return f"{self.tag}-app-{s:02}"  # Eureka upper-cases it; Nacos gets it lower-cased

    def add(self, name: str, ip: str, port: int) -> None:
        from py_eureka_client import eureka_client as ec

        iid = f"{ip}:{name}:{port}"
        instance = ec.Instance(
            instanceId=iid,
            app=name.upper(),
            hostName=ip,
            ipAddr=ip,
            status="UP",
            vipAddress=name,
            port=ec.PortWrapper(port=port, enabled=True),
            securePort=ec.PortWrapper(port=443, enabled=False),
            dataCenterInfo=ec.DataCenterInfo(),
            # Long enough for the whole run: no renewals to load the machine meanwhile.
            leaseInfo=ec.LeaseInfo(renewalIntervalInSecs=30, durationInSecs=3600),
            metadata={"bench": "yes"},
            lastDirtyTimestamp=str(int(time.time() * 1000)),
        )
        asyncio.run(ec.register(self.url, instance))
        self.live[ip, port, name] = iid

    def remove(self, name: str, ip: str, port: int) -> None:
        from py_eureka_client import eureka_client as ec

        asyncio.run(ec.cancel(self.url, name.upper(), self.live.pop((ip, port, name))))

    def close(self) -> None:
        for ip, port, name in list(self.live):
            self.remove(name, ip, port)
        self.reader.close()


class ConsulSource:
    kind, label = "CONSUL", "Consul"
    pause = 0.2  # the keeper's step: changes land at any point of it

    def __init__(self, address: str, tag: str):
        import consul

        from syncapp.registries.consul import ConsulRegistry
        from tests.testbed.pytest_plugin import host_port

        self.tag, self.address = tag, address
        self.client = consul.Consul(*host_port(address))
        self.reader = ConsulRegistry(ClusterConfig("bench-consul-reader", "CONSUL", (address,)))
        self.live: set[str] = set()
        self.pattern = f"{tag}-svc-.*"

    def service(self, s: int) -> str:
        return f"{self.tag}-svc-{s:02}"

    def add(self, name: str, ip: str, port: int) -> None:
        # A TTL check that starts passing and outlasts the run: nothing to keep passing. (An
        # instance without any check would count as passing too, but the feed does not see
        # it come or go: it watches checks. See syncapp/registries/consul.py `changes`.)
        sid = f"{name}-{ip}-{port}"
        check = {"TTL": "3600s", "Status": "passing"}
        self.client.agent.service.register(name, service_id=sid, address=ip, port=port, check=check)
        self.live.add(sid)

    def remove(self, name: str, ip: str, port: int) -> None:
        sid = f"{name}-{ip}-{port}"
        self.client.agent.service.deregister(sid)
        self.live.discard(sid)

    def close(self) -> None:
        for sid in list(self.live):
            self.client.agent.service.deregister(sid)
        self.reader.close()


class NacosSource:
    """Applications registering at a Nacos (r-nacos, Nacos 3) over gRPC, as 2.x/3.x clients do."""

    kind = "NACOS"
    pause = 0.2

    def __init__(self, address: str, tag: str, label: str):
        from syncapp.registries.nacos import NacosRegistry

        self.tag, self.address, self.label = tag, address, label
        self.apps = NacosRegistry(ClusterConfig("bench-nacos-apps", "NACOS", (address,)))
        self.reader = NacosRegistry(ClusterConfig("bench-nacos-reader", "NACOS", (address,)))
        self.pattern = f"{tag}-nsvc-.*"

    def service(self, s: int) -> str:
        return f"{self.tag}-nsvc-{s:02}"

    def key(self, name: str) -> ServiceKey:
        return ServiceKey("public", "DEFAULT_GROUP", name)

    def add(self, name: str, ip: str, port: int) -> None:
        self.apps.register(self.key(name), Instance(ip, port, metadata={"bench": "yes"}))

    def remove(self, name: str, ip: str, port: int) -> None:
        self.apps.deregister(self.key(name), Instance(ip, port))

    def close(self) -> None:
        self.apps.close()
        self.reader.close()


# --- the run ----------------------------------------------------------------------------


class Destination:
    """Where a source's changes go: a cluster of the product and a reader of it."""

    def __init__(self, kind: str, address: str, label: str, tag: str):
        from syncapp.registries import registry_class

        self.kind, self.address, self.label = kind, address, label
        self.cluster_name = f"{tag}-dest-{label.lower().replace(' ', '')}"
        self.reader = registry_class(kind)(ClusterConfig(f"bench-{label}-reader", kind, (address,)))

    def close(self) -> None:
        self.reader.close()


def create_task(source, dest: Destination, tag: str):
    from syncapp.models import Cluster, SyncTask

    src = Cluster.objects.create(
        cluster_name=f"{tag}-source-{source.label.lower().replace(' ', '')}",
        cluster_type=source.kind,
        connect_keys=[source.address],
    )
    dst, _ = Cluster.objects.get_or_create(
        cluster_name=dest.cluster_name,
        defaults={"cluster_type": dest.kind, "connect_keys": [dest.address]},
    )
    return SyncTask.objects.create(
        source=src, destination=dst, service_match_pattern=source.pattern
    )


def populate(source, services: int, s_base: int) -> None:
    """One instance per service that stays all run long (the service exists throughout)."""
    for s in range(services):
        source.add(source.service(s), f"10.{s_base}.{s}.1", 8000)


def measure(source, dest, task, services: int, changes: int, s_base: int) -> dict[str, list]:
    """Per kind of change: (source read-after-write, destination) latencies."""
    from syncapp.engine.naming import dest_service_key
    from syncapp.ways import Way

    direction = Way(task).direction
    found: dict[str, list] = {"register": [], "deregister": []}
    pauses = random.Random(SEED)
    for c in range(changes):
        time.sleep(pauses.uniform(0, source.pause))  # no lock-step with any poll period
        s, n = c // 2 % services, c // 2 // services
        name, ip, port = source.service(s), f"10.{s_base}.{s}.{n + 10}", 9000
        key = source.key(name) if hasattr(source, "key") else ServiceKey("", "", name)
        target = dest_service_key(key, direction)  # the product's own naming
        adding = c % 2 == 0
        (source.add if adding else source.remove)(name, ip, port)

        def shown(registry, at, endpoint=(ip, port), adding=adding):
            return (endpoint in endpoints(registry, at)) == adding

        own = wait(partial(shown, source.reader, key), f"{ip}:{port} at the source")
        mirrored = own + wait(partial(shown, dest, target), f"{ip}:{port} at the destination")
        found["register" if adding else "deregister"].append((own, mirrored))
    return found


def nacos_floor(dest, tag: str, changes: int) -> dict[str, list]:
    """The destination's own read-after-write: a write at Nacos until listed (or gone)."""
    probe = ServiceKey("public", "DEFAULT_GROUP", f"{tag}-probe")
    dest.register(probe, Instance("10.250.0.1", 999))  # the service exists throughout
    found: dict[str, list] = {"register": [], "deregister": []}
    pauses = random.Random(SEED)
    for c in range(changes // 2):
        time.sleep(pauses.uniform(0, 1.0))
        instance = Instance("10.250.0.1", 1000 + c)
        dest.register(probe, instance)
        found["register"].append(wait(lambda i=instance: i.key[:2] in endpoints(dest, probe), ""))
        dest.deregister(probe, instance)
        gone = wait(lambda i=instance: i.key[:2] not in endpoints(dest, probe), "")
        found["deregister"].append(gone)
    dest.deregister(probe, Instance("10.250.0.1", 999))
    return found


def ms(values: list[float]) -> tuple[str, str]:
    return f"{percentile(values, 50) * 1000:.0f}", f"{percentile(values, 99) * 1000:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200, help="per source (half adds)")
    parser.add_argument("--services", type=int, default=10, help="per source")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="msesync-bench-")
    setup_django(data_dir)

    tag = f"f{uuid.uuid4().hex[:6]}"
    nacos = Destination("NACOS", exported("nacos")["NACOS_ADDR"], "Nacos", tag)
    consul = Destination("CONSUL", exported("consul_alt")["CONSUL_ALT_ADDR"], "Consul", tag)
    ways = [  # (source, the second octet of its addresses, destination)
        (EurekaSource(exported("eureka")["EUREKA_URL"], tag), 71, nacos),
        (ConsulSource(exported("consul")["CONSUL_ADDR"], tag), 72, nacos),
        (NacosSource(exported("rnacos")["NACOS_ALT_ADDR"], tag, "r-nacos"), 73, nacos),
        (NacosSource(nacos.address, tag, "Nacos 3"), 74, consul),
    ]
    product = InProcessProduct()
    results, tasks = {}, []
    try:
        tasks += [create_task(source, dest, tag) for source, _, dest in ways]
        for (source, s_base, _), task in zip(ways, tasks, strict=True):
            populate(source, args.services, s_base)
            product.scan(task.pk)  # the initial copy, as the first scan makes it
        product.start()
        time.sleep(3)  # the feeds start, and report what they first see
        for (source, s_base, dest), task in zip(ways, tasks, strict=True):
            found = measure(source, dest.reader, task, args.services, args.changes, s_base)
            results[f"{source.label} -> {dest.label}"] = found
        floor = nacos_floor(nacos.reader, tag, args.changes)
    finally:
        product.stop()
        for source, _, _ in ways:
            source.close()
        for task in tasks:  # a last sync removes our copies
            product.scan(task.pk, force=True)
        nacos.close()
        consul.close()
        shutil.rmtree(data_dir, ignore_errors=True)

    rows = []
    for path, found in results.items():
        for change, pairs in found.items():
            own, mirrored = [p[0] for p in pairs], [p[1] for p in pairs]
            rows.append((path, change, len(pairs), *ms(mirrored), *ms(own)))
    rows += [
        ("Nacos itself (floor)", change, len(v), *ms(v), "", "") for change, v in floor.items()
    ]
    print_table(
        "change-to-destination latency, ms (baseline: the source's own read-after-write)",
        ("path", "change", "n", "p50", "p99", "baseline p50", "baseline p99"),
        rows,
    )


if __name__ == "__main__":
    main()
