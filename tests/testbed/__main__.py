"""`python -m tests.testbed up|status|down|env [NAME ...]`: run the test-bed servers locally."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from tests.testbed.base import Server, TestbedError, is_ours, read_pid, start, stop, testbed_lock
from tests.testbed.servers import SERVERS, UnknownServer, load_exactly


def timed(action, server: Server) -> tuple[str, float, bool]:
    """Run action(server); return (what it said or why it failed, seconds, succeeded)."""
    began = time.monotonic()
    try:
        said = action(server) or "ok"
    except TestbedError as error:
        return f"FAILED: {error}", time.monotonic() - began, False
    except Exception as error:  # one broken server must not hide the others' results
        return f"FAILED: {error!r}", time.monotonic() - began, False
    return said, time.monotonic() - began, True


def cmd_up(servers: list[Server]) -> int:
    with testbed_lock():
        # Sequential: apt and cargo must not run concurrently with themselves.
        obtained = {s.name: timed(lambda s: s.obtain(), s) for s in servers}
        ready = [s for s in servers if obtained[s.name][2]]
        # Parallel: most of a start is waiting for a JVM or a database to come up.
        with ThreadPoolExecutor(max_workers=len(ready) or 1) as pool:
            results = pool.map(lambda s: timed(start, s), ready)
            started = dict(zip([s.name for s in ready], results, strict=True))
    failed = False
    for server in servers:
        said, obtain_s, ok = obtained[server.name]
        if ok:
            said, start_s, ok = started[server.name]
            said = f"obtain {obtain_s:5.1f}s  start {start_s:5.1f}s  {said}"
        print(f"{server.name:<10} {said}")
        failed |= not ok
    return 1 if failed else 0


def describe(server: Server) -> tuple[str, bool]:
    """One status line for the server and whether it is up."""
    address = next(iter(server.exports().values()))
    try:
        up = bool(server.is_ready())
    except Exception:
        up = False
    version = safe_version(server) if up else "-"
    owner = "" if not up or is_ours(server.name, read_pid(server.name)) else " (not ours)"
    return f"{server.name:<11} {version:<46} {address:<38} {'up' if up else 'down'}{owner}", up


def safe_version(server: Server) -> str:
    try:
        return server.version()
    except Exception as error:  # a status line should not die on one odd server
        return f"? ({error.__class__.__name__})"


def cmd_status(servers: list[Server]) -> int:
    all_up = True
    for server in servers:
        line, up = describe(server)
        print(line)
        all_up &= up
    return 0 if all_up else 1


def cmd_env(servers: list[Server]) -> int:
    for server in servers:
        for name, value in server.exports().items():
            print(f"export {name}={shlex.quote(value)}")
    return 0


def cmd_down(servers: list[Server]) -> int:
    failed = False
    with testbed_lock():
        for server in reversed(servers):
            said, seconds, ok = timed(stop, server)
            print(f"{server.name:<10} {said} ({seconds:.1f}s)")
            failed |= not ok
    return 1 if failed else 0


COMMANDS = {"up": cmd_up, "status": cmd_status, "down": cmd_down, "env": cmd_env}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.testbed", description=__doc__)
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {', '.join(SERVERS)}")
    args = parser.parse_args(argv)
    try:
        servers = [load_exactly(name) for name in args.names or SERVERS]
    except UnknownServer as error:
        parser.error(str(error))
    except ImportError as error:  # e.g. a server module that is still being written
        parser.error(f"cannot load a test-bed server: {error}")
    return COMMANDS[args.command](servers)


if __name__ == "__main__":
    sys.exit(main())
