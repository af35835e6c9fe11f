"""Failover bench (issue 6): three msesync nodes on MySQL + Redis, killed one at a time.

    .venv/bin/python -m bench.failover [--services 200] [--instances 5] [--providers 100]

r-nacos → Nacos 3 (`services` × `instances`) and ZooKeeper → Nacos 3 (`providers` Dubbo
providers) are synced by 3 nodes. A client polls every destination service's healthy
instances, a sweep every 100 ms, while the bench:
1. measures the registry request rate with 1 node, then with 3 (counting proxies);
2. kill -9s a node that is not the beat leader, then the beat leader, changing the sources
   while each is dead;
3. restarts Redis, then MariaDB, changing the sources after each.
It prints, per step, the worst gap the client saw (goal 0 ms) and how long until the dead
node's work was owned again (goal ≤ 10 s). `run()` returns the same figures for tests.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import redis as redis_py

from bench.common import print_table
from bench.countproxy import CountingProxy
from bench.failover_world import DestinationPoller, Service, Sources, fresh_storage, servers_up
from bench.nodes import Node
from syncapp.registries.nacos.grpc_conn import GrpcConnection
from tests.support.configs import cluster, config_yaml, task
from tests.testbed.base import halt, resume
from tests.testbed.servers import load

LEADER_KEY = "msesync:beat:leader"
MEMBERS_KEY = "msesync:nodes"
KEEPER_KEY = "msesync:keeper:{}"
REFRESH_INTERVAL = 60.0  # the product's default MSESYNC_DAEMON_REFRESH_INTERVAL
NACOS_PROXIES = ("r-nacos", "nacos")
OPEN_SAMPLES = 10  # looks at the open gRPC connections per load window
# Before a load window: shares move to nodes that joined in steps of the keepers' 5 s rounds
# (register, then withdraw after the handover grace); the last move of the copies was seen
# 19 s after the third node went live, and a window that caught them counted a quarter of
# its bytes in handover batches.
SETTLE_S = 30.0


def wait(predicate, timeout: float, what: str, interval: float = 0.1) -> float:
    """Seconds until predicate() held; raises after timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(interval)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


def ratio(three: float, one: float) -> float:
    return three / one if one else float("inf")


class Bench:
    def __init__(
        self, services: int, instances: int, providers: int, load_window: float, member_ttl=3.0
    ):
        exports = servers_up()
        self.load_window = load_window
        # A long TTL is the negative control: a dead node's leases then lapse, and the
        # polling client must see it.
        self.storage = {**fresh_storage(exports), "MSESYNC_MEMBER_TTL": str(member_ttl)}
        self.redis = redis_py.Redis.from_url(self.storage["REDIS_URL"], socket_timeout=2)
        self.sources = Sources(exports, services, instances, providers)
        self.proxies = {
            # Nacos clients speak gRPC on the HTTP port + 1000: forwarded at the same offset.
            "r-nacos": CountingProxy(exports["NACOS_ALT_ADDR"], companion_offset=1000),
            "nacos": CountingProxy(exports["NACOS_ADDR"], companion_offset=1000),
            "zookeeper": CountingProxy(exports["ZK_ADDR"]),
        }
        self.idle_proxy = CountingProxy(exports["NACOS_ADDR"], companion_offset=1000)
        everything = self.sources.nacos_services + self.sources.dubbo_services
        sample = self.sources.nacos_services[::10] + self.sources.dubbo_services[::5]
        # A client on a sample every 100 ms, another on every service every 2 s: polling all
        # of them every 100 ms would be thousands of requests/s on this two-core machine.
        self.pollers = [
            DestinationPoller(exports["NACOS_ADDR"], sample, period=0.1),
            DestinationPoller(exports["NACOS_ADDR"], everything, period=2.0),
        ]
        self.poller = self.pollers[1]
        self.workdir = Path(tempfile.mkdtemp(prefix="msesync-failover-"))
        self.nodes = [Node(f"node{n}", self.workdir / f"node{n}", self.storage) for n in (1, 2, 3)]
        self.steps: list[dict] = []
        self.load_rows: list[tuple] = []

    # --- set-up -----------------------------------------------------------------

    def config(self) -> str:
        tag, p = self.sources.tag, self.proxies
        return config_yaml(
            [
                cluster(f"{tag}-rnacos", "NACOS", p["r-nacos"].address),
                cluster(f"{tag}-zk", "ZOOKEEPER", p["zookeeper"].address),
                cluster(f"{tag}-nacos", "NACOS", p["nacos"].address),
            ],
            [
                task(f"{tag}-rnacos", f"{tag}-nacos", f"{tag}-svc-.*"),
                task(f"{tag}-zk", f"{tag}-nacos", f"providers:com\\\\.example\\\\.{tag}\\\\..*"),
            ],
        )

    def converge(self, first_node: Node) -> float:
        self.sources.fill()
        first_node.start()
        started = time.monotonic()
        first_node.apply(self.config())
        wait(self.poller.all_present, 600, "initial sync", interval=1)
        return time.monotonic() - started

    # --- observations -------------------------------------------------------------

    def live_nodes(self) -> list[str]:
        now = time.time()
        members = self.redis.zrangebyscore(MEMBERS_KEY, now, "+inf")
        return sorted(m.decode() for m in members)

    def leader(self) -> str | None:
        value = self.redis.get(LEADER_KEY)
        return value.decode() if value else None

    def renewed_without(self, dead: str, since: float, survivors: list[Node]) -> bool:
        """Every survivor renewed, after `since`, with `dead` out of its view: either its
        immediate take-over of the share it gained, or a whole round."""
        for node in survivors:
            raw = self.redis.get(KEEPER_KEY.format(node.name))
            status = json.loads(raw) if raw else {}
            renewals = [status.get("takeover"), status.get("round")]  # either will do
            if not any(r and dead not in r["nodes"] and r["at"] >= since for r in renewals):
                return False
        return True

    def request_rate(self) -> dict[str, float]:
        """Requests and bytes per second sent to the registries over one window, and the part
        of those bytes that is only keepalives: every open gRPC connection probes Nacos when
        idle (PROBE_EVERY), so each node adds its connections' probes whatever it syncs. Their
        cost is measured in the same window on an idle connection of ours (the baseline)."""
        idle = GrpcConnection(self.idle_proxy.address, name="idle-baseline")
        idle.request("HealthCheckRequest", {"module": "internal"})
        before = {name: p.snapshot() for name, p in self.proxies.items()}
        idle_before, open_grpc = self.idle_proxy.bytes_up, []
        for _ in range(OPEN_SAMPLES):
            open_grpc.append(sum(self.proxies[n].open_companion for n in NACOS_PROXIES))
            time.sleep(self.load_window / OPEN_SAMPLES)
        after = {name: p.snapshot() for name, p in self.proxies.items()}
        idle_rate = (self.idle_proxy.bytes_up - idle_before) / self.load_window
        idle.close()
        sent = sum(after[n][1] - before[n][1] for n in self.proxies) / self.load_window
        keepalives = idle_rate * sum(open_grpc) / len(open_grpc)
        return {
            name: (after[name][0] - before[name][0]) / self.load_window for name in self.proxies
        } | {
            "zk_bytes": (after["zookeeper"][1] - before["zookeeper"][1]) / self.load_window,
            # Nacos traffic is gRPC now, not HTTP requests: bytes sent to every registry.
            "all_bytes": sent,
            "grpc_connections": sum(open_grpc) / len(open_grpc),
            "keepalive_bytes": keepalives,
            "work_bytes": max(sent - keepalives, 0.0),
        }

    # --- steps --------------------------------------------------------------------

    def measure_load(self, label: str) -> dict[str, float]:
        time.sleep(SETTLE_S)  # membership settles and shares move before the window opens
        rate = self.request_rate()
        http = rate["r-nacos"] + rate["nacos"]
        self.load_rows.append(
            (label, f"{rate['r-nacos']:.1f}", f"{rate['nacos']:.1f}", f"{http:.1f}",
             f"{rate['zk_bytes'] / 1024:.1f}", f"{rate['all_bytes'] / 1024:.2f}",
             f"{rate['grpc_connections']:.0f}", f"{rate['keepalive_bytes'] / 1024:.2f}",
             f"{rate['work_bytes'] / 1024:.2f}")
        )  # fmt: skip
        return rate

    def change_sources(self, step: str) -> tuple[list[Service], list[Service]]:
        """One instance added, one removed, one new Dubbo service: none of them polled."""
        added = self.sources.nacos_services[2 * len(self.steps)]
        removed = self.sources.nacos_services[2 * len(self.steps) + 1]
        for poller in self.pollers:
            poller.excluded |= {added.name, removed.name}
        extra = ("10.51.0.1", 9000 + len(self.steps))
        self.sources.nacos_instance("POST", added.name, *extra)
        gone = sorted(removed.expected)[0]
        self.sources.nacos_instance("DELETE", removed.name, *gone)
        n = 500 + len(self.steps)
        new = self.sources.dubbo_service(n)
        self.sources.add_provider(n, new)
        must_show = [Service(added.group, added.name, added.expected | {extra}), new]
        must_lose = [Service(removed.group, removed.name, frozenset({gone}))]
        return must_show, must_lose

    def changes_arrived(self, must_show, must_lose) -> bool:
        for service in must_show:
            if not service.expected <= (self.poller.listed(service) or set()):
                return False
        return all(
            not (s.expected & (self.poller.listed(s) or {None})) for s in must_lose
        )  # fmt: skip

    def kill(self, step: str, victim: Node) -> None:
        survivors = [n for n in self.nodes if n is not victim]
        windows = [p.window() for p in self.pollers]
        was_leader = self.leader() == victim.name
        killed_at_wall, killed_at = time.time(), time.monotonic()
        victim.kill9()
        changes, changed_at = self.change_sources(step), time.monotonic()
        takeover, beat = self.takeover(victim, survivors, killed_at_wall, was_leader)
        wait(lambda: self.changes_arrived(*changes), REFRESH_INTERVAL, f"{step}: changes")
        arrived = time.monotonic() - changed_at
        time.sleep(max(0.0, 20 - (time.monotonic() - killed_at)))  # past Nacos' 15 s expiry
        self.record(step, windows, takeover, beat, arrived)
        victim.start()
        wait(lambda: victim.name in self.live_nodes(), 120, f"{step}: {victim.name} back")

    def takeover(self, victim, survivors, killed_at_wall, was_leader) -> tuple[float, float | None]:
        """Seconds until the survivors renewed without the dead node, and until another
        node led beat (None when the victim was not the leader), watched side by side."""
        owned = leader = None
        started = time.monotonic() - (time.time() - killed_at_wall)  # the kill, not now
        while owned is None or (was_leader and leader is None):
            elapsed = time.monotonic() - started
            if elapsed > 180:
                raise TimeoutError(f"{victim.name}'s work not taken over in 180 s")
            if owned is None and self.renewed_without(victim.name, killed_at_wall, survivors):
                owned = elapsed
            if was_leader and leader is None and self.leader() not in (None, victim.name):
                leader = elapsed
            time.sleep(0.1)
        return owned, leader

    def restart_server(self, step: str, server: str, down_for: float) -> None:
        windows = [p.window() for p in self.pollers]
        halt(load(server))
        time.sleep(down_for)
        resume(load(server))
        back = time.monotonic()
        recovered = wait(lambda: len(self.live_nodes()) == 3 and self.leader(), 120, step)
        changes = self.change_sources(step)
        arrived = wait(lambda: self.changes_arrived(*changes), REFRESH_INTERVAL, f"{step}: changes")
        time.sleep(max(0.0, 20 - (time.monotonic() - back)))
        self.record(step, windows, recovered, None, arrived)

    def record(self, step, windows, owned_again: float, beat: float | None, arrived: float):
        fast, full = (w.result() for w in windows)
        self.steps.append(
            {
                "step": step,
                "worst_gap_ms": max(fast["worst_gap_ms"], full["worst_gap_ms"]),
                "missing_polls": fast["missing_polls"] + full["missing_polls"],
                "services_missing": fast["services_missing"] + full["services_missing"],
                "owned_again_s": owned_again,
                "new_leader_s": beat,
                "changes_arrived_s": arrived,
                "sweep_ms": (fast["sweep_ms"], full["sweep_ms"]),
            }
        )

    # --- the whole run ------------------------------------------------------------

    def run(self) -> dict:
        try:
            initial = self.converge(self.nodes[0])
            one = self.measure_load("1 node")
            for node in self.nodes[1:]:
                node.start()
            wait(lambda: len(self.live_nodes()) == 3, 120, "3 nodes live")
            three = self.measure_load("3 nodes")
            for poller in self.pollers:
                poller.start()
            leader = self.leader()
            other = next(n for n in self.nodes if n.name != leader)
            self.kill(f"kill -9 {other.name} (not leader)", other)
            leader_node = next(n for n in self.nodes if n.name == self.leader())
            self.kill(f"kill -9 {leader_node.name} (beat leader)", leader_node)
            self.restart_server("restart Redis", "redis", 5)
            self.restart_server("restart MariaDB", "mariadb", 10)
        finally:
            self.close()
        return {
            "initial_sync_s": initial,
            "steps": self.steps,
            "load": self.load_rows,
            "load_ratio": ratio(three["all_bytes"], one["all_bytes"]),
            "work_ratio": ratio(three["work_bytes"], one["work_bytes"]),
        }

    def close(self) -> None:
        for poller in self.pollers:
            poller.close()
        for node in self.nodes:
            node.stop()
        self.sources.close()


STEP_HEADER = (
    "step", "worst gap ms", "missing polls", "services", "owned again / recovered s",
    "new beat leader s", "changes arrived s", "sweep p50 ms (sample/all)",
)  # fmt: skip


def step_row(step: dict) -> tuple:
    leader = step["new_leader_s"]
    return (
        step["step"], step["worst_gap_ms"], step["missing_polls"], step["services_missing"],
        f"{step['owned_again_s']:.1f}", "-" if leader is None else f"{leader:.1f}",
        f"{step['changes_arrived_s']:.1f}", "{}/{}".format(*step["sweep_ms"]),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--instances", type=int, default=5)
    parser.add_argument("--providers", type=int, default=100)
    # A window as long as the refresh interval holds one refresh, whenever it starts.
    parser.add_argument("--load-window", type=float, default=REFRESH_INTERVAL)
    parser.add_argument(
        "--member-ttl", type=float, default=3.0, help="60 shows what a slow takeover costs"
    )
    args = parser.parse_args()
    bench = Bench(args.services, args.instances, args.providers, args.load_window, args.member_ttl)
    result = bench.run()
    print(f"initial sync (1 node): {result['initial_sync_s']:.1f} s")
    print_table(
        f"Registry requests/s through the counting proxies ({args.load_window:.0f} s windows)",
        ("nodes", "r-nacos HTTP", "nacos HTTP", "HTTP total", "ZooKeeper KiB/s", "all KiB/s",
         "gRPC conns", "keepalives KiB/s", "beyond keepalives KiB/s"),
        result["load"],
    )  # fmt: skip
    print(
        f"3 nodes / 1 node bytes sent to the registries: {result['load_ratio']:.2f}x; beyond the "
        f"connections' keepalives: {result['work_ratio']:.2f}x (goal <= 1.2x)"
    )
    print_table(
        "Failover: a sample polled every 100 ms, every service every 2 s",
        STEP_HEADER,
        [step_row(step) for step in result["steps"]],
    )


if __name__ == "__main__":
    main()
