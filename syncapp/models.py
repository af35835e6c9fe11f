"""State: the clusters, the tasks between them, and per-service sync progress."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce

from syncapp import validators
from syncapp.fields import EncryptedCharField
from syncapp.registries import USER_KINDS
from syncapp.registries.base import ClusterConfig

CLUSTER_TYPES = [(k, k) for k in USER_KINDS]


class Cluster(models.Model):
    """A registry msesync reads from or writes to (YAML `clusters`)."""

    # Encrypted at rest, write-only in the API, console and admin, never logged.
    SECRET_FIELDS = ("password", "ak", "sk")

    # Validators: syncapp/validators.py, the rules the API, console, admin and importer share.
    cluster_name = models.CharField(
        max_length=128, unique=True, validators=[validators.validate_name]
    )
    cluster_type = models.CharField(max_length=16, choices=CLUSTER_TYPES)
    connect_keys = models.JSONField(
        default=list,
        help_text="host:port list (or URLs for Nacos, Eureka, Consul)",
        validators=[validators.validate_connect_key_list],
    )
    namespaces = models.CharField(
        max_length=512,
        blank=True,
        help_text="Nacos, comma separated",
        validators=[validators.validate_namespaces],
    )
    user_name = models.CharField(
        max_length=128, blank=True, validators=[validators.validate_printable]
    )
    # Encrypted at rest (syncapp/fields.py); the attributes read as plaintext.
    password = EncryptedCharField(
        max_length=256, blank=True, validators=[validators.validate_storable]
    )
    ak = EncryptedCharField(max_length=256, blank=True, validators=[validators.validate_storable])
    sk = EncryptedCharField(max_length=256, blank=True, validators=[validators.validate_storable])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cluster_name"]

    def __str__(self):
        return self.cluster_name

    def clean(self):
        problems = validators.connect_key_problems(self.cluster_type, self.connect_keys)
        if problems:
            raise ValidationError({"connect_keys": problems})

    @property
    def namespace_list(self) -> tuple[str, ...]:
        return tuple(n.strip() for n in self.namespaces.split(",") if n.strip())

    def config(self) -> ClusterConfig:
        return ClusterConfig(
            name=self.cluster_name,
            kind=self.cluster_type,
            connect_keys=tuple(self.connect_keys),
            namespaces=self.namespace_list,
            username=self.user_name,
            password=self.password,
            ak=self.ak,
            sk=self.sk,
        )


class Failing(models.Model):
    """A run of failures, as people read it: since when it fails and how many attempts
    failed. Written only through `outcome`, by the code that records what an attempt found."""

    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    failures = models.IntegerField(default=0, editable=False)
    # The last error's kind, decided where it happened (registries.base.error_kind):
    # unreachable, rejected, other or internal. "" with an error: written before this field
    # existed (/metrics then reads the kind from the text).
    error_kind = models.CharField(max_length=16, blank=True, editable=False)

    class Meta:
        abstract = True


def outcome(error: str, now, attempt: bool = True, kind: str | None = "") -> dict:
    """The fields of an update that records an outcome: "" is a success and ends the run; an
    error starts one (or goes on with it: `failing_since` keeps its first failure). `attempt`
    False: the error stands but nothing new was tried (a kept error), so nothing is counted.
    `kind`: the error's kind (registries.base.error_kind); None leaves the stored one, for an
    error kept as it was found."""
    if not error:
        return {"last_error": "", "error_kind": "", "failing_since": None, "failures": 0}
    since = Coalesce(F("failing_since"), Value(now, output_field=DateTimeField()))
    fields = {"last_error": error[:2000], "failing_since": since}
    if kind is not None:
        fields["error_kind"] = kind
    if attempt:
        fields["failures"] = F("failures") + 1
    return fields


class SyncTask(Failing):
    """Keep `destination` in step with `source` (YAML `tasks`)."""

    SERVICE, CONFIG = "Service", "Config"
    UNIDIRECTIONAL, BIDIRECTIONAL = "Unidirectional", "Bidirectional"

    source = models.ForeignKey(Cluster, models.PROTECT, related_name="tasks_out")
    destination = models.ForeignKey(Cluster, models.PROTECT, related_name="tasks_in")
    sync_type = models.CharField(
        max_length=16, choices=[(SERVICE, SERVICE), (CONFIG, CONFIG)], default=SERVICE
    )
    mode = models.CharField(
        max_length=16,
        choices=[(UNIDIRECTIONAL, UNIDIRECTIONAL), (BIDIRECTIONAL, BIDIRECTIONAL)],
        default=UNIDIRECTIONAL,
    )
    service_match_pattern = models.CharField(
        max_length=512, default=".*", validators=[validators.validate_pattern]
    )
    auto_scan = models.BooleanField("autoScanAndAddService", default=True)
    keep_case = models.BooleanField(
        "keepServiceNameCase", default=False, help_text="Eureka names are lower-cased unless set"
    )
    # Config tasks: a destination config msesync did not write (or that changed there since)
    # is overwritten by the source's instead of being reported as a conflict.
    overwrite_native = models.BooleanField(
        "overwriteNativeConfigs",
        default=False,
        help_text="Config tasks: overwrite destination configs msesync did not write",
    )
    paused = models.BooleanField(default=False)
    last_scan_at = models.DateTimeField(null=True, blank=True)
    # Coalescing (syncapp/coalesce.py): a scan message waiting, a scan running (a lease).
    scan_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    scanning_since = models.DateTimeField(null=True, blank=True, editable=False)
    # The next scan lists the source and syncs every service (a refresh, a resync, a feed
    # that lost track, a new task); the others sync only what the feed cannot cover.
    full_scan_due = models.BooleanField(default=True, editable=False)
    # With full_scan_due: a feed began or lost track, so a change before it may be unknown.
    # That scan queues every service its listing did not read unchanged, trusted feed or not
    # (coalesce.events_missed); digests are kept, and a job whose source is unchanged skips.
    events_missed = models.BooleanField(default=False, editable=False)
    # Stamped by the keeper watching each way while its source's push feed is live and
    # misses nothing: scans then leave unchanged services to the feed (jobs.scan_way).
    feed_alive_at = models.DateTimeField(null=True, blank=True, editable=False)
    reverse_feed_alive_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The last row a refresh re-verified: the next one goes on from there (coalesce.refresh).
    refresh_cursor = models.BigIntegerField(default=0, editable=False)
    # The last ServicePhase row the cockpit read, and when it last read this task's services:
    # each round serves the tasks read longest ago first (syncapp/cockpit/rounds.py).
    phase_cursor = models.BigIntegerField(default=0, editable=False)
    phases_read_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        # The operator role (README, Roles): run tasks without changing what they sync.
        permissions = [("operate_synctask", "Can pause, resume and resync tasks")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "destination", "sync_type"],
                name="one_task_per_pair_and_type",
            )
        ]

    def __str__(self):
        arrow = "<->" if self.mode == self.BIDIRECTIONAL else "->"
        return f"{self.source} {arrow} {self.destination} ({self.sync_type})"

    def clean(self):
        if self.source_id and self.source_id == self.destination_id:
            raise ValidationError("source and destination must differ")
        problems = validators.task_problems(
            self.sync_type, self.mode, _kind(self, "source"), _kind(self, "destination")
        )
        if problems:
            raise ValidationError(problems)


def _kind(task: SyncTask, end: str) -> str:
    """The cluster type at one end of a task, "" while that end is not set."""
    cluster = getattr(task, end) if getattr(task, f"{end}_id") else None
    return cluster.cluster_type if cluster else ""


class ServiceSync(Failing):
    """Progress of one service in one direction of a task."""

    # How a keeper's errors begin (a failed hold or renewal at the destination): only the
    # keeper, or a job that saw every copy present, may clear them.
    KEEPER_ERROR = "keeping copies at "

    task = models.ForeignKey(SyncTask, models.CASCADE, related_name="services")
    reverse = models.BooleanField(default=False, help_text="destination -> source way")
    namespace = models.CharField(max_length=128, blank=True)
    group = models.CharField(max_length=128, blank=True)
    service = models.CharField(max_length=255)
    source_count = models.IntegerField(default=0)
    dest_count = models.IntegerField(default=0)
    source_digest = models.CharField(max_length=40, blank=True)
    # The instances we registered at the destination: renewed (or held) by the keepers.
    leases = models.JSONField(default=list, blank=True)
    # When `leases` last changed: the keepers apply changed rows within a fraction of a second.
    leases_changed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    retired = models.BooleanField(default=False, help_text="no longer listed by the source")
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # How long the last sync_service job of this row took (success or failure), for /metrics.
    last_duration = models.FloatField("last job seconds", null=True, blank=True)
    # A job of this row waiting in the scan queue / the change queue (syncapp/coalesce.py).
    queued_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    change_queued_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    # A job of this row running since then: scans leave the row to it (syncapp/coalesce.py).
    job_started_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["task", "reverse", "namespace", "group", "service"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "reverse", "namespace", "group", "service"],
                name="one_row_per_service_way",
            )
        ]

    def __str__(self):
        return f"{self.namespace}/{self.group}/{self.service}"


class ServicePhase(models.Model):
    """Where one service of a task stands in its migration (syncapp/cockpit/): the facts read
    on both sides, the phase they put it in, and a warning. The old side is the task's source;
    the key is the source's. Kept after the service leaves the old side (a migration's "done"),
    dropped once it is gone from both. A count of None was not known (never read as 0)."""

    task = models.ForeignKey(SyncTask, models.CASCADE, related_name="phases")
    namespace = models.CharField(max_length=128, blank=True)
    group = models.CharField(max_length=128, blank=True)
    service = models.CharField(max_length=255)
    old_natives = models.IntegerField(null=True)
    old_copies = models.IntegerField(null=True)
    old_subscribers = models.IntegerField(null=True)
    new_natives = models.IntegerField(null=True)
    new_copies = models.IntegerField(null=True)
    new_subscribers = models.IntegerField(null=True)
    # "" until the cockpit first reads the service (shown as unknown, "not read yet").
    phase = models.CharField(max_length=24, blank=True, db_index=True)
    warning = models.TextField(blank=True)
    # Why a side could not be read (the phase is then "unknown").
    error = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["task", "namespace", "group", "service"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "namespace", "group", "service"], name="one_phase_per_service"
            )
        ]

    def __str__(self):
        return f"{self.namespace}/{self.group}/{self.service}: {self.phase or 'not read'}"


class ConfigSync(models.Model):
    """What msesync remembers of one Nacos config of a Config task (syncapp/config_sync.py):
    the content MD5 both sides held when last in step, and which side msesync wrote."""

    task = models.ForeignKey(SyncTask, models.CASCADE, related_name="configs")
    namespace = models.CharField(max_length=128)
    group = models.CharField(max_length=128)
    data_id = models.CharField(max_length=255)
    md5 = models.CharField(max_length=32, blank=True)
    # "destination": msesync wrote the destination's copy; "source": it wrote the source's
    # (two-way); "": found equal, written by neither.
    written = models.CharField(max_length=16, blank=True)
    conflict = models.TextField(blank=True)
    writes = models.IntegerField(default=0, help_text="writes and deletes msesync made")
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["task", "namespace", "group", "data_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "namespace", "group", "data_id"], name="one_row_per_config"
            )
        ]

    def __str__(self):
        return f"{self.namespace}/{self.group}/{self.data_id}"
