"""Consul, through an agent's HTTP API with py-consul (`import consul`).

Connect keys: `host:port` (port 8500 when absent) or `http(s)://host:port`, each an agent.
One client per key; the first that answers stays in use and the next is tried only on a
connection error, because a registration lives on the agent that took it (a heartbeat sent
to another agent would not find it, and registers a second copy there, while the first one
drains through its TTL). ACL token: the cluster's `password`, when set (userName is unused);
CONSUL_HTTP_TOKEN is ignored, since one process talks to many clusters.

Reads: catalog services (minus `consul` itself), and for a service the entries whose checks
all pass (`/v1/health/service/<name>?passing=1`): address = Service.Address or else the
node's, weight = Weights.Passing, metadata = decoded Meta plus the tags (below).

Meta keys: Consul accepts only [A-Za-z0-9_-], at most 128 characters, not starting with
`consul-` (verified on 1.8.7 and 1.16.3, which answer 400 otherwise). A key that fits is stored
as is. Any other key is stored as `msesync-` + the key with every character other than
[A-Za-z0-9-] written as `_` and two upper-case hex digits per UTF-8 byte, so
`sync.instance.tag` is stored as `msesync-sync_2Einstance_2Etag`. Keys that start with
`msesync-` are always encoded, so decoding (of keys with that prefix only) is exact.
Limits Consul puts on what we can store: 64 keys, values of 512 bytes (UTF-8), encoded keys of
128; beyond them a registration fails with Refused (the agent's 400 and its reason).

Tags: carried in metadata under `consul.tags` as a JSON list (tags may hold commas) when a
service has any, and turned back into Tags when we register.

Our registrations: service ID `<name>:<ip>:<port>`; a TTL check (TTL_SECONDS) that starts
passing (a TTL check starts critical otherwise, and Consul 1.8 resets it to critical on every
re-registration) and is deregistered by Consul one minute after it turns critical (the
shortest it accepts: it raises lower values to 1m, and reaps every 30 s, so 60-90 s).
Weights are integers >= 1 in Consul: other weights are rounded.
"""

import json
import logging
import re
from urllib.parse import unquote_to_bytes, urlsplit

import consul
import requests

from syncapp.registries.base import (
    Instance,
    Refused,
    Registry,
    RegistryError,
    ServiceKey,
    Unreachable,
    brief,
)
from syncapp.registries.pollfeed import PollingFeed

log = logging.getLogger(__name__)
DEFAULT_PORT = 8500
TIMEOUT = 10.0  # seconds; py-consul's default of 30 would stall a failover
TTL_SECONDS = 15  # three missed heartbeats at the default 5 s interval
BLOCK_WAIT = "5s"  # a blocking query returns at the latest after this
DEREGISTER_AFTER = "1m"  # Consul's minimum for DeregisterCriticalServiceAfter
TAGS_KEY = "consul.tags"
ENCODED_PREFIX = "msesync-"
RESERVED_PREFIX = "consul-"
PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
ENCODED_BODY = re.compile(r"(?:[A-Za-z0-9-]|_[0-9A-F]{2})*")
# py-consul raises its base ConsulException both for an HTTP error ("500 <body>") and for an
# answer it could not read ("Failed to decode JSON: ..."): only the first is a refusal.
STATUS_ANSWER = re.compile(r"\d{3} ")


def answer_error(exc: consul.ConsulException) -> RegistryError:
    """What py-consul's exception means: the agent said no (an HTTP error status, with its
    reason), or answered something we cannot use."""
    message = brief(f"Consul: {exc}")
    if type(exc) is not consul.ConsulException or STATUS_ANSWER.match(str(exc)):
        return Refused(message)
    return RegistryError(message)


# --- metadata <-> Meta and Tags ----------------------------------------------------------


def _escape(char: str) -> str:
    if char.isascii() and (char.isalnum() or char == "-"):
        return char
    return "".join(f"_{byte:02X}" for byte in char.encode())


def encode_key(key: str) -> str:
    if PLAIN_KEY.fullmatch(key) and not key.startswith((ENCODED_PREFIX, RESERVED_PREFIX)):
        return key
    return ENCODED_PREFIX + "".join(_escape(c) for c in key)


def decode_key(key: str) -> str:
    """The original key; a key that is not one of our encodings is returned unchanged."""
    body = key.removeprefix(ENCODED_PREFIX)
    if body == key or not ENCODED_BODY.fullmatch(body):
        return key
    try:
        return unquote_to_bytes(body.replace("_", "%")).decode()
    except UnicodeDecodeError:
        return key


def _tags(value: str | None) -> list[str] | None:
    """The tag list a `consul.tags` value holds, or None when it holds none."""
    try:
        tags = json.loads(value) if value is not None else None
    except ValueError:
        return None
    valid = isinstance(tags, list) and all(isinstance(t, str) for t in tags)
    return tags if valid else None


def to_consul(metadata) -> tuple[dict[str, str], list[str]]:
    """(Meta, Tags) to register for an instance's metadata."""
    meta = dict(metadata)
    tags = _tags(meta.get(TAGS_KEY))
    if tags is not None:  # else an odd value travels as a plain Meta entry
        del meta[TAGS_KEY]
    return {encode_key(k): v for k, v in meta.items()}, tags or []


def from_consul(meta: dict | None, tags: list | None) -> dict[str, str]:
    metadata = {decode_key(k): v for k, v in (meta or {}).items()}
    if tags:
        metadata[TAGS_KEY] = json.dumps(tags, ensure_ascii=False, separators=(",", ":"))
    return metadata


def to_instance(entry: dict) -> Instance:
    service, node = entry["Service"], entry.get("Node") or {}
    return Instance(
        ip=service.get("Address") or node["Address"],
        port=service["Port"],
        weight=(service.get("Weights") or {}).get("Passing") or 1,
        metadata=from_consul(service.get("Meta"), service.get("Tags")),
    )


def service_id(name: str, instance: Instance) -> str:
    """The ID of a registration we make: the same from every worker."""
    return f"{name}:{instance.ip}:{instance.port}"


def client_for(connect_key: str, token: str) -> consul.Consul:
    key = connect_key.strip()
    parts = urlsplit(key if "://" in key else f"http://{key}")
    client = consul.Consul(
        host=parts.hostname,
        port=parts.port or DEFAULT_PORT,
        scheme=parts.scheme,
        connections_timeout=TIMEOUT,
    )
    client.token = token or None  # the cluster's token only, never CONSUL_HTTP_TOKEN
    return client


class ConsulRegistry(Registry):
    kind = "CONSUL"
    syncs_health = False  # reads list only passing instances
    has_push_feed = True  # blocking queries

    def __init__(self, config):
        super().__init__(config)
        if not config.connect_keys:
            raise RegistryError("no connectKeyList given")
        self.clients = [client_for(k, config.password) for k in config.connect_keys]
        self._current = 0
        self._check_index = None
        self._check_seen: tuple[dict, set] = ({}, set())
        self._feed: PollingFeed | None = None

    def _call(self, operation):
        """operation(client) on the agent in use, moving to the next one on connection errors."""
        failures = []
        for _ in self.clients:
            index = self._current
            try:
                return operation(self.clients[index])
            except requests.RequestException as exc:
                failures.append(f"{self.config.connect_keys[index]}: {type(exc).__name__}")
                self._current = (index + 1) % len(self.clients)
            except consul.ConsulException as exc:
                raise answer_error(exc) from exc
        raise Unreachable(f"Consul unreachable ({'; '.join(failures)})")

    def _write(self, operation, what: str) -> None:
        # py-consul's write calls answer False, not an error, for an HTTP 404.
        if not self._call(operation):
            raise Refused(f"Consul {what}: not found")

    # --- change feed: a blocking query on every check, plus the catalog's names ----------

    def watch(self, on_change) -> bool:
        self._feed = PollingFeed(self.config.name, self.changes, on_change, pause=0.05)
        self._feed.start()
        return True

    def feed_failure(self) -> str:
        return self._feed.failure if self._feed else ""

    def changes(self) -> set[ServiceKey | None]:
        """Services whose checks or presence changed; waits up to BLOCK_WAIT for a change."""
        index, checks = self._call(
            lambda c: c.health.state("any", index=self._check_index, wait=BLOCK_WAIT)
        )
        self._check_index = index
        statuses: dict[str, set] = {}
        for check in checks or []:
            entry = (check.get("ServiceID"), check.get("CheckID"), check.get("Status"))
            statuses.setdefault(check.get("ServiceName") or "", set()).add(entry)
        names = {k.name for k in self.list_services("")}
        before, self._check_seen = self._check_seen, (statuses, names)
        return _changed(before, (statuses, names))

    # --- reads --------------------------------------------------------------------

    def list_services(self, namespace: str) -> list[ServiceKey]:
        _, services = self._call(lambda c: c.catalog.services())
        if not isinstance(services, dict):
            raise RegistryError(f"Consul catalog: unexpected answer {str(services)[:200]}")
        return [ServiceKey("", "", name) for name in sorted(services) if name != "consul"]

    def list_instances(self, service: ServiceKey) -> list[Instance]:
        # py-consul quotes the path itself (all but '/' and ':', which Consul takes as is).
        _, entries = self._call(lambda c: c.health.service(service.name, passing=True))
        # An unknown service is [] with HTTP 200; py-consul turns a 404 into None.
        if not isinstance(entries, list):
            raise RegistryError(f"Consul health of {service}: unexpected answer {entries!r}")
        try:
            return [to_instance(e) for e in entries]
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistryError(f"Consul health of {service}: bad entry ({exc!r})") from None

    # --- writes -------------------------------------------------------------------

    def stored_form(self, service: ServiceKey, instance: Instance) -> Instance:
        # Consul keeps whole weights >= 1 and no cluster.
        return Instance(
            ip=instance.ip,
            port=instance.port,
            weight=max(1, round(instance.weight)),
            metadata=instance.metadata,
        )

    def register(self, service: ServiceKey, instance: Instance) -> None:
        sid = service_id(service.name, instance)
        meta, tags = to_consul(instance.metadata)
        check = {
            "CheckID": f"service:{sid}",
            "TTL": f"{TTL_SECONDS}s",
            "Status": "passing",
            "DeregisterCriticalServiceAfter": DEREGISTER_AFTER,
        }
        weights = {"Passing": max(1, round(instance.weight)), "Warning": 1}
        self._write(
            lambda c: c.agent.service.register(
                service.name,
                service_id=sid,
                address=instance.ip,
                port=instance.port,
                tags=tags,
                meta=meta,
                check=check,
                weights=weights,
            ),
            f"register {sid}",
        )

    def deregister(self, service: ServiceKey, instance: Instance) -> None:
        # An ID the agent does not know is already gone, which is done: Consul 1.8 answers
        # 200 for it, newer agents (seen on 1.16) 404 "Unknown service ID", which py-consul
        # returns as False. Other refusals (an ACL's 403) still raise.
        sid = service_id(service.name, instance)
        if not self._call(lambda c: c.agent.service.deregister(sid)):
            log.debug("%s: deregister of %s: the agent does not know it", self.config.name, sid)

    def heartbeat(self, service: ServiceKey, instance: Instance) -> None:
        check = f"service:{service_id(service.name, instance)}"
        try:
            known = self._call(lambda c: c.agent.check.ttl_pass(check))
        except Refused as exc:
            # Consul 1.8 answers an unknown check with HTTP 500 "does not have associated
            # TTL"; newer agents (seen on 1.16) with 404 "Unknown check ID", which comes back
            # as False. Registering is idempotent, and fails loudly when the refusal had
            # another cause (e.g. an ACL).
            log.debug(
                "%s: pass of %s refused (%s), registering again", self.config.name, check, exc
            )
            known = False
        if not known:
            self.register(service, instance)

    def close(self) -> None:
        if self._feed:
            self._feed.stop()
        # py-consul's close() leaves the requests session open.
        for client in self.clients:
            client.http.session.close()


def _changed(before: tuple[dict, set], after: tuple[dict, set]) -> set[ServiceKey | None]:
    """Names whose checks or presence differ; a node-level check change touches all (None)."""
    (old_checks, old_names), (new_checks, new_names) = before, after
    if old_names and old_checks.get("") != new_checks.get(""):
        return {None}
    names = {
        n for n in old_checks.keys() | new_checks.keys() if old_checks.get(n) != new_checks.get(n)
    }
    names |= old_names ^ new_names
    return {ServiceKey("", "", n) for n in names - {"", "consul"}}
