"""Database rows unit tests start from."""

from syncapp.models import Cluster, SyncTask


def nacos_task(dest_fields: dict | None = None, **task_fields) -> SyncTask:
    """Two Nacos clusters, a (h:1) and b (h:2), and a task from a to b."""
    a = Cluster.objects.create(cluster_name="a", cluster_type="NACOS", connect_keys=["h:1"])
    b = Cluster.objects.create(
        cluster_name="b", cluster_type="NACOS", connect_keys=["h:2"], **(dest_fields or {})
    )
    return SyncTask.objects.create(source=a, destination=b, **task_fields)
