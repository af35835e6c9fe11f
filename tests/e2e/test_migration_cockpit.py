"""Issue 16, end to end: a real Dubbo provider and consumer move from ZooKeeper to Nacos, and
the cockpit's phase walks with them: not started -> consumers moving -> providers moving ->
done; while the consumer is on Nacos and the only provider on ZooKeeper, the task paused, the
service carries the warning. The API and `sync_status --phases` say the same."""

import json
import uuid

import pytest
import requests

from tests.harness.java_apps import GREETING_SERVICE, dubbo_consumer, dubbo_provider
from tests.support.configs import cluster, config_yaml, task
from tests.support.product import wait_for

pytestmark = pytest.mark.e2e
PHASE_WITHIN = 60.0  # a cockpit round every 2 s (FAST_TIMINGS), Dubbo and Nacos' own delays


class Cockpit:
    """The product's API for one task, as an operator's script would use it."""

    def __init__(self, product, source: str):
        token = product.manage("api_token", "admin").stdout.strip()
        self.base = f"http://127.0.0.1:{product.port}/api"
        self.headers = {"Authorization": f"Token {token}"}
        self.product = product
        tasks = self.get("/tasks/?limit=1000")["results"]
        [self.task_id] = [t["id"] for t in tasks if t["source"] == source]

    def get(self, path: str) -> dict:
        answer = requests.get(f"{self.base}{path}", headers=self.headers, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def post(self, action: str) -> None:
        url = f"{self.base}/tasks/{self.task_id}/{action}/"
        requests.post(url, headers=self.headers, timeout=10).raise_for_status()

    def service(self, name: str) -> dict | None:
        listed = self.get(f"/tasks/{self.task_id}/phases/")["services"]
        return next((s for s in listed if s["service"] == name), None)

    def wait_phase(self, name: str, phase: str, warned: bool, **sides) -> dict:
        """Until the service is in `phase`, warned or not, with the counts given as
        side_count=value (e.g. old_consumers=1); the service as the API shows it."""

        def reached():
            seen = self.service(name)
            if not seen or seen["phase"] != phase or bool(seen["warning"]) != warned:
                return None
            counts = {f"{s}_{k}": v for s in ("old", "new") for k, v in seen[s].items()}
            return seen if all(counts[k] == v for k, v in sides.items()) else None

        what = f"{name}: {phase}, {warned=}, {sides}"
        return wait_for(reached, PHASE_WITHIN, interval=1, what=what)

    def sync_status_says(self, name: str) -> dict:
        out = self.product.manage("sync_status", "--phases", "--json", "--task", str(self.task_id))
        [report] = json.loads(out.stdout)
        return next(s for s in report["services"] if s["service"] == name)


@pytest.mark.parametrize("product", ["embedded"], indirect=True)
def test_the_phase_walks_as_consumer_then_provider_move_to_nacos(product, zookeeper, nacos):
    tag = f"m{uuid.uuid4().hex[:6]}"
    version = f"8.{uuid.uuid4().int % 10000}.0"  # private to this test on shared servers
    name = f"providers:{GREETING_SERVICE}:{version}:"
    product.apply(
        config_yaml(
            [cluster(f"{tag}-zk", "ZOOKEEPER", zookeeper), cluster(f"{tag}-n", "NACOS", nacos)],
            [task(f"{tag}-zk", f"{tag}-n", name)],
        )
    )
    cockpit = Cockpit(product, f"{tag}-zk")
    on_zk, on_nacos = f"zookeeper://{zookeeper}", f"nacos://{nacos}"
    with dubbo_provider(zookeeper, version=version) as old_provider:
        with dubbo_consumer(on_zk, version=version):
            cockpit.wait_phase(
                name, "not started", False, old_providers=1, old_consumers=1, new_copies=1
            )
        with dubbo_consumer(on_nacos, version=version):
            seen = cockpit.wait_phase(
                name, "consumers moving", True, old_consumers=0, new_consumers=1
            )
            cockpit.post("pause")
            wait_for(
                lambda: cockpit.service(name)["checked_at"] > seen["checked_at"],
                PHASE_WITHIN,
                what="a cockpit read while paused",
            )
            seen = cockpit.wait_phase(name, "consumers moving", True)
            assert "stopping or pausing the sync leaves them without providers" in seen["warning"]
            said, shown = cockpit.sync_status_says(name), cockpit.service(name)
            said.pop("checked_at"), shown.pop("checked_at")  # a round may fall in between
            assert said == shown
            cockpit.post("resume")
            with dubbo_provider(zookeeper, version=version, registry=on_nacos):
                cockpit.wait_phase(
                    name, "providers moving", False, old_providers=1, new_providers=1
                )
                old_provider.process.stop()  # the last ZooKeeper provider leaves
                cockpit.wait_phase(
                    name,
                    "done",
                    False,
                    old_providers=0,
                    old_consumers=0,
                    new_providers=1,
                    new_consumers=1,
                )
