"""A service task between two memory registries, its source holding the given services."""

from syncapp.models import Cluster, SyncTask
from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.memory import MemoryRegistry


def memory_task(services: list[ServiceKey]) -> SyncTask:
    """Clusters `a` -> `b` (MEMORY); each service has one instance at the source."""
    a = Cluster.objects.create(cluster_name="a", cluster_type="MEMORY", connect_keys=["m"])
    b = Cluster.objects.create(cluster_name="b", cluster_type="MEMORY", connect_keys=["m"])
    source = MemoryRegistry(ClusterConfig("a", "MEMORY", ("m",)))
    for n, service in enumerate(services):
        source.register(service, Instance("10.0.0.1", 100 + n))
    return SyncTask.objects.create(source=a, destination=b)
