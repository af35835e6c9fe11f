"""What a cluster holds, read through its registry adapter: for "test connection" and for
choosing the services of a new task.

A fresh adapter per request, closed at once: the web process should not keep registry
sessions (ZooKeeper, Consul watches) open for pages that are looked at now and then.
"""

import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from syncapp.models import Cluster
from syncapp.registries import registry_class
from syncapp.registries.base import ServiceKey, error_kind, error_text

ALL_SERVICES = ".*"


@dataclass
class Probe:
    ok: bool
    namespaces: list[str] = field(default_factory=list)
    services: list[ServiceKey] = field(default_factory=list)
    error: str = ""
    protocol: str = ""  # how msesync speaks to it, where the kind has a choice (Nacos)

    @property
    def names(self) -> list[str]:
        """Distinct service names: a task's serviceMatchPattern matches names only."""
        return sorted({s.name for s in self.services})


@contextmanager
def adapter_for(cluster: Cluster):
    registry = registry_class(cluster.cluster_type)(cluster.config())
    try:
        yield registry
    finally:
        registry.close()


PROBE_SERVICE = ServiceKey("public", "DEFAULT_GROUP", "msesync-connection-test")


def probe(cluster: Cluster) -> Probe:
    """List the cluster's namespaces and services, and read one instance list, as a sync
    does: a server that lists services but refuses instance reads (a Nacos whose API the
    adapter cannot use) fails here, not in every sync. Any failure becomes the message.

    Everything is caught on purpose: this is a diagnostic, and a stack trace page
    ("connection refused", a bad address, wrong credentials) would tell the user less.
    """
    try:
        with adapter_for(cluster) as registry:
            namespaces = registry.namespaces()
            services = [s for ns in namespaces for s in registry.list_services(ns)]
            registry.list_instances(services[0] if services else PROBE_SERVICE)
            protocol = getattr(registry, "protocol", "")
    except Exception as exc:  # shown to the user: see the docstring
        return Probe(ok=False, error=f"{error_kind(exc)}: {error_text(exc)}")
    return Probe(ok=True, namespaces=namespaces, services=sorted(services), protocol=protocol)


def pattern_for(names: list[str] | None) -> str:
    """serviceMatchPattern for a chosen few names, or every service when none is given.

    An anchored alternation of escaped names: matches exactly these names (in every
    namespace and group the task covers) and nothing that merely contains one of them.
    """
    if not names:
        return ALL_SERVICES
    return "^(?:" + "|".join(re.escape(n) for n in sorted(set(names))) + ")$"
