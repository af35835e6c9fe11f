"""A fleet of live instances at a Nacos server, kept alive by beats like real clients."""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.nacos import NacosRegistry

BEAT_EVERY = 4.0
BEAT_THREADS = 8


class NacosFleet:
    """Registers instances and beats them every few seconds until stopped."""

    def __init__(self, address: str):
        self.registry = NacosRegistry(ClusterConfig("fleet", "NACOS", (address,)))
        self.instances: dict[tuple, tuple[ServiceKey, Instance]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(BEAT_THREADS)
        self._thread = threading.Thread(target=self._beat_loop, daemon=True)
        self._thread.start()

    def add(self, service: ServiceKey, instance: Instance) -> None:
        self.registry.register(service, instance)
        with self._lock:
            self.instances[(service, instance.key)] = (service, instance)

    def add_many(self, items) -> None:
        list(self._pool.map(lambda item: self.add(*item), items))

    def remove(self, service: ServiceKey, instance: Instance) -> None:
        with self._lock:
            self.instances.pop((service, instance.key), None)
        self.registry.deregister(service, instance)

    def _beat_loop(self) -> None:
        while not self._stop.wait(BEAT_EVERY):
            with self._lock:
                current = list(self.instances.values())
            list(self._pool.map(self._beat, current))  # one round at a time

    def _deregister(self, item) -> None:
        with contextlib.suppress(Exception):
            self.registry.deregister(*item)

    def _beat(self, item) -> None:
        # The server may be down on purpose: keep beating, like a real client.
        with contextlib.suppress(Exception):
            self.registry.heartbeat(*item)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        list(self._pool.map(self._deregister, list(self.instances.values())))
        self._pool.shutdown()
        self.registry.close()
