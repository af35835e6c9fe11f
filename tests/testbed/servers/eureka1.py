"""A Eureka 1.x server (Spring Cloud Netflix 3.1.8, eureka-core 1.10.18) on 127.0.0.1:18763.

A flavour of `eureka` for the version matrix (issue 17): the last Eureka line before 2.x
(javax, Jersey 1, XStream for XML), still the registry of many Spring Boot 2 estates.

What runs: our own Maven harness in tests/testbed/java/eureka1 (Spring Boot 2.7.18,
spring-cloud-dependencies 2021.0.9, `@EnableEurekaServer`), tuned like the default harness:
standalone, no self-preservation, eviction every second, no read-only response cache, no peers.
version() reads /actuator/info, where the harness reports the versions of the jars it loaded.

How obtained: as `eureka` (eureka.py: build when the harness sources change, into
CACHE_DIR/eureka1, then a CDS class archive), with two differences. Boot 2.7 has no
`-Djarmode=tools extract`, so the harness' own pom lays out the thin jar and lib/ that Maven
leaves in target/, and we copy them. Spring 5.3 has no `spring.context.exit=onRefresh`, so the
training run starts the whole server on a free port and the harness exits once Eureka is up
(`-Dtestbed.train=true`).

JDK 17: it runs on the machine's Java 17 with no --add-opens. Checked: JSON and XML reads and
writes (XStream), status overrides, the delta, the dashboard, and the registry tests; none
reaches into java.base by reflection, so no module is opened (add one here, with the class
that needed it, if a log ever shows an InaccessibleObjectException).

Known limits: those of `eureka` (one node, in memory, the lease bug).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.testbed.servers import eureka

PORT = 18763
HARNESS = Path(__file__).resolve().parents[1] / "java" / "eureka1"


class ServerImpl(eureka.ServerImpl):
    name = "eureka1"
    ports = (PORT,)
    harness = HARNESS
    jar_name = "testbed-eureka1.jar"
    cache_subdir = "eureka1"
    port = PORT
    # The harness' main() stops the server once Eureka has started; port 0: any free port.
    training_options = ["-Dtestbed.train=true"]
    training_arguments = ["--server.port=0"]

    def unpack(self, target: Path, app: Path) -> None:
        """The thin jar (its manifest's Class-Path names lib/...) and lib/, as Maven built them."""
        app.mkdir(parents=True)
        shutil.copy(target / self.jar_name, app)
        shutil.copytree(target / "lib", app / "lib")

    def exports(self) -> dict[str, str]:
        return {"EUREKA1_URL": f"{self.base_url}/eureka"}
