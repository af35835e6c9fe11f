"""r-nacos (the `rnacos` crate): an independent Nacos-compatible server, the second Nacos.

Obtained with `cargo install rnacos --locked` (~/.cargo/bin/rnacos; a long build, once).
Speaks the Nacos v1 HTTP client API, the v1 console namespace API and 2.x gRPC (HTTP port +
1000). Limits: no /nacos/v2/ns HTTP API, no persistent instances over gRPC, console UI off.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import requests

from tests.testbed.base import Server, run_dir
from tests.testbed.obtain import cargo_bin_dir, cargo_install
from tests.testbed.probes import http_get

HTTP_PORT, GRPC_PORT = 28848, 29848


def binary() -> Path:
    return cargo_bin_dir() / "rnacos"


class ServerImpl(Server):
    name = "rnacos"
    ports = (HTTP_PORT, GRPC_PORT)
    ready_timeout = 60.0

    def obtain(self) -> None:
        cargo_install("rnacos", "rnacos")

    def prepare(self, run_dir: Path) -> None:
        (run_dir / "data").mkdir()

    def command(self, run_dir: Path) -> list[str]:
        return [str(binary())]

    def environ(self, run_dir: Path) -> dict[str, str]:
        return {
            "RNACOS_SDK_HOST": "127.0.0.1",  # binds 0.0.0.0 by default
            "RNACOS_HTTP_PORT": str(HTTP_PORT),
            "RNACOS_GRPC_PORT": str(GRPC_PORT),
            "RNACOS_HTTP_CONSOLE_PORT": "0",  # 0 = console server not started
            "RNACOS_DATA_DIR": str(run_dir / "data"),
        }

    # r-nacos 0.8.8 sometimes panics in its raft state actor at start (an injection race in
    # raftapply.rs); it keeps serving reads but every namespace/config write answers HTTP 500
    # "Mailbox has closed". after_start() detects that with a write, and we start again.
    start_attempts = 3

    def after_start(self, run_dir: Path) -> None:
        url = f"http://127.0.0.1:{HTTP_PORT}/nacos/v1/console/namespaces"
        probe = {"customNamespaceId": "testbed-probe", "namespaceName": "testbed-probe"}
        answer = requests.post(url, params=probe, timeout=5)
        if answer.status_code != 200:
            raise RuntimeError(f"r-nacos cannot write ({answer.status_code} {answer.text[:80]})")

    def is_ready(self) -> bool:
        return http_get(f"http://127.0.0.1:{HTTP_PORT}/health") == "success"

    def version(self) -> str:
        # No unauthenticated HTTP endpoint reports the version; the server prints it on start.
        try:
            log = (run_dir(self.name) / "log").read_text(errors="replace")
        except FileNotFoundError:
            log = ""
        if found := re.search(r"^version:([^,\s]+)", log, re.MULTILINE):
            return found[1]
        # Not started by us: the best we have is the installed binary's own version.
        out = subprocess.run([binary(), "--version"], capture_output=True, text=True).stdout
        return out.split()[-1] + " (binary)" if out else "unknown"

    def exports(self) -> dict[str, str]:
        return {
            "NACOS_ALT_ADDR": f"127.0.0.1:{HTTP_PORT}",
            # Console API (namespaces) shares the HTTP port here; Java Nacos 3 has its own port.
            "NACOS_ALT_CONSOLE_URL": f"http://127.0.0.1:{HTTP_PORT}/nacos",
        }
