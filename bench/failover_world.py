"""The failover bench's world: the test-bed servers, the sources it fills, and the client
that polls the destination the way an application would.

Sources: r-nacos holds `services` × `instances` persistent instances (nobody has to beat
them), ZooKeeper holds `providers` Dubbo providers. Both are copied into Nacos 3, whose
healthy-only instance lists are what the polling client checks.
"""

import base64
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from bench.common import parallel
from tests.support.storage import fresh_mysql_database, fresh_redis_db
from tests.support.zk import dubbo_provider, kazoo_client
from tests.testbed.base import start
from tests.testbed.pytest_plugin import exported
from tests.testbed.servers import load

SERVERS = ("mariadb", "redis", "zookeeper", "rnacos", "nacos")
DATABASE = "test_msesync_failover"  # the test-bed user may create test_* databases
REDIS_DB = 14
DUBBO_VERSION = "1.0.0"


def servers_up() -> dict[str, str]:
    """Start what the bench needs (idempotent) and return every export."""
    exports = {}
    for name in SERVERS:
        start(load(name))
        exports.update(exported(name))
    return exports


def fresh_storage(exports: dict[str, str]) -> dict[str, str]:
    """An empty MySQL database and Redis db of the bench's own: the env of every node."""
    user, password = exports["MYSQL_USER_NAME"], exports["MYSQL_PASSWORD"]
    return {
        "MYSQL_URL": fresh_mysql_database(exports["MYSQL_URL"], user, password, DATABASE),
        "MYSQL_USER_NAME": user,
        "MYSQL_PASSWORD": password,
        "REDIS_URL": fresh_redis_db(exports["REDIS_URL"], REDIS_DB),
        # Every node must read the secrets the others wrote: one key for all (a Fernet key).
        "MSESYNC_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }


@dataclass(frozen=True)
class Service:
    """One service as the destination lists it, and the instances it must always show."""

    group: str
    name: str
    expected: frozenset = field(default_factory=frozenset)


class Sources:
    """What the bench registers at the sources, and how it changes them."""

    def __init__(self, exports: dict[str, str], services: int, instances: int, providers: int):
        self.tag = f"fo{uuid.uuid4().hex[:6]}"
        self.rnacos = f"http://{exports['NACOS_ALT_ADDR']}/nacos/v1/ns/instance"
        self.http = requests.Session()
        self.zk = kazoo_client(exports["ZK_ADDR"])
        self.nacos_services = [
            Service(
                "DEFAULT_GROUP",
                f"{self.tag}-svc-{n:03d}",
                frozenset((f"10.50.{n // 250}.{n % 250}", 8000 + i) for i in range(instances)),
            )
            for n in range(services)
        ]
        self.dubbo_services = [self.dubbo_service(n) for n in range(providers)]

    @property
    def interface_prefix(self) -> str:
        return f"com.example.{self.tag}."

    def dubbo_service(self, n: int) -> Service:
        name = f"providers:{self.interface_prefix}Svc{n:03d}:{DUBBO_VERSION}:"
        return Service("DEFAULT_GROUP", name, frozenset({("10.60.0.1", 20000 + n)}))

    def fill(self) -> None:
        parallel(self.add_nacos_service, self.nacos_services)
        for n, service in enumerate(self.dubbo_services):
            self.add_provider(n, service)

    def add_nacos_service(self, service: Service) -> None:
        for ip, port in service.expected:
            self.nacos_instance("POST", service.name, ip, port)

    def nacos_instance(self, method: str, name: str, ip: str, port: int) -> None:
        params = {"serviceName": name, "ip": ip, "port": port, "ephemeral": "false"}
        self.http.request(method, self.rnacos, params=params, timeout=10).raise_for_status()

    def add_provider(self, n: int, service: Service) -> None:
        ((ip, port),) = service.expected
        dubbo_provider(self.zk, f"{self.interface_prefix}Svc{n:03d}", ip, port)

    def close(self) -> None:
        self.zk.stop()
        self.zk.close()


class DestinationPoller:
    """Polls every watched service's healthy instances at Nacos, starting a sweep every
    `period` seconds, and records each time one of them lacks an expected instance."""

    def __init__(self, nacos_addr: str, services: list[Service], period: float = 0.1):
        # Nacos' v3 HTTP client API: current Nacos serves no v1.
        self.url = f"http://{nacos_addr}/nacos/v3/client/ns/instance/list"
        self.services = {s.name: s for s in services}
        self.period = period
        self.excluded: set[str] = set()  # services whose source the bench changes on purpose
        self.misses: list[tuple[float, str]] = []
        self.errors = 0
        self.sweeps: list[float] = []
        self.last_full: dict[str, float] = {}
        self.gaps: list[float] = []
        self.missing_since: dict[str, float] = {}
        self._local = threading.local()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(8)
        self._thread = threading.Thread(target=self._run, daemon=True, name="poller")

    def listed(self, service: Service) -> set | None:
        session = getattr(self._local, "session", None) or requests.Session()
        self._local.session = session
        params = {
            "serviceName": service.name,
            "groupName": service.group,
            "namespaceId": "public",
            "healthyOnly": "true",
        }
        try:
            reply = session.get(self.url, params=params, timeout=5)
            reply.raise_for_status()
        except requests.RequestException:
            return None
        return {(h["ip"], int(h["port"])) for h in reply.json().get("data") or []}

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            list(self._pool.map(self._check, list(self.services.values())))
            self.sweeps.append(time.monotonic() - started)
            self._stop.wait(max(0.0, self.period - (time.monotonic() - started)))

    def _check(self, service: Service) -> None:
        seen, now = self.listed(service), time.monotonic()
        if seen is None:
            self.errors += 1
            return
        if service.name in self.excluded:
            return
        if service.expected <= seen:
            if service.name in self.missing_since:
                # From the last full view before the miss to this one: an upper bound.
                self.gaps.append(now - self.last_full.get(service.name, now))
                del self.missing_since[service.name]
            self.last_full[service.name] = now
        else:
            self.misses.append((now, service.name))
            self.missing_since.setdefault(service.name, now)

    def all_present(self) -> bool:
        return all(s.expected <= (self.listed(s) or set()) for s in self.services.values())

    def window(self) -> "PollWindow":
        return PollWindow(self)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():  # a run that failed before polling never started it
            self._thread.join(timeout=30)
        self._pool.shutdown()


class PollWindow:
    """The misses and gaps a poller saw between its creation and `close()`."""

    def __init__(self, poller: DestinationPoller):
        self.poller = poller
        self.start = (len(poller.misses), len(poller.gaps), len(poller.sweeps))

    def result(self) -> dict:
        p = self.poller
        misses = p.misses[self.start[0] :]
        gaps = p.gaps[self.start[1] :]
        open_gaps = [time.monotonic() - p.last_full.get(n, 0) for n in p.missing_since]
        sweeps = p.sweeps[self.start[2] :] or [0.0]
        return {
            "missing_polls": len(misses),
            "services_missing": len({name for _, name in misses}),
            "worst_gap_ms": round(1000 * max(gaps + open_gaps, default=0.0)),
            "sweep_ms": round(1000 * sorted(sweeps)[len(sweeps) // 2]),
        }
