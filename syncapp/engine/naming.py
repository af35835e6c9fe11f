"""How a service's name and place translate from one registry kind to another."""

from syncapp.engine.plan import Direction
from syncapp.registries.base import ServiceKey


def dest_service_key(source: ServiceKey, direction: Direction) -> ServiceKey:
    """The destination key of a source service. Same-kind pairs keep it as it is."""
    return source
