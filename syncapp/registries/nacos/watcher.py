"""The Nacos push feed: subscribe to every service of the cluster's namespaces.

Nacos pushes a subscribed service's instances whenever they change (~0.55 s after the write
on Nacos 3.1). Subscriptions are per service, so a thread lists the services every few
seconds, subscribes the new ones and reports new and gone services as changes. A reconnect
re-subscribes everything and reports "re-read everything" (naming_grpc.py).
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from syncapp.registries.base import RegistryError, error_text

log = logging.getLogger(__name__)
RELIST_EVERY = 5.0
SUBSCRIBE_THREADS = 8


class ServiceWatcher:
    def __init__(self, registry, naming, on_change):
        self.registry = registry
        self.naming = naming
        self.on_change = on_change
        self.known: set | None = None  # None until the first complete listing
        self.live = False  # the last listing succeeded: new and gone services are reported
        self.failure = ""  # why the thread ended, when an unexpected error ended it
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"{registry.config.name}-subscriptions", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.live = False

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
                self.live = not self._stop.is_set()
            except RegistryError as exc:  # unreachable: the scan job reports it; try again
                self.live = False
                log.info("%s: cannot list services to subscribe: %s", self.registry, exc)
            except Exception as exc:  # a bug: the feed's owner starts a new watch (feeds.py)
                self.live = False
                self.failure = error_text(exc)
                log.exception("%s: subscription step failed", self.registry.config.name)
                return
            self._stop.wait(RELIST_EVERY)

    def step(self) -> None:
        """Subscribe new services, forget gone ones; report both (not the first listing)."""
        listed = {
            key for ns in self.registry.namespaces() for key in self.registry.list_services(ns)
        }
        before = self.known
        new = listed - (before or set())
        with ThreadPoolExecutor(SUBSCRIBE_THREADS) as pool:
            list(pool.map(self.naming.subscribe, sorted(new)))
        self.known = listed
        if before is None:
            return
        for key in sorted(new | (before - listed)):
            self.on_change(key)
