"""Loop-prevention markers, with nacos-sync's key names so mixed fleets interoperate."""

from collections.abc import Mapping

from syncapp.registries import registry_class

SOURCE_CLUSTER = "sourceClusterId"
DEST_CLUSTER = "destClusterId"
SYNC_SOURCE = "syncSource"
SYNC_TAG = "sync.instance.tag"
MARKER_KEYS = (SOURCE_CLUSTER, DEST_CLUSTER, SYNC_SOURCE, SYNC_TAG)


def sync_source_name(kind: str) -> str:
    """The word nacos-sync writes in syncSource for a kind (the adapter declares it)."""
    try:
        return registry_class(kind).sync_source_name or kind
    except ValueError:  # a kind this build does not know (another tool's marker)
        return kind


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
        SYNC_SOURCE: sync_source_name(source_kind),
        SYNC_TAG: f"{source_cluster}@@{version}",
    }
