"""ZooKeeper test helpers: providers and Curator entries written the way real clients do."""

import json
import uuid
from urllib.parse import quote

from kazoo.client import KazooClient


def kazoo_client(hosts: str) -> KazooClient:
    client = KazooClient(hosts=hosts)
    client.start(timeout=10)
    return client


def dubbo_provider(
    zk: KazooClient, interface: str, ip: str, port: int, version="1.0.0", group="", **params
) -> str:
    """An ephemeral provider node as Dubbo writes it; returns its path."""
    query = {
        "interface": interface,
        "version": version,
        "side": "provider",
        "application": "demo",
        "release": "3.2.0",
        **params,
    }
    if group:
        query["group"] = group
    url = f"dubbo://{ip}:{port}/{interface}?" + "&".join(f"{k}={v}" for k, v in query.items())
    path = f"/dubbo/{interface}/providers/{quote(url, safe='')}"
    zk.create(path, ephemeral=True, makepath=True)
    return path


def curator_entry(zk: KazooClient, name: str, ip: str, port: int, metadata: dict) -> str:
    """An ephemeral entry as Spring Cloud Zookeeper writes it; returns its path."""
    node_id = str(uuid.uuid4())
    entry = {
        "name": name,
        "id": node_id,
        "address": ip,
        "port": port,
        "sslPort": None,
        "payload": {
            "@class": "org.springframework.cloud.zookeeper.discovery.ZookeeperInstance",
            "id": f"{name}-1",
            "name": name,
            "metadata": metadata,
        },
        "registrationTimeUTC": 1700000000000,
        "serviceType": "DYNAMIC",
        "uriSpec": {
            "parts": [{"value": "scheme", "variable": True}, {"value": "://", "variable": False}]
        },
    }
    path = f"/services/{name}/{node_id}"
    zk.create(path, json.dumps(entry).encode(), ephemeral=True, makepath=True)
    return path
