"""Nacos: 2.x/3.x and r-nacos over the gRPC client protocol, 1.x over v1 HTTP.

Connect keys: `host:port` (path `/nacos` assumed) or a full URL; gRPC is on HTTP port + 1000.
Namespaces come from the cluster's `namespace` list (default `public`).

The protocol is chosen per cluster on first use: gRPC when the server answers a gRPC server
check, else v1 HTTP (Nacos 1.x). Admin calls (namespaces, service lists of every group) go
over HTTP, to the newest API the server serves (v3 admin, else v1). See docs/design.md,
"Nacos over gRPC", for why copies are held by the keepers' connections.

Library: our own thin synchronous client on grpcio (grpc_conn.py, wire.py), not the official
nacos-sdk-python 3.x, whose limits (asyncio only, one namespace per client, v1-only login that
logs the token, empty-push protection, r-nacos read failures) are listed in PROTOCOLS.md.
"""

import logging
import threading

from syncapp.registries.base import (
    ConfigItem,
    ConfigKey,
    Instance,
    Registry,
    RegistryError,
    ServiceKey,
)
from syncapp.registries.nacos.config_grpc import ConfigWatcher, GrpcConfigs
from syncapp.registries.nacos.configs import HttpConfigs
from syncapp.registries.nacos.grpc_conn import CLIENT_VERSION as OUR_AGENT
from syncapp.registries.nacos.grpc_conn import GrpcConnection, NacosGrpcError
from syncapp.registries.nacos.http_api import NacosHttp
from syncapp.registries.nacos.naming_grpc import GrpcNaming
from syncapp.registries.nacos.naming_http import HttpNaming
from syncapp.registries.nacos.signing import naming_signature
from syncapp.registries.nacos.watcher import ServiceWatcher

log = logging.getLogger(__name__)
DEFAULT_PORT = 8848
PROTOCOLS = ("grpc", "http")


def is_additive(state: dict) -> bool:
    """r-nacos adds batches to what a connection holds; Nacos replaces them."""
    return "rnacos" in str(state).lower().replace("-", "") or not state.get("version")


class NacosRegistry(Registry):
    kind = "NACOS"
    # Copies must be live: a gRPC or beaten instance is healthy while its holder lives, so
    # only live instances are copied, and reads are the client view (enabled only).
    syncs_health = False
    has_namespaces = True
    has_push_feed = True

    def __init__(self, config, protocol: str = ""):
        super().__init__(config)
        if protocol and protocol not in PROTOCOLS:
            raise ValueError(f"unknown Nacos protocol {protocol!r}; known: {PROTOCOLS}")
        self.http = NacosHttp(config)
        self._forced = protocol
        self._naming: GrpcNaming | HttpNaming | None = None
        self._lock = threading.Lock()
        self._known_namespaces: set[str] = set()
        self._watcher: ServiceWatcher | None = None
        self._configs: HttpConfigs | None = None
        self._configs_lock = threading.Lock()  # not _lock: building it chooses the naming
        self._config_grpc: GrpcConfigs | None = None
        self._config_watcher: ConfigWatcher | None = None

    # --- protocol -----------------------------------------------------------------

    def naming(self) -> GrpcNaming | HttpNaming:
        """The naming client, choosing the protocol on first use (raises if unreachable)."""
        if self._naming is None:
            with self._lock:
                if self._naming is None:
                    self._naming = self._choose()
        return self._naming

    def _choose(self) -> GrpcNaming | HttpNaming:
        address = self.http.http.bases[0].split("://", 1)[1].split("/", 1)[0]
        if self._forced == "http":
            return HttpNaming(self.http)
        if self._forced == "grpc" or self._has_grpc(address):
            additive = is_additive(self.http.server_state())
            log.info("%s: Nacos over gRPC (additive batches: %s)", self.config.name, additive)
            return GrpcNaming(
                address, self._grpc_headers, additive, self.config.name, self._update_over_http
            )
        self.http.call("GET", "/v1/ns/service/list", {"pageNo": 1, "pageSize": 1})
        log.info("%s: Nacos without gRPC: v1 HTTP", self.config.name)
        return HttpNaming(self.http)

    def _update_over_http(self, service: ServiceKey, instance: Instance) -> None:
        """r-nacos: change a registered instance's metadata (gRPC cannot, there)."""
        self.http.call("PUT", "/v1/ns/instance", data=HttpNaming(self.http).form(service, instance))

    def _has_grpc(self, address: str) -> bool:
        probe = GrpcConnection(address, name=f"{self.config.name}-probe")
        try:
            probe.link()
            return True
        except NacosGrpcError:
            return False
        finally:
            # Closed aside: grpc's channel.close() waits ~0.2 s for its own poller, and the
            # first sync of every process waits for this choice.
            threading.Thread(target=probe.close, name="nacos-probe-close", daemon=True).start()

    def _grpc_headers(self, body: dict) -> dict:
        headers = {}
        if token := self.http.token():
            headers["accessToken"] = token
        if self.config.ak and self.config.sk:
            service = body.get("serviceName") or ""
            grouped = f"{body.get('groupName')}@@{service}" if service else ""
            headers.update(naming_signature(self.config.ak, self.config.sk, grouped))
        return headers

    @property
    def protocol(self) -> str:
        return self.naming().protocol

    @property
    def holds_by_connection(self) -> bool:
        """True when copies live as long as the connection that wrote them (gRPC)."""
        return self.naming().holds_by_connection

    def count_subscribers(self, service: ServiceKey) -> int | None:
        """The service's subscribers but msesync's own (its gRPC client says CLIENT_VERSION
        as its agent); None where the server lists none (no subscriber API), and on r-nacos,
        whose v1 list stays empty while gRPC clients subscribe (measured on 0.8): a 0 there
        would be a guess. r-nacos is known by the gRPC naming chosen for it (additive
        batches: is_additive, which takes a server reporting no version for r-nacos too)."""
        naming = self.naming()
        if isinstance(naming, GrpcNaming) and naming.additive:
            return None
        listed = self.http.subscribers(service)
        if listed is None:
            return None
        return sum(1 for s in listed if not str(s.get("agent", "")).startswith(OUR_AGENT))

    # --- namespaces and services ------------------------------------------------------

    def namespaces(self) -> list[str]:
        return list(self.config.namespaces) or ["public"]

    def ensure_namespace(self, namespace: str) -> None:
        if namespace in ("", "public") or namespace in self._known_namespaces:
            return
        self._known_namespaces.update(self.http.existing_namespaces())
        if namespace not in self._known_namespaces:
            log.info("%s: creating namespace %s", self.config.name, namespace)
            self.http.create_namespace(namespace)
            self._known_namespaces.add(namespace)

    def list_services(self, namespace: str) -> list[ServiceKey]:
        return self.http.list_services(namespace)

    # --- instances ----------------------------------------------------------------------

    def list_instances(self, service: ServiceKey) -> list[Instance]:
        return self.naming().list_instances(service)

    def register(self, service: ServiceKey, instance: Instance) -> None:
        self.naming().register(service, instance)

    def deregister(self, service: ServiceKey, instance: Instance) -> None:
        self.naming().deregister(service, instance)

    def hold(self, service: ServiceKey, instances: list[Instance], force: bool = False) -> None:
        self.naming().hold(service, instances, force)

    @property
    def pipelines_holds(self) -> bool:
        """gRPC sets go many at once on a connection; r-nacos's take several requests each."""
        naming = self.naming()
        return isinstance(naming, GrpcNaming) and not naming.additive

    def hold_many(self, groups, force: bool = False) -> dict:
        return self.naming().hold_many(groups, force)

    def heartbeat(self, service: ServiceKey, instance: Instance) -> None:
        self.naming().heartbeat(service, instance)

    def held_services(self) -> list[ServiceKey]:
        """Services whose copies this adapter's connections hold (gRPC only)."""
        naming = self._naming
        return naming.held_services() if isinstance(naming, GrpcNaming) else []

    def held(self, service: ServiceKey) -> list[Instance]:
        naming = self._naming
        return naming.held(service) if isinstance(naming, GrpcNaming) else []

    def holding_connected(self) -> bool:
        naming = self._naming
        return not isinstance(naming, GrpcNaming) or naming.connected

    # --- push feed ----------------------------------------------------------------------

    def watch(self, on_change) -> bool:
        naming = self.naming()
        if not isinstance(naming, GrpcNaming):
            return False  # Nacos 1.x: the scan job polls it
        naming.on_change = on_change
        self._watcher = ServiceWatcher(self, naming, on_change)
        self._watcher.start()
        return True

    def feed_alive(self) -> bool:
        # Pushes for every subscribed service, new and gone services from a listing every
        # 5 s; a reconnect (pushes may be lost) reports "everything".
        watcher, naming = self._watcher, self._naming
        return watcher is not None and watcher.live and naming is not None and naming.connected

    def feed_failure(self) -> str:
        watchers = (self._watcher, self._config_watcher)
        return next((w.failure for w in watchers if w is not None and w.failure), "")

    # --- configuration documents (configs.py, config_grpc.py) ----------------------------

    has_config_items = True

    def configs(self) -> HttpConfigs:
        """The config client; gRPC beside it where the naming side chose gRPC."""
        if self._configs is None:
            with self._configs_lock:
                if self._configs is None:
                    self._configs = self._config_client()
        return self._configs

    def _config_client(self) -> HttpConfigs:
        naming = self.naming()
        if isinstance(naming, GrpcNaming):
            self._config_grpc = GrpcConfigs(naming.address, self._grpc_headers, self.config.name)
        # r-nacos (no server state) answers a v1 read with the bare content: read it over gRPC
        bare = not self.http.server_state().get("version")
        query = self._config_grpc.query if self._config_grpc else None
        return HttpConfigs(self.http, query, bare_reads=bare)

    def list_config_items(self, namespace: str) -> dict[ConfigKey, str]:
        return self.configs().list(namespace)

    def read_config_item(self, key: ConfigKey) -> ConfigItem | None:
        return self.configs().read(key)

    def write_config_item(self, item: ConfigItem, replaces_md5: str = "") -> None:
        self.configs().write(item, replaces_md5)

    def delete_config_item(self, key: ConfigKey) -> None:
        self.configs().delete(key)

    def watch_configs(self, root: str, on_change) -> bool:
        """Every config of the cluster's namespaces (`root` is ZooKeeper's; unused here):
        on_change(key) for one config, on_change(None) after a reconnect."""
        self.configs()
        self._config_watcher = ConfigWatcher(self, self._config_grpc, on_change)
        self._config_watcher.start()
        return True

    def close(self) -> None:
        if self._config_watcher is not None:
            self._config_watcher.stop()
        if self._config_grpc is not None:
            self._config_grpc.close()
        if self._watcher is not None:
            self._watcher.stop()
        if self._naming is not None:
            self._naming.close()
        self.http.close()


__all__ = ["NacosRegistry", "RegistryError"]
