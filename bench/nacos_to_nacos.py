"""Nacos -> Nacos: sync 1,000 services x 10 instances; compare with raw registrations.

    .venv/bin/python -m bench.nacos_to_nacos [--services 1000] [--instances 10]

Needs the test bed (python -m tests.testbed up nacos rnacos). Source: r-nacos, holding
persistent instances (so no client beats load the machine while we measure); destination:
the Java Nacos 3. Baseline: the same 10,000 registrations made directly at the destination
with the same HTTP client and the same thread count, in the same run.
"""

import argparse
import uuid

from bench.common import THREADS, parallel, peak_rss_mb, print_table, stopwatch
from syncapp.engine import Direction, sync_one_service
from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from syncapp.registries.nacos.naming_http import HttpNaming
from tests.testbed.pytest_plugin import exported

BENCH_GROUP = "BENCH"


def registry(address: str, name: str) -> NacosRegistry:
    return NacosRegistry(ClusterConfig(name, "NACOS", (address,), ("public",)))


def fleet(tag: str, services: int, instances: int) -> list[tuple[ServiceKey, Instance]]:
    return [
        (
            ServiceKey("public", BENCH_GROUP, f"{tag}-{s:04}"),
            Instance(f"10.{s // 250}.{s % 250}.{n + 1}", 8080, metadata={"n": str(n)}),
        )
        for s in range(services)
        for n in range(instances)
    ]


def register_persistent(reg: NacosRegistry, service: ServiceKey, instance: Instance) -> None:
    """Source set-up only: a persistent instance needs no client beats to stay listed."""
    form = {**HttpNaming(reg.http).form(service, instance), "ephemeral": "false"}
    reg.http.call("POST", "/v1/ns/instance", data=form)  # r-nacos serves v1


def register_all(reg, items) -> None:
    parallel(lambda item: reg.register(*item), items)


def deregister_all(reg, items) -> None:
    parallel(lambda item: reg.deregister(*item), items)


def sync_all(source, dest, direction, tag) -> list:
    keys = [k for k in source.list_services("public") if k.name.startswith(tag)]
    return parallel(lambda k: (k, sync_one_service(direction, source, dest, k)), keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=10)
    args = parser.parse_args()
    source = registry(exported("rnacos")["NACOS_ALT_ADDR"], "bench-src")
    dest = registry(exported("nacos")["NACOS_ADDR"], "bench-dst")
    tag = f"bench-{uuid.uuid4().hex[:6]}"
    items = fleet(tag, args.services, args.instances)
    direction = Direction(1, "bench-src", "bench-dst", "NACOS", "NACOS")
    times: dict[str, float] = {}

    with stopwatch(times, "populate source (persistent instances)"):
        parallel(lambda item: register_persistent(source, *item), items)
    with stopwatch(times, "baseline: raw registrations at destination"):
        register_all(dest, items)
    deregister_all(dest, items)
    with stopwatch(times, "msesync: scan + sync every service"):
        results = sync_all(source, dest, direction, tag)
    with stopwatch(times, "msesync: second pass, nothing changed"):
        sync_all(source, dest, direction, tag)
    leases = [(key, lease) for key, result in results for lease in result.leases]
    with stopwatch(times, f"msesync: one lease-renewal round ({len(leases)} beats)"):
        parallel(lambda lease: dest.heartbeat(*lease), leases)
    copied = sum(result.dest_count for _, result in results)
    parallel(lambda item: source.deregister(*item), items)
    deregister_all(dest, [(k, i.with_metadata(direction.markers)) for k, i in items])

    baseline = times["baseline: raw registrations at destination"]
    rows = [(name, f"{secs:.2f}", f"{secs / baseline:.2f}x") for name, secs in times.items()]
    print_table(
        f"Nacos -> Nacos, {args.services} services x {args.instances} instances "
        f"({len(items)} instances, {THREADS} threads); copied {copied}",
        ("step", "seconds", "vs baseline"),
        rows,
    )
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")
    if copied != len(items):
        raise SystemExit(f"only {copied} of {len(items)} instances copied")


if __name__ == "__main__":
    main()
