"""A second Consul dev agent (same binary as `consul`), its own cluster on other ports.

For tests between two Consul registries: HTTP 18510, server 18310, serf 18311/18312.
"""

from __future__ import annotations

from pathlib import Path

from tests.testbed.probes import http_get, http_json
from tests.testbed.servers import consul

HTTP_PORT, SERVER_PORT, SERF_LAN_PORT, SERF_WAN_PORT = 18510, 18310, 18311, 18312
BASE_URL = f"http://127.0.0.1:{HTTP_PORT}"


class ServerImpl(consul.ServerImpl):
    name = "consul_alt"
    ports = (HTTP_PORT, SERVER_PORT, SERF_LAN_PORT, SERF_WAN_PORT)

    def command(self, run_dir: Path) -> list[str]:
        return [
            str(consul.binary()),
            *("agent", "-dev", "-node=msesync-testbed-alt"),
            *("-bind=127.0.0.1", "-client=127.0.0.1"),
            f"-http-port={HTTP_PORT}",
            f"-server-port={SERVER_PORT}",
            f"-serf-lan-port={SERF_LAN_PORT}",
            f"-serf-wan-port={SERF_WAN_PORT}",
            "-dns-port=-1",
            *("-hcl", "ports { grpc = -1 }"),
        ]

    def is_ready(self) -> bool:
        return http_get(f"{BASE_URL}/v1/status/leader").strip('"\n') != ""

    def version(self) -> str:
        return http_json(f"{BASE_URL}/v1/agent/self")["Config"]["Version"]

    def exports(self) -> dict[str, str]:
        return {"CONSUL_ALT_ADDR": f"127.0.0.1:{HTTP_PORT}"}
