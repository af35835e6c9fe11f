"""Scale as installed (issue 12): a source -> Nacos 3 (gRPC copies) through `bin/msesync start -d`.

    .venv/bin/python -m bench.scale [--source zookeeper|nacos] [--sizes 1000,3000,10000]
        [--instances 3] [--modes embedded,mysql] [--steady 600] [--changes 20] [--kill-worker]

Needs the test bed (python -m tests.testbed up; it starts what it needs). Sources:
- zookeeper (default: 1,000, 3,000 and 10,000 interfaces x 3): Dubbo providers written into a
  private ZooKeeper chroot the way Dubbo writes them, ephemeral nodes spread over sessions so
  that no session's close is a transaction larger than ZooKeeper's 1 MB jute.maxbuffer;
- nacos (default: 1,000 services x 10): persistent instances at r-nacos, at 127.0.0.1
  ports the bench listens on.
For each storage mode (embedded: SQLite + file broker; mysql: MySQL + Redis) and size:
1. raw: a plain script reads every instance from the source and registers each service's
   instances as one gRPC batch (nacos-sdk-python, 16 at a time) in a group of its own: the
   floor for "copy everything", timed until Nacos' service list counts every instance healthy
   (counted every 0.5 s from its start, as the product's copies are, each run in a Nacos
   namespace of its own: see Listing).
2. product: a fresh installation (`bin/msesync start -d`: web, worker, beat, keeper) gets one
   task to Nacos by `bin/msesync apply`; timed from the apply until every copy is listed
   healthy. With --kill-worker, the worker's Celery process is killed (-9) once a third is
   listed (its restart loop starts it again), a second small task is applied at once, and the
   bench times until that task has been scanned (its last scan time set, read by the API).
3. steady: `--steady` seconds. Every 10 s a sample counts the healthy copies (all must be
   listed in every sample), each process' RSS and the broker queue (messages waiting). The
   first half is at rest (CPU of all msesync processes, from /proc); in the second half
   `--changes` instances are added, then removed, one at a time, each timed until Nacos'
   healthy list shows it (or no longer does).
The table prints one row per (mode, size); figures describe the product as installed.
"""

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import redis as redis_py
import requests

from bench.common import create_nacos_namespace, nacos_listed, percentile, print_table
from bench.failover_world import fresh_storage, servers_up
from bench.keepalive import sdk_batches
from bench.procs import group_cpu_seconds, group_processes, product_groups, rss_mb
from tests.support.configs import cluster, config_yaml, task
from tests.support.product import Product, wait_for
from tests.support.zk import kazoo_client

SESSION_NODES = 2000  # ephemeral nodes per ZooKeeper session (~400 KB of close transaction)
SAMPLE_EVERY = 10.0
POLL_EVERY = 0.5  # seconds between counts of the copies listed (raw and product alike)
GROUP = "DEFAULT_GROUP"  # where ZooKeeper -> Nacos copies land
BROKER_QUEUES = ("celery", "changes", "scans")


# --- the source: Dubbo providers in a ZooKeeper chroot --------------------------------------


def interface(tag: str, i: int) -> str:
    return f"com.scale.{tag}.S{i:05}"


def provider_path(tag: str, i: int, n: int) -> str:
    name = interface(tag, i)
    url = (
        f"dubbo://{provider_ip(i, n)}:20880/{name}?interface={name}"
        "&version=1.0.0&side=provider&application=scale"
    )
    return f"/dubbo/{name}/providers/{quote(url, safe='')}"


def provider_ip(i: int, n: int) -> str:
    return f"10.{i // 250 % 250}.{i % 250}.{n + 1}"


class Providers:
    """N interfaces x M providers held by the bench's sessions under `/scale-<tag>`."""

    def __init__(self, zk_addr: str, services: int, instances: int):
        self.tag = f"s{uuid.uuid4().hex[:6]}"
        self.root = f"/scale-{self.tag}"
        self.address = zk_addr + self.root
        self.admin = kazoo_client(zk_addr)
        self.admin.ensure_path(self.root)
        self.zk = kazoo_client(self.address)
        self.services, self.instances = services, instances
        paths = [provider_path(self.tag, i, n) for i in range(services) for n in range(instances)]
        for folder in {p.rsplit("/", 1)[0] for p in paths}:
            self.zk.ensure_path(folder)
        self.sessions = []
        for start in range(0, len(paths), SESSION_NODES):
            session = kazoo_client(self.address)
            batch = paths[start : start + SESSION_NODES]
            for pending in [session.create_async(p, ephemeral=True) for p in batch]:
                pending.get(timeout=60)
            self.sessions.append(session)

    @property
    def expected(self) -> int:
        return self.services * self.instances

    pattern = ".*"  # the chroot holds this bench's providers only

    @property
    def dest_namespace(self) -> str:
        """Where the task's destination puts copies of this source, which has no namespaces
        (the product creates it): the run's copies are counted alone (see Listing)."""
        return f"scale-{self.tag}"

    copies_namespace = dest_namespace

    def cluster_yaml(self, name: str) -> str:
        return cluster(name, "ZOOKEEPER", self.address)

    def dest_name(self, i: int) -> str:
        return f"providers:{interface(self.tag, i)}:1.0.0:"

    def read_all(self) -> list[tuple[str, list[dict]]]:
        return read_providers(self.address)

    def endpoint(self, i: int, n: int) -> tuple[str, int]:
        return provider_ip(i, n), 20880

    def add(self, i: int, n: int) -> None:
        self.zk.create(provider_path(self.tag, i, n), ephemeral=True)

    def remove(self, i: int, n: int) -> None:
        self.zk.delete(provider_path(self.tag, i, n))

    def close(self) -> None:
        # Deleted one by one before the sessions close: no session ends with a huge transaction.
        self.admin.delete(self.root, recursive=True)
        for session in [self.zk, self.admin, *self.sessions]:
            session.stop()
            session.close()


def read_providers(zk_address: str) -> list[tuple[str, list[dict]]]:
    """The raw script's read: every interface's providers, as (Nacos name, hosts)."""
    zk = kazoo_client(zk_address)
    try:
        names = zk.get_children("/dubbo")
        pending = [zk.get_children_async(f"/dubbo/{name}/providers") for name in names]
        fleet = []
        for name, children in zip(names, pending, strict=True):
            hosts = [urlsplit(unquote(child)) for child in children.get(timeout=60)]
            fleet.append(
                (
                    f"providers:{name}:1.0.0:",
                    [{"ip": h.hostname, "port": h.port} for h in hosts],
                )
            )
        return fleet
    finally:
        zk.stop()
        zk.close()


class NacosInstances:
    """N services x M persistent instances at r-nacos (nobody beats them) under a private tag.

    Each instance is 127.0.0.1 at one of M ports we listen on: r-nacos probes persistent
    instances and drops the unreachable ones from its own lists for a while (with the 10.x
    addresses of the ZooKeeper source, 3,000 of them listed 2,538 after ~40 s and came and went
    with no msesync running), and a source that shrinks by itself is no test of the product."""

    def __init__(self, rnacos_addr: str, services: int, instances: int):
        self.tag = f"n{uuid.uuid4().hex[:6]}"
        # One more than the instances: change_providers adds provider index M.
        self.listeners = [socket.create_server(("127.0.0.1", 0)) for _ in range(instances + 1)]
        self.ports = [sock.getsockname()[1] for sock in self.listeners]
        self.address = rnacos_addr
        self.url = f"http://{rnacos_addr}/nacos/v1/ns/instance"
        self.services, self.instances = services, instances
        self.http = requests.Session()
        pairs = [(i, n) for i in range(services) for n in range(instances)]
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda pair: self.add(*pair), pairs))

    @property
    def expected(self) -> int:
        return self.services * self.instances

    @property
    def pattern(self) -> str:
        return f"{self.tag}-svc-.*"  # the server is shared

    dest_namespace = ""  # copies keep their source's namespace
    copies_namespace = "public"

    def cluster_yaml(self, name: str) -> str:
        return cluster(name, "NACOS", self.address)

    def dest_name(self, i: int) -> str:
        return f"{self.tag}-svc-{i:05}"

    def _instance(self, method: str, i: int, n: int) -> None:
        ip, port = self.endpoint(i, n)
        params = {"serviceName": self.dest_name(i), "ip": ip, "port": port, "ephemeral": "false"}
        self.http.request(method, self.url, params=params, timeout=10).raise_for_status()

    def endpoint(self, i: int, n: int) -> tuple[str, int]:
        return "127.0.0.1", self.ports[n]

    def add(self, i: int, n: int) -> None:
        self._instance("POST", i, n)

    def remove(self, i: int, n: int) -> None:
        self._instance("DELETE", i, n)

    def read_all(self) -> list[tuple[str, list[dict]]]:
        """The raw script's read: every service's instances from r-nacos' v1 list API."""
        session = requests.Session()

        def hosts(i: int) -> tuple[str, list[dict]]:
            reply = session.get(
                f"{self.url}/list", params={"serviceName": self.dest_name(i)}, timeout=10
            )
            reply.raise_for_status()
            found = reply.json().get("hosts") or []
            return self.dest_name(i), [{"ip": h["ip"], "port": h["port"]} for h in found]

        with ThreadPoolExecutor(16) as pool:
            return list(pool.map(hosts, range(self.services)))

    def close(self) -> None:
        pairs = [(i, n) for i in range(self.services) for n in range(self.instances)]
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda pair: self.remove(*pair), pairs))
        for sock in self.listeners:
            sock.close()


SOURCES = {"zookeeper": Providers, "nacos": NacosInstances}


# --- the destination: what Nacos lists ------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """Where one run's copies are counted: a namespace, a group, names holding a tag. Each run
    (raw, product) counts in a namespace of its own: Nacos walks every service of the namespace
    for each count, and the empty services an earlier run left there (Nacos drops them after
    a minute or two) made the product's counts several times dearer than the raw's."""

    nacos: str
    namespace: str
    group: str
    name_part: str

    def healthy(self) -> int:
        """Healthy instances Nacos counts in the services listed."""
        fields = ("healthyInstanceCount",)
        return nacos_listed(self.nacos, self.group, fields, self.name_part, self.namespace)

    def has(self, service: str, endpoint: tuple[str, int]) -> bool:
        reply = requests.get(
            f"http://{self.nacos}/nacos/v3/client/ns/instance/list",
            params={
                "namespaceId": self.namespace,
                "serviceName": service,
                "groupName": self.group,
                "healthyOnly": "true",
            },
            timeout=10,
        )
        reply.raise_for_status()
        return any((h["ip"], h["port"]) == endpoint for h in reply.json().get("data") or [])


def seconds_until_listed(listing: Listing, expected: int, started: float, stop) -> float | None:
    """Polls every POLL_EVERY s until `expected` copies are listed healthy (or `stop` is
    set: None); seconds since `started`. Raw and product are polled alike from their start:
    each count costs Nacos CPU that the copying shares."""
    while not stop.is_set():
        if listing.healthy() >= expected:
            return time.time() - started
        stop.wait(POLL_EVERY)
    return None


def raw_copy(nacos: str, providers) -> float:
    """Seconds for the plain script: read the source, one gRPC batch per service, all listed."""
    tag = uuid.uuid4().hex[:6]
    listing = Listing(nacos, f"raw-{tag}", f"RAW{tag}", providers.tag)
    create_nacos_namespace(nacos, listing.namespace)
    cache = tempfile.mkdtemp(prefix="bench-scale-sdk-")

    async def run() -> float:
        started, stop = time.time(), threading.Event()
        with ThreadPoolExecutor(1) as poller:
            done = poller.submit(seconds_until_listed, listing, providers.expected, started, stop)
            try:
                fleet = providers.read_all()
                _, client = await sdk_batches(nacos, listing.group, fleet, cache, listing.namespace)
                elapsed = done.result(timeout=900)
            finally:
                stop.set()
        await client.shutdown()
        return elapsed

    try:
        return asyncio.run(run())
    finally:
        shutil.rmtree(cache, ignore_errors=True)


# --- the product as installed ---------------------------------------------------------------


class Installed:
    """One installation in a data dir of its own; `storage` selects the mode."""

    def __init__(self, storage: dict[str, str]):
        self.data_dir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
        self.product = Product(self.data_dir, storage, timings={})
        self.redis_url = storage.get("REDIS_URL")
        self.product.start()
        self.api = requests.Session()
        self.api.auth = ("admin", self.product.env["MSESYNC_ADMIN_PASSWORD"])
        base = f"http://127.0.0.1:{self.product.port}"
        wait_for(lambda: self._answers(base), 60, 0.5, "the UI")
        self.base = base

    def _answers(self, base: str) -> bool:
        try:
            return self.api.get(f"{base}/healthz", timeout=2).ok
        except requests.RequestException:
            return False

    def apply(self, clusters: list[str], tasks: list[str]) -> None:
        self.product.apply(config_yaml(clusters, tasks))

    def last_scan_at(self, source_name: str) -> str | None:
        reply = self.api.get(f"{self.base}/api/tasks/", params={"limit": 1000}, timeout=10)
        reply.raise_for_status()
        body = reply.json()
        tasks = body["results"] if isinstance(body, dict) else body
        return next((t["last_scan_at"] for t in tasks if t["source"] == source_name), None)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by each role's processes."""
        return {role: group_cpu_seconds(g) for role, g in product_groups(self.data_dir).items()}

    def rss_by_role(self) -> dict[str, float]:
        return {
            role: max([0.0] + [rss_mb(proc) for proc, _ in group_processes(g)])
            for role, g in product_groups(self.data_dir).items()
        }

    def queue_length(self) -> int:
        """Messages waiting in the broker (files of the embedded one, Redis lists else)."""
        if self.redis_url:
            client = redis_py.Redis.from_url(self.redis_url)
            return sum(client.llen(q) for q in BROKER_QUEUES)
        return sum(1 for _ in (self.data_dir / "broker").rglob("*.msg"))

    def kill_worker(self) -> None:
        """kill -9 the worker's Celery process; its restart loop starts it again."""
        group = product_groups(self.data_dir)["worker"]
        for proc, _ in group_processes(group):
            # Not the restart loop (a bash whose arguments name celery too): it must live on.
            if (proc / "comm").read_text().strip() != "bash":
                os.kill(int(proc.name), signal.SIGKILL)

    def stop(self, keep: bool = False) -> None:
        """Stop the product; `keep` leaves its data dir (logs, database) to look into."""
        self.product.stop()
        if keep:
            print(f"kept for inspection: {self.data_dir}", flush=True)
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def full_sync(listing: Listing, zk_addr, installed, providers, kill_worker: bool) -> dict:
    """Apply the task and time it until every copy is listed healthy (+ the kill case)."""
    figures: dict = {}
    started = time.time()
    dest = cluster(f"{providers.tag}-nacos", "NACOS", listing.nacos, providers.dest_namespace)
    installed.apply(
        [providers.cluster_yaml(f"{providers.tag}-src"), dest],
        [task(f"{providers.tag}-src", f"{providers.tag}-nacos", providers.pattern)],
    )
    if kill_worker:
        figures.update(kill_mid_sync(listing, zk_addr, installed, providers))
    max_queue = 0

    def done() -> bool:
        nonlocal max_queue
        max_queue = max(max_queue, installed.queue_length())
        return listing.healthy() >= providers.expected

    wait_for(done, 1800, POLL_EVERY, "every copy listed healthy")
    figures["full_sync"] = time.time() - started
    figures["max_queue"] = max_queue
    return figures


def kill_mid_sync(listing: Listing, zk_addr, installed, providers) -> dict:
    third = providers.expected // 3
    wait_for(lambda: listing.healthy() >= third, 900, POLL_EVERY, "a third")
    installed.kill_worker()
    late = Providers(zk_addr, 5, 1)
    try:
        started = time.time()
        installed.apply(
            [cluster(f"{late.tag}-zk", "ZOOKEEPER", late.address)],
            [task(f"{late.tag}-zk", f"{providers.tag}-nacos", ".*")],
        )
        wait_for(lambda: installed.last_scan_at(f"{late.tag}-zk"), 300, 0.2, "the late task")
        return {"late_task_scanned": time.time() - started}
    finally:
        late.close()


def steady(listing: Listing, installed, providers, seconds: float, changes: int) -> dict:
    """Samples over `seconds`: the first half at rest, the second with changes."""
    samples, rest_cpu = [], None
    rss: dict[str, float] = {}
    latencies: dict[str, list[float]] = {"add": [], "remove": []}
    began, cpu0 = time.monotonic(), installed.cpu_seconds()
    half = seconds / 2

    def sample() -> None:
        samples.append((listing.healthy(), installed.queue_length()))
        for role, mb in installed.rss_by_role().items():
            rss[role] = max(rss.get(role, 0.0), mb)

    while time.monotonic() - began < half:
        sample()
        time.sleep(SAMPLE_EVERY)
    elapsed, cpu1 = time.monotonic() - began, installed.cpu_seconds()
    rest_cpu = {role: (cpu1[role] - cpu0.get(role, 0.0)) / elapsed for role in cpu1}
    with ThreadPoolExecutor(1) as sampler:
        pending = None
        changed = change_providers(listing, providers, changes, latencies)
        while time.monotonic() - began < seconds:
            if pending is None or pending.done():
                pending = sampler.submit(sample)
            if next(changed, None) is None:
                time.sleep(1)
    healthy = [h for h, _ in samples]
    return {
        "healthy_min": min(healthy),
        "all_healthy": all(h >= providers.expected for h in healthy),
        "samples": len(samples),
        "rest_cpu": sum(rest_cpu.values()),
        "rest_cpu_by_role": rest_cpu,
        "rest_queue": statistics.median([q for _, q in samples]),
        "rss": rss,
        "add_p50": percentile(latencies["add"], 50) if latencies["add"] else None,
        "add_p99": percentile(latencies["add"], 99) if latencies["add"] else None,
        "remove_p99": percentile(latencies["remove"], 99) if latencies["remove"] else None,
        "remove_p50": percentile(latencies["remove"], 50) if latencies["remove"] else None,
    }


def change_providers(listing: Listing, providers, changes: int, latencies):
    """A generator: each step adds (then removes) one provider and times it at Nacos."""
    extra = providers.instances  # a provider index no service has yet
    for c in range(changes):
        i = (c * 7919) % providers.services
        name, at = providers.dest_name(i), providers.endpoint(i, extra)
        latencies["add"].append(timed_change(partial(providers.add, i, extra), listing, name, at))
        yield
        removal = timed_change(partial(providers.remove, i, extra), listing, name, at, gone=True)
        latencies["remove"].append(removal)
        yield


def timed_change(change, listing: Listing, service: str, at: tuple, gone: bool = False) -> float:
    """Seconds from making a change at the source until Nacos' healthy list shows it."""
    started = time.perf_counter()
    change()
    wait_for(lambda: listing.has(service, at) != gone, 60, 0.02, f"{service} {at}")
    return time.perf_counter() - started


def run_one(mode: str, size: int, args, exports: dict) -> dict:
    nacos, zk_addr = exports["NACOS_ADDR"], exports["ZK_ADDR"]
    address = zk_addr if args.source == "zookeeper" else exports["NACOS_ALT_ADDR"]
    providers = SOURCES[args.source](address, size, args.instances)
    try:
        raw = raw_copy(nacos, providers)
        storage = fresh_storage(exports) if mode == "mysql" else {}
        installed = Installed(storage)
        listing = Listing(nacos, providers.copies_namespace, GROUP, providers.tag)
        failed = True
        try:
            result = full_sync(listing, zk_addr, installed, providers, args.kill_worker)
            result.update(steady(listing, installed, providers, args.steady, args.changes))
            failed = False
        finally:
            installed.stop(keep=failed)
    finally:
        providers.close()
    return {"source": args.source, "mode": mode, "size": size, "raw": raw, **result}


def ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1000:.0f}"


def table(results: list[dict], args) -> None:
    source = "ZooKeeper (Dubbo)" if args.source == "zookeeper" else "r-nacos"
    print_table(
        f"{source} -> Nacos 3 through bin/msesync start -d, N x {args.instances} instances",
        (
            "mode",
            "N",
            "raw (s)",
            "product (s)",
            "ratio",
            "late task scanned (s)",
            "healthy in every sample",
            "CPU at rest (% core)",
            "queue max / at rest",
            "add p50/p99 (ms)",
            "remove p50/p99 (ms)",
        ),
        [
            (
                r["mode"],
                r["size"],
                f"{r['raw']:.1f}",
                f"{r['full_sync']:.1f}",
                f"{r['full_sync'] / r['raw']:.2f}x",
                f"{r['late_task_scanned']:.1f}" if "late_task_scanned" in r else "-",
                f"{'yes' if r['all_healthy'] else 'NO'} ({r['samples']}, min {r['healthy_min']})",
                f"{r['rest_cpu'] * 100:.1f}",
                f"{r['max_queue']} / {r['rest_queue']:.0f}",
                f"{ms(r['add_p50'])}/{ms(r['add_p99'])}",
                f"{ms(r['remove_p50'])}/{ms(r['remove_p99'])}",
            )
            for r in results
        ],
    )
    roles = sorted({role for r in results for role in r["rss"]})
    print_table(
        "per process: CPU at rest (% core) / largest RSS (MB)",
        ("mode", "N", *roles),
        [
            (
                r["mode"],
                r["size"],
                *(
                    f"{r['rest_cpu_by_role'].get(role, 0) * 100:.1f} / {r['rss'].get(role, 0):.0f}"
                    for role in roles
                ),
            )
            for r in results
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=sorted(SOURCES), default="zookeeper")
    parser.add_argument("--sizes", help="services, comma-separated (1000,3000,10000; nacos 1000)")
    parser.add_argument("--instances", type=int, help="per service (3; nacos 10)")
    parser.add_argument("--modes", default="embedded,mysql")
    parser.add_argument("--steady", type=float, default=600.0, help="seconds")
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--kill-worker", action="store_true")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    nacos_source = args.source == "nacos"
    args.sizes = args.sizes or ("1000" if nacos_source else "1000,3000,10000")
    args.instances = args.instances or (10 if nacos_source else 3)
    exports = servers_up()
    results = []
    for mode in args.modes.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            results.append(run_one(mode, size, args, exports))
            print(json.dumps(results[-1], default=str), flush=True)
    table(results, args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, default=str, indent=2))


if __name__ == "__main__":
    main()
