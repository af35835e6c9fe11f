"""Dubbo provider URLs as ZooKeeper node names, and Dubbo's own Nacos service names.

Pure functions, no ZooKeeper: unit-tested on their own.

- Node name: Java's `URLEncoder.encode(url.toFullString(), "UTF-8")`, which is what Dubbo's
  ZookeeperRegistry writes under `/dubbo/<interface>/providers/`. Inside the URL, parameter
  values are raw (Dubbo does not encode them), so a value cannot hold `&` or `;`.
- Service name: `providers:<interface>:<version>:<group>`, empty parts kept as empty strings
  (Dubbo >= 2.7.3 `NacosServiceName` / `URL.getColonSeparatedKey`), so a Dubbo consumer on Nacos
  finds our copies. Instance metadata is what Dubbo's NacosRegistry writes: every URL parameter
  plus `protocol`, `path` and `category`, from which its consumers rebuild the URL.
- Weight: Dubbo's `weight` parameter (default 100) maps to `Instance.weight` = weight / 100,
  so Dubbo's default equals Nacos's default 1.0. The parameter, when present, stays the truth
  on the way back (it is what Dubbo consumers balance on).
"""

from dataclasses import dataclass, field
from urllib.parse import quote_plus, unquote_plus

from syncapp.registries.base import DEFAULT_CLUSTER, Instance

CATEGORY = "providers"
DEFAULT_PROTOCOL = "dubbo"
DEFAULT_WEIGHT = 100
# Our own parameter: Instance.cluster has no Dubbo equivalent but is part of an instance's
# identity for the engine; without it a copy from a non-default Nacos cluster would read
# back as a different instance and be deleted.
CLUSTER_KEY = "msesync.cluster"
# Rebuilt from the URL itself, so not written again as parameters.
URL_PARTS = ("protocol", "path")
FORBIDDEN = ("&", ";")  # parameter separators for Dubbo 2.7 / 3.x readers


@dataclass(frozen=True)
class DubboUrl:
    protocol: str
    host: str  # without IPv6 brackets
    port: int
    path: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.params.get("version", "").strip()

    @property
    def group(self) -> str:
        return self.params.get("group", "").strip()

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = "&".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.protocol}://{host}:{self.port}/{self.path}" + (f"?{query}" if query else "")


# --- service names ----------------------------------------------------------------


def service_name(interface: str, version: str = "", group: str = "") -> str:
    return f"{CATEGORY}:{interface}:{version}:{group}"


def is_dubbo_name(name: str) -> bool:
    return name.startswith(f"{CATEGORY}:")


def parse_service_name(name: str) -> tuple[str, str, str]:
    """(interface, version, group) of a 4-part name; legacy shorter names are ambiguous."""
    parts = name.split(":")
    if len(parts) != 4 or parts[0] != CATEGORY or not parts[1] or "/" in parts[1]:
        raise ValueError(
            f"not a Dubbo service name providers:<interface>:<version>:<group>: {name!r}"
        )
    return parts[1], parts[2], parts[3]


# --- URL text -----------------------------------------------------------------------


def parse_url(text: str, port_required: bool = True) -> DubboUrl:
    """Parse a decoded Dubbo URL: protocol://[user:pass@]host:port/path?k=v&...
    Consumers write no port (`consumer://10.0.0.6/a.B?...`): port 0 when not required."""
    body, _, query = text.partition("?")
    protocol, sep, rest = body.partition("://")
    if not sep or not protocol:
        raise ValueError(f"no protocol in Dubbo URL {text!r}")
    authority, _, path = rest.partition("/")
    host_port = authority.rpartition("@")[2]
    if not port_required and host_port and not _has_port(host_port):
        return DubboUrl(protocol, host_port.strip("[]"), 0, path, _params(query))
    host, port = _host_port(host_port)
    return DubboUrl(protocol, host, port, path, _params(query))


def _has_port(authority: str) -> bool:
    if authority.startswith("["):
        return "]:" in authority
    return authority.count(":") == 1 and authority.rpartition(":")[2].isdigit()


def _host_port(authority: str) -> tuple[str, int]:
    if authority.startswith("["):  # [v6]:port
        host, _, port = authority[1:].partition("]:")
    else:  # the last ':' separates the port, as in Dubbo (also for bare IPv6)
        host, _, port = authority.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"no host:port in {authority!r}")
    return host, int(port)


def _params(query: str) -> dict[str, str]:
    params = {}
    for part in filter(None, query.split("&")):
        key, sep, value = part.partition("=")
        params[key] = value if sep else key  # Dubbo reads a bare key as key=key
    return params


def java_encode(text: str) -> str:
    """Java's URLEncoder.encode(text, "UTF-8"): like quote_plus, but '*' safe and '~' not."""
    return quote_plus(text, safe="*").replace("~", "%7E")


def java_decode(text: str) -> str:
    return unquote_plus(text)


def encode_node(url: DubboUrl) -> str:
    return java_encode(str(url))


def decode_consumer(node: str) -> DubboUrl:
    """A node of /dubbo/<interface>/consumers (a consumer URL, usually without a port)."""
    return parse_url(java_decode(node), port_required=False)


def decode_node(node: str) -> DubboUrl:
    return parse_url(java_decode(node))


# --- Instance <-> URL -----------------------------------------------------------------


def to_instance(url: DubboUrl) -> Instance:
    params = dict(url.params)
    cluster = params.pop(CLUSTER_KEY, "") or DEFAULT_CLUSTER
    metadata = {**params, "protocol": url.protocol, "category": params.get("category", CATEGORY)}
    if url.path:
        metadata["path"] = url.path
    return Instance(
        ip=url.host,
        port=url.port,
        weight=_weight(params.get("weight")) / DEFAULT_WEIGHT,
        enabled=params.get("enabled", "true").lower() != "false",
        cluster=cluster,
        metadata=metadata,
    )


def _weight(value: str | None) -> int:
    try:
        return int(value) if value is not None else DEFAULT_WEIGHT
    except ValueError:
        return DEFAULT_WEIGHT


def from_instance(name: str, instance: Instance) -> DubboUrl:
    """The provider URL for `instance` in the Dubbo service `name`.

    Version and group come from the name (it decides where consumers look); empty values are
    dropped because Dubbo 3 reads `k=` as k="k".
    """
    interface, version, group = parse_service_name(name)
    meta = instance.metadata
    params = {k: v for k, v in meta.items() if k not in URL_PARTS and v != ""}
    if params.get("category") == CATEGORY:  # implied by the providers/ folder
        del params["category"]
    params["interface"] = interface  # the folder consumers read must match what they parse
    _set_or_drop(params, "version", version)
    _set_or_drop(params, "group", group)
    if "weight" not in params and round(instance.weight, 6) != 1.0:
        params["weight"] = str(round(instance.weight * DEFAULT_WEIGHT))
    if instance.cluster != DEFAULT_CLUSTER:
        params[CLUSTER_KEY] = instance.cluster
    _check_representable(params)
    protocol = meta.get("protocol") or DEFAULT_PROTOCOL
    return DubboUrl(protocol, instance.ip, instance.port, meta.get("path") or interface, params)


def _set_or_drop(params: dict, key: str, value: str) -> None:
    if value:
        params[key] = value
    else:
        params.pop(key, None)


def _check_representable(params: dict[str, str]) -> None:
    for key, value in params.items():
        if "=" in key or any(c in key or c in value for c in FORBIDDEN):
            raise ValueError(f"metadata {key}={value!r} cannot be a Dubbo URL parameter")


def matches(url: DubboUrl, version: str, group: str) -> bool:
    return url.version == version and url.group == group


def consumes(url: DubboUrl, version: str, group: str) -> bool:
    """Whether a consumer URL asks for the providers of that version and group: Dubbo
    consumers may name "*" for any version or group, and a list of groups."""
    wanted_groups = url.group.split(",") if url.group else [""]
    return url.version in ("*", version) and ("*" in wanted_groups or group in wanted_groups)
