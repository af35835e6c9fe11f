"""The hostile corpus (tests/hostile/) through `manage.py import_config -f` and the console's
Import Config: a line-and-field message or an acceptance, never a traceback or a 500; nothing
refused changes the database; the heaviest files stay within 300 MB and 10 s."""

import os
import re
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from syncapp.models import Cluster, SyncTask
from tests.hostile import corpus

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PROBLEM_LINE = re.compile(r"^line \d+: \S.*?: \S", re.M)  # line N: field: message
MAX_RSS_MB = 300
MAX_SECONDS = 10
HEAVIEST = [
    "generated/anchor-bomb-10-levels",
    "generated/anchor-bomb-8-levels",
    "generated/deep-flow-10000",
    "generated/deep-block-10000",
    "generated/namespace-10mb",
    "generated/clusters-60000",
    "generated/clusters-60000-flow",
    "generated/scalars-60000",
    "generated/clusters-1000-ok",
]


@pytest.fixture(scope="module")
def files():
    return corpus.corpus()


def snapshot():
    return list(Cluster.objects.values()), list(SyncTask.objects.values())


def test_the_corpus_covers_every_category(files):
    assert len(files) >= 375
    names = " ".join(files)
    for category in (
        "anchor-bomb-10",
        "python-object",
        "custom-tag",
        "int-abc",
        "bool-maybe",
        "merge-key",
        "invalid-date",
        "big-int",
        "list-key",
        "deep-flow-10000",
        "nul-",
        "lone-surrogate",
        "latin1",
        "empty-cluster-name",
        "connect-file-url",
        "connect-bad-port",
        "connect-header-injection",
        "empty-pattern",
        "duplicate-clusters-block",
        "name-100000-chars",
        "namespace-10mb",
        "clusters-60000",
    ):
        assert category in names, category


def import_file(path: Path) -> str:
    out = StringIO()
    call_command("import_config", "-f", str(path), stdout=out)
    return out.getvalue()


def test_every_file_through_the_cli_is_refused_by_line_and_field_or_accepted(files, tmp_path):
    accepted = []
    for name, data in files.items():
        path = tmp_path / "config.yaml"
        path.write_bytes(data)
        before = snapshot()
        try:
            import_file(path)
        except CommandError as exc:
            message = str(exc)
            assert not corpus.must_be_accepted(name), (name, message)
            assert "nothing imported" in message and PROBLEM_LINE.search(message), (name, message)
            assert snapshot() == before, name
        else:
            assert corpus.must_be_accepted(name) or corpus.may_be_either(name), name
            accepted.append(name)
    assert {n for n in files if corpus.must_be_accepted(n)} <= set(accepted)


def test_every_file_through_the_console_gets_a_readable_answer(files, console):
    for name, data in files.items():
        before = snapshot()
        upload = SimpleUploadedFile("config.yaml", data, content_type="text/yaml")
        page = console.post("/import/", {"file": upload, "action": "dry-run"})
        body = page.content.decode()
        if page.status_code == 200:
            assert corpus.must_be_accepted(name) or corpus.may_be_either(name), name
            assert 'id="diff"' in body, name
            continue
        assert page.status_code == 400 and not corpus.must_be_accepted(name), name
        readable = 'class="problem"' in body and re.search(r'<td class="num">\d+</td>', body)
        assert readable or 'class="errorlist' in body, (name, body[:2000])
        assert snapshot() == before, name


def test_pasted_hand_written_files_get_the_same_problems_as_uploaded(files, console):
    for name, data in corpus.hand_written().items():
        try:
            text = data.decode()
        except UnicodeDecodeError:
            continue
        pasted = console.post("/import/", {"yaml": text, "action": "dry-run"})
        upload = SimpleUploadedFile("config.yaml", data, content_type="text/yaml")
        uploaded = console.post("/import/", {"file": upload, "action": "dry-run"})
        assert pasted.status_code == uploaded.status_code, name
        assert _problems(pasted) == _problems(uploaded), name


def _problems(page) -> list[str]:
    return re.findall(r'<tr class="problem">(.*?)</tr>', page.content.decode(), re.S)


def test_a_10_mb_paste_gets_a_page_that_says_what_to_do(console):
    page = console.post("/import/", {"yaml": "x" * 10_000_000, "action": "dry-run"})
    assert page.status_code == 400
    assert "1 MiB" in page.content.decode()


# --- bounded in a process of its own ---------------------------------------------------------


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A migrated SQLite database for the import processes."""
    path = tmp_path_factory.mktemp("data")
    env = {**os.environ, "MSESYNC_DATA_DIR": str(path)}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    return path


# The child reports its own peak (VmHWM of its address space) as its last stderr line:
# ru_maxrss would count the forking pytest process too (Linux carries the pre-exec peak over),
# and pytest alone grows past 300 MB over the whole suite.
PEAK_REPORTER = """
import atexit, runpy, sys
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("\\npeak-kb " + line.split()[1] + "\\n")
atexit.register(peak)
sys.argv = sys.argv[1:]
runpy.run_path("manage.py", run_name="__main__")
"""


def measured_import(path: Path, data_dir: Path) -> tuple[int, str, float, float]:
    """(exit status, stderr, seconds, peak RSS in MB) of one `manage.py import_config -f`."""
    env = {**os.environ, "MSESYNC_DATA_DIR": str(data_dir)}
    started = time.monotonic()
    child = subprocess.run(
        [sys.executable, "-c", PEAK_REPORTER, "manage.py", "import_config", "--dry-run"]
        + ["-f", str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stderr, _, peak = child.stderr.decode(errors="replace").rpartition("\npeak-kb ")
    return child.returncode, stderr, time.monotonic() - started, int(peak.split()[0]) / 1024


@pytest.mark.parametrize("name", HEAVIEST)
def test_the_heaviest_files_stay_within_300_mb_and_10_s(name, files, data_dir, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(files[name])
    status, stderr, seconds, rss_mb = measured_import(path, data_dir)
    print(f"{name}: exit {status}, {seconds:.2f} s, peak RSS {rss_mb:.0f} MB")
    assert "Traceback" not in stderr, stderr[-2000:]
    assert rss_mb <= MAX_RSS_MB and seconds <= MAX_SECONDS, (rss_mb, seconds)
    if corpus.must_be_accepted(name):
        assert status == 0, stderr
    else:
        assert status != 0 and PROBLEM_LINE.search(stderr), stderr[-2000:]
