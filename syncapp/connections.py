"""One adapter per cluster per process, rebuilt when the cluster row changes."""

import threading

from syncapp.models import Cluster
from syncapp.registries import registry_class
from syncapp.registries.base import Registry

_lock = threading.Lock()
_adapters: dict[int, tuple[object, Registry]] = {}


def registry_for(cluster: Cluster) -> Registry:
    """A connected adapter for the cluster, reused across jobs (keeps HTTP sessions warm)."""
    with _lock:
        version, adapter = _adapters.get(cluster.pk, (None, None))
        if adapter is None or version != cluster.updated_at:
            if adapter is not None:
                adapter.close()
            adapter = registry_class(cluster.cluster_type)(cluster.config())
            _adapters[cluster.pk] = (cluster.updated_at, adapter)
        return adapter


def forget_all() -> None:
    """Close every adapter (tests, worker shutdown)."""
    with _lock:
        for _, adapter in _adapters.values():
            adapter.close()
        _adapters.clear()
