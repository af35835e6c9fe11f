"""A second Eureka server (same harness and build as `eureka`) on 127.0.0.1:18762.

For tests between two Eureka registries. Only the port differs: `--server.port` moves the
listener and the harness' defaultZone follows it (so the server still sees no peer).
"""

from __future__ import annotations

from pathlib import Path

from tests.testbed.probes import http_get, http_json
from tests.testbed.servers import eureka

PORT = 18762
BASE_URL = f"http://127.0.0.1:{PORT}"


class ServerImpl(eureka.ServerImpl):
    name = "eureka_alt"
    ports = (PORT,)

    def command(self, run_dir: Path) -> list[str]:
        return [*super().command(run_dir), f"--server.port={PORT}"]

    def is_ready(self) -> bool:
        http_get(f"{BASE_URL}/eureka/apps")
        return True

    def version(self) -> str:
        versions = http_json(f"{BASE_URL}/actuator/info").get("eureka", {})
        return f"{versions.get('spring-cloud-netflix')} (eureka-core {versions.get('eureka-core')})"

    def exports(self) -> dict[str, str]:
        return {"EUREKA_ALT_URL": f"{BASE_URL}/eureka"}
