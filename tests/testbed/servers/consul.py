"""Consul 1.8.7 (Debian bullseye's `consul` package, MPL) as a single dev-mode agent.

Obtained without touching the system's apt setup: apt-get update/download with a private
sources list and state dir, then `dpkg-deb -x` into CACHE_DIR/consul. Neither bookworm, PyPI nor
npm ship Consul, and `go install` fails on its replace directives. If bullseye moves to
archive.debian.org, change CONSUL_SOURCE only. Limits: dev mode (in-memory, one server node),
no DNS, no gRPC, no ACLs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.testbed.base import Server, TestbedError, cache_dir
from tests.testbed.obtain import run
from tests.testbed.probes import http_get, http_json

# The one place that says where Consul comes from. Same mirror host as /etc/apt/sources.list.d.
CONSUL_SOURCE = (
    "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"
    " http://deb.debian.org/debian bullseye main"
)
CONSUL_PACKAGE = "consul"  # 1.8.7+dfsg1 in bullseye

HTTP_PORT, SERVER_PORT, SERF_LAN_PORT, SERF_WAN_PORT = 18500, 18300, 18301, 18302


def install_dir() -> Path:
    return cache_dir() / "consul"


def binary() -> Path:
    return install_dir() / "usr" / "bin" / "consul"


def apt_options(state: Path) -> list[str]:
    """apt-get options that read and write only our private dir, never the system's lists."""
    return [
        *("-o", f"Dir::Etc::SourceList={state / 'sources.list'}"),
        *("-o", "Dir::Etc::SourceParts=/dev/null"),
        *("-o", f"Dir::State::Lists={state / 'lists'}"),
        *("-o", f"Dir::Cache={state / 'cache'}"),
        *("-o", "Acquire::Languages=none"),
        # Root-run downloads into a root-owned dir: the _apt sandbox user could not write there.
        *("-o", "APT::Sandbox::User=root"),
    ]


def download_deb(state: Path) -> Path:
    """Fetch the consul .deb from CONSUL_SOURCE into `state`; return its path."""
    for sub in ("lists/partial", "cache/archives/partial", "debs"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "sources.list").write_text(CONSUL_SOURCE + "\n")
    run(["apt-get", *apt_options(state), "update"])
    run(["apt-get", *apt_options(state), "download", CONSUL_PACKAGE], cwd=state / "debs")
    debs = sorted((state / "debs").glob(f"{CONSUL_PACKAGE}_*.deb"))
    if not debs:
        raise TestbedError(f"apt-get download {CONSUL_PACKAGE} produced no .deb in {state}")
    return debs[-1]


class ServerImpl(Server):
    name = "consul"
    node = "msesync-testbed"
    export = "CONSUL_ADDR"
    http_port, server_port, serf_lan_port, serf_wan_port = (
        HTTP_PORT,
        SERVER_PORT,
        SERF_LAN_PORT,
        SERF_WAN_PORT,
    )
    ports = (HTTP_PORT, SERVER_PORT, SERF_LAN_PORT, SERF_WAN_PORT)
    ready_timeout = 60.0
    # HCL turning off the listeners a dev agent of this version opens beyond the ports above.
    extra_ports_off = "ports { grpc = -1 }"

    def executable(self) -> Path:
        """The consul binary obtain() provides (other versions: their own build)."""
        return binary()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def obtain(self) -> None:
        if binary().exists():
            return
        state = cache_dir() / "consul-apt"
        partial = install_dir().with_name("consul.partial")
        shutil.rmtree(partial, ignore_errors=True)
        run(["dpkg-deb", "-x", str(download_deb(state)), str(partial)])
        partial.rename(install_dir())
        shutil.rmtree(state)  # ~40 MB of package lists, not needed once unpacked

    def command(self, run_dir: Path) -> list[str]:
        return [
            str(self.executable()),
            *("agent", "-dev", f"-node={self.node}"),
            *("-bind=127.0.0.1", "-client=127.0.0.1"),
            f"-http-port={self.http_port}",
            f"-server-port={self.server_port}",
            f"-serf-lan-port={self.serf_lan_port}",
            f"-serf-wan-port={self.serf_wan_port}",
            "-dns-port=-1",
            *("-hcl", self.extra_ports_off),
        ]

    def is_ready(self) -> bool:
        # Registrations fail until the single dev server has elected itself leader.
        return http_get(f"{self.base_url}/v1/status/leader").strip('"\n') != ""

    def version(self) -> str:
        return http_json(f"{self.base_url}/v1/agent/self")["Config"]["Version"]

    def exports(self) -> dict[str, str]:
        return {self.export: f"127.0.0.1:{self.http_port}"}
