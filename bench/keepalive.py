"""Keep-alive at a Nacos destination: N services x M copies held over gRPC by the product's
keeper, next to a raw gRPC batch baseline measured in the same run.

    .venv/bin/python -m bench.keepalive [--services 10000] [--instances 3] [--rest 60]

Needs the test bed's Nacos (python -m tests.testbed up nacos). Two runs, one after the other,
each in a group of its own at the same Nacos:
- raw: the official nacos-sdk-python 3.x client registers one batch per service (16 at a time)
  over one connection: the floor for "register everything".
- product: `bin/msesync start -d` runs the keeper alone (MSESYNC_ROLES=keeper) on a fresh
  product database; then the rows a full sync leaves behind (every service's copies, stamped
  now, of a paused task so that no source is read) are committed, and the keeper holds every
  service's set as one batch on its connection. Clock: from the commit.
Both are timed until Nacos' own service list (v3 admin API, polled every 0.1 s) counts every
instance.
Then the keeper is left alone for two windows of `--rest` seconds each: its CPU (utime +
stime of its process group from /proc) and RSS are sampled, and every copy must still be
listed at the end. The first window holds the keeper's full reload after the new task (a
changed configuration re-reads every row once, ~1 CPU-second at 10,000 rows); the second is
the steady state, what a quiet keeper costs.
"""

import argparse
import asyncio
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import nacos_listed, print_table
from bench.procs import group_cpu_seconds, largest_rss_mb
from tests.support.product import Product, wait_for
from tests.testbed.pytest_plugin import exported


def listed_instances(nacos: str, group: str) -> int:
    """Instances Nacos counts in one group of `public` (every page of its service list)."""
    return nacos_listed(nacos, group)


def copies(services: int, instances: int, tag: str) -> list[tuple[str, list[dict]]]:
    return [
        (
            f"{tag}-{s:05}",
            [
                {"ip": f"10.{s // 250 % 250}.{s % 250}.{n + 1}", "port": 8000 + n}
                for n in range(instances)
            ],
        )
        for s in range(services)
    ]


# --- raw: the official SDK, one batch per service ------------------------------------------


async def sdk_batches(nacos: str, group: str, fleet, cache_dir: str, namespace: str = "public"):
    """Register every batch; returns (start time, client): the client holds them."""
    from v2.nacos import ClientConfigBuilder, NacosNamingService
    from v2.nacos.naming.model.naming_param import (
        BatchRegisterInstanceParam,
        RegisterInstanceParam,
    )

    config = (
        ClientConfigBuilder()
        .server_address(nacos)
        .namespace_id(namespace)
        .cache_dir(cache_dir)
        .log_dir(cache_dir)
        .build()
    )
    client = await NacosNamingService.create_naming_service(config)
    limit = asyncio.Semaphore(16)

    async def one(name, hosts):
        param = BatchRegisterInstanceParam(
            service_name=name,
            group_name=group,
            instances=[
                RegisterInstanceParam(
                    ip=h["ip"], port=h["port"], service_name=name, group_name=group
                )
                for h in hosts
            ],
        )
        async with limit:
            await client.batch_register_instances(param)

    started = time.time()
    await asyncio.gather(*(one(name, hosts) for name, hosts in fleet))
    return started, client


def raw_run(nacos: str, fleet, expected: int) -> float:
    group = f"RAW{uuid.uuid4().hex[:6]}"
    cache = tempfile.mkdtemp(prefix="bench-sdk-")

    async def run():
        started, client = await sdk_batches(nacos, group, fleet, cache)
        wait_for(lambda: listed_instances(nacos, group) >= expected, 600, 0.1, "raw copies")
        elapsed = time.time() - started
        await client.shutdown()
        return elapsed

    try:
        return asyncio.run(run())
    finally:
        shutil.rmtree(cache, ignore_errors=True)


# --- the product's keeper ----------------------------------------------------------------


SEED_ROWS = """
from django.utils import timezone
from syncapp.engine.markers import markers
from syncapp.models import Cluster, ServiceSync, SyncTask
import json, os
fleet = json.load(open(os.environ["BENCH_FLEET"]))
src = Cluster.objects.create(cluster_name="bench-src", cluster_type="ZOOKEEPER",
                             connect_keys=["127.0.0.1:1"])
dst = Cluster.objects.create(cluster_name="bench-dst", cluster_type="NACOS",
                             connect_keys=[fleet["nacos"]])
task = SyncTask.objects.create(source=src, destination=dst, paused=True)
mark = markers("bench-src", "bench-dst", "ZOOKEEPER", str(task.pk))
rows = [
    ServiceSync(task=task, namespace="public", group=fleet["group"], service=name,
                leases=[{"ip": h["ip"], "port": h["port"], "weight": 1.0, "healthy": True,
                         "enabled": True, "cluster": "DEFAULT", "metadata": mark}
                        for h in hosts],
                )
    for name, hosts in fleet["services"]
]
ServiceSync.objects.bulk_create(rows, batch_size=1000)
# Stamped as jobs stamp rows: when their write commits (one statement for all here).
ServiceSync.objects.filter(task=task).update(leases_changed_at=timezone.now())
import time
print(time.time())  # committed: the keeper may see them from now on
"""


def rest_window(pgid: int, seconds: float) -> tuple[float, float]:
    """The group's CPU (share of one core) over `seconds`, and its largest RSS meanwhile."""
    cpu_before, at = group_cpu_seconds(pgid), time.perf_counter()
    rss = 0.0
    while time.perf_counter() - at < seconds:
        time.sleep(1)
        rss = max(rss, largest_rss_mb(pgid))
    return (group_cpu_seconds(pgid) - cpu_before) / (time.perf_counter() - at), rss


def product_run(nacos: str, fleet, expected: int, rest: float) -> dict:
    import json

    group = f"KEEP{uuid.uuid4().hex[:6]}"
    data_dir = Path(tempfile.mkdtemp(prefix="bench-keepalive-"))
    product = Product(data_dir, {"MSESYNC_ROLES": "keeper"}, timings={})
    try:
        product.start()  # the keeper alone, holding nothing yet
        pid_file = data_dir / "run" / "keeper.pid"
        wait_for(pid_file.exists, 60, 0.2, "the keeper")
        time.sleep(5)  # Django and the keeper's threads are up
        spec = data_dir / "fleet.json"
        spec.write_text(json.dumps({"nacos": nacos, "group": group, "services": fleet}))
        product.env["BENCH_FLEET"] = str(spec)
        # What a full sync leaves: every row with its copies, stamped now. The clock starts
        # once they are committed, as the keeper sees a sync job's rows.
        committed = float(product.manage("shell", "-c", SEED_ROWS).stdout.split()[-1])
        wait_for(lambda: listed_instances(nacos, group) >= expected, 900, 0.1, "held copies")
        register = time.time() - committed
        pgid = int((data_dir / "run" / "keeper.pid").read_text())
        time.sleep(min(5.0, rest))  # the start-up settles
        first, rss_first = rest_window(pgid, rest)
        steady, rss_steady = rest_window(pgid, rest)
        still = listed_instances(nacos, group)
        rss = max(rss_first, rss_steady)
        return {"register": register, "cpu": (first, steady), "rss": rss, "still": still}
    finally:
        product.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10000)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--rest", type=float, default=60.0, help="seconds per rest window")
    args = parser.parse_args()
    nacos = exported("nacos")["NACOS_ADDR"]
    tag = f"ka{uuid.uuid4().hex[:4]}"
    fleet = copies(args.services, args.instances, tag)
    expected = args.services * args.instances
    raw = raw_run(nacos, fleet, expected)
    product = product_run(nacos, fleet, expected, args.rest)
    print_table(
        f"keep-alive at Nacos: {args.services} services x {args.instances} copies",
        (
            "run",
            "until all listed (s)",
            "ratio",
            "CPU 1st window (% core)",
            "CPU at rest (% core)",
            "RSS (MB)",
            "listed",
        ),
        [
            ("raw gRPC batches (nacos-sdk-python)", f"{raw:.1f}", "1.00", "", "", "", expected),
            (
                "product: keeper (bin/msesync start)",
                f"{product['register']:.1f}",
                f"{product['register'] / raw:.2f}",
                f"{product['cpu'][0] * 100:.2f}",
                f"{product['cpu'][1] * 100:.2f}",
                f"{product['rss']:.0f}",
                product["still"],
            ),
        ],
    )


if __name__ == "__main__":
    main()
