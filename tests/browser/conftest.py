"""Browser tests: headless Chromium (Debian's, driven by Selenium) against the real product.

The browser and its driver come from Debian (`chromium`, `chromium-driver`), installed on
first use, so a fresh machine needs no browser download from anywhere else. A missing
browser or server skips locally and fails when CI=true, like every test-bed fixture.
"""

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.support.product import ROOT, Product

BROWSER_PACKAGES = ("chromium", "chromium-driver")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT_ROOT = ROOT / "var" / "test-artifacts" / "screenshots"
ADMIN = ("admin", "e2e-admin-pw")  # what tests.support.product.Product sets at first start
_screenshot_dirs: list[Path] = []  # this run's, for the summary line


def missing(reason: str) -> None:
    """Skip locally, fail on CI (a missing browser there is a broken pipeline)."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_paths() -> tuple[str, str]:
    """Debian's Chromium and its WebDriver, installed with apt when absent."""
    from tests.testbed.base import TestbedError
    from tests.testbed.obtain import apt_install

    try:
        apt_install(*BROWSER_PACKAGES)
    except TestbedError as error:
        missing(f"could not install {' and '.join(BROWSER_PACKAGES)}: {error}")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            missing(f"{path} is missing after installing {BROWSER_PACKAGES}")
    return CHROMIUM, CHROMEDRIVER


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """One directory per run, printed in the summary, so screenshots of runs never mix."""
    path = SCREENSHOT_ROOT / time.strftime("%Y%m%d-%H%M%S")
    path.mkdir(parents=True, exist_ok=True)
    _screenshot_dirs.append(path)
    return path


@pytest.fixture
def browser(chromium_paths, screenshot_dir):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium_paths
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests run as root on CI
        "--disable-dev-shm-usage",
        "--window-size=1440,1000",
        "--disable-gpu",
    ):
        options.add_argument(argument)
    # An explicit driver path: Selenium Manager would otherwise try to download one.
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def console_product(tmp_path_factory, nacos, nacos_alt):
    """The product as users run it (bin/msesync start -d), in a data dir of its own."""
    running = Product(tmp_path_factory.mktemp("console-product"))
    running.start()
    yield running
    running.stop()
    print(running.logs()[-4000:])


def pytest_terminal_summary(terminalreporter):
    for path in _screenshot_dirs:
        terminalreporter.write_line(f"browser screenshots: {path}")
