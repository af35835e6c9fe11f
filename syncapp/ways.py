"""One way of a task: from its source to its destination, or back for a two-way task.

The reverse way of a Bidirectional task swaps the task's ends; this is the one place that
swap is written. `Way.key`, `(task id, reverse)`, is how rows (ServiceSync.reverse), feeds
and stamps name a way.
"""

from dataclasses import dataclass

from syncapp.engine.naming import DEFAULT_NAMESPACE
from syncapp.engine.plan import Direction
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.registries import registry_class

# The SyncTask column the keeper stamps while a way's source feed is live (feeds.py).
FEED_STAMP_COLUMN = {False: "feed_alive_at", True: "reverse_feed_alive_at"}


@dataclass(frozen=True)
class Way:
    task: SyncTask
    reverse: bool = False

    @classmethod
    def of_row(cls, row: ServiceSync) -> "Way":
        return cls(row.task, row.reverse)

    @property
    def source(self) -> Cluster:
        return self.task.destination if self.reverse else self.task.source

    @property
    def destination(self) -> Cluster:
        return self.task.source if self.reverse else self.task.destination

    @property
    def key(self) -> tuple[int, bool]:
        return (self.task.pk, self.reverse)

    @property
    def name(self) -> str:
        """The way's name in sync_status and /metrics: forward or reverse."""
        return "reverse" if self.reverse else "forward"

    @property
    def ends(self) -> str:
        """`src -> dst`: also how a scan's error names the way it is about (jobs.py), and a
        row's way in the console."""
        return f"{self.source.cluster_name} -> {self.destination.cluster_name}"

    @property
    def label(self) -> str:
        return f"{self.ends} ({self.task.sync_type})"

    @property
    def feed_alive_at(self):
        return getattr(self.task, FEED_STAMP_COLUMN[self.reverse])

    @property
    def dest_namespace(self) -> str:
        """Where copies of services without a namespace go: the destination's first
        configured namespace ("" when none is: the naming rules then say `public`)."""
        return next(iter(self.destination.namespace_list), "")

    @property
    def direction(self) -> Direction:
        src, dst = self.source, self.destination
        return Direction(
            task_id=self.task.pk,
            source=src.cluster_name,
            dest=dst.cluster_name,
            source_kind=src.cluster_type,
            dest_kind=dst.cluster_type,
            dest_syncs_health=registry_class(dst.cluster_type).syncs_health,  # a capability
            keep_case=self.task.keep_case,
            dest_namespace=self.dest_namespace,
        )

    @property
    def copies_go_to(self) -> str:
        """Where copies land at the destination, in words ("" where it has no namespaces):
        the rule is syncapp/engine/naming.py's."""
        if not registry_class(self.destination.cluster_type).has_namespaces:
            return ""
        if registry_class(self.source.cluster_type).has_namespaces:
            return "the source's namespaces"
        return f'namespace "{self.dest_namespace or DEFAULT_NAMESPACE}"'


def ways_of(task: SyncTask) -> list[Way]:
    """The forward way, and the reverse one for a Bidirectional Service task (a two-way
    Config task is one pass over both sides, syncapp/config_sync.py, not two ways)."""
    result = [Way(task)]
    if task.sync_type == SyncTask.SERVICE and task.mode == SyncTask.BIDIRECTIONAL:
        result.append(Way(task, reverse=True))
    return result


def where_copies_go(task: SyncTask) -> str:
    """Where a task's copies land, for the import's diff ("" when no way's destination has
    namespaces): "copies go to ...", and "copies back to <source> go to ..." for a reverse
    way that lands elsewhere in words. `task` may be unsaved (the diff's, before the import)."""
    notes = [(way, way.copies_go_to) for way in ways_of(task) if way.copies_go_to]
    if len({text for _, text in notes}) == 1 and not notes[0][0].reverse:
        return f"copies go to {notes[0][1]}"  # the forward way's, the same both ways
    return "; ".join(_note(way, text) for way, text in notes)


def _note(way: Way, text: str) -> str:
    back = f" back to {way.destination.cluster_name}" if way.reverse else ""
    return f"copies{back} go to {text}"
