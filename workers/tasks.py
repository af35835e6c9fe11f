"""Celery jobs. Each one is a line or two over syncapp.jobs, which holds the logic."""

import threading
import time

from celery import shared_task

from syncapp import config_jobs, jobs

# Rows this process queued whose job has not started: a scan does not queue them again, so a
# busy worker's queue stays one message per row instead of growing by a scan's worth every
# interval. Forgotten after PENDING_FOR, in case the message was lost or another process took it.
PENDING_FOR = 10.0
_pending: dict[int, float] = {}
_pending_lock = threading.Lock()


def queue_sync(row_id: int, force: bool) -> None:
    now = time.monotonic()
    with _pending_lock:
        queued = _pending.get(row_id)
        if queued is not None and now - queued < PENDING_FOR and not force:
            return
        _pending[row_id] = now
    sync_service.delay(row_id, force)


@shared_task
def scan_all(force: bool = False) -> None:
    """Beat: scan every active task (the polling change feed)."""
    for task_id in jobs.active_tasks().values_list("id", flat=True):
        scan_task.delay(task_id, force)
    for task_id in config_jobs.config_tasks().values_list("id", flat=True):
        sync_configs.delay(task_id)


@shared_task
def refresh_all() -> None:
    """Beat, every MSESYNC_DAEMON_REFRESH_INTERVAL: reconcile everything, skipping nothing."""
    scan_all(force=True)


@shared_task
def scan_task(task_id: int, force: bool = False) -> None:
    for row_id in jobs.scan_task(task_id):
        queue_sync(row_id, force)


@shared_task
def sync_service(row_id: int, force: bool = False) -> None:
    with _pending_lock:
        _pending.pop(row_id, None)
    jobs.sync_service(row_id, force)


@shared_task
def sync_configs(task_id: int) -> None:
    config_jobs.sync_configs(task_id)
