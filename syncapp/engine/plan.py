"""plan(source, destination) -> changes: pure, the heart of every pair."""

from dataclasses import dataclass, field

from syncapp.engine import markers
from syncapp.registries.base import Instance


@dataclass(frozen=True)
class Direction:
    """One way of a task: from `source` to `dest` (cluster names and kinds)."""

    task_id: int
    source: str
    dest: str
    source_kind: str
    dest_kind: str
    # False where the destination can only hold live instances (Consul, Eureka...).
    dest_syncs_health: bool = True
    # Eureka app names are lower-cased on the way out unless the task keeps them.
    keep_case: bool = False
    # The destination's first configured namespace: where services from a source without
    # namespaces land (engine/naming.py); "" when it names none.
    dest_namespace: str = ""

    @property
    def markers(self) -> dict:
        return markers.markers(self.source, self.dest, self.source_kind, str(self.task_id))


@dataclass
class Changes:
    register: list[Instance] = field(default_factory=list)
    deregister: list[Instance] = field(default_factory=list)
    # What this direction should own at the destination once applied: the leases to renew.
    desired: list[Instance] = field(default_factory=list)
    # Source instances not written because a native or foreign instance holds the same key.
    conflicts: list[Instance] = field(default_factory=list)

    def __bool__(self):
        return bool(self.register or self.deregister)


def copyable(instance: Instance, direction: Direction) -> bool:
    if markers.is_synced_copy(instance.metadata):
        return False
    if direction.dest_syncs_health:
        return True
    return instance.healthy and instance.enabled


def _as_is(instance: Instance) -> Instance:
    return instance


def desired_at_dest(source: list[Instance], direction: Direction, stored=_as_is) -> dict:
    extra = direction.markers
    copies = (stored(i.with_metadata(extra)) for i in source if copyable(i, direction))
    return {c.key: c for c in copies}


def plan(
    source: list[Instance], dest: list[Instance], direction: Direction, stored=_as_is
) -> Changes:
    """What to write so the destination holds exactly the source's copyable instances.

    Only destination instances marked with this direction's source are ever removed or
    overwritten; native ones (and other tools' copies) are left alone. `stored` maps a copy
    to the form the destination keeps (Registry.stored_form), so comparisons are fair.
    """
    want = desired_at_dest(source, direction, stored)
    owned = {i.key: i for i in dest if markers.is_owned_by(i.metadata, direction.source)}
    others = {i.key for i in dest if i.key not in owned}
    changes = Changes()
    for key, instance in sorted(want.items()):
        if key in others:
            changes.conflicts.append(instance)
            continue
        changes.desired.append(instance)
        if owned.get(key) != instance:
            changes.register.append(instance)
    changes.deregister = [i for k, i in sorted(owned.items()) if k not in want]
    return changes
