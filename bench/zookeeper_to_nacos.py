"""ZooKeeper (Dubbo) -> Nacos: initial sync of 2,000 interfaces x 3 providers, then the
change-to-destination latency of 200 changes through the watch feed.

    .venv/bin/python -m bench.zookeeper_to_nacos [--interfaces 2000] [--changes 200]

Needs the test bed (python -m tests.testbed up zookeeper nacos). Providers are written the
way Dubbo writes them, under a private chroot. msesync runs in-process: the ZooKeeper
adapter's watch feed calls the engine for the service that changed (the product queues the
same call as a Celery job). Baselines, same run, same client: the same registrations made
directly at Nacos; and for latency, a direct registration at Nacos until a read shows it.
"""

import argparse
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from bench.common import parallel, percentile, print_table, stopwatch
from syncapp.engine import Direction, sync_one_service
from syncapp.engine.naming import dest_service_key
from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from syncapp.registries.zookeeper import ZookeeperRegistry
from tests.support.zk import kazoo_client
from tests.testbed.pytest_plugin import exported

DIRECTION = Direction(1, "bench-zk", "bench-nacos", "ZOOKEEPER", "NACOS", False)


def provider_path(tag: str, i: int, n: int) -> str:
    interface = f"com.bench.{tag}.S{i:04}"
    url = (
        f"dubbo://10.{i // 250}.{i % 250}.{n + 1}:20880/{interface}?interface={interface}"
        "&version=1.0.0&side=provider&application=bench"
    )
    return f"/dubbo/{interface}/providers/{quote(url, safe='')}"


def create_providers(zk, paths: list[str]) -> None:
    for path in {p.rsplit("/", 1)[0] for p in paths}:
        zk.ensure_path(path)
    for pending in [zk.create_async(p, ephemeral=True) for p in paths]:
        pending.get(timeout=30)


def wait_visible(reader, key: ServiceKey, ip: str, port: int, timeout: float = 30) -> float:
    """Seconds until that instance is listed (Nacos expires un-beaten ones, so count none)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if any((i.ip, i.port) == (ip, port) for i in reader.list_instances(key)):
            return time.perf_counter() - started
        time.sleep(0.005)
    raise SystemExit(f"{ip}:{port} never showed in {key}")


def wait_gone(reader, keys, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while any(parallel(lambda k: bool(reader.list_instances(k)), keys)):
        if time.monotonic() > deadline:
            raise SystemExit("baseline registrations did not go away")
        time.sleep(0.2)


class WatchSync:
    """The product's feed path in-process: a change names a service, the engine syncs it."""

    def __init__(self, source, dest):
        self.source, self.dest = source, dest
        self.pool = ThreadPoolExecutor(8)

    def __call__(self, key):
        if key is not None:
            self.pool.submit(sync_one_service, DIRECTION, self.source, self.dest, key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interfaces", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args()
    zk_addr, nacos_addr = exported("zookeeper")["ZK_ADDR"], exported("nacos")["NACOS_ADDR"]
    tag = f"b{uuid.uuid4().hex[:6]}"
    root = f"/bench-{tag}"
    admin = kazoo_client(zk_addr)
    admin.ensure_path(root)
    zk = kazoo_client(zk_addr + root)
    source = ZookeeperRegistry(ClusterConfig("bench-zk", "ZOOKEEPER", (zk_addr + root,)))
    dest = NacosRegistry(ClusterConfig("bench-nacos", "NACOS", (nacos_addr,)))
    times: dict[str, float] = {}
    paths = [provider_path(tag, i, n) for i in range(args.interfaces) for n in range(3)]
    with stopwatch(times, f"populate ZooKeeper ({len(paths)} provider nodes)"):
        create_providers(zk, paths)

    keys = source.list_services("")
    raw = [(dest_service_key(k, DIRECTION), i) for k in keys for i in source.list_instances(k)]
    with stopwatch(times, "baseline: raw registrations at Nacos"):
        parallel(lambda item: dest.register(*item), raw)
    parallel(lambda item: dest.deregister(*item), raw)
    wait_gone(dest, {k for k, _ in raw})  # Nacos shows a removal about 0.5 s later
    with stopwatch(times, "msesync: initial sync (list + sync every service)"):
        keys = source.list_services("")
        results = parallel(lambda k: sync_one_service(DIRECTION, source, dest, k), keys)
    copied = sum(r.dest_count for r in results)

    latencies, baseline = measure_latency(zk, source, dest, tag, args.changes)
    cleanup(admin, root, dest, results, keys)
    first = times["baseline: raw registrations at Nacos"]
    print_table(
        f"ZooKeeper (Dubbo) -> Nacos, {args.interfaces} interfaces x 3 providers; copied {copied}",
        ("step", "seconds", "vs baseline"),
        [(name, f"{secs:.2f}", f"{secs / first:.2f}x") for name, secs in times.items()],
    )
    print_table(
        f"change-to-destination latency over {args.changes} changes (ms)",
        ("path", "p50", "p99"),
        [
            ("baseline: register at Nacos until listed", *ms(baseline)),
            ("msesync: ZooKeeper node created until listed at Nacos", *ms(latencies)),
        ],
    )
    if copied != len(paths):
        raise SystemExit(f"only {copied} of {len(paths)} instances copied")


def ms(values: list[float]) -> tuple[str, str]:
    return f"{percentile(values, 50) * 1000:.0f}", f"{percentile(values, 99) * 1000:.0f}"


def measure_latency(zk, source, dest, tag, changes: int) -> tuple[list[float], list[float]]:
    source.watch(WatchSync(source, dest))
    time.sleep(2)  # let the watches settle on every providers folder
    latencies, baseline = [], []
    probe = ServiceKey("public", "DEFAULT_GROUP", f"bench-probe-{tag}")
    dest.register(probe, Instance("10.250.0.1", 999))
    for c in range(changes):
        i, n = c % 50, 10 + c // 50
        key = dest_service_key(
            ServiceKey("", "", f"providers:com.bench.{tag}.S{i:04}:1.0.0:"), DIRECTION
        )
        started = time.perf_counter()
        zk.create(provider_path(tag, i, n), ephemeral=True)
        wait_visible(dest, key, f"10.{i // 250}.{i % 250}.{n + 1}", 20880)
        latencies.append(time.perf_counter() - started)
        # The same change made directly: one more instance in an existing service.
        started = time.perf_counter()
        dest.register(probe, Instance("10.250.0.1", 1000 + c))
        wait_visible(dest, probe, "10.250.0.1", 1000 + c)
        baseline.append(time.perf_counter() - started)
        dest.deregister(probe, Instance("10.250.0.1", 1000 + c))
    dest.deregister(probe, Instance("10.250.0.1", 999))
    return latencies, baseline


def cleanup(admin, root, dest, results, keys) -> None:
    admin.delete(root, recursive=True)
    pairs = [
        (dest_service_key(k, DIRECTION), i)
        for k, r in zip(keys, results, strict=True)
        for i in r.leases
    ]
    parallel(lambda item: dest.deregister(*item), pairs)


if __name__ == "__main__":
    main()
