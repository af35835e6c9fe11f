"""Registry adapters by kind: one module each, resolved lazily from a dotted path.

Adding a registry is one module plus one line here; model choices come from this dict.
"""

from functools import cache

from django.utils.module_loading import import_string

REGISTRIES = {
    "NACOS": "syncapp.registries.nacos.NacosRegistry",
    "ZOOKEEPER": "syncapp.registries.zookeeper.ZookeeperRegistry",
    "EUREKA": "syncapp.registries.eureka.EurekaRegistry",
    "CONSUL": "syncapp.registries.consul.ConsulRegistry",
    "MEMORY": "syncapp.registries.memory.MemoryRegistry",
    "MEMORY_HELD": "syncapp.registries.memory.HeldMemoryRegistry",
}

# Kinds a user may configure; MEMORY and MEMORY_HELD exist for tests only.
USER_KINDS = ("NACOS", "ZOOKEEPER", "EUREKA", "CONSUL")


@cache
def registry_class(kind: str):
    """The adapter class for a kind, with an error that names the known kinds."""
    try:
        path = REGISTRIES[kind]
    except KeyError:
        known = ", ".join(REGISTRIES)
        raise ValueError(f"unknown registry kind {kind!r}; known kinds: {known}") from None
    return import_string(path)


def preload() -> None:
    """Import every user kind's adapter now: a worker or keeper that imported Nacos' (gRPC,
    protobuf) at its first sync spent 0.15-0.4 s there, on the path of a new task's first
    copies."""
    for kind in USER_KINDS:
        registry_class(kind)
