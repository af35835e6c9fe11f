"""Instances over Nacos' v1 HTTP naming API: for servers without gRPC (Nacos 1.x).

An ephemeral v1 instance lives as long as someone beats it (any process), so the keeper
renews these copies with one beat per instance every MSESYNC_HEARTBEAT_INTERVAL. That costs
~140 % of a core per 10,000 copies: gRPC servers never take this path.
"""

import json

from syncapp.registries.base import DEFAULT_GROUP, Instance, ServiceKey
from syncapp.registries.nacos.http_api import NacosHttp

CODE_UNKNOWN_INSTANCE = 20404


def service_params(service: ServiceKey) -> dict:
    return {
        "serviceName": service.name,
        "groupName": service.group or DEFAULT_GROUP,
        "namespaceId": service.namespace or "public",
    }


def instance_of(host: dict) -> Instance:
    """An Instance from a Nacos host entry (v1 HTTP list and gRPC answers alike)."""
    return Instance(
        ip=host["ip"],
        port=host["port"],
        weight=host.get("weight", 1.0),
        healthy=host.get("healthy", True),
        enabled=host.get("enabled", True),
        cluster=host.get("clusterName") or "DEFAULT",
        metadata=host.get("metadata") or {},
    )


class HttpNaming:
    protocol = "http"
    holds_by_connection = False

    def __init__(self, http: NacosHttp):
        self.http = http

    def list_instances(self, service: ServiceKey) -> list[Instance]:
        params = {**service_params(service), "healthyOnly": "false"}
        body = self.http.json("GET", "/v1/ns/instance/list", params)
        return [instance_of(host) for host in body.get("hosts") or []]

    def form(self, service: ServiceKey, instance: Instance) -> dict:
        return {
            **service_params(service),
            "ip": instance.ip,
            "port": instance.port,
            "weight": instance.weight,
            "healthy": str(instance.healthy).lower(),
            "enabled": str(instance.enabled).lower(),
            "clusterName": instance.cluster,
            "ephemeral": "true",
            "metadata": json.dumps(dict(instance.metadata)),
        }

    def register(self, service: ServiceKey, instance: Instance) -> None:
        self.http.call("POST", "/v1/ns/instance", data=self.form(service, instance))

    def deregister(self, service: ServiceKey, instance: Instance) -> None:
        form = self.form(service, instance)
        del form["metadata"]  # not needed to delete, and kept out of the URL
        self.http.call("DELETE", "/v1/ns/instance", params=form)

    def hold(self, service: ServiceKey, instances: list[Instance], force: bool = False) -> None:
        """v1 has no "this set" call: register each (a lease renewed by beats)."""
        for instance in instances:
            self.register(service, instance)

    def heartbeat(self, service: ServiceKey, instance: Instance) -> None:
        beat = {
            "serviceName": f"{service.group or DEFAULT_GROUP}@@{service.name}",
            "ip": instance.ip,
            "port": instance.port,
            "cluster": instance.cluster,
            "weight": instance.weight,
            "scheduled": False,  # no metadata: an unknown instance is registered again below
        }
        form = {
            **service_params(service),
            "beat": json.dumps(beat),
            "ip": instance.ip,
            "port": instance.port,
            "clusterName": instance.cluster,
        }
        body = self.http.json("PUT", "/v1/ns/instance/beat", params=form)
        if body.get("code") == CODE_UNKNOWN_INSTANCE:
            self.register(service, instance)

    def subscribe(self, service: ServiceKey) -> None:
        """No push over v1 HTTP: the scan job polls these servers."""

    def close(self) -> None:
        pass
