"""Nacos 3.1 (upstream alibaba/nacos code), standalone, embedded Derby, auth off.

Obtained by building our own Maven harness (tests/testbed/java/nacos: Spring Boot 3.5.7 parent,
`io.github.pig-mesh.nacos:nacos-server` + `nacos-console` 3.1.0-bugfix, a third party's Maven
Central republication of upstream Nacos 3.1.0) into one fat jar, CACHE_DIR/nacos/nacos-<hash>.jar;
it is rebuilt only when the harness sources change. Needs java 17 and mvn; the first build
downloads ~200 MB into ~/.m2.

Serves, like a stock 3.x install with its ports moved: the client API (v1/v2 HTTP, gRPC on
19848) and the v3 admin API under http://127.0.0.1:18848/nacos, with the v1/v2 admin API
compatibility switch on; the console API (/v1/console/namespaces, /v3/console/...) only on the
console port, http://127.0.0.1:18080 with an empty context path (upstream's default).
Limits: slow to start (10-25 s alone, more under load), ~620 MB RSS; gRPC (19848, 19849) and raft
(17848) bind every interface (Nacos has no bind address for them); console UI off.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from tests.testbed.base import Server, cache_dir
from tests.testbed.obtain import maven, run
from tests.testbed.probes import http_get, http_json

HTTP_PORT, CONSOLE_PORT = 18848, 18080
# Fixed offsets from the main port: gRPC client +1000, gRPC cluster +1001, raft -1000.
PORTS = (HTTP_PORT, HTTP_PORT + 1000, HTTP_PORT + 1001, HTTP_PORT - 1000, CONSOLE_PORT)
BASE = f"http://127.0.0.1:{HTTP_PORT}/nacos"
CONSOLE = f"http://127.0.0.1:{CONSOLE_PORT}"
HARNESS = Path(__file__).resolve().parent.parent / "java" / "nacos"
# Serial GC + C1 only: half the CPU and ~200 MB less RSS than the defaults, same start time.
JVM_OPTIONS = ["-Xms512m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]


def harness_hash() -> str:
    """Digest of the harness sources (pom.xml and src/), which names the built jar."""
    digest = hashlib.sha256()
    files = [HARNESS / "pom.xml", *sorted(p for p in (HARNESS / "src").rglob("*") if p.is_file())]
    for path in files:
        digest.update(str(path.relative_to(HARNESS)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def jar_path() -> Path:
    return cache_dir() / "nacos" / f"nacos-{harness_hash()}.jar"


class ServerImpl(Server):
    name = "nacos"
    ports = PORTS
    ready_timeout = 240.0  # 10-25 s alone on 2 cores, far more beside other JVMs

    def obtain(self) -> None:
        jar = jar_path()
        if jar.exists():
            return
        mvn = maven()
        # Build a copy under the cache, so that no target/ lands in the source tree.
        build = jar.parent / "build"
        shutil.rmtree(build, ignore_errors=True)
        shutil.copytree(HARNESS, build, ignore=shutil.ignore_patterns("target"))
        print("building Nacos with Maven: a few minutes the first time", flush=True)
        run([mvn, "-q", "-B", "-DskipTests", "package"], cwd=build)
        for old in jar.parent.glob("nacos-*.jar"):
            old.unlink()
        shutil.copyfile(build / "target" / "nacos-testbed.jar", jar)
        shutil.rmtree(build, ignore_errors=True)

    def prepare(self, run_dir: Path) -> None:
        (run_dir / "home" / "logs").mkdir(parents=True)

    def command(self, run_dir: Path) -> list[str]:
        home = run_dir / "home"
        return [
            "java",
            *JVM_OPTIONS,
            f"-Dnacos.home={home}",
            f"-Dderby.stream.error.file={home / 'logs' / 'derby-boot.log'}",
            "-jar",
            str(jar_path()),
        ]

    def is_ready(self) -> bool:
        # The console context starts last, after the naming/config server.
        http_json(f"{BASE}/v3/admin/core/state/readiness")
        return http_get(f"{CONSOLE}/v3/console/health/readiness") is not None

    def version(self) -> str:
        return http_json(f"{BASE}/v3/admin/core/state")["data"]["version"]

    def exports(self) -> dict[str, str]:
        return {
            "NACOS_ADDR": f"127.0.0.1:{HTTP_PORT}",
            "NACOS_CONSOLE_URL": CONSOLE,
        }
