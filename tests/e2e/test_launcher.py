"""bin/msesync as users run it (embedded mode, in private data dirs; no registry needed):
help, dry runs that write nothing, one set of processes per data dir, a start that returns
once the UI answers, and status / sync_status exit codes."""

import os
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.support.product import ROOT, Product, wait_for

pytestmark = pytest.mark.e2e

BASE_CONFIG = """\
clusters:
  - clusterName: base
    clusterType: CONSUL
    connectKeyList: ["127.0.0.1:1"]
"""
# In MSESYNC_CONFIG_FILE: `start` and `apply` import it; a dry run must not.
STARTUP_CONFIG = BASE_CONFIG.replace("base", "from-startup-config")
OTHER_CONFIG = BASE_CONFIG.replace("base", "other")
# Both ends refuse connections: the scan records an error within a second or two.
FAILING_TASK = """\
clusters:
  - clusterName: dead-consul
    clusterType: CONSUL
    connectKeyList: ["127.0.0.1:1"]
  - clusterName: dead-nacos
    clusterType: NACOS
    connectKeyList: ["127.0.0.1:1"]
tasks:
  - source: dead-consul
    destination: dead-nacos
"""


def installation(tmp_path: Path) -> Product:
    product = Product(tmp_path / "data", {"MSESYNC_CONFIG_FILE": str(tmp_path / "config.yaml")})
    product.data_dir.mkdir()
    return product


@pytest.fixture
def fresh(tmp_path):
    """An installation not set up yet; whatever a test starts in it is stopped afterwards."""
    product = installation(tmp_path)
    yield product
    product.stop()


def msesync(product: Product, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bin/msesync", *args],
        cwd=ROOT,
        env=product.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def apply_file(product: Product, text: str, *flags: str) -> subprocess.CompletedProcess:
    path = product.data_dir / f"apply-{time.monotonic_ns()}.yaml"
    path.write_text(text)
    return msesync(product, "apply", "-f", str(path), *flags)


def database_dump(product: Product) -> list[str]:
    """Every row of every table (the SQLite file and its write-ahead log)."""
    with sqlite3.connect(product.data_dir / "msesync.sqlite3") as db:
        return list(db.iterdump())


def groups_of(product: Product) -> set[int]:
    """Process groups of every live process started with this data dir."""
    marker = f"MSESYNC_DATA_DIR={product.data_dir}".encode()
    groups = set()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                groups.add(os.getpgid(int(proc.name)))
        except (OSError, ProcessLookupError):
            continue  # gone meanwhile, or not ours to read
    return groups


def pid_files(product: Product) -> dict[str, int]:
    run = product.data_dir / "run"
    return {p.stem: int(p.read_text()) for p in run.glob("*.pid")}


# --- without processes -----------------------------------------------------------------


@pytest.mark.parametrize("flag", ["help", "-h", "--help"])
def test_help_prints_the_usage_and_exits_zero(fresh, flag):
    shown = msesync(fresh, flag)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: bin/msesync COMMAND")
    assert "apply -f FILE" in shown.stdout and "status" in shown.stdout


def test_an_unknown_command_prints_the_usage_and_exits_2(fresh):
    shown = msesync(fresh, "launch")
    assert shown.returncode == 2 and "usage: bin/msesync COMMAND" in shown.stderr


def test_a_dry_run_leaves_the_database_unchanged_with_a_config_file_present(tmp_path, fresh):
    product = fresh
    set_up = apply_file(product, BASE_CONFIG)  # migrates, creates the admin user, imports
    assert set_up.returncode == 0, set_up.stderr
    (tmp_path / "config.yaml").write_text(STARTUP_CONFIG)
    before = database_dump(product)

    dry = apply_file(product, OTHER_CONFIG, "--dry-run")

    assert dry.returncode == 0, dry.stderr
    assert "would create cluster other" in dry.stdout
    assert database_dump(product) == before
    assert not any("from-startup-config" in line for line in before)


def test_a_dry_run_on_a_fresh_data_dir_creates_nothing_and_says_so(tmp_path, fresh):
    product = fresh
    (tmp_path / "config.yaml").write_text(STARTUP_CONFIG)
    dry = apply_file(product, OTHER_CONFIG, "--dry-run")
    assert dry.returncode == 1
    assert "the database is not set up" in dry.stderr and "writes nothing" in dry.stderr
    assert database_dump(product) == ["BEGIN TRANSACTION;", "COMMIT;"]  # not even a table


def test_start_fails_fast_when_the_ui_cannot_start_and_leaves_nothing_running(fresh):
    product = fresh
    with socket.socket() as taken:  # the UI's port is someone else's
        taken.bind(("127.0.0.1", product.port))
        taken.listen()
        started = time.monotonic()
        failed = msesync(product, "start", "-d")
        took = time.monotonic() - started
    assert failed.returncode == 1
    assert f"the UI did not answer http://127.0.0.1:{product.port}/healthz" in failed.stderr
    assert took < 45, took  # gunicorn gives up binding after ~5 s: no 60 s wait for it
    assert pid_files(product) == {} and groups_of(product) == set()
    assert msesync(product, "status").returncode == 3


# --- one running installation, shared by the tests below (in this order) ----------------


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    product = installation(tmp_path_factory.mktemp("launcher"))
    (product.data_dir.parent / "config.yaml").write_text(STARTUP_CONFIG)
    try:
        product.start_result = msesync(product, "start", "-d")
        product.first_answer = first_answer(product)  # right away: no retry, no sleep
        yield product
    finally:
        product.stop()
        print(product.logs()[-4000:])


def first_answer(product: Product) -> int | str:
    """GET /: the status code, or why there was none."""
    url = f"http://127.0.0.1:{product.port}/"
    try:
        return requests.get(url, allow_redirects=False, timeout=5).status_code
    except requests.ConnectionError as exc:
        return repr(exc)


def test_start_returns_once_the_ui_answers(running):
    assert running.start_result.returncode == 0, running.start_result.stderr
    assert running.first_answer in (200, 302)
    assert f"UI and admin on http://127.0.0.1:{running.port}/" in running.start_result.stderr


def test_a_second_start_is_refused_and_one_set_of_processes_remains(running):
    first = pid_files(running)
    assert sorted(first) == ["beat", "keeper", "web", "worker"]
    for args in (("start", "-d"), ("start",)):  # in the background, or in the foreground
        again = msesync(running, *args, timeout=60)
        assert again.returncode == 1
        assert f"already running in {running.data_dir}" in again.stderr
    assert pid_files(running) == first
    assert groups_of(running) == set(first.values())
    assert requests.get(f"http://127.0.0.1:{running.port}/healthz", timeout=5).ok


def test_status_shows_each_process_the_url_and_the_tasks(running):
    shown = msesync(running, "status")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    lines = shown.stdout.splitlines()
    for name in ("web", "worker", "beat", "keeper"):
        [line] = [x for x in lines if x.startswith(name + " ")]
        assert line.split()[1] == "up" and "restarts 0" in line
    assert f"UI       http://127.0.0.1:{running.port}/" in lines
    assert "  no tasks" in lines


def test_status_and_sync_status_exit_non_zero_while_a_task_is_in_error(running):
    assert apply_file(running, FAILING_TASK).returncode == 0

    def error_shown():
        shown = msesync(running, "status")
        return shown if shown.returncode == 1 and "state: error" in shown.stdout else None

    shown = wait_for(error_shown, 60, 1, "status to show the task in error")
    assert "dead-consul -> dead-nacos (Service)  state: error" in shown.stdout
    sync_status = running.manage("sync_status", "--errors", check=False)
    assert sync_status.returncode == 1 and "dead-consul -> dead-nacos" in sync_status.stdout
    running.manage(
        "shell", "-c", "from syncapp.models import SyncTask; SyncTask.objects.all().delete()"
    )
    assert msesync(running, "status").returncode == 0


def test_status_counts_restarts_and_exits_non_zero_when_a_process_is_down(running):
    child = int((running.data_dir / "run/keeper.state").read_text().split()[0])
    os.kill(child, signal.SIGKILL)  # supervise restarts it

    def restarted():
        line = keeper_line(msesync(running, "status"))
        return line if line.split()[1] == "up" and "restarts 1, last exit 137" in line else None

    wait_for(restarted, 30, 0.5, "the keeper restarted")
    os.killpg(pid_files(running)["beat"], signal.SIGKILL)  # the beat and its supervisor

    def beat_down():
        shown = msesync(running, "status")
        return (
            shown
            if any(line.split()[:2] == ["beat", "down"] for line in shown.stdout.splitlines())
            else None
        )

    shown = wait_for(beat_down, 10, 0.5, "beat shown down")
    assert shown.returncode == 1


def keeper_line(shown: subprocess.CompletedProcess) -> str:
    return next(line for line in shown.stdout.splitlines() if line.startswith("keeper "))
