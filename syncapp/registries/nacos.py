"""Nacos, through its v1 HTTP client API (served by Nacos 1.x, 2.x, 3.x and r-nacos).

Connect keys: `host:port` (path `/nacos` assumed) or a full URL. Namespaces come from
the cluster's `namespace` list (default `public`). Library: requests (one pooled session).

Why HTTP and not gRPC: an ephemeral HTTP instance lives as long as *anyone* sends its
beat, so any worker on any host can keep it alive and a dead node loses nothing; a gRPC
instance lives exactly as long as one connection. See docs/nacos-client-path.md.

Limits: ak/sk (Alibaba Cloud signing) is not implemented; username/password login is.
"""

import json
import logging
import time

from syncapp.registries.base import (
    DEFAULT_GROUP,
    Instance,
    Registry,
    RegistryError,
    ServiceKey,
)
from syncapp.registries.http import HttpClient

log = logging.getLogger(__name__)
DEFAULT_PORT = 8848
PAGE_SIZE = 500
CODE_UNKNOWN_INSTANCE = 20404
NOT_SERVED = (404, 410)  # API absent or switched off on this server version
TOKEN_MARGIN = 60  # seconds before expiry at which a login token is refreshed
LOGIN_RETRY = TOKEN_MARGIN + 60  # a refused login is tried again a minute later


class NotServed(RegistryError):
    """This server does not serve that API: try the other flavour."""


def _token_of(resp) -> tuple[str, float]:
    """(token, seconds to keep it) from a login answer; ("", retry delay) when refused."""
    try:
        body = resp.json() if resp.status_code == 200 else {}
        return body["accessToken"], float(body.get("tokenTtl", 18000))
    except (ValueError, KeyError, TypeError):
        return "", LOGIN_RETRY


class NacosRegistry(Registry):
    kind = "NACOS"
    # A beat marks an ephemeral instance healthy again, so a copy cannot stay unhealthy:
    # only live instances are copied to Nacos, and reads are the client view (enabled only).
    syncs_health = False

    def __init__(self, config):
        super().__init__(config)
        self.http = HttpClient(config.connect_keys, "/nacos")
        self._token, self._token_expiry, self._login_error = "", 0.0, ""
        self._known_namespaces: set[str] = set()
        self._catalog_gone = False

    # --- plumbing ---------------------------------------------------------------

    def _auth(self) -> dict:
        if not self.config.username:
            return {}
        if time.time() > self._token_expiry - TOKEN_MARGIN:
            self._login()
        return {"accessToken": self._token} if self._token else {}

    def _login(self) -> None:
        """Get a token; a refused login is remembered, not raised.

        A server with auth off may refuse the login itself (Nacos 3.1's v1 compatibility layer
        answers 500) yet serve every call, so the calls decide: one that needs auth answers
        401/403 and fails, with the login's outcome in its message. The password travels in
        the POST body only, never in a URL or a message.
        """
        resp = self.http.request(
            "POST",
            "/v1/auth/login",
            data={"username": self.config.username, "password": self.config.password},
        )
        token, ttl = _token_of(resp)
        self._token = token
        self._login_error = "" if token else f"login failed: HTTP {resp.status_code}"
        if not token:
            log.info("%s: Nacos login refused (HTTP %s)", self.config.name, resp.status_code)
        self._token_expiry = time.time() + ttl

    def _call(self, method: str, path: str, params: dict) -> str:
        resp = self.http.request(method, path, params={**params, **self._auth()})
        if resp.status_code in NOT_SERVED:
            raise NotServed(f"Nacos {method} {path}: HTTP {resp.status_code}")
        if resp.status_code in (401, 403) and self._login_error:
            raise RegistryError(
                f"Nacos {method} {path}: HTTP {resp.status_code} ({self._login_error})"
            )
        if resp.status_code != 200:
            raise RegistryError(f"Nacos {method} {path}: HTTP {resp.status_code} {resp.text[:200]}")
        return resp.text

    def _json(self, method: str, path: str, params: dict):
        text = self._call(method, path, params)
        try:
            return json.loads(text)
        except ValueError:
            raise RegistryError(f"Nacos {path}: not JSON: {text[:200]!r}") from None

    # --- namespaces ---------------------------------------------------------------

    def namespaces(self) -> list[str]:
        return list(self.config.namespaces) or ["public"]

    def existing_namespaces(self) -> set[str]:
        try:
            listed = self._json("GET", "/v1/console/namespaces", {}).get("data") or []
        except NotServed:  # Nacos 3.x: the v1 console API lives on the console port only
            listed = self._json("GET", "/v3/admin/core/namespace/list", {}).get("data") or []
        return {n.get("namespace") for n in listed}

    def ensure_namespace(self, namespace: str) -> None:
        if namespace in ("", "public") or namespace in self._known_namespaces:
            return
        self._known_namespaces.update(self.existing_namespaces())
        if namespace not in self._known_namespaces:
            log.info("%s: creating namespace %s", self.config.name, namespace)
            self._create_namespace(namespace)
            self._known_namespaces.add(namespace)

    def _create_namespace(self, namespace: str) -> None:
        try:
            self._call(
                "POST",
                "/v1/console/namespaces",
                {"customNamespaceId": namespace, "namespaceName": namespace},
            )
        except NotServed:
            self._call(
                "POST",
                "/v3/admin/core/namespace",
                {"namespaceId": namespace, "namespaceName": namespace},
            )

    # --- services -----------------------------------------------------------------

    def list_services(self, namespace: str) -> list[ServiceKey]:
        """Every service of every group, page by page; any failed page fails the list."""
        found, page = [], 1
        while True:
            total, batch = self._service_page(namespace, page)
            found += [
                ServiceKey(namespace, s.get("groupName") or DEFAULT_GROUP, s["name"]) for s in batch
            ]
            if not batch or len(found) >= total:
                return found
            page += 1

    def _service_page(self, namespace: str, page: int) -> tuple[int, list[dict]]:
        """(total, services of one page) from the catalog API, or Nacos 3's admin API."""
        params = {
            "namespaceId": namespace,
            "pageNo": page,
            "pageSize": PAGE_SIZE,
            "withInstances": "false",
        }
        if not self._catalog_gone:
            try:
                body = self._json("GET", "/v1/ns/catalog/services", params)
                return int(body.get("count", 0)), body.get("serviceList") or []
            except NotServed:  # Nacos 3.x with the v1 compatibility switches off
                self._catalog_gone = True
        data = self._json("GET", "/v3/admin/ns/service/list", params).get("data") or {}
        return int(data.get("totalCount", 0)), data.get("pageItems") or []

    def list_instances(self, service: ServiceKey) -> list[Instance]:
        body = self._json(
            "GET",
            "/v1/ns/instance/list",
            {
                **self._service_params(service),
                "healthyOnly": "false",
            },
        )
        return [self._instance(host) for host in body.get("hosts") or []]

    @staticmethod
    def _instance(host: dict) -> Instance:
        return Instance(
            ip=host["ip"],
            port=host["port"],
            weight=host.get("weight", 1.0),
            healthy=host.get("healthy", True),
            enabled=host.get("enabled", True),
            cluster=host.get("clusterName") or "DEFAULT",
            metadata=host.get("metadata") or {},
        )

    @staticmethod
    def _service_params(service: ServiceKey) -> dict:
        return {
            "serviceName": service.name,
            "groupName": service.group or DEFAULT_GROUP,
            "namespaceId": service.namespace or "public",
        }

    # --- writes -------------------------------------------------------------------

    def _instance_params(self, service: ServiceKey, instance: Instance) -> dict:
        return {
            **self._service_params(service),
            "ip": instance.ip,
            "port": instance.port,
            "weight": instance.weight,
            "healthy": str(instance.healthy).lower(),
            "enabled": str(instance.enabled).lower(),
            "clusterName": instance.cluster,
            "ephemeral": "true",
            "metadata": json.dumps(dict(instance.metadata)),
        }

    def register(self, service: ServiceKey, instance: Instance) -> None:
        self._call("POST", "/v1/ns/instance", self._instance_params(service, instance))

    def deregister(self, service: ServiceKey, instance: Instance) -> None:
        params = self._instance_params(service, instance)
        self._call("DELETE", "/v1/ns/instance", params)

    def heartbeat(self, service: ServiceKey, instance: Instance) -> None:
        beat = {
            "serviceName": f"{service.group or DEFAULT_GROUP}@@{service.name}",
            "ip": instance.ip,
            "port": instance.port,
            "cluster": instance.cluster,
            "weight": instance.weight,
            "metadata": dict(instance.metadata),
            "scheduled": False,
        }
        params = {
            **self._service_params(service),
            "beat": json.dumps(beat),
            "ip": instance.ip,
            "port": instance.port,
            "clusterName": instance.cluster,
        }
        body = self._json("PUT", "/v1/ns/instance/beat", params)
        if body.get("code") == CODE_UNKNOWN_INSTANCE:
            self.register(service, instance)

    def close(self) -> None:
        self.http.close()
