"""Celery jobs. Each one is a line or two over syncapp.jobs, which holds the logic.

Every trigger goes through syncapp.coalesce: a task has at most one scan message waiting and
a service at most one sync message per queue, however often beat or the sources fire.
"""

from functools import partial

from celery import shared_task
from django.conf import settings

from syncapp import coalesce, config_jobs, jobs
from syncapp.cockpit import rounds

# Rows per message of a scan: the broker holds a scan's thousands of services as tens of
# messages (kombu's file-system broker reads its whole folder for every message it takes).
SYNC_BATCH = 20


@shared_task
def scan_all() -> None:
    """Beat: scan every active task (the polling change feed)."""
    for task_id in coalesce.claim_scans(list(jobs.active_tasks().values_list("id", flat=True))):
        scan_task.delay(task_id)
    configs = list(config_jobs.config_tasks().values_list("id", flat=True))
    for task_id in coalesce.claim_scans(configs):
        sync_configs.delay(task_id)


@shared_task
def refresh_all() -> None:
    """Beat, every MSESYNC_DAEMON_REFRESH_INTERVAL: list every source in full and re-verify
    the next batch of services of each task (settings.REFRESH_ROUNDS), skipping nothing."""
    task_ids = list(jobs.active_tasks().values_list("id", flat=True))
    batch = partial(
        coalesce.refresh_batch,
        rounds=settings.REFRESH_ROUNDS,
        least=settings.REFRESH_MIN_BATCH,
        most=settings.REFRESH_BATCH,
    )
    coalesce.refresh(task_ids, batch)
    scan_all()


@shared_task
def scan_task(task_id: int, force: bool = False) -> None:
    """`force` (messages of earlier versions): a full scan, skipping nothing."""
    if force:
        coalesce.want_full_scan([task_id])
    with coalesce.scanning(task_id) as mine:
        if not mine:  # another scan of this task is running: it covers this one
            coalesce.scan_started(task_id)  # jobs.scan_task clears it otherwise
            return
        claimed = coalesce.claim_rows(jobs.scan_task(task_id))
        for start in range(0, len(claimed), SYNC_BATCH):
            sync_services.delay(claimed[start : start + SYNC_BATCH])


@shared_task
def sync_services(row_ids: list[int]) -> None:
    """A scan's batch, one after the other (jobs of other batches run beside it)."""
    jobs.sync_services(row_ids)


@shared_task
def sync_service(row_id: int, force: bool = False) -> None:
    """One service whose source pushed a change (the change queue)."""
    jobs.sync_service(row_id, force)


@shared_task
def sync_configs(task_id: int, keys: list | None = None) -> None:
    """`keys`: [namespace, group, dataId] of the changed Nacos configs (None: every config)."""
    config_jobs.sync_configs(task_id, keys)


@shared_task
def read_phases() -> None:
    """Beat: the migration cockpit's next batch of services (a fixed cost per round; a
    message that waited behind a backlog and comes right after another reads nothing)."""
    rounds.read_round(settings.PHASE_BATCH, min_gap=settings.PHASE_INTERVAL / 2)
