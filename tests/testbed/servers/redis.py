"""Redis 7.0 from the Debian `redis-server` package, in the foreground, memory only.

Obtained with apt. Limits: no persistence (--save "" --appendonly no), loopback only, db 0.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.testbed.base import Server
from tests.testbed.obtain import apt_install
from tests.testbed.probes import tcp_talk

PORT = 16379


class ServerImpl(Server):
    name = "redis"
    ports = (PORT,)
    ready_timeout = 30.0

    def obtain(self) -> None:
        apt_install("redis-server")

    def command(self, run_dir: Path) -> list[str]:
        return [
            "redis-server",
            *("--daemonize", "no", "--bind", "127.0.0.1", "--port", str(PORT)),
            *("--save", "", "--appendonly", "no", "--dir", str(run_dir)),
        ]

    def is_ready(self) -> bool:
        # Inline commands; QUIT makes the server close so tcp_talk returns promptly.
        return tcp_talk(PORT, b"PING\r\nQUIT\r\n").startswith(b"+PONG")

    def version(self) -> str:
        found = re.search(rb"redis_version:(\S+)", tcp_talk(PORT, b"INFO server\r\nQUIT\r\n"))
        return found[1].decode() if found else "unknown"

    def exports(self) -> dict[str, str]:
        return {"REDIS_URL": f"redis://127.0.0.1:{PORT}/0"}
