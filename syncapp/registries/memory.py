"""An in-process registry for unit tests: same interface, no server.

Clusters are looked up by name in a process-wide dict, so two ClusterConfigs with
different names are two independent registries. `fail_reads` and `fail_writes` simulate an
outage (reads, or holds and lease renewals, raise Unreachable); `refuse_writes` a registry
that answers no (holds and lease renewals raise Refused with that reason).
"""

from syncapp.registries.base import (
    ClusterConfig,
    ConfigItem,
    ConfigKey,
    Instance,
    Refused,
    Registry,
    ServiceKey,
    Unreachable,
)


class MemoryStore:
    def __init__(self):
        self.services: dict[ServiceKey, dict[tuple, Instance]] = {}
        self.namespaces: set[str] = {"public"}
        self.fail_reads = False
        self.fail_writes = False  # holds and lease renewals find the registry down
        self.beats = 0
        self.holds = 0  # hold() calls of connection-held adapters
        self.refuse_writes = ""  # a refusal reason: holds and lease renewals fail with it
        self.connection_lost = False  # connection-held adapters report their link down
        self.watchers: list = []
        self.configs: dict[ConfigKey, ConfigItem] = {}
        self.config_writes = 0  # config writes and deletes
        # service -> how many clients subscribe to it; a service not here: None (unknown)
        self.subscribers: dict[ServiceKey, int] = {}
        self.listing_reads_instances = False  # as a ZooKeeper Dubbo listing does
        self.instance_reads = 0  # list_instances calls

    def changed(self, service) -> None:
        for on_change in self.watchers:
            on_change(service)


STORES: dict[str, MemoryStore] = {}


def store(name: str) -> MemoryStore:
    return STORES.setdefault(name, MemoryStore())


class MemoryRegistry(Registry):
    kind = "MEMORY"
    has_namespaces = True

    def __init__(self, config: ClusterConfig):
        super().__init__(config)
        self.store = store(config.name)
        self._mine: list = []  # watch callbacks this adapter added

    def _check(self):
        if self.store.fail_reads:
            raise Unreachable(f"{self.config.name} is down")

    def count_subscribers(self, service: ServiceKey) -> int | None:
        self._check()
        return self.store.subscribers.get(service)

    def _check_writes(self):
        if self.store.fail_writes:
            raise Unreachable(f"{self.config.name} is down")
        if self.store.refuse_writes:
            raise Refused(self.store.refuse_writes)

    def namespaces(self) -> list[str]:
        return list(self.config.namespaces) or ["public"]

    def ensure_namespace(self, namespace: str) -> None:
        self.store.namespaces.add(namespace)

    def list_services(self, namespace: str) -> list[ServiceKey]:
        self._check()
        return sorted(k for k, v in self.store.services.items() if k.namespace == namespace and v)

    def list_services_read(self, namespace: str, on_read=None):
        names = self.list_services(namespace)
        if not self.store.listing_reads_instances:
            return names, {}
        read = {k: list(self.store.services[k].values()) for k in names}
        for key, instances in read.items():  # one service per step
            if on_read is not None:
                on_read({key: instances})
        return names, read

    def list_instances(self, service: ServiceKey) -> list[Instance]:
        self._check()
        self.store.instance_reads += 1
        return list(self.store.services.get(service, {}).values())

    def register(self, service: ServiceKey, instance: Instance) -> None:
        self.store.services.setdefault(service, {})[instance.key] = instance
        self.store.changed(service)

    def deregister(self, service: ServiceKey, instance: Instance) -> None:
        self.store.services.get(service, {}).pop(instance.key, None)
        self.store.changed(service)

    def watch(self, on_change) -> bool:
        self.store.watchers.append(on_change)
        self._mine.append(on_change)
        return True

    def close(self) -> None:
        for on_change in self._mine:
            self.store.watchers.remove(on_change)
        self._mine.clear()

    # --- configuration documents ---

    has_config_items = True

    def list_config_items(self, namespace: str) -> dict[ConfigKey, str]:
        self._check()
        return {k: v.md5 for k, v in self.store.configs.items() if k.namespace == namespace}

    def read_config_item(self, key: ConfigKey) -> ConfigItem | None:
        self._check()
        return self.store.configs.get(key)

    def write_config_item(self, item: ConfigItem, replaces_md5: str = "") -> None:
        current = self.store.configs.get(item.key)
        if replaces_md5 and current is not None and current.md5 != replaces_md5:
            raise Refused(f"{item.key} changed meanwhile")  # a failed compare-and-swap
        self.store.configs[item.key] = item
        self.store.config_writes += 1

    def delete_config_item(self, key: ConfigKey) -> None:
        self.store.configs.pop(key, None)
        self.store.config_writes += 1

    def heartbeat(self, service: ServiceKey, instance: Instance) -> None:
        self._check_writes()
        self.store.beats += 1
        if instance.key not in self.store.services.get(service, {}):
            self.register(service, instance)


class HeldMemoryRegistry(MemoryRegistry):
    """Copies live as long as the adapter that holds them, as with Nacos over gRPC: one set per
    service per adapter, replaced by each `hold`, gone when the adapter closes."""

    kind = "MEMORY_HELD"
    holds_by_connection = True

    def __init__(self, config: ClusterConfig):
        super().__init__(config)
        self._held: dict[ServiceKey, list[Instance]] = {}

    def hold(self, service: ServiceKey, instances: list[Instance], force: bool = False) -> None:
        self._check_writes()
        for instance in self._held.get(service, []):
            self.store.services.get(service, {}).pop(instance.key, None)
        for instance in instances:
            self.store.services.setdefault(service, {})[instance.key] = instance
        self._held[service] = list(instances)
        if not instances:
            del self._held[service]
        self.store.holds += 1
        self.store.changed(service)

    def register(self, service: ServiceKey, instance: Instance) -> None:
        kept = [i for i in self._held.get(service, []) if i.key != instance.key]
        self.hold(service, [*kept, instance])

    def deregister(self, service: ServiceKey, instance: Instance) -> None:
        self.hold(service, [i for i in self._held.get(service, []) if i.key != instance.key])

    def heartbeat(self, service: ServiceKey, instance: Instance) -> None:
        if instance.key not in {i.key for i in self._held.get(service, [])}:
            self.register(service, instance)

    def held_services(self) -> list[ServiceKey]:
        return list(self._held)

    def holding_connected(self) -> bool:
        return not self.store.connection_lost

    def held(self, service: ServiceKey) -> list[Instance]:
        return list(self._held.get(service, []))

    def close(self) -> None:
        for service in list(self._held):
            self.hold(service, [])
        super().close()
