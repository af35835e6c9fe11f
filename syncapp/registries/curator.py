"""Curator service-discovery entries (Spring Cloud Zookeeper) as JSON, to and from `Instance`.

Pure functions, no ZooKeeper. Layout: `/services/<name>/<id>`, one ephemeral node per
instance holding Curator's `ServiceInstance` JSON with a Spring Cloud `ZookeeperInstance`
payload; the instance's metadata is `payload.metadata`. Curator reads with unknown properties
ignored, so the fields below are all a Spring Cloud client needs.
"""

import json
import time
import uuid

from syncapp.registries.base import DEFAULT_CLUSTER, Instance
from syncapp.registries.dubbo_url import CLUSTER_KEY

PAYLOAD_CLASS = "org.springframework.cloud.zookeeper.discovery.ZookeeperInstance"
# Curator has no weight: keep ours where only we look, so a copy reads back equal.
WEIGHT_KEY = "msesync.weight"
# Spring Cloud Zookeeper's default "{scheme}://{address}:{port}".
DEFAULT_URI_SPEC = {
    "parts": [
        {"value": "scheme", "variable": True},
        {"value": "://", "variable": False},
        {"value": "address", "variable": True},
        {"value": ":", "variable": False},
        {"value": "port", "variable": True},
    ]
}
# Fixed namespace: every worker derives the same id for one endpoint, so a re-registration
# from any host replaces the node instead of adding a second one.
ID_NAMESPACE = uuid.UUID("6f1c4f6e-3d35-4a57-9f0b-6d2f1f5c2a11")


def instance_id(name: str, ip: str, port: int) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{name}/{ip}:{port}"))


def to_json(name: str, node_id: str, instance: Instance) -> bytes:
    metadata = dict(instance.metadata)
    if instance.cluster != DEFAULT_CLUSTER:
        metadata[CLUSTER_KEY] = instance.cluster
    if round(instance.weight, 6) != 1.0:
        metadata[WEIGHT_KEY] = repr(instance.weight)
    entry = {
        "name": name,
        "id": node_id,
        "address": instance.ip,
        "port": instance.port,
        "sslPort": None,
        "payload": {"@class": PAYLOAD_CLASS, "id": node_id, "name": name, "metadata": metadata},
        "registrationTimeUTC": int(time.time() * 1000),
        "serviceType": "DYNAMIC",
        "uriSpec": DEFAULT_URI_SPEC,
        "enabled": instance.enabled,
    }
    return json.dumps(entry).encode()


def from_json(data: bytes) -> Instance:
    """The instance an entry describes; ValueError when it is not a Curator entry."""
    try:
        entry = json.loads(data)
        address, port = entry["address"], entry.get("port") or entry.get("sslPort")
        metadata = dict((entry.get("payload") or {}).get("metadata") or {})
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a Curator service instance: {error}") from None
    if not address or not port:
        raise ValueError("Curator service instance without address or port")
    return Instance(
        ip=address,
        port=port,
        weight=float(metadata.pop(WEIGHT_KEY, 1.0)),
        enabled=_enabled(entry, metadata),
        cluster=metadata.pop(CLUSTER_KEY, "") or DEFAULT_CLUSTER,
        metadata=metadata,
    )


def _enabled(entry: dict, metadata: dict) -> bool:
    # Spring Cloud marks OUT_OF_SERVICE in metadata and its clients skip anything not UP.
    status = str(metadata.get("instance_status") or "UP").upper()
    return entry.get("enabled", True) is not False and status == "UP"
