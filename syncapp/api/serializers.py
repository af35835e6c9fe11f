"""API representations; secrets are write-only."""

import re

from rest_framework import serializers

from syncapp.models import Cluster, ServiceSync, SyncTask

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


class SyncTaskSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="cluster_name", queryset=Cluster.objects.all())
    destination = serializers.SlugRelatedField(
        slug_field="cluster_name", queryset=Cluster.objects.all()
    )

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
            "paused",
            "last_scan_at",
            "last_error",
        ]
        read_only_fields = ["paused", "last_scan_at", "last_error"]

    def validate_service_match_pattern(self, value):
        try:
            re.compile(value)
        except re.error as exc:
            raise serializers.ValidationError(f"invalid regular expression: {exc}") from None
        return value

    def validate(self, attrs):
        if attrs.get("source") and attrs.get("source") == attrs.get("destination"):
            raise serializers.ValidationError("source and destination must differ")
        return attrs


class ServiceSyncSerializer(serializers.ModelSerializer):
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
            "last_error_at",
        ]
        read_only_fields = [
            "source_count",
            "dest_count",
            "retired",
            "last_success_at",
            "last_error",
            "last_error_at",
        ]
