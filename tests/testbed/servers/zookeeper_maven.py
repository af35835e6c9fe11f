"""ZooKeeper of a chosen version from Maven Central, run standalone with ZooKeeperServerMain.

What runs: the `org.apache.zookeeper:zookeeper` jar of `zookeeper_version` with its own
dependencies, slf4j-simple as the logging backend, and metrics-core and snappy-java (3.6+
need them; ZooKeeper's pom declares them `provided`, its tarball ships them), on zookeeper.py's
small serial-GC heap and zoo.cfg (one node, all four-letter words, no admin server). Each
version is a subclass (zookeeper39.py, zookeeper34.py) naming its version, port and export.

How obtained: `mvn dependency:copy-dependencies` on tests/testbed/java/zookeeper/pom.xml with
the versions as properties, once, into CACHE_DIR/zookeeper-<version>/lib (downloads cached in
~/.m2). The lib dir is rebuilt only when the pom or the versions change (a stamp holds their
hash); it appears whole or not at all (built aside, then renamed). About 5-8 s the first time
(mostly Maven's own start), nothing after.

Limits: one node; no TLS (netty-tcnative is left out); the versions are fixed per subclass.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from tests.testbed.base import cache_dir
from tests.testbed.obtain import maven, run
from tests.testbed.servers import zookeeper

POM = Path(__file__).resolve().parents[1] / "java" / "zookeeper" / "pom.xml"


class MavenZooKeeper(zookeeper.ServerImpl):
    zookeeper_version = ""
    slf4j_version = ""  # the slf4j-api line that version uses (see the pom)

    @property
    def home(self) -> Path:
        return cache_dir() / f"zookeeper-{self.zookeeper_version}"

    def wanted(self) -> str:
        """Hash of what the lib dir is built from: a change means a rebuild."""
        digest = hashlib.sha256(POM.read_bytes())
        digest.update(f"\0{self.zookeeper_version}\0{self.slf4j_version}".encode())
        return digest.hexdigest()[:16]

    def obtain(self) -> None:
        stamp = self.home / "lib.hash"
        if stamp.is_file() and stamp.read_text() == self.wanted() and (self.home / "lib").is_dir():
            return
        stamp.unlink(missing_ok=True)
        shutil.rmtree(self.home / "lib", ignore_errors=True)
        self.home.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.home, prefix="build-") as build:
            self.copy_jars(Path(build))
            (Path(build) / "lib").rename(self.home / "lib")
        stamp.write_text(self.wanted())

    def copy_jars(self, build: Path) -> None:
        shutil.copy(POM, build)
        print(f"fetching ZooKeeper {self.zookeeper_version} jars with Maven", flush=True)
        run(
            [
                maven(),
                "-B",
                "-q",
                f"-Dzookeeper.version={self.zookeeper_version}",
                f"-Dslf4j.version={self.slf4j_version}",
                "dependency:copy-dependencies",
                f"-DoutputDirectory={build / 'lib'}",
            ],
            cwd=build,
        )

    def classpath(self) -> str:
        return str(self.home / "lib" / "*")
