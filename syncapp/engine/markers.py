"""Loop-prevention markers, with nacos-sync's key names so mixed fleets interoperate."""

from collections.abc import Mapping

SOURCE_CLUSTER = "sourceClusterId"
DEST_CLUSTER = "destClusterId"
SYNC_SOURCE = "syncSource"
SYNC_TAG = "sync.instance.tag"
MARKER_KEYS = (SOURCE_CLUSTER, DEST_CLUSTER, SYNC_SOURCE, SYNC_TAG)

# nacos-sync writes these words in syncSource.
SYNC_SOURCE_NAMES = {
    "NACOS": "NACOS",
    "ZOOKEEPER": "ZK",
    "EUREKA": "EUREKA",
    "CONSUL": "CONSUL",
}


def is_synced_copy(metadata: Mapping[str, str]) -> bool:
    """True for an instance some sync tool wrote: such an instance is never copied again."""
    return SOURCE_CLUSTER in metadata or SYNC_TAG in metadata


def is_owned_by(metadata: Mapping[str, str], source_cluster: str) -> bool:
    """True for a destination instance this task's source put there: only those we delete."""
    return metadata.get(SOURCE_CLUSTER) == source_cluster


def markers(source_cluster: str, dest_cluster: str, source_kind: str, version: str) -> dict:
    return {
        SOURCE_CLUSTER: source_cluster,
        DEST_CLUSTER: dest_cluster,
        SYNC_SOURCE: SYNC_SOURCE_NAMES.get(source_kind, source_kind),
        SYNC_TAG: f"{source_cluster}@@{version}",
    }
