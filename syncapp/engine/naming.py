"""How a service's name and place translate from one registry kind to another.

Only Nacos has namespaces and groups. Into Nacos, a service from a source without them
(ZooKeeper, Eureka, Consul) lands in `DEFAULT_GROUP` of the destination cluster's first
configured namespace (the one msesync was told to use there, and the one a two-way task's
reverse way reads), or of `public` when it names none; a service from Nacos keeps its
own namespace and group (the destination mirrors the source's namespaces, created when
missing). Out of Nacos, they are dropped (services of the same name in several namespaces or
groups meet in one). Eureka upper-cases app names; out of Eureka they are lower-cased unless
the task keeps the case (MSE Sync's behaviour: Spring Cloud clients look services up in lower
case). Dubbo's naming is the ZooKeeper adapter's business: it already presents providers as
`providers:<interface>:<version>:<group>`.
"""

from syncapp.engine.plan import Direction
from syncapp.registries import registry_class
from syncapp.registries.base import DEFAULT_GROUP, ServiceKey

DEFAULT_NAMESPACE = "public"


def dest_service_key(source: ServiceKey, direction: Direction) -> ServiceKey:
    """The destination key of a source service (the adapters' capabilities decide)."""
    name = source.name
    if registry_class(direction.source_kind).upper_cases_names and not direction.keep_case:
        name = name.lower()
    if not registry_class(direction.dest_kind).has_namespaces:
        return ServiceKey("", "", name)
    namespace = source.namespace or direction.dest_namespace or DEFAULT_NAMESPACE
    return ServiceKey(namespace, source.group or DEFAULT_GROUP, name)
