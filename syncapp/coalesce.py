"""At most one queued job per service and per task: marks in the database coalesce triggers.

A trigger (a scan listing the service, a change pushed by its source, a refresh) queues a job
only if the row's mark for that queue is clear, and sets it; the job clears the mark when it
starts, so a change during the job queues one more. The broker then holds at most one message
per row and queue however often scans run or sources change: the queue's length is the number
of services waiting, not a multiple of the time they waited.

A mark older than MARK_EXPIRES counts as clear: its message or the worker that took it died,
and the next trigger queues the row again. That bounds what a crash costs, never the queue.

Scans of one task never overlap: `scanning` is a lease the scan takes before listing (a second
scan of the task meanwhile returns at once; the running one covers it). The scan renews it
while it runs, so a scanner killed mid-scan frees its task within SCAN_LEASE.
"""

import contextlib
import datetime
import logging
import threading
from collections.abc import Callable

from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from syncapp.models import ServiceSync, SyncTask
from syncapp.ways import FEED_STAMP_COLUMN

log = logging.getLogger(__name__)

MARK_EXPIRES = datetime.timedelta(seconds=120)
# A scan's lease on its task, renewed every LEASE_RENEW_EVERY seconds while it runs. It was a
# fixed 300 s: a worker killed during a first sync's scan (which now copies as it lists, ~10 s
# at 10,000 services) left the task unscanned for five minutes.
SCAN_LEASE = datetime.timedelta(seconds=20)
LEASE_RENEW_EVERY = 2.0
HOLDS_AWAITED_FOR = datetime.timedelta(seconds=30)  # see holds_awaited
CHUNK = 500  # ids per statement (SQLite limits a statement's parameters)
EVERY_ROW = Q()

SCAN_QUEUE = "queued_at"  # rows queued by scans and refreshes
CHANGE_QUEUE = "change_queued_at"  # rows queued by a pushed change (a queue of its own)


def _claim(
    objects, ids: list[int], column: str, expires: datetime.timedelta, also=EVERY_ROW
) -> list[int]:
    """Set `column` to now where it is clear (or expired) and `also` holds; returns the ids
    that were claimed."""
    now = timezone.now()
    clear = Q(**{f"{column}__isnull": True}) | Q(**{f"{column}__lt": now - expires})
    claimed = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if objects.filter(pk__in=chunk).filter(clear, also).update(**{column: now}):
            claimed += objects.filter(pk__in=chunk, **{column: now}).values_list("pk", flat=True)
    return claimed


def claim_rows(row_ids: list[int], queue: str = SCAN_QUEUE) -> list[int]:
    """Rows whose job must be sent now: those not already waiting in `queue`, and for the
    scan queue not being synced right now either.

    A scan queues a row because the row has no digest (a refresh forgot it, or it is new) or
    failed, or because its source is polled: while the row's job runs, that is still so only
    because the job has not written its outcome yet. Queuing it again read every service of a
    refresh twice, on two nodes, whenever a 5 s scan fell inside the refresh's jobs. A source
    change the running job's read missed is queued by the first scan after the job ends; a
    pushed change queues at once (the change queue does not wait for running jobs)."""
    idle = EVERY_ROW
    if queue == SCAN_QUEUE:  # a job that ran longer than a mark lives died with its worker
        stale = timezone.now() - MARK_EXPIRES
        idle = Q(job_started_at__isnull=True) | Q(job_started_at__lt=stale)
    return _claim(ServiceSync.objects, list(row_ids), queue, MARK_EXPIRES, idle)


def rows_waiting(task_id: int) -> bool:
    """Whether any row of the task waits in the scan queue (a fresh mark: taken by no job)."""
    fresh = timezone.now() - MARK_EXPIRES
    return ServiceSync.objects.filter(task_id=task_id, queued_at__gte=fresh).exists()


def rows_started(row_ids: list[int]) -> None:
    """The jobs of these rows start: they answer every trigger so far, in either queue."""
    ServiceSync.objects.filter(pk__in=row_ids).update(
        queued_at=None, change_queued_at=None, job_started_at=timezone.now()
    )


def rows_finished(row_ids: list[int]) -> None:
    """The jobs of these rows ended, their outcomes recorded: scans may queue them again."""
    ServiceSync.objects.filter(pk__in=row_ids).update(job_started_at=None)


def claim_scans(task_ids: list[int]) -> list[int]:
    """Tasks whose scan message must be sent now: those without one waiting."""
    return _claim(SyncTask.objects, list(task_ids), "scan_queued_at", MARK_EXPIRES)


def scan_started(task_id: int) -> None:
    SyncTask.objects.filter(pk=task_id).update(scan_queued_at=None)


@contextlib.contextmanager
def scanning(
    task_id: int, lease: datetime.timedelta = SCAN_LEASE, renew_every: float = LEASE_RENEW_EVERY
):
    """Yields True if this scan of the task may run (no other one holds a live lease); the
    lease is renewed every `renew_every` seconds until the scan ends."""
    if not _claim(SyncTask.objects, [task_id], "scanning_since", lease):
        yield False
        return
    done = threading.Event()
    renewer = threading.Thread(
        target=_renew_scan_lease, args=(task_id, done, renew_every), daemon=True
    )
    renewer.start()
    try:
        yield True
    finally:
        done.set()
        renewer.join()  # before the release: a late renewal would take the task again
        SyncTask.objects.filter(pk=task_id).update(scanning_since=None)


def _renew_scan_lease(task_id: int, done: threading.Event, every: float) -> None:
    """One failed renewal (the database busy or restarting) is retried at the next tick: a
    renewer that died with it let the lease lapse under a live scan."""
    try:
        while not done.wait(every):
            try:
                SyncTask.objects.filter(pk=task_id).update(scanning_since=timezone.now())
            except DatabaseError as exc:
                log.warning("cannot renew the scan lease of task %s: %s", task_id, exc)
                connection.close()
    finally:
        connection.close()  # this thread's own database connection


def forget_digests(task_ids: list[int]) -> None:
    """The next sync of each of these tasks' services skips nothing."""
    ServiceSync.objects.filter(task_id__in=task_ids).update(source_digest="")


def want_full_scan(task_ids: list[int]) -> None:
    """A refresh, a resync, a feed that lost track: the next scan of each of these tasks
    lists its sources and syncs every service, skipping nothing."""
    forget_digests(task_ids)
    SyncTask.objects.filter(pk__in=task_ids).update(full_scan_due=True)


def refresh_batch(rows: int, rounds: int, least: int, most: int) -> int:
    """Rows of a task a refresh re-verifies: a `rounds`-th of them, within [least, most]."""
    return min(most, max(least, -(-rows // rounds)))


def refresh(task_ids: list[int], batch: Callable[[int], int]) -> None:
    """The periodic refresh: each task's next scan lists its sources in full, and the next
    batch(its row count) of its rows (refresh_batch; after its cursor, wrapping round) are
    synced skipping nothing."""
    SyncTask.objects.filter(pk__in=task_ids).update(full_scan_due=True)
    for task_id, cursor in SyncTask.objects.filter(pk__in=task_ids).values_list(
        "pk", "refresh_cursor"
    ):
        rows = ServiceSync.objects.filter(task_id=task_id).order_by("pk")
        size = batch(rows.count())
        chosen = list(rows.filter(pk__gt=cursor).values_list("pk", flat=True)[:size])
        if len(chosen) < size:  # round again from the first row
            wrapped = rows.filter(pk__lte=cursor).values_list("pk", flat=True)
            chosen += wrapped[: size - len(chosen)]
        for start in range(0, len(chosen), CHUNK):
            ServiceSync.objects.filter(pk__in=chosen[start : start + CHUNK]).update(
                source_digest=""
            )
        if chosen:
            SyncTask.objects.filter(pk=task_id).update(refresh_cursor=chosen[-1])


def events_missed(task_ids: list[int]) -> None:
    """A feed began or lost track: the next scan of each task lists its sources, and queues
    every service the listing did not read unchanged, as if no feed were trusted. Digests
    are kept: a job whose source is unchanged skips. (Forgetting them, as a resync does,
    made every keeper start re-sync every service: 10,000 jobs at the end of a first sync.)"""
    SyncTask.objects.filter(pk__in=task_ids).update(full_scan_due=True, events_missed=True)


def full_scan_again(task_id: int, missed: bool = False) -> None:
    """A full scan that failed: the next one tries the full listing again."""
    again = {"events_missed": True} if missed else {}
    SyncTask.objects.filter(pk=task_id).update(full_scan_due=True, **again)


def holds_awaited(task_id: int) -> bool:
    """Copies the task recorded lately still wait for their first hold by a keeper (a first
    sync's: at 10,000 services, for ~15 s). Its scans then list nothing (jobs.scan_task)
    and its feed waits to start (feeds.Feeds.may_start): both would run on the cores those
    holds need (a ZooKeeper listing of 10,000 folders costs ~3 s of worker CPU and arming
    their watches ~3 s of the keeper's), and what they would find comes a few seconds later.
    Copies waiting longer than HOLDS_AWAITED_FOR (no keeper) hold nothing back."""
    awaited = ServiceSync.objects.filter(
        task_id=task_id,
        dest_count=0,
        last_error="",
        leases_changed_at__gte=timezone.now() - HOLDS_AWAITED_FOR,
    )
    return awaited.exclude(leases=[]).exists()


def first_sync_on(task_id: int) -> bool:
    """The task's first scan is queued or running, or copies it recorded await their hold."""
    first = SyncTask.objects.filter(pk=task_id, last_scan_at__isnull=True)
    live = timezone.now() - SCAN_LEASE  # a dead scanner's lease is no first sync
    on = Q(scan_queued_at__isnull=False) | Q(scanning_since__gte=live)
    return first.filter(on).exists() or holds_awaited(task_id)


def take_full_scan(task_id: int) -> tuple[bool, bool]:
    """(full, events missed) of this scan; the claims are cleared (`want_full_scan`,
    `events_missed` set them)."""
    due = SyncTask.objects.filter(pk=task_id, full_scan_due=True)
    if due.filter(events_missed=True).update(full_scan_due=False, events_missed=False):
        return True, True
    return bool(due.update(full_scan_due=False)), False


def stamp_live_feeds(ways: list[tuple[int, bool]]) -> None:
    """The keeper's feeds of these ways (Way.key: task id, reverse) are live and complete
    right now; one statement per column (Way.feed_alive_at reads them)."""
    now = timezone.now()
    for reverse, column in FEED_STAMP_COLUMN.items():
        ids = [task_id for task_id, back in ways if back == reverse]
        if ids:
            SyncTask.objects.filter(pk__in=ids).update(**{column: now})


def waiting() -> dict[str, int]:
    """Rows waiting per queue ("scan", "change"; for /metrics): fresh marks only."""
    fresh = timezone.now() - MARK_EXPIRES
    queues = {"scan": SCAN_QUEUE, "change": CHANGE_QUEUE}
    return {
        name: ServiceSync.objects.filter(**{f"{column}__gte": fresh}).count()
        for name, column in queues.items()
    }
