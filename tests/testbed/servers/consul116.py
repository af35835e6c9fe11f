"""Consul 1.16.3 built from the Go module proxy, run as a dev agent like `consul` (1.8.7).

Which version: the newest Consul under an open-source licence. HashiCorp moved Consul to the
BSL in August 2023, first on main (1.17 on); the 1.16 branch stayed MPL for a while. Checked in
the modules themselves: v1.16.0 to v1.16.3 ship the MPL-2.0 LICENSE (v1.16.3's CI scripts even
refuse BUSL files on release/1.16), v1.16.6 ships the BSL 1.1; v1.16.4 and v1.16.5 are refused
by the module proxy here (403), so v1.16.3 is the newest MPL Consul that can be had. api v1.25.1,
sdk v0.14.1 and proto-public v0.4.1, which it requires, are MPL-2.0 too.

How it is obtained (once: 5 to 8 minutes on 2 cores, 5 when Go already has the dependencies;
then obtain() is a no-op; a 100 MB binary, and Go's build cache grows by about 1.4 GB):
`go mod download -json github.com/hashicorp/consul@v1.16.3`, a writable copy of the module in
CACHE_DIR/consul116.build, its go.mod's in-repo replace directives dropped (the module zip has no
./api, ./sdk...: the published versions it already requires are used), then `go build`
(CGO_ENABLED=0, version stamp: commit and date) to CACHE_DIR/consul116/consul.

What is left out, and why: the modules envoyextensions and troubleshoot are not for use in this
project's environment (marked so for their licence; the module proxy refuses envoyextensions'
checksum). They serve only the service mesh: the Envoy extensions, the xDS server that configures
Envoy, and the `connect envoy` / `troubleshoot` commands. Those are cut from the build (the xDS
server is a stub that serves nothing; a config entry with EnvoyExtensions is rejected). The
agent, catalog and health HTTP API that msesync uses, and the rest (KV, sessions...), are stock.

Limits: dev mode (in-memory, one server node), no DNS, no gRPC or gRPC-TLS listener, no ACLs, no
Connect proxies. HTTP 18520, server 18320, serf 18321/18322. What msesync meets differently on
1.16 than on 1.8 is written down in syncapp/registries/consul.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from tests.testbed.base import TestbedError, cache_dir
from tests.testbed.obtain import go_build, go_mod_download
from tests.testbed.servers import consul

MODULE, VERSION = "github.com/hashicorp/consul", "v1.16.3"
# The packages that import envoyextensions or troubleshoot, outside those rewritten below.
CUT_DIRS = (
    "agent/envoyextensions/builtin",
    "agent/xds/extensionruntime",
    "command/connect/envoy",
    "command/troubleshoot",
)
# agent/xds's exported names that the agent uses, serving nothing (signatures as in v1.16.3).
XDS_STUB = """// Test-bed build: xDS needs the envoyextensions module, left out; serves nothing.
package xds

import (
\t"github.com/armon/go-metrics/prometheus"
\t"github.com/hashicorp/go-hclog"
\t"google.golang.org/grpc"

\t"github.com/hashicorp/consul/acl"
\t"github.com/hashicorp/consul/agent/grpc-external/limiter"
\t"github.com/hashicorp/consul/agent/proxycfg"
\t"github.com/hashicorp/consul/agent/structs"
)

var (
\tStatsGauges    []prometheus.GaugeDefinition
\tStatsCounters  []prometheus.CounterDefinition
\tStatsSummaries []prometheus.SummaryDefinition
)

type ProxyConfigSource interface {
\tWatch(id structs.ServiceID, nodeName string, token string) (<-chan *proxycfg.ConfigSnapshot, \
limiter.SessionTerminatedChan, proxycfg.CancelFunc, error)
}

type Server struct{}

func NewServer(string, hclog.Logger, ProxyConfigSource, func(string) (acl.Authorizer, error), \
any) *Server {
\treturn &Server{}
}

func (*Server) Register(*grpc.Server) {}
"""
EXTENSIONS_STUB = """// Test-bed build: no Envoy extensions (envoyextensions module left out).
package envoyextensions

import (
\t"fmt"

\t"github.com/hashicorp/consul/api"
)

func ValidateExtensions(extensions []api.EnvoyExtension) error {
\tif len(extensions) > 0 {
\t\treturn fmt.Errorf("EnvoyExtensions are not built into this test-bed Consul")
\t}
\treturn nil
}
"""
REPLACE_BLOCK = re.compile(r"replace \(\n(?:\tgithub\.com/hashicorp/consul/\S+ => \./\S+\n)+\)\n")
LEFT_OUT_REQUIRES = re.compile(
    r"\tgithub\.com/hashicorp/consul/(?:envoyextensions|troubleshoot) .*\n"
)
LEFT_OUT_COMMANDS = re.compile(
    r'.*("github\.com/hashicorp/consul/command/(?:connect/envoy|troubleshoot)[^"]*"'
    r'|entry\{"(?:connect envoy|troubleshoot)[^"]*").*\n'
)


def install_dir() -> Path:
    return cache_dir() / "consul116"


def binary() -> Path:
    return install_dir() / "consul"


def substitute(path: Path, pattern: re.Pattern | str, new: str, count: int) -> None:
    """Replace exactly `count` matches in the file, or fail: the source is not what we expect."""
    text = path.read_text()
    regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
    changed, found = regex.subn(lambda _: new, text)
    if found != count:
        expected = f"{count} match(es) of {regex.pattern!r}"
        raise TestbedError(f"{path}: expected {expected}, found {found}")
    path.write_text(changed)


def writable_copy(source: Path, build: Path) -> None:
    """Copy the read-only module cache dir to `build`, every file and dir writable."""
    shutil.rmtree(build, ignore_errors=True)
    shutil.copytree(source, build, copy_function=shutil.copyfile)
    for root, dirs, _ in os.walk(build):
        for name in dirs:
            os.chmod(Path(root) / name, 0o755)
    os.chmod(build, 0o755)


def drop_replaces(build: Path) -> None:
    """Use the published api/sdk/proto-public (already required), not the absent ./api etc."""
    substitute(build / "go.mod", REPLACE_BLOCK, "", 1)
    substitute(build / "go.mod", LEFT_OUT_REQUIRES, "", 2)


def cut_mesh(build: Path) -> None:
    """Leave out everything that needs the envoyextensions or troubleshoot module."""
    for sub in CUT_DIRS:
        shutil.rmtree(build / sub)
    for package, stub in (("agent/xds", XDS_STUB), ("agent/envoyextensions", EXTENSIONS_STUB)):
        for source in (build / package).glob("*.go"):
            source.unlink()
        (build / package / "stub.go").write_text(stub)
    endpoint = build / "agent" / "agent_endpoint.go"
    substitute(endpoint, '\t"github.com/hashicorp/consul/envoyextensions/xdscommon"\n', "", 1)
    substitute(endpoint, '"envoy": xdscommon.EnvoyVersions,', '"envoy": {},', 1)
    substitute(build / "command" / "registry.go", LEFT_OUT_COMMANDS, "", 10)


def version_stamp(info: dict) -> str:
    """-ldflags: strip symbols; the tag's commit and date, as the module proxy gives them.

    Consul refuses to start with an empty or malformed BuildDate (it checks licences by it)."""
    tag = json.loads(Path(info["Info"]).read_text())
    commit = tag.get("Origin", {}).get("Hash", "")[:8]
    prefix = f"-X {MODULE}/version"
    return f"-s -w {prefix}.GitCommit={commit} {prefix}.BuildDate={tag['Time']}"


class ServerImpl(consul.ServerImpl):
    name = "consul116"
    node = "msesync-testbed-116"
    export = "CONSUL116_ADDR"
    http_port, server_port, serf_lan_port, serf_wan_port = 18520, 18320, 18321, 18322
    ports = (18520, 18320, 18321, 18322)
    # 1.16's dev agent also opens gRPC-TLS (8503) beside gRPC (8502).
    extra_ports_off = "ports { grpc = -1, grpc_tls = -1 }"

    def executable(self) -> Path:
        return binary()

    def obtain(self) -> None:
        if binary().exists():
            return
        info = go_mod_download(MODULE, VERSION)
        build = cache_dir() / "consul116.build"
        writable_copy(Path(info["Dir"]), build)
        drop_replaces(build)
        cut_mesh(build)
        install_dir().mkdir(parents=True, exist_ok=True)
        partial = binary().with_name("consul.partial")
        print(f"building Consul {VERSION} with go: 5 to 8 minutes, once", flush=True)
        go_build(build, partial, version_stamp(info))
        partial.rename(binary())
        shutil.rmtree(build)
