"""Test-bed core: the Server interface, the cache and run directories, and the process runner.

The runner starts each server's foreground command in its own session, records its pid in
RUN_DIR/<name>/pid, and later kills exactly that session. Nothing here daemonizes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

TERM_GRACE_SECONDS = 15.0  # JVMs flush and exit well within this on SIGTERM
KILL_GRACE_SECONDS = 5.0
LOG_TAIL_LINES = 40


def cache_dir() -> Path:
    """Kept across runs (downloads, builds): $MSESYNC_TESTBED_CACHE or ~/.cache/msesync-testbed."""
    default = Path.home() / ".cache" / "msesync-testbed"
    return Path(os.environ.get("MSESYNC_TESTBED_CACHE") or default)


def run_dir(name: str) -> Path:
    """Per-start state of one server (pid, log, data); `down` wipes it."""
    return cache_dir() / "run" / name


class TestbedError(Exception):
    """A server could not be obtained, started or stopped; the message says why."""


class Server:
    """One registry or store the tests talk to, run locally as a foreground process.

    Each server is a module tests/testbed/servers/<name>.py defining a subclass `ServerImpl`.
    The runner calls, in order: obtain(), prepare(run_dir), command()/environ() (spawned with
    cwd=run_dir), is_ready() until true or `ready_timeout`, then after_start(run_dir).
    version() and exports() are used by `status`, `env` and the pytest fixtures.
    """

    name: str = ""
    ports: tuple[int, ...] = ()  # every TCP port it binds, checked for collisions before start
    start_attempts: int = 1  # more for servers with a known flaky start
    ready_timeout: float = 120.0  # seconds `up` waits for is_ready()

    def obtain(self) -> None:
        """Download or build what command() needs, once, into CACHE_DIR or the system.

        Called on every `up`, so it must be a fast no-op when everything is already there.
        """

    def prepare(self, run_dir: Path) -> None:
        """Per-start setup in the fresh, empty run dir: data dirs, config files."""

    def command(self, run_dir: Path) -> list[str]:
        """The argv to run; it must stay in the foreground (no daemonizing, no pid files)."""
        raise NotImplementedError

    def environ(self, run_dir: Path) -> dict[str, str]:
        """Extra environment variables for the process, on top of the caller's."""
        return {}

    def is_ready(self) -> bool:
        """Cheap network probe: True once clients can use the server (may raise OSError)."""
        raise NotImplementedError

    def after_start(self, run_dir: Path) -> None:
        """One-off setup after the first successful is_ready() of a fresh start (users, DBs)."""

    def version(self) -> str:
        """The version string the running server reports about itself."""
        raise NotImplementedError

    def exports(self) -> dict[str, str]:
        """NAME -> VALUE for `env`; the first entry is the server's address."""
        raise NotImplementedError


# --- processes -------------------------------------------------------------------------------


def read_pid(name: str) -> int | None:
    """The pid `up` recorded for this server, if any."""
    try:
        return int((run_dir(name) / "pid").read_text())
    except (FileNotFoundError, ValueError):
        return None


def _stat_fields(pid: int) -> list[str]:
    # Fields after the ")" closing the command name: state, ppid, pgrp, session, ...
    text = Path(f"/proc/{pid}/stat").read_text()
    return text.rsplit(")", 1)[1].split()


def session_members(sid: int) -> list[int]:
    """Live (non-zombie) processes of session `sid`: the server and anything it forked."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat_fields(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            members.append(int(entry.name))
    return members


def is_ours(name: str, pid: int | None) -> bool:
    """True if pid is alive and is the session leader we spawned in this server's run dir.

    The cwd check guards against a recycled pid after a reboot or a crash.
    """
    if pid is None or pid not in session_members(pid):
        return False
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    return Path(cwd).is_relative_to(run_dir(name))


def signal_session(sid: int, sig: int, wait: float) -> bool:
    """Send sig to every member of the session; True once none is left within `wait` s."""
    for pid in session_members(sid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not session_members(sid):
            return True
        time.sleep(0.1)
    return not session_members(sid)


def kill_session(sid: int) -> None:
    """SIGTERM the whole session, SIGKILL what is left after the grace period, verify."""
    if signal_session(sid, signal.SIGTERM, TERM_GRACE_SECONDS):
        return
    if signal_session(sid, signal.SIGKILL, KILL_GRACE_SECONDS):
        return
    raise TestbedError(f"processes {session_members(sid)} of session {sid} survived SIGKILL")


# --- ports -----------------------------------------------------------------------------------


def port_in_use(port: int) -> bool:
    """True if something listens on the port (SO_REUSEADDR: TIME_WAIT sockets don't count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def port_owner(port: int) -> str:
    """Best-effort description of the process listening on port, for error messages."""
    try:
        out = subprocess.run(
            ["ss", "-Htlnp", f"sport = :{port}"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "an unknown process"
    found = re.search(r'users:\(\("([^"]+)",pid=(\d+)', out)
    return f"{found[1]} (pid {found[2]})" if found else "an unknown process"


def check_ports_free(server: Server) -> None:
    for port in server.ports:
        if port_in_use(port):
            raise TestbedError(
                f"{server.name}: port {port} is already taken by {port_owner(port)}, which the"
                " test bed did not start; stop it or free the port"
            )


# --- start / stop ----------------------------------------------------------------------------


def log_tail(name: str, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = (run_dir(name) / "log").read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def probe(server: Server) -> bool:
    """is_ready() that treats any exception as 'not ready' (probes hit half-started servers)."""
    try:
        return bool(server.is_ready())
    except Exception:
        return False


def spawn(server: Server, rdir: Path) -> subprocess.Popen:
    """Start the foreground command in a new session, logging to rdir/log, pid to rdir/pid."""
    env = {**os.environ, **server.environ(rdir)}
    with open(rdir / "log", "ab") as log:
        proc = subprocess.Popen(
            server.command(rdir),
            cwd=rdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (rdir / "pid").write_text(f"{proc.pid}\n")
    return proc


def wait_ready(server: Server, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + server.ready_timeout
    while not probe(server):
        if proc.poll() is not None:
            fail_start(server, f"exited with code {proc.returncode} before becoming ready")
        if time.monotonic() > deadline:
            fail_start(server, f"not ready after {server.ready_timeout:.0f} s")
        time.sleep(0.2)


def fail_start(server: Server, why: str) -> None:
    """Keep the log next to the run dir, kill what was started, and raise with the log tail."""
    rdir = run_dir(server.name)
    kept = rdir.parent / f"{server.name}.failed.log"
    tail = log_tail(server.name)
    if (rdir / "log").exists():
        shutil.copyfile(rdir / "log", kept)
        why = f"{why}; full log in {kept}"
    stop(server)
    raise TestbedError(f"{server.name}: {why}; last lines:\n{tail}")


def start(server: Server) -> str:
    """Start the server unless our own instance is already running and ready; say which.

    A server with a known flaky start (`start_attempts` > 1) is tried again from scratch."""
    for attempt in range(1, server.start_attempts + 1):
        try:
            return start_once(server)
        except TestbedError as error:
            if attempt == server.start_attempts:
                raise
            print(f"{server.name}: start attempt {attempt} failed, retrying: {error}"[:500])
    raise AssertionError("unreachable")


def start_once(server: Server) -> str:
    rdir = run_dir(server.name)
    pid = read_pid(server.name)
    if is_ours(server.name, pid) and probe(server):
        return f"already up (pid {pid})"
    stop(server)  # a leftover that is not ready, or a stale run dir from a crash
    check_ports_free(server)
    rdir.mkdir(parents=True)
    try:
        server.prepare(rdir)
        proc = spawn(server, rdir)
        wait_ready(server, proc)
        server.after_start(rdir)
    except TestbedError:
        raise  # fail_start() already cleaned up
    except Exception as error:
        fail_start(server, f"start failed: {error!r}")
    return f"started (pid {proc.pid})"


def halt(server: Server) -> None:
    """Kill the server but keep its run dir: `resume` then restarts it on the same data,
    as an operator's restart would (tests of outages use the pair)."""
    pid = read_pid(server.name)
    if is_ours(server.name, pid):
        kill_session(pid)


def resume(server: Server) -> None:
    """Start a halted server again on its existing data and wait until it is ready."""
    proc = spawn(server, run_dir(server.name))
    wait_ready(server, proc)


def stop(server: Server) -> str:
    """Kill the session recorded in the pid file, then remove the run dir."""
    rdir = run_dir(server.name)
    pid = read_pid(server.name)
    said = "not running"
    if is_ours(server.name, pid):
        kill_session(pid)
        said = f"stopped (pid {pid})"
    shutil.rmtree(rdir, ignore_errors=True)
    return said


@contextlib.contextmanager
def testbed_lock() -> Iterator[None]:
    """Serialize concurrent `up`/`down` runs (two pytest sessions, a developer and CI)."""
    lock_path = cache_dir() / "run" / ".lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
