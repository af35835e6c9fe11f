"""The migration cockpit in a real browser (issue 16): r-nacos -> Nacos 3, with services in
three phases, one of them with a real app subscribed at Nacos. The page's counts, filter and
warning match what the API and `sync_status --phases` say; every column is on screen at 1400
and 800 px (screenshots)."""

import json
import re
import uuid

import pytest
import requests

from syncapp.registries.base import Instance, ServiceKey
from tests.browser.conftest import ADMIN
from tests.browser.console import Console
from tests.support.configs import cluster, config_yaml, task
from tests.support.fleet import NacosFleet
from tests.support.nacos_sdk import subscribed
from tests.support.product import wait_for

pytestmark = pytest.mark.e2e
PHASES_WITHIN = 90


@pytest.fixture
def console(browser, console_product, screenshot_dir):
    return Console(browser, f"http://127.0.0.1:{console_product.port}", screenshot_dir)


@pytest.fixture
def dest_fleet(nacos):
    """Apps that already moved: native instances at Nacos 3, the new side."""
    fleet = NacosFleet(nacos)
    yield fleet
    fleet.close()


def api_phases(product, task_id: int) -> dict:
    token = product.manage("api_token", "admin").stdout.strip()
    url = f"http://127.0.0.1:{product.port}/api/tasks/{task_id}/phases/"
    return requests.get(url, headers={"Authorization": f"Token {token}"}, timeout=10).json()


def page_counts(console: Console) -> dict[str, int]:
    pairs = console.driver.execute_script(
        """return [...document.querySelectorAll("nav.phases a[data-phase]")]
               .map((a) => [a.dataset.phase, a.dataset.count]);"""
    )
    return {phase: int(count) for phase, count in pairs}


def test_the_cockpit_page_says_what_the_api_and_sync_status_say(
    console, console_product, nacos, nacos_alt, source_fleet, dest_fleet, tmp_path
):
    tag = f"ck{uuid.uuid4().hex[:6]}"
    key = {n: ServiceKey("public", "DEFAULT_GROUP", f"{tag}-{n}") for n in ("a", "b", "c")}
    for n in key:  # every service starts on the old side
        source_fleet.add(key[n], Instance("10.78.0.1", 8080))
    dest_fleet.add(key["b"], Instance("10.78.1.1", 8080))  # b's provider has moved too
    console_product.apply(
        config_yaml(
            [cluster(f"{tag}-src", "NACOS", nacos_alt), cluster(f"{tag}-dst", "NACOS", nacos)],
            [task(f"{tag}-src", f"{tag}-dst", f"{tag}-.*")],
        )
    )
    console.open("/")
    if console.path.startswith("/login/"):
        console.log_in(*ADMIN)
    console.click_link(f"{tag}-src")
    task_id = int(re.search(r"/tasks/(\d+)/", console.path)[1])
    expected = {"not started": 1, "consumers moving": 1, "providers moving": 1}
    with subscribed(nacos, key["c"].name, str(tmp_path)):  # c's consumer has moved
        console.click("#task-migration")

        def shown():
            console.open(f"/tasks/{task_id}/migration/")
            counts = page_counts(console)
            return counts if all(counts.get(p) == n for p, n in expected.items()) else None

        counts = wait_for(shown, PHASES_WITHIN, interval=2, what="three phases on the page")
        assert console.find("#phase-warnings").get_attribute("data-count") == "1"
        warned = console.find('tr[data-service$="-c"] td.error').text
        assert f"1 consumer(s) on {tag}-dst reach only copies of {tag}-src's providers" in warned
        api = api_phases(console_product, task_id)
        assert api["counts"] == counts and api["warnings"] == 1
        out = console_product.manage("sync_status", "--phases", "--json", "--task", str(task_id))
        # The same facts, phases and warnings; a round (every 2 s here) may fall in between.
        assert [without_check_times(r) for r in json.loads(out.stdout)] == [
            without_check_times(api)
        ]

        console.open(f"/tasks/{task_id}/migration/?phase=consumers+moving")
        rows = console.driver.execute_script(
            "return [...document.querySelectorAll('#phases tbody tr[data-service]')]"
            ".map((r) => r.dataset.service)"
        )
        assert rows == [key["c"].name]
        for width in (1400, 800):
            console.at_width(width)
            console.open(f"/tasks/{task_id}/migration/")
            assert console.columns_off_screen("#phases") == [], width
            console.shoot(f"migration-cockpit-{width}px")
        console.at_width(1440)


def without_check_times(report: dict) -> dict:
    services = [{k: v for k, v in s.items() if k != "checked_at"} for s in report["services"]]
    return {**report, "services": services}
