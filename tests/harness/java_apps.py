"""Build the Java client harnesses once and run them as subprocesses.

Each Maven project under tests/harness/java/<name> is packaged into one shaded jar, cached in
CACHE_DIR/harness/<name>/ (CACHE_DIR is the test bed's, see tests.testbed.base.cache_dir) and
rebuilt only when a hash of its pom.xml and src/ changes. Builds run in a temporary copy of the
project, so no target/ appears in the source tree, and hold a file lock so that concurrent test
sessions build once.

Long-running programs (the Dubbo provider, the Curator registration) run inside a context manager
that waits for their "READY" line and kills their whole process group on exit; the Dubbo consumer
runs to completion and returns (exit code, output). Every JVM gets its own throw-away user.home,
where Dubbo and the Nacos client keep their cache files, so parallel runs share nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tests.testbed.base import cache_dir
from tests.testbed.obtain import maven, run

HARNESS_ROOT = Path(__file__).resolve().parent / "java"
JARS = {"dubbo": "harness-dubbo.jar", "curator": "harness-curator.jar"}
# Small serial-GC heaps: the machine has 2 cores shared with the test-bed servers.
JVM_OPTIONS = [
    "-Xms32m",
    "-Xmx192m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:ReservedCodeCacheSize=48m",
    "-XX:+ExitOnOutOfMemoryError",
]
READY_TIMEOUT = 60.0
TERM_GRACE_SECONDS = 15.0  # Dubbo's shutdown hook unregisters, then closes its servers
KILL_GRACE_SECONDS = 5.0
OUTPUT_TAIL_LINES = 40

DUBBO_PROVIDER = "msesync.harness.Provider"
DUBBO_CONSUMER = "msesync.harness.Consumer"
CURATOR_REGISTRAR = "msesync.harness.CuratorRegistrar"
GREETING_SERVICE = "msesync.harness.GreetingService"


class HarnessError(Exception):
    """A harness could not be built, did not get ready, or misbehaved; the message says why."""


# --- building --------------------------------------------------------------------------------


def source_hash(name: str) -> str:
    """Hash of the project's pom.xml and src/: a change to any of them means a rebuild."""
    project = HARNESS_ROOT / name
    digest = hashlib.sha256()
    files = [project / "pom.xml", *sorted(p for p in (project / "src").rglob("*") if p.is_file())]
    for path in files:
        digest.update(str(path.relative_to(project)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def home(name: str) -> Path:
    return cache_dir() / "harness" / name


def build(name: str) -> Path:
    """The jar of harness `name` ("dubbo" or "curator"), built with Maven if not cached."""
    jar = home(name) / JARS[name]
    stamp = home(name) / "source.hash"
    wanted = source_hash(name)
    if stamp.is_file() and stamp.read_text() == wanted and jar.is_file():
        return jar
    home(name).mkdir(parents=True, exist_ok=True)
    with open(home(name) / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == wanted and jar.is_file():
            return jar  # another session built it while we waited
        mvn = maven()
        stamp.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(dir=home(name), prefix="build-") as workdir:
            shutil.copy(HARNESS_ROOT / name / "pom.xml", workdir)
            shutil.copytree(HARNESS_ROOT / name / "src", Path(workdir) / "src")
            print(f"building the {name} harness with Maven", flush=True)
            run([mvn, "-q", "-B", "-DskipTests", "package"], cwd=workdir)
            os.replace(Path(workdir) / "target" / JARS[name], jar)
        stamp.write_text(wanted)
    return jar


def java() -> str:
    found = shutil.which("java")
    if not found:
        raise HarnessError("java not found; install a JDK 17+")
    return found


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind(("", 0))
        return sock.getsockname()[1]


# --- processes -------------------------------------------------------------------------------


def _run_home() -> Path:
    base = cache_dir() / "harness" / "run"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=base, prefix="home-"))


def _command(jar: Path, main_class: str, args: list[str], user_home: Path) -> list[str]:
    return [java(), *JVM_OPTIONS, f"-Duser.home={user_home}", "-cp", str(jar), main_class, *args]


def _kill_group(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Signal the process group we created; SIGKILL what is left after the grace period."""
    if proc.poll() is not None:
        return
    grace = TERM_GRACE_SECONDS if sig != signal.SIGKILL else KILL_GRACE_SECONDS
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=KILL_GRACE_SECONDS)


class JavaProcess:
    """A running harness JVM; stdout and stderr are collected, line by line, in `lines`."""

    def __init__(self, label: str, argv: list[str], user_home: Path) -> None:
        self.label = label
        self.argv = argv
        self.user_home = user_home
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,  # own process group: killed as a whole
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def tail(self, count: int = OUTPUT_TAIL_LINES) -> str:
        with self._changed:
            return "\n".join(self.lines[-count:])

    def wait_for_line(self, prefix: str, timeout: float) -> str:
        """The first output line starting with `prefix`; raises if the JVM exits or times out."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if line.startswith(prefix):
                        return line
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise HarnessError(
                        f"{self.label}: exited with code {self.proc.returncode}"
                        f" before printing {prefix!r}:\n{self.tail()}"
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError(
                        f"{self.label}: no {prefix!r} line after {timeout:.0f} s:\n{self.tail()}"
                    )
                self._changed.wait(timeout=min(left, 0.5))

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the process group (SIGTERM: clean shutdown; SIGKILL: a crash); exit code."""
        _kill_group(self.proc, sig)
        self._reader.join(timeout=5)
        return self.proc.returncode


@contextlib.contextmanager
def running(
    name: str, main_class: str, args: list[str], timeout: float = READY_TIMEOUT
) -> Iterator[JavaProcess]:
    """Start a long-running harness, wait for its READY line, kill its process group on exit."""
    jar = build(name)
    user_home = _run_home()
    try:
        process = JavaProcess(main_class, _command(jar, main_class, args, user_home), user_home)
        try:
            process.wait_for_line("READY", timeout)
            yield process
        finally:
            process.stop()
    finally:
        shutil.rmtree(user_home, ignore_errors=True)


# --- the Dubbo harness -----------------------------------------------------------------------


class DubboProvider:
    """What a running provider told us: the address it registered and its exported URL."""

    def __init__(self, process: JavaProcess) -> None:
        self.process = process
        ready = process.wait_for_line("READY", 0)
        # READY provider <host>:<port> <interface> version=<v> group=<g>
        found = re.match(r"READY provider (\S+):(\d+) ", ready)
        if not found:
            raise HarnessError(f"unexpected READY line: {ready}")
        self.host, self.port = found[1], int(found[2])
        self.exported_url = process.wait_for_line("EXPORTED ", 0).removeprefix("EXPORTED ")


@contextlib.contextmanager
def dubbo_provider(
    zookeeper: str = "127.0.0.1:12181",
    port: int | None = None,
    version: str = "1.0.0",
    group: str = "",
    registry: str | None = None,
    timeout: float = READY_TIMEOUT,
) -> Iterator[DubboProvider]:
    """A Dubbo provider of GreetingService registered (interface level) in ZooKeeper only.

    `registry` replaces the registry URL (e.g. "nacos://127.0.0.1:18848") to compare with what
    Dubbo itself writes elsewhere. The provider registers the machine's first non-loopback
    address (Dubbo never registers 127.x) and binds only that address.
    """
    args = [
        f"--zk={zookeeper}",
        f"--port={port or free_port()}",
        f"--version={version}",
        f"--group={group}",
    ]
    if registry:
        args.append(f"--registry={registry}")
    with running("dubbo", DUBBO_PROVIDER, args, timeout) as process:
        yield DubboProvider(process)


def run_dubbo_consumer(
    nacos: str = "127.0.0.1:18848",
    version: str = "1.0.0",
    group: str = "",
    calls: int = 1,
    timeout: float = 30.0,
    name: str = "msesync",
    namespace: str = "public",
) -> tuple[int, str]:
    """Run the Nacos-only consumer: `calls` greet() calls, each retried until `timeout` s after
    the start. Returns (exit code, output): 0 and one "RESULT <reply>" line per call on success.
    """
    jar = build("dubbo")
    args = [
        f"--nacos={nacos}",
        f"--namespace={namespace}",
        f"--version={version}",
        f"--group={group}",
        f"--calls={calls}",
        f"--timeout={timeout}",
        f"--name={name}",
    ]
    limit = timeout + READY_TIMEOUT
    user_home = _run_home()
    try:
        proc = subprocess.Popen(
            _command(jar, DUBBO_CONSUMER, args, user_home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        try:
            output, _ = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(proc, signal.SIGKILL)
            output, _ = proc.communicate()
            return -1, f"{output}\n(consumer killed: still running after {limit:.0f} s)"
    finally:
        shutil.rmtree(user_home, ignore_errors=True)
    return proc.returncode, output


@contextlib.contextmanager
def dubbo_consumer(
    registry: str, version: str = "1.0.0", group: str = "", timeout: float = READY_TIMEOUT
) -> Iterator[JavaProcess]:
    """A Dubbo consumer of GreetingService subscribed through `registry` (a registry URL,
    zookeeper://... or nacos://...), making no calls, until the block ends."""
    args = [f"--registry={registry}", f"--version={version}", f"--group={group}", "--stay=true"]
    with running("dubbo", DUBBO_CONSUMER, args, timeout) as process:
        yield process


# --- the Curator harness ---------------------------------------------------------------------


class CuratorInstance:
    """A running registration: its znode path and the JSON it wrote there."""

    def __init__(self, process: JavaProcess) -> None:
        self.process = process
        # READY <path> <json>
        _, self.path, payload = process.wait_for_line("READY", 0).split(" ", 2)
        self.data = json.loads(payload)


@contextlib.contextmanager
def curator_instance(
    name: str,
    port: int,
    metadata: dict[str, str] | None = None,
    address: str = "127.0.0.1",
    zookeeper: str = "127.0.0.1:12181",
    instance_id: str | None = None,
    base_path: str = "/services",
    timeout: float = READY_TIMEOUT,
) -> Iterator[CuratorInstance]:
    """One Spring-Cloud-Zookeeper-shaped Curator registration under base_path (ephemeral)."""
    args = [
        f"--zk={zookeeper}",
        f"--name={name}",
        f"--address={address}",
        f"--port={port}",
        f"--base-path={base_path}",
        f"--metadata={json.dumps(metadata or {})}",
    ]
    if instance_id:
        args.append(f"--id={instance_id}")
    with running("curator", CURATOR_REGISTRAR, args, timeout) as process:
        yield CuratorInstance(process)
