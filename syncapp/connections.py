"""One adapter per cluster per process, rebuilt when the cluster row changes."""

import logging
import threading

from syncapp.models import Cluster
from syncapp.registries import registry_class
from syncapp.registries.base import Registry, RegistryError

log = logging.getLogger(__name__)

_lock = threading.Lock()
_adapters: dict[int, tuple[object, Registry]] = {}


def registry_for(cluster: Cluster) -> Registry:
    """A connected adapter for the cluster, reused across jobs (keeps HTTP sessions warm)."""
    with _lock:
        version, adapter = _adapters.get(cluster.pk, (None, None))
        # Only a newer row rebuilds: rows read a moment apart may carry an older version.
        if adapter is None or (cluster.updated_at and cluster.updated_at > version):
            old, adapter = adapter, registry_class(cluster.cluster_type)(cluster.config())
            if old is not None:
                hand_over(old, adapter)
                old.close()
            _adapters[cluster.pk] = (cluster.updated_at, adapter)
        return adapter


def hand_over(old: Registry, new: Registry) -> None:
    """Copies held by the old adapter's connections are held by the new one's first: an
    edited cluster must not empty its services while the keeper catches up."""
    for service in old.held_services():
        try:
            new.hold(service, old.held(service))
        except RegistryError as exc:  # the next round of the keeper tries again
            log.warning("%s: could not hand %s over: %s", new.config.name, service, exc)


def forget_all() -> None:
    """Close every adapter (tests, worker shutdown)."""
    with _lock:
        for _, adapter in _adapters.values():
            adapter.close()
        _adapters.clear()
