"""The domain side of configuration tasks (type Config): mirror a ZooKeeper subtree one way,
or keep Nacos configs in step one or both ways (syncapp/config_sync.py)."""

import datetime
import logging

from celery import current_app
from django.utils import timezone

from syncapp import coalesce, config_sync
from syncapp.connections import registry_for
from syncapp.engine.configs import config_root, plan_configs
from syncapp.jobs import logged_failure
from syncapp.models import SyncTask, outcome
from syncapp.registries.base import OTHER, ConfigKey, error_kind

log = logging.getLogger(__name__)


def config_tasks():
    return SyncTask.objects.filter(paused=False, sync_type=SyncTask.CONFIG).select_related(
        "source", "destination"
    )


def sync_configs(task_id: int, keys: list | None = None) -> None:
    """Make the destination's entries under the task's pattern equal the source's.
    `keys`: [namespace, group, dataId] of the Nacos configs a feed saw change (None: all)."""
    if keys is None:
        coalesce.scan_started(task_id)  # a trigger from now on queues another pass
    task = SyncTask.objects.select_related("source", "destination").get(pk=task_id)
    if task.paused or task.sync_type != SyncTask.CONFIG:
        return
    source, dest = registry_for(task.source), registry_for(task.destination)
    if source.has_config_items:
        named = None if keys is None else [ConfigKey(*k) for k in keys]
        sync_config_items(task, source, dest, named)
        return
    root = config_root(task.service_match_pattern)
    try:
        changes = plan_configs(
            source.list_configs(root), dest.list_configs(root), task.service_match_pattern
        )
        kept = apply_configs(dest, changes)
    except Exception as exc:  # on the task; the next pass tries again
        error = logged_failure(f"config sync of {task}", exc)
        failed = outcome(error, timezone.now(), kind=error_kind(exc))
        SyncTask.objects.filter(pk=task_id).update(**failed)
        return
    # Not a failure of any registry: what msesync chose not to do, for a person to look at.
    note = f"{len(kept)} entries kept: they hold entries not ours" if kept else ""
    now = timezone.now()
    SyncTask.objects.filter(pk=task_id).update(last_scan_at=now, **outcome(note, now, kind=OTHER))


def apply_configs(dest, changes) -> list[str]:
    """Write, then delete deepest first; returns the keys that could not be deleted."""
    for key, value in changes.put:
        dest.put_config(key, value)
    return [key for key in changes.delete if not dest.delete_config(key)]


AGAIN_AFTER = 1.0  # seconds before a pass that found another one running is tried again


# A Config pass holds its task's `scanning_since` as a short lease it renews while it runs
# (coalesce.scanning), so a node killed mid-pass frees its task within seconds.
PASS_LEASE = datetime.timedelta(seconds=6)  # renewed every coalesce.LEASE_RENEW_EVERY


def pass_lease(task_id: int):
    """Yields True if this pass may run (no live pass of the task elsewhere)."""
    return coalesce.scanning(task_id, PASS_LEASE)


def sync_config_items(task: SyncTask, source, dest, keys=None) -> None:
    """One Nacos pass, under the task's pass lease: one writer per task on any number of
    nodes. A pass that finds another one running queues one more after it (the running one
    may have listed before the change that queued this one), at most one per task."""
    with pass_lease(task.pk) as mine:
        if mine:
            _pass(task, source, dest, keys)
            return
    if coalesce.claim_scans([task.pk]):
        current_app.send_task("workers.tasks.sync_configs", args=[task.pk], countdown=AGAIN_AFTER)


def _pass(task: SyncTask, source, dest, keys) -> None:
    try:
        found = config_sync.sync_items(task, source, dest, keys)
    except Exception as exc:  # on the task; the next pass tries again
        error = logged_failure(f"config sync of {task}", exc)
        failed = outcome(error, timezone.now(), kind=error_kind(exc))
        SyncTask.objects.filter(pk=task.pk).update(**failed)
        return
    if found.writes:
        log.info("config pass of %s: %d writes, %d in step", task, found.writes, found.in_step)
    if keys is not None:  # a few configs: the task's summary is the full passes' to write
        return
    now = timezone.now()
    recorded = outcome(found.note(), now, kind=found.kind())
    SyncTask.objects.filter(pk=task.pk).update(last_scan_at=now, **recorded)
