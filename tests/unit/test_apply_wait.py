"""import_config --wait: progress until the first full sync after the import, then a summary.

The workers are played by a stand-in for time.sleep that records what a worker would (the
e2e test in tests/e2e/test_apply_wait.py runs the real ones).
"""

import textwrap
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from syncapp.management.commands import import_config
from syncapp.models import Cluster, ServiceSync, SyncTask

pytestmark = pytest.mark.django_db

YAML = textwrap.dedent("""\
    clusters:
      - clusterName: src
        clusterType: NACOS
        connectKeyList: ["127.0.0.1:18848"]
      - clusterName: dst
        clusterType: NACOS
        connectKeyList: ["127.0.0.1:28848"]
    tasks:
      - source: src
        destination: dst
        type: Service
        mode: Bidirectional
""")


class Tty(StringIO):
    def isatty(self):
        return True


def run(tmp_path, *flags, out=None, text=YAML):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    out = out if out is not None else StringIO()
    try:
        call_command("import_config", "-f", str(path), *flags, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def fake_worker(monkeypatch, steps):
    """Each poll's sleep runs the next step (as a worker would act between two polls)."""
    pending = list(steps)
    monkeypatch.setattr(import_config, "POLL_SECONDS", 0)

    def sleep(_seconds):
        if pending:
            pending.pop(0)()

    monkeypatch.setattr(import_config.time, "sleep", sleep)


def task() -> SyncTask:
    return SyncTask.objects.get()


def scan(services=("orders", "users"), reverse_services=("billing",)):
    """What scan_task leaves behind: rows for what it found, then last_scan_at."""
    t = task()
    for name in services:
        ServiceSync.objects.get_or_create(task=t, reverse=False, service=name)
    for name in reverse_services:
        ServiceSync.objects.get_or_create(task=t, reverse=True, service=name)
    SyncTask.objects.filter(pk=t.pk).update(last_scan_at=timezone.now(), last_error="")


def synced(name, source=2, dest=2):
    def step():
        ServiceSync.objects.filter(service=name).update(
            source_count=source, dest_count=dest, last_success_at=timezone.now()
        )

    return step


def failed(name):
    def step():
        ServiceSync.objects.filter(service=name).update(
            last_error="GET /x unreachable (h: ConnectTimeout)", last_error_at=timezone.now()
        )

    return step


def test_it_waits_for_the_scan_and_every_service_then_prints_the_summary(tmp_path, monkeypatch):
    fake_worker(
        monkeypatch,
        [scan, synced("orders", 3, 3), lambda: None, synced("users"), synced("billing")],
    )
    out, error = run(tmp_path, "--wait", "--timeout", "30")
    assert error is None, error
    lines = out.splitlines()
    progress = [line for line in lines if line.startswith("[")]
    # Not a terminal: one line per change (the idle poll printed nothing).
    assert [p.split(" | ")[0].split("] ")[1] for p in progress] == [
        "0/0 services",
        "0/3 services",
        "1/3 services",
        "2/3 services",
        "3/3 services",
    ]
    assert progress[-1].startswith("[" + "#" * import_config.BAR_WIDTH + "]")
    table = lines[lines.index(next(line for line in lines if line.startswith("TASK"))) :]
    assert table[0].split() == [
        "TASK",
        "SERVICES",
        "SOURCE",
        "INSTANCES",
        "DEST",
        "INSTANCES",
        "ERRORS",
    ]
    assert table[1].split() == ["src", "->", "dst", "(Service)", "2", "5", "5", "0"]
    assert table[2].split() == ["dst", "->", "src", "(Service)", "1", "2", "2", "0"]


def test_a_sync_before_the_import_does_not_count(tmp_path, monkeypatch):
    run(tmp_path)  # the task exists, and was fully synced before this import
    scan()
    for name in ("orders", "users", "billing"):
        synced(name)()
    fake_worker(monkeypatch, [])
    out, error = run(tmp_path, "--wait", "--timeout", "0.2")
    assert error is not None and "timed out after 0.2 s" in str(error)
    assert "not scanned since the import" in str(error)
    assert "bin/msesync status" in str(error)


def test_a_service_error_ends_the_wait_at_once_with_its_text(tmp_path, monkeypatch):
    never = []  # steps after the error: the wait must not reach them
    fake_worker(monkeypatch, [scan, synced("orders"), failed("users"), never.append])
    out, error = run(tmp_path, "--wait", "--timeout", "30")
    assert error is not None and not never
    assert "src -> dst (Service) users: GET /x unreachable (h: ConnectTimeout)" in str(error)
    assert out.splitlines()[-2].split()[-1] == "1"  # the summary: the forward way's errors


def test_a_scan_error_ends_the_wait_at_once_with_its_text(tmp_path, monkeypatch):
    def scan_failed():
        t = task()
        SyncTask.objects.filter(pk=t.pk).update(
            last_scan_at=timezone.now(), last_error="src -> dst: unreachable"
        )

    fake_worker(monkeypatch, [scan_failed])
    _, error = run(tmp_path, "--wait", "--timeout", "30")
    assert error is not None and "src <-> dst (Service): src -> dst: unreachable" in str(error)


def test_an_error_from_before_the_import_is_not_taken_for_a_new_one(tmp_path, monkeypatch):
    run(tmp_path)
    SyncTask.objects.update(last_error="old trouble")  # a pass that failed before the import
    ServiceSync.objects.create(task=task(), service="orders", last_error="old", last_error_at=None)
    fake_worker(monkeypatch, [])
    _, error = run(tmp_path, "--wait", "--timeout", "0.2")
    assert error is not None and "timed out after 0.2 s" in str(error)
    assert "(last error: old trouble)" in str(error)


def test_a_config_pass_that_fails_ends_the_wait_with_its_error(tmp_path, monkeypatch):
    config = (
        YAML.replace("type: Service", "type: Config")
        .replace("Bidirectional", "Unidirectional")
        .replace("NACOS", "ZOOKEEPER")
    )

    def pass_failed():  # a failing pass records its error alone (config_jobs.sync_configs)
        SyncTask.objects.update(last_error="dst: unreachable")

    fake_worker(monkeypatch, [pass_failed])
    _, error = run(tmp_path, "--wait", "--timeout", "30", text=config)
    assert error is not None and "src -> dst (Config): dst: unreachable" in str(error)


def test_on_a_terminal_the_bar_is_redrawn_in_place(tmp_path, monkeypatch):
    fake_worker(monkeypatch, [scan, synced("orders"), synced("users"), synced("billing")])
    out, error = run(tmp_path, "--wait", out=Tty())
    assert error is None
    bar = out.split("change(s)\n", 1)[1].partition("\nTASK")[0]
    assert bar.count("\r") == 5 and "\n" not in bar
    assert "3/3 services | 1/1 tasks scanned" in bar.rsplit("\r", 1)[1]


def test_a_paused_task_is_not_waited_for(tmp_path, monkeypatch):
    run(tmp_path)
    SyncTask.objects.update(paused=True)
    fake_worker(monkeypatch, [])
    out, error = run(tmp_path, "--wait", "--timeout", "5")
    assert error is None and "[paused]" in out


def test_bad_flags_change_nothing(tmp_path):
    for flags in (("--wait", "--dry-run"), ("--wait", "--timeout", "0")):
        _, error = run(tmp_path, *flags)
        assert error is not None and "nothing imported" in str(error)
    assert not Cluster.objects.exists()
