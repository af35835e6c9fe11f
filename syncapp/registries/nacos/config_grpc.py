"""Nacos configs over gRPC (2.x/3.x, r-nacos): one config read, and the change feed.

The feed: a thread lists every config of the cluster's namespaces (MD5s only) every few
seconds, reports what appeared, changed or left since the last listing, and listens to each
config it sees (ConfigBatchListenRequest with the MD5 it listed). The server then pushes a
ConfigChangeNotifyRequest on the connection's stream when a listened config changes (or is
deleted), which is reported at once. Configs created later are found by the next listing:
they cannot be listened to before their name is known. Servers without gRPC (Nacos 1.x) get
the listing alone: a change arrives within one listing interval.

On reconnect every listened config is listened again and "re-read everything" is reported.
"""

import logging
import threading

from syncapp.registries.base import ConfigItem, ConfigKey, Refused, RegistryError, error_text
from syncapp.registries.nacos.grpc_conn import GrpcConnection

log = logging.getLogger(__name__)
RELIST_EVERY = 5.0
LISTEN_BATCH = 500  # listen contexts per request
NOT_FOUND = 300  # ConfigQueryResponse.CONFIG_NOT_FOUND


def key_of(body: dict) -> ConfigKey:
    """The config a ConfigChangeNotifyRequest names (the public namespace as "public")."""
    return ConfigKey(body.get("tenant") or "public", body.get("group") or "", body["dataId"])


class GrpcConfigs:
    """One gRPC connection for config reads and listening."""

    def __init__(self, address: str, headers, name: str):
        self.on_change = None  # ConfigKey | None -> None, set by the watcher
        self.listened: dict[ConfigKey, str] = {}
        self.conn = GrpcConnection(
            address,
            headers=headers,
            on_push=self._pushed,
            on_reconnect=self._relisten,
            name=f"{name}/configs",
            module="config",
        )

    def _body(self, key: ConfigKey, **extra) -> dict:
        return {
            "module": "config",
            "dataId": key.data_id,
            "group": key.group,
            "tenant": key.namespace or "public",
            **extra,
        }

    def query(self, key: ConfigKey) -> ConfigItem | None:
        answer = self.conn.ask("ConfigQueryRequest", self._body(key, tag=""))
        if answer.get("errorCode") == NOT_FOUND:
            return None
        if answer.get("resultCode", 200) != 200:
            raise Refused(f"Nacos ConfigQueryRequest {key}: {answer.get('message')}")
        return ConfigItem(key, answer.get("content") or "", type=answer.get("contentType") or "")

    def listen(self, configs: dict[ConfigKey, str]) -> None:
        """Listen to these configs, each from the MD5 given (the server answers at once
        with those whose MD5 already differs: they are reported as changed)."""
        items = sorted(configs.items())
        for start in range(0, len(items), LISTEN_BATCH):
            contexts = [
                {"dataId": k.data_id, "group": k.group, "tenant": k.namespace or "public", "md5": m}
                for k, m in items[start : start + LISTEN_BATCH]
            ]
            body = {"module": "config", "listen": True, "configListenContexts": contexts}
            answer = self.conn.request("ConfigBatchListenRequest", body)
            self.listened.update(items[start : start + LISTEN_BATCH])
            for changed in answer.get("changedConfigs") or []:
                self._report(key_of(changed))

    def _pushed(self, body: dict) -> None:
        if "dataId" in body:
            self._report(key_of(body))

    def _report(self, key: ConfigKey | None) -> None:
        if self.on_change is not None:
            self.on_change(key)

    def _relisten(self) -> None:
        self.listen(dict(self.listened))
        self._report(None)

    def close(self) -> None:
        self.conn.close()


class ConfigWatcher:
    """Lists every RELIST_EVERY seconds; reports changes; listens where gRPC is served."""

    def __init__(self, registry, grpc: GrpcConfigs | None, on_change):
        self.registry = registry
        self.grpc = grpc
        self.on_change = on_change
        self.known: dict[ConfigKey, str] | None = None  # None until a complete listing
        self.failure = ""  # why the thread ended, when an unexpected error ended it
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"{registry.config.name}-config-watch", daemon=True
        )
        if grpc is not None:
            grpc.on_change = on_change

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except RegistryError as exc:  # unreachable: the periodic pass reports it
                log.info("%s: cannot list configs to watch: %s", self.registry.config.name, exc)
            except Exception as exc:  # a bug: the feed's owner starts a new watch (feeds.py)
                self.failure = error_text(exc)
                log.exception("%s: config watch step failed", self.registry.config.name)
                return
            self._stop.wait(RELIST_EVERY)

    def step(self) -> None:
        listed: dict[ConfigKey, str] = {}
        for namespace in self.registry.namespaces():
            listed.update(self.registry.list_config_items(namespace))
        before = self.known
        fresh = {k: m for k, m in listed.items() if before is None or before.get(k) != m}
        if self.grpc is not None and fresh:
            self.grpc.listen(fresh)
        self.known = listed
        if before is None:
            return
        for key in sorted(fresh.keys() | (before.keys() - listed.keys())):
            self.on_change(key)
