"""The console in a real browser, against the real product and two real Nacos servers:
log in, import a bad then a good config, watch services sync, pause and resume, delete."""

import uuid

import pytest

from syncapp.registries.base import Instance, ServiceKey
from tests.browser.conftest import ADMIN
from tests.browser.console import Console
from tests.support.configs import cluster, config_yaml, task
from tests.support.product import wait_for

pytestmark = pytest.mark.e2e
SERVICES = 3
INSTANCES = 2
SYNC_TIMEOUT = 90


@pytest.fixture
def tag():
    return f"ui{uuid.uuid4().hex[:6]}"


@pytest.fixture
def console(browser, console_product, screenshot_dir):
    return Console(browser, f"http://127.0.0.1:{console_product.port}", screenshot_dir)


def good_yaml(tag: str, source: str, dest: str) -> str:
    """r-nacos (source) -> Nacos 3 (destination), for this test's services only."""
    return config_yaml(
        [cluster(f"{tag}-src", "NACOS", source), cluster(f"{tag}-dst", "NACOS", dest)],
        [task(f"{tag}-src", f"{tag}-dst", f"{tag}-.*")],
    )


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def service_states(console: Console) -> dict[str, tuple[str, str, str]]:
    """name -> (state, source count, destination count), as the task page shows them, read
    in one script: the page swaps its rows while it updates itself."""
    rows = console.driver.execute_script(
        """
        return [...document.querySelectorAll("#services tbody tr[data-service]")].map((row) => [
            row.dataset.service, row.dataset.state,
            row.querySelector(".source-count").textContent.trim(),
            row.querySelector(".dest-count").textContent.trim(),
        ]);
        """
    )
    return {name: (state, source, dest) for name, state, source, dest in rows}


def every_column_shows(console: Console, pages: list[tuple[str, str, str]]) -> None:
    """At 1400 and 800 px, each page's table has every column on screen (screenshots)."""
    for width in (1400, 800):
        console.at_width(width)
        for path, table, step in pages:
            console.open(path)
            console.find(table)
            assert console.columns_off_screen(table) == [], (width, path)
            console.shoot(f"{step}-{width}px")
    console.at_width(1440)


def test_import_sync_pause_resume_through_the_console(console, nacos, nacos_alt, source_fleet, tag):
    # Every page needs a login.
    console.open("/")
    assert console.path.startswith("/login/")
    console.shoot("login")
    console.log_in(*ADMIN)
    assert console.path == "/"
    console.shoot("service-synchronization")

    # A bad YAML: the line and field are named, and nothing is created.
    console.open_dialog("#import-config")
    assert console.path == "/"  # a dialog over Service Synchronization, not another page
    console.shoot("import-config-dialog")
    good = good_yaml(tag, source=nacos_alt, dest=nacos)
    bad = good.replace(f'"{tag}-.*"', f'"{tag}-("')
    console.paste_yaml(bad)
    console.submit_in_dialog("#dry-run")
    problems = console.text("dialog[open] #problems")
    console.shoot("import-bad-yaml")
    expected_line = line_of(bad, "serviceMatchPattern")
    assert f"{expected_line} tasks[0].serviceMatchPattern invalid regular expression" in problems
    console.open("/clusters/")
    assert f"{tag}-src" not in console.text()
    console.shoot("clusters-unchanged-after-bad-yaml")

    # A good YAML: the dry run shows what would be created, then Apply creates it.
    console.open("/")
    console.open_dialog("#import-config")
    console.paste_yaml(good)
    console.submit_in_dialog("#dry-run")
    diff = console.text("dialog[open] #diff")
    console.shoot("import-dry-run-diff")
    assert "Dry run: 3 changes" in diff
    assert f"create task {tag}-src -> {tag}-dst (Service)" in diff
    console.click("#apply")
    assert "Config applied: 3 change(s)." in console.text(".messages")
    console.shoot("import-applied")

    # The import dialog speaks the YAML's field names and values, not the database's.
    console.open_dialog("#import-config")
    changed = good.replace(f'"{tag}-.*"', f'"{tag}-svc-.*"\n    autoScanAndAddService: false')
    console.paste_yaml(changed)
    console.submit_in_dialog("#dry-run")
    diff = console.text("dialog[open] #diff")
    console.shoot("import-update-diff")
    assert f"serviceMatchPattern: {tag}-.* → {tag}-svc-.*" in diff, diff
    assert "autoScanAndAddService: true → false" in diff, diff
    assert not any(name in diff for name in ("service_match_pattern", "auto_scan", "True")), diff
    console.find("dialog[open] [data-close]").click()

    # Instances registered at the source show up synced on the task's page, which is open
    # from before they exist and updates itself (no reload).
    console.click_link(f"{tag}-src")
    console.driver.execute_script("window.notReloaded = true")
    keys = [ServiceKey("public", "DEFAULT_GROUP", f"{tag}-svc-{s}") for s in range(SERVICES)]
    source_fleet.add_many(
        (key, Instance(f"10.77.{s}.{n + 1}", 8080))
        for s, key in enumerate(keys)
        for n in range(INSTANCES)
    )
    synced = {k.name: ("synced", str(INSTANCES), str(INSTANCES)) for k in keys}
    in_step = "return document.querySelector('#task-synced .figures').textContent"
    wait_for(
        lambda: service_states(console) == synced
        and console.driver.execute_script(in_step) == f"{SERVICES} / {SERVICES}",
        SYNC_TIMEOUT,
        interval=1,
        what="every service synced in the page, without a reload",
    )
    assert console.driver.execute_script("return window.notReloaded === true")
    assert console.find("#task-state").get_attribute("data-state") == "synced"
    assert console.text("#live-stamp").startswith("updated ")
    console.shoot("task-services-synced")
    task_page = console.path
    every_column_shows(
        console,
        [
            ("/", "#tasks", "tasks"),
            (task_page, "#services", "task"),
            ("/clusters/", "#clusters", "clusters"),
        ],
    )
    console.open(task_page)

    # Pause, then resume.
    console.press_task_button("pause")
    assert console.find("#task-state").get_attribute("data-state") == "paused"
    console.shoot("task-paused")
    console.press_task_button("resume")
    assert console.find("#task-state").get_attribute("data-state") != "paused"
    console.shoot("task-resumed")

    # The source cluster's page: test connection, and its discovered services.
    console.open("/clusters/")
    row = f"#clusters tr[data-cluster='{tag}-src']"
    console.click(f"{row} form button")
    assert f"{tag}-src: connected" in console.text(".messages")
    console.shoot("cluster-test-connection")
    console.click(f"{row} a[href$='/services/']")
    for key in keys:
        assert console.find(f"input[name=services][value='{key.name}']")
    console.shoot("cluster-discovered-services")

    # Delete the task (the browser asks first).
    console.open("/")
    console.click_link(f"{tag}-src")
    task_row = f"#tasks tr[data-task='{console.path.split('/')[2]}']"
    console.press_task_button("delete", confirm=True)
    assert "deleted" in console.text(".messages")
    assert not console.driver.find_elements("css selector", task_row)
    console.shoot("task-deleted")
