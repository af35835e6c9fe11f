"""The domain side of the Celery jobs: scan a task, sync a service.

Workers call these with row ids; each function loads what it needs and records the
outcome (counts, timestamps, last error) on the rows, so the UI can show why. Keeping what
we registered alive (and holding Nacos gRPC copies) is the keepers' work: syncapp/keeper/.
"""

import datetime
import logging
from functools import partial

from celery import current_app
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from syncapp import coalesce, first_copies, patterns
from syncapp.connections import registry_for
from syncapp.engine import sync_one_service
from syncapp.engine.naming import dest_service_key
from syncapp.engine.sync import source_digest
from syncapp.models import ServiceSync, SyncTask, outcome
from syncapp.registries.base import RegistryError, ServiceKey, error_kind, error_text
from syncapp.ways import Way, ways_of

log = logging.getLogger(__name__)
# Keepers learn of changed copy sets by re-reading the rows stamped this far back (workers'
# clocks differ a little, and a job's write commits a moment after its stamp). A row whose
# set was emptied is deleted only after twice that: until then it is a keeper's only signal
# to withdraw the copies (a deleted row is noticed at the next full reload only).
CHANGES_OVERLAP = datetime.timedelta(seconds=5)
# A keeper holds a changed row's copies within a step (0.2 s) or retries each round: a job's
# read of the destination this long after a change sees what the keeper made of it.
HOLD_SETTLED = datetime.timedelta(seconds=10)
# A way's feed stamp younger than this lets a scan trust the feed (the keeper stamps every
# FEED_STAMP_EVERY, feeds.py): a node that dies stops stamping, and scans turn full again.
# A dead source stops its feed too: the first full scan after (every 5 s) says so, within
# 8 + 5 s of its death (issue 13 asks for 15).
FEED_TRUSTED_FOR = datetime.timedelta(seconds=8)


def active_tasks():
    return SyncTask.objects.filter(paused=False, sync_type=SyncTask.SERVICE).select_related(
        "source", "destination"
    )


# --- scan -------------------------------------------------------------------------


def list_matching(source, pattern: str) -> list[ServiceKey]:
    """Every source service whose name matches; raises RegistryError on any failed page."""
    return list_matching_read(source, pattern)[0]


def list_matching_read(source, pattern: str, on_read=None):
    """list_matching, and the instances the listing read of them (Registry.list_services_read;
    `on_read` hears the matching ones of each batch as it is read)."""
    try:
        regex = patterns.compile(pattern)
    except patterns.PatternError as exc:
        # A pattern stored before RE2 checked input: the scan fails like an unreadable
        # source (nothing is deleted) and the reason becomes the task's last error.
        raise RegistryError(f"serviceMatchPattern: {exc}") from None
    found, read = [], {}

    def matching(batch: dict) -> None:
        on_read({key: copies for key, copies in batch.items() if regex.fullmatch(key.name)})

    for namespace in source.namespaces():
        names, instances = source.list_services_read(namespace, on_read and matching)
        found += [k for k in names if regex.fullmatch(k.name)]
        read.update(instances)
    return found, read


def scan_task(task_id: int) -> list[int]:
    """Find the task's services, keep one row per service and way; ids of rows to sync.

    A way whose source feed is live (feed_trusted) gets a light scan unless a full one is
    due: the feed reports every change, new and gone services included, so only rows the
    feed cannot cover are synced (new, failed, forgotten, retired), and the source is not
    listed. A full scan (after a refresh, a resync, a new or lost feed) lists the source;
    of a trusted way it then syncs the same rows (the refresh forgot a batch's digests),
    of any other way, or after a feed began or lost track, every row the listing did not
    read unchanged. While copies it recorded await their first hold, every way gets the
    light scan (coalesce.holds_awaited)."""
    coalesce.scan_started(task_id)  # a trigger from now on queues another scan
    task = SyncTask.objects.select_related("source", "destination").get(pk=task_id)
    if task.paused or task.sync_type != SyncTask.SERVICE:
        return []
    if coalesce.rows_waiting(task_id):
        # What this scan would queue goes behind the task's waiting rows anyway: it scans
        # once they are taken (a due full scan stays due). At 10,000 services each poll
        # meanwhile read every instance list and queued the rows synced so far again: the
        # first full sync spent a third of its worker time on them.
        return []
    # While a first sync's copies await their holds nothing is listed (the claims stay).
    listing_waits = coalesce.holds_awaited(task_id)
    full, missed = (False, False) if listing_waits else coalesce.take_full_scan(task_id)
    row_ids, errors, kinds = [], [], []
    for way in ways_of(task):
        trusted = listing_waits or (feed_trusted(way) and not missed)
        if not full and trusted:
            row_ids += rows_the_feed_cannot_cover(way)
            continue
        try:
            listed = scan_way(way, registry_for(way.source), registry_for(way.destination))
        except Exception as exc:  # on the task; the other way and the next scan go on
            # "src -> dst:" names the way at fault (/metrics counts it against that way).
            errors.append(f"{way.ends}: {logged_failure(f'scan of {task}', exc)}")
            kinds.append(error_kind(exc))
            continue
        # A full scan of a trusted way finds new and gone services; the feed covers the rest.
        row_ids += rows_the_feed_cannot_cover(way) if trusted else listed
    if errors and full:
        coalesce.full_scan_again(task_id, missed)
    now = timezone.now()
    # One kind per task: the first failing way's (a way's line of the error names its way).
    failed = outcome("\n".join(errors), now, kind=kinds[0] if kinds else "")
    SyncTask.objects.filter(pk=task.pk).update(last_scan_at=now, **failed)
    return row_ids


def feed_trusted(way: Way) -> bool:
    stamp = way.feed_alive_at
    return stamp is not None and timezone.now() - stamp < FEED_TRUSTED_FOR


def rows_the_feed_cannot_cover(way: Way) -> list[int]:
    """New rows and rows whose last sync failed or was forgotten (no digest), and retired
    rows (their copies go, then the next full scan drops them)."""
    pending = Q(source_digest="") | ~Q(last_error="") | Q(retired=True)
    rows = ServiceSync.objects.filter(task=way.task, reverse=way.reverse).filter(pending)
    return list(rows.values_list("pk", flat=True))


def scan_way(way: Way, source, dest) -> list[int]:
    task, direction = way.task, way.direction
    rows = ServiceSync.objects.filter(task=task, reverse=way.reverse)
    fields_of = partial(success_fields, keep_row=True)
    as_read = None  # new services are copied batch by batch as the listing reads them
    if task.auto_scan and first_copies.holds_by_connection(dest):
        as_read = first_copies.AsRead(way, dest, rows, fields_of)
    matching, read = list_matching_read(source, task.service_match_pattern, as_read)
    listed = [k for k in matching if dest.accepts(dest_service_key(k, direction))]
    # Copies from a source without namespaces go to the destination's configured one.
    for namespace in {dest_service_key(k, direction).namespace for k in listed}:
        dest.ensure_namespace(namespace)
    if task.auto_scan:
        known = as_read.keys() if as_read else first_copies.known_keys(rows)
        first_copies.add_rows(way, listed, known)
    present = set(listed)
    row_ids, finished, unchanged, new = [], [], [], []
    settled_before = timezone.now() - 2 * CHANGES_OVERLAP
    copied_as_read = as_read.copied if as_read else set()
    for row in rows.only(*first_copies.RECORDED_FIELDS, "source_digest"):
        if row.pk in copied_as_read:
            continue  # copied from this very listing a moment ago
        key = ServiceKey(row.namespace, row.group, row.service)
        gone = key not in present
        if gone != row.retired:
            ServiceSync.objects.filter(pk=row.pk).update(retired=gone)
        if not gone and read_unchanged(row, read.get(key)):
            unchanged.append(row.pk)
        elif not gone or row.leases:  # a retired row syncs once more to remove its copies
            row_ids.append(row.pk)
            if key in read and first_copies.never_synced(row):
                new.append(row)
        elif row.leases_changed_at is None or row.leases_changed_at < settled_before:
            finished.append(row.pk)  # gone, nothing of ours left, and the keepers saw it go
    ServiceSync.objects.filter(pk__in=finished).delete()
    record_checked(unchanged)
    listing = as_read.listed if as_read else None
    copied = first_copies.copy_new_rows(way, dest, new, read, fields_of, listing)
    return [pk for pk in row_ids if pk not in copied]


def read_unchanged(row: ServiceSync, instances: list | None) -> bool:
    """The listing read the service (Registry.list_services_read) and found it as the row's
    last successful sync did: its job would skip it after reading it again. At 10,000 polled
    services every 5 s, those jobs were most of the product's work until the feed was live."""
    if instances is None or not row.source_digest or row.last_error or row.retired:
        return False
    return source_digest(instances) == row.source_digest


def record_checked(row_ids: list[int]) -> None:
    """A scan read these rows' sources unchanged since their last sync: as their (skipping)
    jobs would, it records the check, and nobody queues them."""
    now = timezone.now()
    for start in range(0, len(row_ids), coalesce.CHUNK):
        chunk = row_ids[start : start + coalesce.CHUNK]
        ServiceSync.objects.filter(pk__in=chunk).update(last_success_at=now)


def scan_soon(task_ids: list[int]) -> None:
    """Queue these tasks' scans (a Config task's pass) now, not at the next beat: a task just
    created, imported, changed or resumed starts at once (the beat's 5 s were half of a
    1,000-service task's time to synced). A broker that cannot be reached leaves it to the
    beat: the claim is released, so the beat's next scan queues it."""
    tasks = SyncTask.objects.filter(pk__in=task_ids, paused=False)
    for task_id, sync_type in tasks.values_list("pk", "sync_type"):
        if not coalesce.claim_scans([task_id]):
            continue  # a scan is waiting already
        job = "scan_task" if sync_type == SyncTask.SERVICE else "sync_configs"
        try:
            current_app.send_task(f"workers.tasks.{job}", args=[task_id])
        except Exception as exc:  # the broker is down: the beat's scan will do it
            coalesce.scan_started(task_id)
            log.warning("cannot queue a scan of task %s now (%s): the next beat will", task_id, exc)


def request_resync(task_id: int) -> None:
    """Queue a full resync of one task (UI/API button); workers pick it up."""
    coalesce.want_full_scan([task_id])
    scan_soon([task_id])  # unless a scan is waiting already: it will do


# --- sync one service -------------------------------------------------------------


def rows_with_clusters(row_ids: list[int]):
    return ServiceSync.objects.select_related("task__source", "task__destination").filter(
        pk__in=row_ids
    )


def sync_service(row_id: int, force: bool = False) -> None:
    """Reconcile one service in one way and record the outcome on its row."""
    coalesce.rows_started([row_id])  # a pushed change from now on queues it again
    try:
        row = rows_with_clusters([row_id]).first()
        if row is not None and (record := sync_row(row, force)):
            record()
    finally:
        coalesce.rows_finished([row_id])


def sync_services(row_ids: list[int]) -> None:
    """A scan's batch, one row after the other: its marks are cleared and its rows read in
    one statement each, and the outcomes written in one transaction at the end (a refresh
    syncs every row: per-row statements were a third of its cost on SQLite, and each commit
    is an fsync on MySQL: 10,000 x 3 took 132 s there against 58 s on SQLite)."""
    coalesce.rows_started(row_ids)
    try:
        records = [sync_row(row) for row in rows_with_clusters(row_ids).order_by("pk")]
        with transaction.atomic():
            for record in records:
                if record:
                    record()
    finally:
        coalesce.rows_finished(row_ids)


def sync_row(row: ServiceSync, force: bool = False):
    """Sync one row with the registries; returns how to record the outcome (a callable that
    writes the row), or None when there is nothing to record. Writes nothing itself."""
    if row.task.paused:
        return None
    way = Way.of_row(row)
    key = ServiceKey(row.namespace, row.group, row.service)
    started = timezone.now()
    try:
        dest = registry_for(way.destination)
        result = sync_one_service(
            way.direction,
            registry_for(way.source),
            dest,
            key,
            known_digest=row.source_digest,
            force=force,
            # Copies held by a connection are written by the keeper that holds them.
            write=not dest.holds_by_connection,
        )
    except Exception as exc:  # on the row like a registry's error; the batch goes on
        return partial(record_failure, row, exc, (timezone.now() - started).total_seconds())
    # A held copy is withdrawn by its keeper when it sees the row's empty set: keep the row
    # until then (the next scan drops it), instead of deleting the signal with the row.
    duration = (timezone.now() - started).total_seconds()
    return partial(record_success, row, result, duration, keep_row=dest.holds_by_connection)


def record_failure(row: ServiceSync, exc: Exception, duration: float | None = None) -> None:
    """`duration`: the job's seconds, kept on the row for /metrics (workers run elsewhere).

    The digest is forgotten: the next job must sync in full and retry what failed, not skip
    an unchanged source and record a success that hides the failure."""
    now = timezone.now()
    ServiceSync.objects.filter(pk=row.pk).update(
        **outcome(logged_failure(f"sync of {row}", exc), now, kind=error_kind(exc)),
        last_error_at=now,
        last_duration=duration,
        source_digest="",
    )


def dest_count_of_held(row: ServiceSync, result, changed: bool, now) -> int | None:
    """What a job may say of copies a keeper holds: the keeper records the count once its
    hold succeeds. The job's own read is true only when the copies did not change lately
    (else the keeper may hold them between our read and our write); None: write nothing."""
    if changed or (row.leases_changed_at and now - row.leases_changed_at < HOLD_SETTLED):
        return None
    return result.present_count


def logged_failure(what: str, exc: Exception) -> str:
    """Log a job's failure (with its traceback when it is not a registry's error) and return
    the text to record."""
    text = error_text(exc)
    internal = not isinstance(exc, RegistryError)
    level = logging.ERROR if internal else logging.WARNING
    log.log(level, "%s failed: %s", what, text, exc_info=exc if internal else None)
    return text


def record_success(
    row: ServiceSync, result, duration: float | None = None, keep_row: bool = False
) -> None:
    fields = success_fields(row, result, duration, keep_row)
    if fields is None:
        row.delete()
        return
    ServiceSync.objects.filter(pk=row.pk).update(**fields)


def success_fields(
    row: ServiceSync, result, duration: float | None = None, keep_row: bool = False
) -> dict | None:
    """The fields a job's success writes on its row; None: the row goes (retired, and
    nothing of ours left)."""
    now = timezone.now()
    if result.skipped:
        # Nothing was re-checked at the destination: an error found there (a keeper's
        # failed hold) stays until whoever found it sees it succeed.
        return {"last_success_at": now, "last_duration": duration}
    leases = [i.to_dict() for i in result.leases]
    if row.retired and not leases and not (keep_row and row.leases):
        return None
    changed = {"leases": leases, "leases_changed_at": now} if leases != row.leases else {}
    counts = {"source_count": result.source_count, "dest_count": result.dest_count}
    error = ""
    if keep_row:  # held copies: see dest_count_of_held
        counts.pop("dest_count")
        if (present := dest_count_of_held(row, result, bool(changed), now)) is not None:
            counts["dest_count"] = present
            if present < result.dest_count:  # copies lost there: the keeper holds them again
                changed = {"leases_changed_at": now}
        if result.present_count < result.dest_count:
            # Not every copy is there yet: the keeper's error (a dead destination, a lost
            # connection) stays until its hold succeeds (it clears its own errors).
            error = row.last_error if row.last_error.startswith(row.KEEPER_ERROR) else ""
    return {
        **counts,
        "source_digest": result.digest,
        **changed,
        "last_success_at": now,
        # A kept keeper error: its run goes on, with the kind the keeper stored.
        **outcome(error, now, attempt=False, kind=None),
        "last_duration": duration,
    }
