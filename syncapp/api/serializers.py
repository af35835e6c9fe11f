"""API representations; secrets are write-only. Field rules come from the model
(syncapp/validators.py); the two-field rules are checked here as the model's clean() does."""

from rest_framework import serializers

from syncapp import validators
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.ui.states import TaskCounts, counts_by_task, service_state, task_state

# Stored encrypted (syncapp/fields.py) and never sent back; the browsable API masks the input.
WRITE_ONLY = {
    "write_only": True,
    "required": False,
    "allow_blank": True,
    "style": {"input_type": "password"},
}


class ClusterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cluster
        fields = [
            "id",
            "cluster_name",
            "cluster_type",
            "connect_keys",
            "namespaces",
            "user_name",
            "password",
            "ak",
            "sk",
            "updated_at",
        ]
        extra_kwargs = {"password": WRITE_ONLY, "ak": WRITE_ONLY, "sk": WRITE_ONLY}

    def validate(self, attrs):
        kind = _current(self, attrs, "cluster_type")
        problems = validators.connect_key_problems(kind, _current(self, attrs, "connect_keys"))
        if problems:
            raise serializers.ValidationError({"connect_keys": problems})
        return attrs


def _current(serializer, attrs: dict, name: str):
    """The value a save would leave: the request's, else (PATCH) the stored one."""
    if name in attrs:
        return attrs[name]
    return getattr(serializer.instance, name, None)


class SyncTaskSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="cluster_name", queryset=Cluster.objects.all())
    destination = serializers.SlugRelatedField(
        slug_field="cluster_name", queryset=Cluster.objects.all()
    )
    # The console's and sync_status's state (syncapp.ui.states): one definition everywhere.
    state = serializers.SerializerMethodField()

    def get_state(self, task: SyncTask) -> str:
        return task_state(task, counts_by_task([task.pk]).get(task.pk, TaskCounts()))

    class Meta:
        model = SyncTask
        fields = [
            "id",
            "source",
            "destination",
            "sync_type",
            "mode",
            "service_match_pattern",
            "auto_scan",
            "keep_case",
            "overwrite_native",
            "paused",
            "last_scan_at",
            "last_error",
            "error_kind",
            "failing_since",
            "failures",
            "state",
        ]
        # error_kind, failing_*: not editable fields, read-only anyway
        read_only_fields = ["paused", "last_scan_at", "last_error"]

    def validate(self, attrs):
        source, dest = _current(self, attrs, "source"), _current(self, attrs, "destination")
        if source and source == dest:
            raise serializers.ValidationError("source and destination must differ")
        problems = validators.task_problems(
            _current(self, attrs, "sync_type") or SyncTask.SERVICE,
            _current(self, attrs, "mode") or SyncTask.UNIDIRECTIONAL,
            source.cluster_type if source else "",
            dest.cluster_type if dest else "",
        )
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


class ServiceSyncSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField()

    def get_state(self, row: ServiceSync) -> str:
        return service_state(row)

    class Meta:
        model = ServiceSync
        fields = [
            "id",
            "task",
            "reverse",
            "namespace",
            "group",
            "service",
            "source_count",
            "dest_count",
            "retired",
            "last_success_at",
            "last_error",
            "error_kind",
            "last_error_at",
            "failing_since",
            "failures",
            "state",
        ]
        read_only_fields = [
            "source_count",
            "dest_count",
            "retired",
            "last_success_at",
            "last_error",
            "last_error_at",
        ]
