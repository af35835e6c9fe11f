"""Reconcile one service in one direction: read both sides, plan, apply."""

import hashlib
import logging
from dataclasses import dataclass, field

from syncapp.engine.naming import dest_service_key
from syncapp.engine.plan import Changes, Direction, plan
from syncapp.registries.base import Instance, Registry, ServiceKey

log = logging.getLogger(__name__)


@dataclass
class SyncResult:
    source_count: int = 0
    dest_count: int = 0  # our copies at the destination once this sync's writes are done
    present_count: int = 0  # the copies wanted that the destination listed when read
    digest: str = ""
    skipped: bool = False  # the source was unchanged since the last success
    changes: Changes = field(default_factory=Changes)

    @property
    def leases(self) -> list[Instance]:
        return self.changes.desired


def source_digest(instances: list[Instance]) -> str:
    """A fingerprint of a source read, so an unchanged service costs one read."""
    canon = sorted(repr(i.canonical()) for i in instances)
    return hashlib.sha1("\n".join(canon).encode()).hexdigest()


def sync_one_service(
    direction: Direction,
    source: Registry,
    dest: Registry,
    service: ServiceKey,
    known_digest: str = "",
    force: bool = False,
    write: bool = True,
) -> SyncResult:
    """Make the destination match the source for one service.

    Raises RegistryError when either side cannot be read: nothing is deleted on doubt.
    `write=False` plans without writing: the caller hands `leases` to whoever holds them.
    """
    instances = source.list_instances(service)
    digest = source_digest(instances)
    if digest == known_digest and not force:
        return SyncResult(digest=digest, skipped=True)
    target = dest_service_key(service, direction)
    result = planned(direction, instances, dest, target, dest.list_instances(target), digest)
    if write:
        apply(dest, target, result.changes)
    if result.changes:
        log.info(
            "%s %s -> %s: +%d -%d",
            service,
            direction.source,
            direction.dest,
            len(result.changes.register),
            len(result.changes.deregister),
        )
    return result


def planned(
    direction: Direction,
    instances: list[Instance],
    dest: Registry,
    target: ServiceKey,
    at_dest: list[Instance],
    digest: str,
) -> SyncResult:
    """The outcome of syncing a source read (`digest`: its source_digest) into a destination
    read (nothing written)."""
    stored = lambda copy: dest.stored_form(target, copy)  # noqa: E731
    changes = plan(instances, at_dest, direction, stored=stored)
    return SyncResult(
        source_count=len(changes.desired) + len(changes.conflicts),
        dest_count=len(changes.desired),
        present_count=len(changes.desired) - len(changes.register),
        digest=digest,
        changes=changes,
    )


def apply(dest: Registry, target: ServiceKey, changes: Changes) -> None:
    if not changes:
        return
    if dest.holds_by_connection:  # one write of the whole set: see Registry.hold
        dest.hold(target, changes.desired)
        return
    # Register first: a moved instance is briefly listed twice rather than missing.
    for instance in changes.register:
        dest.register(target, instance)
    for instance in changes.deregister:
        dest.deregister(target, instance)
