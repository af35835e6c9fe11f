"""Celery jobs. Each one is a line or two over syncapp.jobs, which holds the logic."""

from celery import shared_task

from syncapp import config_jobs, jobs


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
        sync_service.delay(row_id, force)


@shared_task
def sync_service(row_id: int, force: bool = False) -> None:
    jobs.sync_service(row_id, force)


@shared_task
def sync_configs(task_id: int) -> None:
    config_jobs.sync_configs(task_id)
