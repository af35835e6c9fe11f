"""ZooKeeper, through kazoo: Dubbo providers and Curator (Spring Cloud Zookeeper) discovery.

Connect keys: `host[:port]` (port 2181 by default), joined by commas into one kazoo connect
string. One KazooClient per adapter, started on first use with a bounded connection timeout;
every request is bounded too, and any kazoo failure is a RegistryError (never an empty list):
Unreachable for no answer (connection loss, session expiry, time-outs), Refused for the
server's own error codes (NoAuth, NoNode where a node must exist...); see `kazoo_error`.

Two layouts, told apart by the service name (namespace and group are always ""):
- `providers:<interface>:<version>:<group>`, the name Dubbo's own Nacos registry uses:
  ephemeral nodes `/dubbo/<interface>/providers/<encoded provider URL>` whose version and group
  parameters match (see dubbo_url.py). consumers/, routers/, configurators/ are ignored.
- any other name: Curator entries `/services/<name>/<id>` (see curator.py). Dubbo 3's
  application-level entries live there too and read the same way.

Ownership: an application may register itself at the same ip:port as our copy of it (it
does, mid-migration). Our deregister and re-register touch only nodes of the same writer (the
`sourceClusterId` marker, or its absence), never the application's own node.

Leases: what we write is ephemeral, so it lives as long as the session that created it: this
adapter's own, and more of them once our nodes' paths would not fit in one session's closing
record (zk_sessions.py: ZooKeeper cannot restart from a record over 1 MB); `heartbeat`
re-creates a node that is gone (session expiry, another worker's death) with one exists().
Only registered, hence live, instances exist here: `syncs_health = False`.

Limits: fixed roots (`/dubbo`, `/services`: Dubbo's registry `group` and Spring's discovery
`root` are not configurable); legacy short Dubbo names (`providers:<interface>` before 2.7.3)
are refused; metadata values holding `&` or `;` cannot be Dubbo parameters; no ZooKeeper auth.
"""

import logging
import threading
import time

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (
    ConnectionDropped,
    ConnectionLoss,
    KazooException,
    NodeExistsError,
    NoNodeError,
    OperationTimeoutError,
    RequestTimeoutError,
    SASLException,
    SessionExpiredError,
    SessionMovedError,
    UnknownSessionError,
    ZookeeperError,
    ZookeeperStoppedError,
)
from kazoo.handlers.threading import KazooTimeoutError

from syncapp.registries import curator, dubbo_url, zk_config, zk_sessions, zk_watch
from syncapp.registries.base import (
    Instance,
    Refused,
    Registry,
    RegistryError,
    ServiceKey,
    Unreachable,
)

log = logging.getLogger(__name__)
DEFAULT_PORT = 2181
CONNECT_TIMEOUT = 5.0  # seconds to establish the first session
SESSION_TIMEOUT = 15.0  # how long our ephemeral nodes outlive a silent worker
REQUEST_TIMEOUT = 10.0
# Interfaces whose providers one step of a listing reads: a scan copies each step's new
# services while the next is read (10,000 interfaces took seconds to read in full).
LISTING_BATCH = 1000
STUCK_AFTER = 2 * SESSION_TIMEOUT  # disconnected this long: start a new client
DUBBO_ROOT = "/dubbo"
DUBBO_NON_PROVIDERS = ("consumers:", "routers:", "configurators:")
CURATOR_ROOT = "/services"
KAZOO_ERRORS = (KazooException, KazooTimeoutError)
# No answer from the ensemble: the session or its connection is gone (ConnectionClosedError is
# a SessionExpiredError), a request or the connect timed out, or our client is stopped.
NO_ANSWER = (
    ConnectionLoss,
    ConnectionDropped,
    SessionExpiredError,
    SessionMovedError,
    UnknownSessionError,
    OperationTimeoutError,
    RequestTimeoutError,
    KazooTimeoutError,
    ZookeeperStoppedError,
)
WRITER_KEY = "sourceClusterId"  # the engine's marker of who wrote a copy (none: a native)


def connect_string(keys) -> str:
    return ",".join(k if ":" in k else f"{k}:{DEFAULT_PORT}" for k in map(str.strip, keys) if k)


class ZookeeperRegistry(Registry):
    kind = "ZOOKEEPER"
    syncs_health = False
    has_push_feed = True  # watches
    sync_source_name = "ZK"
    connect_keys_take_urls = False  # host:port[/chroot]

    def __init__(self, config):
        super().__init__(config)
        self.hosts = connect_string(config.connect_keys)
        self._zk: KazooClient | None = None
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._watcher: zk_watch.ServiceWatcher | None = None
        # Our ephemeral nodes over as many sessions as ZooKeeper can replay (zk_sessions.py).
        self._sessions = zk_sessions.SessionPool(self._client, self._start)

    # --- plumbing -------------------------------------------------------------------

    def _client(self) -> KazooClient:
        with self._lock:
            if self._zk is not None and self._stuck():
                # kazoo retries forever with the last zxid it saw, which a server that lost
                # its data refuses: only a fresh client (new session) gets through.
                log.warning(
                    "%s: no ZooKeeper session for %.0f s, reconnecting afresh",
                    self.config.name,
                    time.monotonic() - self._down_since,
                )
                self._discard()
            if self._zk is None:
                self._zk = self._start()
            return self._zk

    def _stuck(self) -> bool:
        down = self._down_since
        return down is not None and time.monotonic() - down > STUCK_AFTER

    def _on_state(self, state) -> None:
        if state == KazooState.CONNECTED:
            self._down_since = None
        elif self._down_since is None:
            self._down_since = time.monotonic()

    def _discard(self) -> None:
        zk, self._zk, self._down_since = self._zk, None, None
        zk.stop()
        zk.close()
        self._sessions.close_extra()  # most likely as stuck; the keeper re-creates their nodes

    def _start(self) -> KazooClient:
        if not self.hosts:
            raise RegistryError(f"{self.config.name}: no ZooKeeper connect keys")
        zk = KazooClient(hosts=self.hosts, timeout=SESSION_TIMEOUT)
        try:
            zk.start(timeout=CONNECT_TIMEOUT)  # on time-out kazoo stops and closes itself
        except KAZOO_ERRORS as error:
            raise kazoo_error(f"ZooKeeper {self.hosts}: cannot connect: {error}", error) from None
        zk.add_listener(self._on_state)
        return zk

    def _batch(self, op: str, paths: list[str], *, ok=(), client=None, **kwargs) -> list:
        """One kazoo request per path, all in flight at once; an `ok` error answers None.
        `client`: the session to send them on (the adapter's own by default)."""
        zk = client or self._client()
        pending = [getattr(zk, f"{op}_async")(path, **kwargs) for path in paths]
        return [self._outcome(op, path, r, ok) for path, r in zip(paths, pending, strict=True)]

    def _outcome(self, op: str, path: str, pending, ok):
        try:
            return pending.get(timeout=REQUEST_TIMEOUT)
        except ok:
            return None
        except KAZOO_ERRORS as error:
            raise kazoo_error(f"ZooKeeper {self.hosts}: {op} {path}: {error!r}", error) from None

    def _one(self, op: str, path: str, *, ok=(), **kwargs):
        return self._batch(op, [path], ok=ok, **kwargs)[0]

    def _children(self, paths: list[str]) -> dict[str, list[str]]:
        """Children of each path; a path that does not exist has none (that is not an error)."""
        found = self._batch("get_children", paths, ok=(NoNodeError,))
        return {path: sorted(kids or []) for path, kids in zip(paths, found, strict=True)}

    def _delete(self, paths: list[str]) -> None:
        self._batch("delete", paths, ok=(NoNodeError,))  # any session may delete a node
        self._sessions.forget(paths)

    def _create(self, path: str, data: bytes = b"") -> bool:
        """Create an ephemeral node (and its persistent parents); False if it already exists."""
        [created] = self._batch(
            "create",
            [path],
            client=self._sessions.client_for(path),
            value=data,
            ephemeral=True,
            makepath=True,
            ok=(NodeExistsError,),
        )
        return created is not None

    # --- reads ----------------------------------------------------------------------

    def list_services(self, namespace: str) -> list[ServiceKey]:
        return self.list_services_read(namespace)[0]

    def list_services_read(self, namespace: str, on_read=None):
        """Dubbo services come with their providers (read to learn their names anyway),
        LISTING_BATCH interfaces at a time, each batch heard by `on_read` as it is read."""
        dubbo = self._dubbo_services(on_read)
        names = dubbo.keys() | self._curator_names()
        read = {ServiceKey("", "", name): instances for name, instances in dubbo.items()}
        return [ServiceKey("", "", name) for name in sorted(names)], read

    def list_instances(self, service: ServiceKey) -> list[Instance]:
        if dubbo_url.is_dubbo_name(service.name):
            return [dubbo_url.to_instance(url) for _, url in self._providers(service.name)]
        return [instance for _, instance in self._entries(service.name)]

    # --- writes ---------------------------------------------------------------------

    def accepts(self, service: ServiceKey) -> bool:
        # Dubbo's other categories on Nacos (consumers:..., routers:...) are no services to
        # provide here, and must not land in the Curator layout under their odd names.
        return not service.name.startswith(DUBBO_NON_PROVIDERS)

    def stored_form(self, service: ServiceKey, instance: Instance) -> Instance:
        """What listing gives back: Dubbo adds protocol/path/category..., scales weights."""
        try:
            if dubbo_url.is_dubbo_name(service.name):
                return dubbo_url.to_instance(dubbo_url.from_instance(service.name, instance))
            return curator.from_json(curator.to_json(service.name, "id", instance))
        except ValueError:  # not writable as is: register will say why
            return instance

    def register(self, service: ServiceKey, instance: Instance) -> None:
        if dubbo_url.is_dubbo_name(service.name):
            self._register_provider(service.name, instance)
        else:
            self._register_entry(service.name, instance)

    def deregister(self, service: ServiceKey, instance: Instance) -> None:
        folder, nodes = self._endpoints(service.name)
        endpoint = (instance.ip, instance.port, instance.metadata.get(WRITER_KEY, ""))
        self._delete([f"{folder}/{node}" for node, found in nodes if found == endpoint])

    def heartbeat(self, service: ServiceKey, instance: Instance) -> None:
        if self._one("exists", self._node_path(service.name, instance)) is None:
            log.info("%s: %s %s gone, registering again", self.config.name, service.name, instance)
            self.register(service, instance)

    # --- configuration: persistent znodes --------------------------------------------

    has_configs = True

    def list_configs(self, root: str) -> dict[str, bytes]:
        return self._guarded("read", root, zk_config.read_tree, root, REQUEST_TIMEOUT)

    def put_config(self, key: str, value: bytes) -> None:
        self._guarded("write", key, zk_config.put, key, value)

    def delete_config(self, key: str) -> bool:
        return self._guarded("delete", key, zk_config.delete, key)

    def watch_configs(self, root: str, on_change) -> bool:
        zk_watch.watch_tree(self._client(), root, on_change)
        return True

    def _guarded(self, what: str, path: str, fn, *args):
        try:
            return fn(self._client(), *args)
        except KAZOO_ERRORS as error:
            raise kazoo_error(f"ZooKeeper {self.hosts}: {what} {path}: {error!r}", error) from None

    def watch(self, on_change) -> bool:
        if self._watcher is not None:
            self._watcher.close()
        self._watcher = zk_watch.ServiceWatcher(self._client(), on_change)
        self._watcher.start()
        return True

    def feed_alive(self) -> bool:
        # A session that was interrupted reports "everything changed" when it is back; until
        # then events may be missed.
        watcher, zk = self._watcher, self._zk
        live = watcher is not None and zk is not None and watcher.zk is zk  # not a discarded one
        return live and not watcher.interrupted and not watcher.failure and zk.connected

    def feed_ready(self) -> bool:
        return self._watcher is not None and self._watcher.armed()

    def feed_failure(self) -> str:
        return self._watcher.failure if self._watcher else ""

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
        with self._lock:
            zk, self._zk = self._zk, None
        if zk is not None:
            zk.stop()
            zk.close()
        self._sessions.close_extra()

    def _endpoints(self, name: str) -> tuple[str, list[tuple[str, tuple[str, int, str]]]]:
        """The service's folder, and (node, (ip, port, writer)) of each of its instances."""
        if dubbo_url.is_dubbo_name(name):
            nodes = [
                (node, (url.host, url.port, url.params.get(WRITER_KEY, "")))
                for node, url in self._providers(name)
            ]
            return self._providers_folder(name), nodes
        nodes = [
            (node, (i.ip, i.port, i.metadata.get(WRITER_KEY, "")))
            for node, i in self._entries(name)
        ]
        return self._entries_folder(name), nodes

    def _node_path(self, name: str, instance: Instance) -> str:
        if dubbo_url.is_dubbo_name(name):
            node = dubbo_url.encode_node(self._provider_url(name, instance))
            return f"{self._providers_folder(name)}/{node}"
        node_id = curator.instance_id(name, instance.ip, instance.port)
        return f"{self._entries_folder(name)}/{node_id}"

    # --- Dubbo layout ------------------------------------------------------------------

    @staticmethod
    def _interface_folder(interface: str, category: str = "providers") -> str:
        # Dubbo URL-encodes the interface folder (an inner class's '$' becomes %24).
        return f"{DUBBO_ROOT}/{dubbo_url.java_encode(interface)}/{category}"

    def _providers_folder(self, name: str) -> str:
        return self._interface_folder(_dubbo_key(name)[0])

    def _dubbo_services(self, on_read=None) -> dict[str, list[Instance]]:
        """Every Dubbo service name (interface, version, group) with its providers, as
        list_instances reads them."""
        folders = self._children([DUBBO_ROOT])[DUBBO_ROOT]
        interfaces = [i for i in map(dubbo_url.java_decode, folders) if _nameable(i)]
        found: dict[str, list[Instance]] = {}
        for start in range(0, len(interfaces), LISTING_BATCH):
            batch = self._providers_of(interfaces[start : start + LISTING_BATCH])
            found.update(batch)
            if on_read is not None:
                on_read({ServiceKey("", "", name): copies for name, copies in batch.items()})
        return found

    def _providers_of(self, interfaces: list[str]) -> dict[str, list[Instance]]:
        providers = self._children([self._interface_folder(i) for i in interfaces])
        found: dict[str, list[Instance]] = {}
        for interface in interfaces:
            for _, url in _parse_providers(providers[self._interface_folder(interface)]):
                name = dubbo_url.service_name(interface, url.version, url.group)
                found.setdefault(name, []).append(dubbo_url.to_instance(url))
        return found

    def count_subscribers(self, service: ServiceKey) -> int | None:
        """Dubbo: the consumers of that interface asking for that version and group, from
        /dubbo/<interface>/consumers. Curator keeps no consumers: None (unknown)."""
        if not dubbo_url.is_dubbo_name(service.name):
            return None
        interface, version, group = _dubbo_key(service.name)
        folder = self._interface_folder(interface, "consumers")
        return sum(
            1 for node in self._children([folder])[folder] if _consumes(node, version, group)
        )

    def _providers(self, name: str) -> list[tuple[str, dubbo_url.DubboUrl]]:
        """(node, URL) of the providers of that interface with that version and group."""
        _, version, group = _dubbo_key(name)
        folder = self._providers_folder(name)
        nodes = _parse_providers(self._children([folder])[folder])
        return [(node, url) for node, url in nodes if dubbo_url.matches(url, version, group)]

    @staticmethod
    def _provider_url(name: str, instance: Instance) -> dubbo_url.DubboUrl:
        try:
            return dubbo_url.from_instance(name, instance)
        except ValueError as error:
            raise RegistryError(f"{name} {instance.ip}:{instance.port}: {error}") from None

    def _register_provider(self, name: str, instance: Instance) -> None:
        """Write our URL, then remove the writer's other URLs of that endpoint (never a moment
        without); another writer's URL there (the application's own) stays."""
        url = self._provider_url(name, instance)
        node = dubbo_url.encode_node(url)
        folder, nodes = self._endpoints(name)
        ours = (url.host, url.port, url.params.get(WRITER_KEY, ""))
        same = [n for n, endpoint in nodes if endpoint == ours]
        if node not in same:
            self._create(f"{folder}/{node}")
        self._delete([f"{folder}/{n}" for n in same if n != node])

    # --- Curator layout ----------------------------------------------------------------

    @staticmethod
    def _entries_folder(name: str) -> str:
        if not name or "/" in name:
            raise RegistryError(f"not a usable Curator service name: {name!r}")
        return f"{CURATOR_ROOT}/{name}"

    def _curator_names(self) -> set[str]:
        names = [
            n
            for n in self._children([CURATOR_ROOT])[CURATOR_ROOT]
            if not dubbo_url.is_dubbo_name(n)
        ]
        folders = self._children([f"{CURATOR_ROOT}/{n}" for n in names])
        return {n for n in names if folders[f"{CURATOR_ROOT}/{n}"]}

    def _entries(self, name: str) -> list[tuple[str, Instance]]:
        """(id, instance) of every readable entry; one that vanished meanwhile is skipped."""
        folder = self._entries_folder(name)
        ids = self._children([folder])[folder]
        found = self._batch("get", [f"{folder}/{i}" for i in ids], ok=(NoNodeError,))
        entries = []
        for node_id, answer in zip(ids, found, strict=True):
            if answer is not None and (instance := _parse_entry(f"{folder}/{node_id}", answer[0])):
                entries.append((node_id, instance))
        return entries

    def _register_entry(self, name: str, instance: Instance) -> None:
        """Create or overwrite our entry for that endpoint; unchanged content is not rewritten."""
        path = self._node_path(name, instance)
        current = self._one("get", path, ok=(NoNodeError,))
        if current is not None and _parse_entry(path, current[0]) == instance:
            return
        data = curator.to_json(name, path.rpartition("/")[2], instance)
        if not self._create(path, data):
            self._one("set", path, value=data)


# --- helpers ---------------------------------------------------------------------------


def kazoo_error(message: str, error: Exception) -> RegistryError:
    """A kazoo failure as its kind: no answer, or the server's error code (a ZookeeperError
    that is not about the connection: NoAuth, NoNode, BadVersion...) or a failed SASL login."""
    if isinstance(error, NO_ANSWER):
        return Unreachable(message)
    if isinstance(error, (ZookeeperError, SASLException)):
        return Refused(message)
    return RegistryError(message)


def _nameable(interface: str) -> bool:
    # A ':' would make providers:<interface>:<version>:<group> ambiguous; '/' is a path.
    return bool(interface) and not any(c in interface for c in ":/")


def _dubbo_key(name: str) -> tuple[str, str, str]:
    try:
        return dubbo_url.parse_service_name(name)
    except ValueError as error:
        raise RegistryError(str(error)) from None


def _parse_providers(nodes: list[str]) -> list[tuple[str, dubbo_url.DubboUrl]]:
    parsed = []
    for node in nodes:
        try:
            parsed.append((node, dubbo_url.decode_node(node)))
        except ValueError as error:  # one odd node must not hide the others
            log.warning("skipping Dubbo provider node %r: %s", node, error)
    return parsed


def _consumes(node: str, version: str, group: str) -> bool:
    try:
        return dubbo_url.consumes(dubbo_url.decode_consumer(node), version, group)
    except ValueError as error:  # one odd node must not hide the others
        log.warning("skipping Dubbo consumer node %r: %s", node, error)
        return False


def _parse_entry(path: str, data: bytes) -> Instance | None:
    try:
        return curator.from_json(data)
    except ValueError as error:
        log.warning("skipping Curator entry %s: %s", path, error)
        return None
