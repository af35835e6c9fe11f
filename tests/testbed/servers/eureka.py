"""A real Spring Cloud Netflix Eureka server (4.3.0, eureka-core 2.0.4) on 127.0.0.1:18761.

What runs: our own Maven harness in tests/testbed/java/eureka (Spring Boot 3.5.7,
spring-cloud-dependencies 2025.0.0, `@EnableEurekaServer`), standalone and tuned for tests:
no self-preservation, eviction every second, no read-only response cache, no peers.
version() reads /actuator/info, where the harness reports the versions of the jars it loaded.

How obtained: `mvn -B -DskipTests package` (dependencies come from Maven Central into ~/.m2),
only when CACHE_DIR/eureka lacks a build of the current harness sources (a hash of pom.xml and
src/). The fat jar is extracted (faster start) and a CDS class archive is trained once (start
in ~4 s instead of ~8 s; without it the server still runs, just slower to start).

The build, extraction and class archive are parameterised by the class attributes (harness
dir, jar name, cache subdir, port), so other Eureka versions (eureka1.py) reuse them.

Known limits: one node, no replication; writes and reads are in memory only. An instance that
was renewed expires after about twice its durationInSecs (Eureka's long-standing lease bug), one
never renewed after durationInSecs. XML for a single instance shows OUT_OF_SERVICE as DOWN;
empty metadata comes back in JSON as {"@class": "java.util.Collections$EmptyMap"}.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from tests.testbed.base import Server, TestbedError, cache_dir
from tests.testbed.obtain import maven, run
from tests.testbed.probes import http_get, http_json

PORT = 18761
BASE_URL = f"http://127.0.0.1:{PORT}"
HARNESS = Path(__file__).resolve().parents[1] / "java" / "eureka"
JAR_NAME = "testbed-eureka.jar"
# Small serial-GC heap and code cache: the test bed shares 2 cores with other JVMs.
JVM_OPTIONS = [
    "-Xms64m",
    "-Xmx192m",
    "-Xss256k",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:ReservedCodeCacheSize=32m",
    "-XX:MaxMetaspaceSize=128m",
]


def source_hash(harness: Path) -> str:
    """Hash of the harness sources: a change to any of them means a rebuild."""
    digest = hashlib.sha256()
    files = [harness / "pom.xml", *sorted(p for p in (harness / "src").rglob("*") if p.is_file())]
    for path in files:
        digest.update(str(path.relative_to(harness)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


class ServerImpl(Server):
    name = "eureka"
    ports = (PORT,)
    ready_timeout = 90.0
    # What differs between Eureka versions built from a Maven harness (see eureka1.py).
    harness = HARNESS
    jar_name = JAR_NAME
    cache_subdir = "eureka"
    port = PORT
    jvm_options = JVM_OPTIONS
    # Makes a start stop at context refresh (Spring 6.1+), before any port is bound.
    training_options = ["-Dspring.context.exit=onRefresh"]
    training_arguments: list[str] = []

    @property
    def home(self) -> Path:
        return cache_dir() / self.cache_subdir

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def obtain(self) -> None:
        wanted = source_hash(self.harness)
        stamp = self.home / "source.hash"
        if (
            stamp.is_file()
            and stamp.read_text() == wanted
            and (self.home / "app" / self.jar_name).is_file()
        ):
            return
        mvn = maven()
        stamp.unlink(missing_ok=True)
        shutil.rmtree(self.home / "app", ignore_errors=True)
        (self.home / "app.jsa").unlink(missing_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.home, prefix="build-") as build:
            shutil.copy(self.harness / "pom.xml", build)
            shutil.copytree(self.harness / "src", Path(build) / "src")
            print(f"{self.name}: building its Maven harness (~20 s the first time)", flush=True)
            run([mvn, "-q", "-B", "-DskipTests", "package"], cwd=build)
            self.unpack(Path(build) / "target", self.home / "app")
        self.train_class_archive()
        stamp.write_text(wanted)

    def unpack(self, target: Path, app: Path) -> None:
        """Lay out app/<jar_name> plus app/lib/ from Maven's target dir: Boot's extract mode."""
        extract = ["java", "-Djarmode=tools", "-jar", str(target / self.jar_name), "extract"]
        run([*extract, "--destination", str(app)])

    def java(self, *options: str, arguments: list[str] | tuple[str, ...] = ()) -> list[str]:
        """The argv that runs the extracted app with our JVM options plus `options`."""
        jar = str(self.home / "app" / self.jar_name)
        return ["java", *self.jvm_options, *options, "-jar", jar, *arguments]

    def train_class_archive(self) -> None:
        """One start that dumps the classes it loaded into a CDS archive as it exits."""
        archive = self.home / "app.jsa"
        dump = f"-XX:ArchiveClassesAtExit={archive}"
        try:
            run(
                self.java(dump, *self.training_options, arguments=self.training_arguments),
                cwd=self.home,
            )
        except TestbedError as error:
            archive.unlink(missing_ok=True)
            print(f"{self.name}: no class archive, starts will be slower: {error}", flush=True)

    def command(self, run_dir: Path) -> list[str]:
        archive = self.home / "app.jsa"
        return self.java(*([f"-XX:SharedArchiveFile={archive}"] if archive.is_file() else []))

    def is_ready(self) -> bool:
        http_get(f"{self.base_url}/eureka/apps")  # raises until Jersey serves the registry
        return True

    def version(self) -> str:
        # {"eureka": {"spring-cloud-netflix": "4.3.0", "eureka-core": "2.0.4", ...}}
        versions = http_json(f"{self.base_url}/actuator/info").get("eureka", {})
        netflix = versions.get("spring-cloud-netflix", "unknown")
        return f"{netflix} (eureka-core {versions.get('eureka-core', 'unknown')})"

    def exports(self) -> dict[str, str]:
        return {"EUREKA_URL": f"{self.base_url}/eureka"}
