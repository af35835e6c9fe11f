"""The one small interface every registry adapter implements, and its value types.

All protocol translation lives in the adapters: a Nacos host, a Dubbo provider URL, a
Curator payload, a Eureka InstanceInfo and a Consul health entry all become `Instance`.
"""

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

DEFAULT_GROUP = "DEFAULT_GROUP"
DEFAULT_CLUSTER = "DEFAULT"


class RegistryError(Exception):
    """A registry could not be read or written. Never to be read as "empty".

    Raised as is when nothing more is known (an answer we cannot read, data we cannot write
    in that registry's form); the adapter that saw the failure raises a subclass when it
    knows which side of the wire failed, so that nobody has to guess it from the text."""


class Unreachable(RegistryError):
    """Nobody answered: connection refused or reset, a timeout, a lost session, no DNS name.
    The same request may succeed later without anyone changing anything."""


class Refused(RegistryError):
    """The registry answered, and said no: an HTTP error status with the server's reason, a
    failed login, a ZooKeeper NoAuth, a Nacos error response. Trying again rarely helps;
    the message carries the registry's reason for a person to act on."""


# Kinds of failure, as rows, tasks and /metrics name them.
UNREACHABLE, REJECTED, OTHER, INTERNAL = "unreachable", "rejected", "other", "internal"
ERROR_KINDS = (UNREACHABLE, REJECTED, OTHER, INTERNAL)


def error_kind(exc: BaseException) -> str:
    """The kind of a failure, decided by the type the adapter raised: "unreachable",
    "rejected", "other" (a RegistryError of no known kind) or "internal" (not a
    RegistryError at all: a bug of ours)."""
    if isinstance(exc, Unreachable):
        return UNREACHABLE
    if isinstance(exc, Refused):
        return REJECTED
    if isinstance(exc, RegistryError):
        return OTHER
    return INTERNAL


def error_text(exc: Exception) -> str:
    """What a row or task shows of a failure: a RegistryError as the registry said it; any
    other exception is a bug of ours, marked as such (its traceback belongs in the log)."""
    if isinstance(exc, RegistryError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


LONG_WORD = re.compile(r"\S{81,}")


def brief(reason: str, limit: int = 500) -> str:
    """A registry's refusal, short enough for a row, with its reason kept: servers echo the
    offending value first (Consul quotes a 4 KB metadata value before saying what is wrong),
    so long words are shortened, not the end of the message."""
    shortened = LONG_WORD.sub(lambda m: f"{m[0][:40]}...({len(m[0])} chars)", reason)
    return " ".join(shortened.split())[:limit]


@dataclass(frozen=True, order=True)
class ServiceKey:
    """Where a service lives: namespace ("" where the registry has none), group, name."""

    namespace: str
    group: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace or '-'}/{self.group or '-'}/{self.name}"


def _frozen(metadata: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in (metadata or {}).items()})


@dataclass(frozen=True)
class Instance:
    """One live endpoint of a service, in the registry-neutral form the engine compares."""

    ip: str
    port: int
    weight: float = 1.0
    healthy: bool = True
    enabled: bool = True
    cluster: str = DEFAULT_CLUSTER
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "metadata", _frozen(self.metadata))
        object.__setattr__(self, "port", int(self.port))
        object.__setattr__(self, "weight", float(self.weight))

    @property
    def key(self) -> tuple[str, int, str]:
        """Identity at a registry: a second instance with the same key replaces it."""
        return (self.ip, self.port, self.cluster)

    def canonical(self) -> tuple:
        """Everything that must match for source and destination to count as in step."""
        meta = tuple(sorted(self.metadata.items()))
        return (
            self.ip,
            self.port,
            round(self.weight, 6),
            self.healthy,
            self.enabled,
            self.cluster,
            meta,
        )

    def __eq__(self, other):
        return isinstance(other, Instance) and self.canonical() == other.canonical()

    def __hash__(self):
        return hash(self.canonical())

    def with_metadata(self, extra: Mapping[str, str]) -> "Instance":
        return replace(self, metadata={**self.metadata, **extra})

    def to_dict(self) -> dict:
        return {
            "ip": self.ip,
            "port": self.port,
            "weight": self.weight,
            "healthy": self.healthy,
            "enabled": self.enabled,
            "cluster": self.cluster,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "Instance":
        return cls(**data)


@dataclass(frozen=True, order=True)
class ConfigKey:
    """Where a configuration document lives (Nacos): namespace, group, dataId."""

    namespace: str
    group: str
    data_id: str

    @property
    def name(self) -> str:
        """What a Config task's serviceMatchPattern is matched against: `group/dataId`."""
        return f"{self.group}/{self.data_id}"

    def __str__(self) -> str:
        return f"{self.namespace or '-'}/{self.group}/{self.data_id}"


def content_md5(content: str) -> str:
    """The MD5 Nacos computes for a config (hex of its UTF-8 bytes)."""
    return hashlib.md5(content.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ConfigItem:
    """A configuration document and the attributes a copy carries (Nacos)."""

    key: ConfigKey
    content: str
    type: str = ""
    desc: str = ""
    tags: str = ""  # comma separated
    app_name: str = ""

    @property
    def md5(self) -> str:
        return content_md5(self.content)


@dataclass(frozen=True)
class ClusterConfig:
    """What an adapter needs to connect: the Cluster row without Django."""

    name: str
    kind: str
    connect_keys: tuple[str, ...]
    namespaces: tuple[str, ...] = ()
    username: str = ""
    password: str = ""
    ak: str = ""
    sk: str = ""


class Registry:
    """Contract of an adapter. Reads return complete answers or raise RegistryError.

    A partial read (one page of several failed) must raise too: the engine deletes at the
    destination only what a successful, complete source read lacks.
    """

    kind: str = ""
    # Capabilities, read by the engine, importer and keeper instead of comparing kinds.
    syncs_health = True  # False where the registry lists only live instances
    has_namespaces = False  # namespaces and groups (Nacos); others have flat service names
    has_push_feed = False  # watch() pushes changes; without it the scan job polls
    upper_cases_names = False  # Eureka: names are stored upper-cased, read back lower-cased
    sync_source_name = ""  # the word nacos-sync writes in the `syncSource` marker (kind if "")
    connect_keys_take_urls = True  # connectKeyList: host:port or a URL (ZooKeeper: no URLs)
    # True where a copy lives exactly as long as the connection that wrote it (Nacos gRPC):
    # such copies are written by the keeper that holds them, through `hold`, not by jobs.
    holds_by_connection = False

    def __init__(self, config: ClusterConfig):
        self.config = config

    def namespaces(self) -> list[str]:
        """Namespaces to sync; registries without namespaces return [""]."""
        return [""]

    def ensure_namespace(self, namespace: str) -> None:
        """Create the namespace if the registry has such a thing and it is missing."""

    def list_services(self, namespace: str) -> list[ServiceKey]:
        raise NotImplementedError

    def list_services_read(
        self, namespace: str, on_read: Callable[[dict], None] | None = None
    ) -> tuple[list[ServiceKey], dict[ServiceKey, list[Instance]]]:
        """Every service, and the instances of those the listing read whole on its way (a
        ZooKeeper Dubbo listing reads every provider folder to learn versions and groups): a
        scan copies a new service from them without a second read. Default: names only.
        `on_read(batch)` hears what was read as it goes, where a listing reads in steps (a
        scan copies new services while the rest is read); every batch is in the result."""
        return self.list_services(namespace), {}

    def list_instances(self, service: ServiceKey) -> list[Instance]:
        raise NotImplementedError

    def register(self, service: ServiceKey, instance: Instance) -> None:
        raise NotImplementedError

    def deregister(self, service: ServiceKey, instance: Instance) -> None:
        raise NotImplementedError

    def accepts(self, service: ServiceKey) -> bool:
        """Whether a service of that name can be written here at all."""
        return True

    def stored_form(self, service: ServiceKey, instance: Instance) -> Instance:
        """The instance as this registry would list it back after `register`: fields it
        cannot hold are dropped or rounded, fields it adds are added. The engine compares in
        this form, so a copy is not rewritten every round for a field that cannot stick."""
        return instance

    def count_subscribers(self, service: ServiceKey) -> int | None:
        """How many clients (not msesync itself) subscribe to the service here; None where
        the kind keeps no subscriber data (Curator, Eureka, Consul): unknown, never 0."""
        return None

    def heartbeat(self, service: ServiceKey, instance: Instance) -> None:
        """Renew the lease of an instance we registered (re-registering it if gone)."""

    def hold(self, service: ServiceKey, instances: list[Instance], force: bool = False) -> None:
        """Where `holds_by_connection`: make this adapter's connection hold exactly these
        copies of the service (the whole set in one write; an empty list withdraws them).
        `force`: write the set even if this adapter believes it holds it already (a job found
        copies missing at the destination, or a lost connection is back)."""
        raise NotImplementedError

    pipelines_holds = False  # hold_many sends many sets at once (else: hold, in threads)

    def hold_many(
        self, groups: dict[ServiceKey, list[Instance]], force: bool = False
    ) -> dict[ServiceKey, "RegistryError | None"]:
        """Where `pipelines_holds`: hold each service's set as `hold` does (`force`: write
        sets held already too); returns each service's outcome (None: held)."""
        raise NotImplementedError

    def held_services(self) -> list[ServiceKey]:
        """Where `holds_by_connection`: the services this adapter holds copies of."""
        return []

    def held(self, service: ServiceKey) -> list[Instance]:
        """Where `holds_by_connection`: the copies of a service this adapter holds."""
        return []

    def holding_connected(self) -> bool:
        """Where `holds_by_connection`: False while a connection that holds copies is down
        (the destination dropped them; a reconnect holds them again)."""
        return True

    def holds_exactly(self, service: ServiceKey, instances: list[Instance]) -> bool:
        """Where `holds_by_connection`: True when holding `instances` would send nothing."""
        return {i.key: i for i in self.held(service)} == {i.key: i for i in instances}

    # --- configuration (key -> bytes); only kinds with `has_configs` implement these ---

    has_configs = False

    def list_configs(self, root: str) -> dict[str, bytes]:
        """Every configuration entry at or under root; raises RegistryError on failure."""
        raise NotImplementedError

    def put_config(self, key: str, value: bytes) -> None:
        raise NotImplementedError

    def delete_config(self, key: str) -> bool:
        """False when the entry could not be removed because of entries not ours under it."""
        raise NotImplementedError

    def watch_configs(self, root: str, on_change: Callable[[], None]) -> bool:
        """Call on_change() whenever anything under root changes; False if no push feed."""
        return False

    # --- configuration documents (Nacos); kinds with `has_config_items` implement these ---

    has_config_items = False

    def list_config_items(self, namespace: str) -> dict[ConfigKey, str]:
        """Every config of a namespace -> its content MD5; complete or RegistryError."""
        raise NotImplementedError

    def read_config_item(self, key: ConfigKey) -> ConfigItem | None:
        """The config with its attributes; None when it does not exist."""
        raise NotImplementedError

    def write_config_item(self, item: ConfigItem, replaces_md5: str = "") -> None:
        """Create or replace a config. `replaces_md5`: the content MD5 the writer saw there;
        servers that compare-and-set refuse the write when it changed meanwhile."""
        raise NotImplementedError

    def delete_config_item(self, key: ConfigKey) -> None:
        raise NotImplementedError

    def watch(self, on_change: Callable[[ServiceKey | None], None]) -> bool:
        """Push changes from now on: on_change(key) for one service, on_change(None) when
        everything must be re-read (e.g. after a reconnect). Called from any thread.

        Returns False where the registry has no push feed (the scan job polls it instead).
        """
        return False

    def feed_alive(self) -> bool:
        """True while the feed `watch()` started is live and has missed nothing since: every
        change of every service, new and gone ones included, reaches on_change. Scans then
        leave unchanged services to it (jobs.scan_task). False where unsure."""
        return False

    def feed_ready(self) -> bool:
        """True once the feed `watch()` started watches every service that was there when it
        began. Until then a read of such a service may come before its watch: the scan that
        stands in for the events missed before the feed (coalesce.events_missed) waits for
        it. ZooKeeper arms a watch per folder, seconds at thousands of services."""
        return True

    def feed_failure(self) -> str:
        """Why the feed `watch()` started has stopped for good ("" while it runs, retrying
        included): an unexpected error ended it. The feed's owner (feeds.Feeds) then closes
        this adapter and watches again with a new one."""
        return ""

    def close(self) -> None:
        """Release connections."""
