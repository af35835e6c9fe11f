"""Eureka, through its REST API in JSON (Netflix eureka-core, as served by Spring Cloud).

Connect keys: `host:port` (path `/eureka` assumed) or a full URL such as
`http://user:pass@host:8761/eureka`; the cluster's userName/password, when set, are sent as
HTTP basic auth. Library: requests, through the shared HttpClient. Every request sends
`Accept: application/json` (without it the server answers XML).

Versions: checked on eureka-core 2.0 (Spring Cloud Netflix 4.x) and 1.10 (3.1.x; the test bed's
`eureka1` matrix flavour). Status codes, JSON shapes (lists even for one element, `@class` on
empty metadata), the delta and lease expiry are the same on both; only a 404's body differs
(2.x: Spring's JSON error, 1.x: empty), and we read only its status.

Reads list only instances whose status is UP: DOWN, OUT_OF_SERVICE, STARTING and UNKNOWN are
not live. An app that does not exist (HTTP 404) is an empty list. Eureka has no weight,
cluster or namespace: reads give weight 1, cluster DEFAULT, namespace "".

Our registrations: instanceId `{ip}:{app-lower}:{port}` (so any worker renews the same one),
hostName = ip, vipAddress = app in lower case, metadata kept as is (keys such as
`sync.instance.tag` round-trip in JSON). The server upper-cases app names.

Leases: eureka-core's renew sets the expiry one lease *beyond* now (a long-standing bug kept
for compatibility), so a renewed instance is evicted about 2 x durationInSecs after its last
renewal, one never renewed after durationInSecs. Hence LEASE_SECONDS = 15: what we registered
drains ~30 s after the last msesync node stops beating. A production server also evicts only
every 60 s by default, at most 15 % of its registry per run, and serves reads from a cache
up to 30 s stale; register and deregister are idempotent, so a stale read costs a rewrite.
"""

import logging
from urllib.parse import quote

from syncapp.registries.base import Instance, Refused, Registry, RegistryError, ServiceKey
from syncapp.registries.http import HttpClient
from syncapp.registries.pollfeed import PollingFeed

log = logging.getLogger(__name__)
DELTA_POLL = 1.0  # seconds between reads of /apps/delta (it keeps ~3 min of changes)
DEFAULT_PORT = 8761
RENEWAL_SECONDS = 5  # what we tell the server; our heartbeat job sets the real pace
LEASE_SECONDS = 15  # see the module docstring: evicted ~2 x this after the last renewal
LIVE_STATUS = "UP"
DATA_CENTER = {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"}
# Jackson's type tag on a map (e.g. {"@class": "java.util.Collections$EmptyMap"}): not metadata.
TYPE_TAG = "@class"


def instance_id(app: str, instance: Instance) -> str:
    """The instanceId of a registration we make: the same from every worker."""
    return f"{instance.ip}:{app.lower()}:{instance.port}"


def as_list(value) -> list:
    """Old servers (XStream JSON) give a single element as an object, not a list of one."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _enabled(port: dict) -> bool:
    return str(port.get("@enabled", "false")).lower() == "true"


def port_of(info: dict) -> int:
    """The plain port, or the secure one when only that is enabled."""
    plain, secure = info.get("port") or {}, info.get("securePort") or {}
    if not _enabled(plain) and _enabled(secure):
        return int(secure["$"])
    return int(plain["$"])


def to_instance(info: dict) -> Instance:
    metadata = {k: v for k, v in (info.get("metadata") or {}).items() if k != TYPE_TAG}
    return Instance(ip=info["ipAddr"], port=port_of(info), metadata=metadata)


class EurekaRegistry(Registry):
    kind = "EUREKA"
    syncs_health = False  # reads list only UP instances
    upper_cases_names = True
    has_push_feed = True  # /apps/delta

    def __init__(self, config):
        super().__init__(config)
        self.http = HttpClient(config.connect_keys, "/eureka")
        self.http.session.headers["Accept"] = "application/json"
        self._delta_seen: dict = {}
        self._feed: PollingFeed | None = None
        if config.username:
            self.http.session.auth = (config.username, config.password)

    def _call(self, method: str, path: str, ok: tuple[int, ...], **kwargs):
        resp = self.http.request(method, path, **kwargs)
        if resp.status_code not in ok:  # the server answered no: its reason goes with it
            raise Refused(f"Eureka {method} {path}: HTTP {resp.status_code} {resp.text[:200]}")
        return resp

    def _json(self, path: str, missing_ok: bool = False) -> dict | None:
        """The decoded body of a GET; None for a 404 when `missing_ok`."""
        resp = self._call("GET", path, (200, 404) if missing_ok else (200,))
        if resp.status_code == 404:
            return None
        try:
            return resp.json()
        except ValueError:
            raise RegistryError(f"Eureka GET {path}: not JSON: {resp.text[:200]!r}") from None

    @staticmethod
    def _app_path(name: str) -> str:
        return f"/apps/{quote(name.upper(), safe='')}"

    def _instance_path(self, service: ServiceKey, instance: Instance) -> str:
        return (
            f"{self._app_path(service.name)}/{quote(instance_id(service.name, instance), safe='')}"
        )

    # --- change feed: /apps/delta, polled every second ----------------------------------

    def watch(self, on_change) -> bool:
        self._feed = PollingFeed(self.config.name, self.delta_changes, on_change, DELTA_POLL)
        self._feed.start()
        return True

    def feed_alive(self) -> bool:
        # Eureka keeps ~3 minutes of changes in its delta, polled every second: complete
        # while the polls succeed (after a failure the feed reports "everything").
        return self._feed is not None and self._feed.live

    def feed_failure(self) -> str:
        return self._feed.failure if self._feed else ""

    def delta_changes(self) -> set[ServiceKey]:
        """Apps whose entries in the delta differ from the last poll's."""
        body = self._json("/apps/delta")
        try:
            current = {
                (app["name"], info.get("instanceId") or info.get("hostName")): (
                    info.get("actionType"),
                    info.get("lastUpdatedTimestamp"),
                    info.get("status"),
                )
                for app in as_list(body["applications"].get("application"))
                for info in as_list(app.get("instance"))
            }
        except (KeyError, TypeError, AttributeError) as exc:
            raise RegistryError(f"Eureka GET /apps/delta: unexpected answer ({exc!r})") from None
        seen, self._delta_seen = self._delta_seen, current
        return {
            ServiceKey("", "", app)
            for (app, iid), sig in current.items()
            if seen.get((app, iid)) != sig
        }

    # --- reads --------------------------------------------------------------------

    def list_services(self, namespace: str) -> list[ServiceKey]:
        body = self._json("/apps")
        try:
            apps = as_list(body["applications"].get("application"))
            return sorted(ServiceKey("", "", a["name"]) for a in apps if as_list(a.get("instance")))
        except (KeyError, TypeError, AttributeError) as exc:
            raise RegistryError(f"Eureka GET /apps: unexpected answer ({exc!r})") from None

    def list_instances(self, service: ServiceKey) -> list[Instance]:
        body = self._json(self._app_path(service.name), missing_ok=True)
        if body is None:  # Eureka answers 404 for an app it does not know (or no longer has)
            return []
        try:
            infos = as_list(body["application"].get("instance"))
            return [to_instance(i) for i in infos if i.get("status") == LIVE_STATUS]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RegistryError(f"Eureka {service}: unexpected answer ({exc!r})") from None

    # --- writes -------------------------------------------------------------------

    @staticmethod
    def _registration(app: str, instance: Instance) -> dict:
        return {
            "instance": {
                "instanceId": instance_id(app, instance),
                "app": app.upper(),
                "hostName": instance.ip,
                "ipAddr": instance.ip,
                "vipAddress": app.lower(),
                "status": LIVE_STATUS,
                "port": {"$": instance.port, "@enabled": "true"},
                "securePort": {"$": 443, "@enabled": "false"},
                "dataCenterInfo": DATA_CENTER,
                "leaseInfo": {
                    "renewalIntervalInSecs": RENEWAL_SECONDS,
                    "durationInSecs": LEASE_SECONDS,
                },
                "metadata": dict(instance.metadata),
            }
        }

    def stored_form(self, service: ServiceKey, instance: Instance) -> Instance:
        # Eureka keeps no weight, cluster or health flag of ours: only address and metadata.
        return Instance(ip=instance.ip, port=instance.port, metadata=instance.metadata)

    def register(self, service: ServiceKey, instance: Instance) -> None:
        # No lastDirtyTimestamp is sent: the server stamps the registration as it decodes it,
        # so a re-registration always counts as newer and replaces metadata (no clock skew).
        body = self._registration(service.name, instance)
        self._call("POST", self._app_path(service.name), (200, 204), json=body)

    def deregister(self, service: ServiceKey, instance: Instance) -> None:
        # 404: already gone (evicted, or cancelled by another worker): the goal is reached.
        self._call("DELETE", self._instance_path(service, instance), (200, 404))

    def heartbeat(self, service: ServiceKey, instance: Instance) -> None:
        # Without lastDirtyTimestamp the server never asks for a re-registration because our
        # copy looks newer than its own (which a client clock ahead of the server's would cause).
        path = self._instance_path(service, instance)
        resp = self._call("PUT", path, (200, 404), params={"status": LIVE_STATUS})
        if resp.status_code == 404:  # evicted, cancelled, or never registered
            log.debug("%s: renewal of %s refused, registering again", self.config.name, path)
            self.register(service, instance)

    def close(self) -> None:
        if self._feed:
            self._feed.stop()
        self.http.close()
