"""Reading one side of a service for the cockpit: native providers, our copies, subscribers."""

from __future__ import annotations

from syncapp.cockpit.phases import Side
from syncapp.engine import markers
from syncapp.registries.base import Registry, ServiceKey, error_text


def read_side(registry: Registry, cluster: str, service: ServiceKey) -> tuple[Side, str]:
    """The side's facts and why any could not be read ("" when all were).

    A failed instance read leaves providers and copies unknown (never 0). Subscribers are
    unknown where the kind keeps no subscriber data, and where the read failed."""
    try:
        instances = registry.list_instances(service)
    except Exception as exc:  # any failure: the phase turns unknown, the error is shown
        return Side(cluster, None, None, None), f"{cluster}: {error_text(exc)}"
    copies = sum(1 for i in instances if markers.is_synced_copy(i.metadata))
    natives = len(instances) - copies
    try:
        subscribers = registry.count_subscribers(service)
    except Exception as exc:
        return Side(cluster, natives, copies, None), f"{cluster} subscribers: {error_text(exc)}"
    return Side(cluster, natives, copies, subscribers), ""
