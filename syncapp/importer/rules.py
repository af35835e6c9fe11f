"""The model's own validation run on a file's values, its answers named by YAML field.

One set of rules (syncapp/validators.py on the model fields, Cluster.clean): a file is
refused for exactly what the API, the console and the admin refuse.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from syncapp.models import Cluster, SyncTask

# model field -> YAML field
CLUSTER_NAMES = {
    "cluster_name": "clusterName",
    "cluster_type": "clusterType",
    "connect_keys": "connectKeyList",
    "namespaces": "namespace",
    "user_name": "userName",
    "password": "password",
    "ak": "ak",
    "sk": "sk",
    NON_FIELD_ERRORS: "(cluster)",
}
TASK_NAMES = {
    "sync_type": "type",
    "mode": "mode",
    "service_match_pattern": "serviceMatchPattern",
    "auto_scan": "autoScanAndAddService",
    "keep_case": "keepServiceNameCase",
    "overwrite_native": "overwriteNativeConfigs",
    NON_FIELD_ERRORS: "(task)",
}


def cluster_problems(spec) -> list[tuple[str, str]]:
    """(YAML field, message) for each rule the cluster breaks; uniqueness is the importer's."""
    row = Cluster(
        cluster_name=spec.clusterName,
        cluster_type=spec.clusterType,
        connect_keys=spec.connectKeyList,
        namespaces=spec.namespace,
        user_name=spec.userName,
        password=spec.password,
        ak=spec.ak,
        sk=spec.sk,
    )
    # cluster_type: the parser names the known kinds already.
    return _named(
        lambda: row.full_clean(
            exclude=["cluster_type"], validate_unique=False, validate_constraints=False
        ),
        CLUSTER_NAMES,
    )


def task_field_problems(spec) -> list[tuple[str, str]]:
    """(YAML field, message) for each field rule the task breaks; the rules that need the
    clusters at its ends are checked with them (apply.check_references)."""
    row = SyncTask(
        sync_type=spec.type,
        mode=spec.mode,
        service_match_pattern=spec.serviceMatchPattern,
        auto_scan=spec.autoScanAndAddService,
        keep_case=spec.keepServiceNameCase,
        overwrite_native=spec.overwriteNativeConfigs,
    )
    # sync_type and mode: the parser names the choices already.
    return _named(
        lambda: row.clean_fields(exclude=["source", "destination", "sync_type", "mode"]),
        TASK_NAMES,
    )


def _named(check, names: dict) -> list[tuple[str, str]]:
    try:
        check()
    except ValidationError as exc:
        return [
            (names.get(name, name), message)
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return []
