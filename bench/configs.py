"""Nacos configs: initial copy of N configs and change latency, next to a raw client.

    .venv/bin/python -m bench.configs [--configs 10000] [--changes 60] [--reverse]

Needs the test bed (python -m tests.testbed up nacos rnacos). Source r-nacos, destination the
Java Nacos 3.1 (v1 off); --reverse swaps them. Both in the same run:
- initial copy: msesync's pass (syncapp/config_sync.py: list both sides, decide, read and
  write in 16 threads, record a ConfigSync row per config in a private SQLite database) against
  a raw client copying the same configs with the same adapter calls and threads (list, read,
  write) into another group, with no decisions and no records;
- change latency: a config changed at the source until the destination lists its new MD5,
  msesync waking on the source's change feed (gRPC listen push, keeper side, no broker) and
  running a pass over the configs it names; baseline: the source's own read-after-write
  (until it lists the new MD5).
"""

import argparse
import os
import queue
import tempfile
import threading
import time
import uuid

from bench.common import THREADS, parallel, percentile, print_table, stopwatch
from bench.feed_latency import setup_django
from syncapp.registries.base import ClusterConfig, ConfigItem, ConfigKey
from syncapp.registries.nacos import NacosRegistry
from tests.testbed.pytest_plugin import exported

POLL = 0.005


def registry(address: str, name: str) -> NacosRegistry:
    return NacosRegistry(ClusterConfig(name, "NACOS", (address,), ("public",)))


def world(group: str, count: int) -> list[ConfigItem]:
    return [
        ConfigItem(
            ConfigKey("public", group, f"c{n:05}.yaml"),
            f"n: {n}\nname: 名前-{n}\n" + "x" * 200,
            type="yaml",
            desc=f"bench {n}",
        )
        for n in range(count)
    ]


def raw_copy(source, dest, group: str, to_group: str) -> int:
    keys = [k for k in source.list_config_items("public") if k.group == group]

    def copy(key):
        item = source.read_config_item(key)
        to = ConfigKey(key.namespace, to_group, key.data_id)
        dest.write_config_item(ConfigItem(to, item.content, item.type, item.desc))

    parallel(copy, keys)
    return len(keys)


def make_task(source_addr: str, dest_addr: str, group: str):
    from syncapp.models import Cluster, SyncTask

    a = Cluster.objects.create(
        cluster_name="bench-a", cluster_type="NACOS", connect_keys=[source_addr]
    )
    b = Cluster.objects.create(
        cluster_name="bench-b", cluster_type="NACOS", connect_keys=[dest_addr]
    )
    return SyncTask.objects.create(
        source=a, destination=b, sync_type="Config", service_match_pattern=f"{group}/.*"
    )


def wait_md5(registry, key: ConfigKey, md5: str) -> float:
    started = time.perf_counter()
    while getattr(registry.read_config_item(key), "md5", None) != md5:
        if time.perf_counter() - started > 30:
            raise SystemExit(f"{key}: change not seen within 30 s")
        time.sleep(POLL)
    return time.perf_counter() - started


def latencies(task, source, dest, group: str, changes: int) -> tuple[list, list]:
    """(msesync, baseline) seconds per change."""
    from syncapp import config_sync

    changed = queue.Queue()
    stop = threading.Event()

    def passes():  # as the keeper's feed and a worker do, without the broker in between
        while not stop.is_set():
            try:
                keys = {changed.get(timeout=0.5)}
            except queue.Empty:
                continue
            while not changed.empty():
                keys.add(changed.get())
            named = None if None in keys else sorted(keys)
            config_sync.sync_items(task, source, dest, named)

    feed = registry(source.config.connect_keys[0], "bench-feed")
    feed.watch_configs("/", changed.put)
    time.sleep(6)  # the feed's first listing, and its listens
    runner = threading.Thread(target=passes, daemon=True)
    runner.start()
    ours, base = [], []
    key = ConfigKey("public", group, "c00000.yaml")
    for n in range(changes):
        item = ConfigItem(key, f"change {n} ✓", type="text")
        source.write_config_item(item)
        started = time.perf_counter()
        base.append(wait_md5(source, key, item.md5))
        wait_md5(dest, key, item.md5)
        ours.append(time.perf_counter() - started)
    stop.set()
    feed.close()
    return ours, base


def delete_all(registry, group: str) -> None:
    keys = [k for k in registry.list_config_items("public") if k.group == group]
    parallel(registry.delete_config_item, keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=60)
    parser.add_argument("--reverse", action="store_true", help="Nacos 3.1 -> r-nacos")
    args = parser.parse_args()
    setup_django(tempfile.mkdtemp(prefix="bench-configs-"))
    from syncapp import config_sync

    addresses = [exported("rnacos")["NACOS_ALT_ADDR"], exported("nacos")["NACOS_ADDR"]]
    if args.reverse:
        addresses.reverse()
    source, dest = registry(addresses[0], "bench-src"), registry(addresses[1], "bench-dst")
    tag = f"B{uuid.uuid4().hex[:6]}"
    group, raw_group = f"{tag}G", f"{tag}RAW"
    times: dict[str, float] = {}
    with stopwatch(times, "populate the source"):
        parallel(source.write_config_item, world(group, args.configs))
    with stopwatch(times, "baseline: raw copy (list, read, write)"):
        raw = raw_copy(source, dest, group, raw_group)
    task = make_task(*addresses, group)
    with stopwatch(times, "msesync: first pass"):
        outcome = config_sync.sync_items(task, source, dest)
    with stopwatch(times, "msesync: second pass, nothing changed"):
        config_sync.sync_items(task, source, dest)
    ours, base = latencies(task, source, dest, group, args.changes)
    for reg, grp in ((source, group), (dest, group), (dest, raw_group)):
        delete_all(reg, grp)

    baseline = times["baseline: raw copy (list, read, write)"]
    rows = [(name, f"{s:.2f}", f"{s / baseline:.2f}x") for name, s in times.items()]
    names = ("r-nacos", "Nacos 3.1")[:: -1 if args.reverse else 1]
    print_table(
        f"Nacos configs {names[0]} -> {names[1]}: {args.configs} configs ({THREADS} threads); "
        f"msesync wrote {outcome.writes}, raw client {raw}",
        ("step", "seconds", "vs baseline"),
        rows,
    )
    ms = lambda values, p: f"{percentile(values, p) * 1000:.0f}"  # noqa: E731
    print_table(
        f"change latency, {args.changes} changes (write at source -> listed at destination)",
        ("path", "p50 ms", "p99 ms"),
        [
            ("msesync (listen push + pass)", ms(ours, 50), ms(ours, 99)),
            ("baseline: source's own read-after-write", ms(base, 50), ms(base, 99)),
        ],
    )
    if outcome.writes != args.configs or outcome.errors:
        raise SystemExit(f"copied {outcome.writes} of {args.configs}; errors: {outcome.errors[:3]}")
    os._exit(0)  # gRPC and watcher threads


if __name__ == "__main__":
    main()
