"""The one set of input rules for clusters and tasks: model fields, admin, API, console, import.

Django field validators run in ModelForms (console, admin) and in DRF's ModelSerializer;
the importer runs the same model validation and adds line numbers. Rules that need two
fields (connect keys per cluster type) are `connect_key_problems`, called from Cluster.clean
and from the API serializer.
"""

import ipaddress
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from syncapp import patterns
from syncapp.registries import USER_KINDS, registry_class

MAX_CONNECT_KEYS = 32
MAX_CONNECT_KEY_LENGTH = 255


# Kinds whose adapter speaks HTTP and so also takes a URL (http or https) as a connect key.
def takes_urls(kind: str) -> bool:
    """Whether a kind's connect keys may be URLs (else host:port[/chroot]): the adapter says."""
    return registry_class(kind).connect_keys_take_urls


HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
PORT = re.compile(r"[0-9]{1,5}")
# ZooKeeper's own connect string: host:port, optionally one /chroot after the last key.
CHROOT = re.compile(r"(/[A-Za-z0-9._-]+)+")


def unprintable(value: str) -> str | None:
    """The first character no name or key may hold (control, NUL, lone surrogate), if any."""
    for char in value:
        if char.isprintable() or char == " ":
            if 0xD800 <= ord(char) <= 0xDFFF:
                return char
            continue
        return char
    return None


def validate_printable(value: str) -> None:
    """Names end up in URLs, ZooKeeper paths and log lines: no control characters there."""
    char = unprintable(value)
    if char is not None:
        raise ValidationError(f"must not contain the control character {char!r}", "unprintable")


def validate_storable(value: str) -> None:
    """Secrets may hold any character a database column can store: no NUL, no surrogate."""
    if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValidationError("must not contain NUL or unpaired surrogate characters", "storable")


def validate_name(value: str) -> None:
    """A cluster name: not blank, no leading/trailing space, printable."""
    if not value.strip():
        raise ValidationError("must not be empty", "blank")
    if value != value.strip():
        raise ValidationError("must not start or end with spaces", "spaces")
    validate_printable(value)


def validate_namespaces(value: str) -> None:
    """Comma-separated namespace names; no empty entry between commas."""
    validate_printable(value)
    if value.strip() and any(not n.strip() for n in value.split(",")):
        raise ValidationError("an empty namespace between commas", "empty_namespace")


def validate_pattern(value: str) -> None:
    """serviceMatchPattern: not empty and compiling under RE2 (syncapp/patterns.py)."""
    if not value:
        raise ValidationError("must not be empty (use .* for every service)", "blank")
    try:
        patterns.compile(value)
    except patterns.PatternError as exc:
        raise ValidationError(str(exc), "pattern") from None


def validate_connect_key_list(value) -> None:
    """The shape every kind shares: 1 to MAX_CONNECT_KEYS short printable strings."""
    if not isinstance(value, list) or not value:
        raise ValidationError("must be a non-empty list of host:port strings", "shape")
    if len(value) > MAX_CONNECT_KEYS:
        raise ValidationError(f"at most {MAX_CONNECT_KEYS} entries, not {len(value)}", "too_many")
    for key in value:
        if not isinstance(key, str) or not key.strip():
            raise ValidationError(f"{key!r} is not a non-empty string", "shape")
        if len(key) > MAX_CONNECT_KEY_LENGTH:
            raise ValidationError(
                f"an entry is longer than {MAX_CONNECT_KEY_LENGTH} characters", "too_long"
            )


def connect_key_problems(kind: str, keys) -> list[str]:
    """Why each key does not suit a cluster of `kind` (nothing for a kind we do not know)."""
    if not isinstance(keys, list) or kind not in USER_KINDS:
        return []
    problems = []
    for key in keys:
        if not isinstance(key, str):
            continue  # the shape validator says so
        problem = _http_key_problem(key) if takes_urls(kind) else _zookeeper_key_problem(key)
        if problem:
            problems.append(f"{key[:80]!r}: {problem}")
    return problems


def _http_key_problem(key: str) -> str | None:
    if "://" not in key:
        return host_port_problem(key)
    parts = urlsplit(key)
    if parts.scheme not in ("http", "https"):
        return "expected host:port or an http(s):// URL"
    if unprintable(key) is not None or " " in key:
        return "a URL must not contain spaces or control characters"
    host_port = parts.netloc.rsplit("@", 1)[-1]
    if not host_port:
        return "the URL names no host"
    if ":" in host_port.removeprefix("[").split("]")[-1]:
        return host_port_problem(host_port)
    return _host_problem(host_port)


def _zookeeper_key_problem(key: str) -> str | None:
    if "://" in key:
        return "expected host:port[/chroot]; ZooKeeper takes no URL"
    host_port, slash, chroot = key.partition("/")
    if slash and not CHROOT.fullmatch("/" + chroot):
        return "the chroot must be a path of letters, digits, '.', '_' and '-'"
    return host_port_problem(host_port)


def host_port_problem(value: str) -> str | None:
    """Why `value` is not host:port (host a DNS name, IPv4 or [IPv6]; port 1-65535)."""
    host, colon, port = value.rpartition(":")
    if not colon or not host:
        return "expected host:port"
    if not PORT.fullmatch(port) or not 1 <= int(port) <= 65535:
        return f"port {port[:10]!r} is not a number from 1 to 65535"
    return _host_problem(host)


def _host_problem(host: str) -> str | None:
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return f"{host[:80]!r} is not an IPv6 address"
        return None
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or not all(HOST_LABEL.fullmatch(label) for label in labels):
        return f"{host[:80]!r} is not a host name or IP address"
    return None


def config_family(kind: str) -> str:
    """What configuration a kind holds: "items" (Nacos configs, copied one or both ways),
    "tree" (ZooKeeper znodes, copied one way), or "" (none)."""
    adapter = registry_class(kind)
    return "items" if adapter.has_config_items else "tree" if adapter.has_configs else ""


def config_kinds() -> tuple[str, ...]:
    """Kinds that hold configuration a Config task can copy."""
    return tuple(kind for kind in USER_KINDS if config_family(kind))


def task_problems(sync_type: str, mode: str, source_kind: str, dest_kind: str) -> dict:
    """{field: message} for a task whose ends are of these kinds ("" when unknown)."""
    if sync_type != "Config":
        return {}
    problems = {}
    if mode != "Unidirectional" and "tree" in (_family(source_kind), _family(dest_kind)):
        problems["mode"] = (
            "a Config task must be Unidirectional with ZooKeeper: znode data carries no "
            "marker to stop loops"
        )
    kinds = config_kinds()
    for end, kind in (("source", source_kind), ("destination", dest_kind)):
        if kind and kind not in kinds:
            problems[end] = f"Config sync needs a {' or '.join(kinds)} cluster, not {kind}"
    families = {_family(source_kind), _family(dest_kind)}
    if "destination" not in problems and len(families - {""}) == 2:
        problems["destination"] = (
            f"Config sync copies between clusters of one kind, not {source_kind} to {dest_kind}"
        )
    return problems


def _family(kind: str) -> str:
    return config_family(kind) if kind in USER_KINDS else ""
