"""What the migration cockpit costs at rest (issue 16), through `bin/msesync start -d`.

    .venv/bin/python -m bench.cockpit [--sizes 10000] [--instances 3] [--rest 180]

Needs the test bed (python -m tests.testbed up). For each size: N Dubbo interfaces x M
providers in a private ZooKeeper chroot (bench.scale's source), a ZooKeeper -> Nacos 3 task,
run twice on a fresh installation of the embedded default:
1. cockpit off (MSESYNC_PHASE_BATCH=0: no round reads anything), the baseline;
2. cockpit on, at the shipped defaults (MSESYNC_PHASE_BATCH services every
   MSESYNC_PHASE_INTERVAL seconds).
Each run: the full sync (timed until every copy is listed healthy), then `--rest` seconds at
rest: CPU seconds of all msesync processes (from /proc) per second of wall time. With the
cockpit on, the services it read in that window (checked_at inside it, from the API) and the
phases they landed in are printed too. The figure is the product as installed.
"""

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from bench.common import print_table
from bench.failover_world import servers_up
from bench.scale import GROUP, Installed, Listing, Providers, full_sync

OFF = {"MSESYNC_PHASE_BATCH": "0"}


def rest_cpu(installed: Installed, seconds: float) -> float:
    """Cores used by every msesync process together over `seconds` of rest."""
    began, before = time.monotonic(), installed.cpu_seconds()
    time.sleep(seconds)
    elapsed, after = time.monotonic() - began, installed.cpu_seconds()
    return sum(after[role] - before.get(role, 0.0) for role in after) / elapsed


def read_in_window(installed: Installed, source: str, since: str) -> tuple[int, Counter]:
    """Services the cockpit read since `since` (ISO time), and their phases."""
    tasks = installed.api.get(f"{installed.base}/api/tasks/", params={"limit": 1000}).json()
    [task_id] = [t["id"] for t in tasks["results"] if t["source"] == source]
    report = installed.api.get(f"{installed.base}/api/tasks/{task_id}/phases/").json()
    read = [s for s in report["services"] if s["checked_at"] and s["checked_at"] >= since]
    return len(read), Counter(s["phase"] for s in read)


def run(nacos: str, providers: Providers, cockpit_on: bool, seconds: float) -> dict:
    installed = Installed({} if cockpit_on else OFF)
    try:
        listing = Listing(nacos, providers.copies_namespace, GROUP, providers.tag)
        synced = full_sync(listing, None, installed, providers, kill_worker=False)["full_sync"]
        since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        cpu = rest_cpu(installed, seconds)
        read, phases = (
            read_in_window(installed, f"{providers.tag}-src", since) if cockpit_on else (0, {})
        )
    finally:
        installed.stop()
    return {
        "cockpit": cockpit_on,
        "full_sync": synced,
        "rest_cpu": cpu,
        "read": read,
        "phases": dict(phases),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="services, comma-separated")
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--rest", type=float, default=180.0, help="seconds at rest per run")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    exports = servers_up()
    rows, results = [], []
    for size in (int(s) for s in args.sizes.split(",")):
        providers = Providers(exports["ZK_ADDR"], size, args.instances)
        try:
            off = run(exports["NACOS_ADDR"], providers, False, args.rest)
            on = run(exports["NACOS_ADDR"], providers, True, args.rest)
        finally:
            providers.close()
        results.append({"size": size, "off": off, "on": on})
        print(json.dumps(results[-1]), flush=True)
        extra = (on["rest_cpu"] - off["rest_cpu"]) / off["rest_cpu"] if off["rest_cpu"] else 0
        rows.append(
            (
                size,
                f"{off['rest_cpu'] * 100:.1f}",
                f"{on['rest_cpu'] * 100:.1f}",
                f"{extra * 100:+.1f} %",
                f"{on['read']} in {args.rest:.0f} s",
                ", ".join(f"{p}: {n}" for p, n in sorted(on["phases"].items())) or "-",
                f"{off['full_sync']:.1f} / {on['full_sync']:.1f}",
            )
        )
    print_table(
        f"Migration cockpit at rest, ZooKeeper (Dubbo) -> Nacos 3, N x {args.instances}, "
        "bin/msesync start -d (embedded)",
        (
            "N",
            "CPU at rest, cockpit off (% core)",
            "cockpit on (% core)",
            "extra",
            "services read",
            "their phases",
            "full sync off / on (s)",
        ),
        rows,
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
