"""`python -m tests.testbed.matrix [FLAVOUR ...]`: the registry tests again, on other versions.

For each flavour in FLAVOURS (e.g. ZooKeeper 3.4 standing in for the default 3.8), start it and
run the kind's contract, integration and one e2e module with the flavour standing in for the
default server, then print a table: flavour, the version the server reports, the outcome.
Exit 0 only if every flavour's run passed (pytest's "no tests" counts as a failure).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass

from tests.testbed.__main__ import safe_version
from tests.testbed.base import TestbedError, start, testbed_lock
from tests.testbed.servers import FLAVOURS, STAND_INS_VARIABLE, load_exactly

CONTRACT = "tests/integration/test_registry_contract.py"
# server -> (the test paths of its kind, the -k expression that keeps that kind's tests). The
# e2e tests run on the embedded default only: the storage mode does not meet the registry.
KIND_TESTS = {
    "zookeeper": (
        (
            CONTRACT,
            "tests/integration/test_zookeeper_registry.py",
            "tests/integration/test_zookeeper_watch.py",
            "tests/e2e/test_zookeeper.py",
        ),
        "zookeeper and not mysql",
    ),
    "eureka": (
        (
            CONTRACT,
            "tests/integration/test_eureka_registry.py",
            "tests/integration/test_polling_feeds.py",
            "tests/e2e/test_eureka_consul.py",
        ),
        "eureka and not consul_passing_instances and not mysql",
    ),
    "consul": (
        (
            CONTRACT,
            "tests/integration/test_consul_registry.py",
            "tests/integration/test_polling_feeds.py",
            "tests/e2e/test_eureka_consul.py",
        ),
        "consul and not eureka_apps_reach and not mysql",
    ),
}
SUMMARY = re.compile(r"^=*\s*(\S.*\d+ (?:passed|failed|error).*) in [\d.]+s", re.M)


@dataclass
class Outcome:
    flavour: str
    version: str
    summary: str
    seconds: float
    passed: bool


def stand_in_environment(server: str, flavour: str) -> dict[str, str]:
    """The caller's environment with `flavour` standing in for `server`, and none of the
    variables that would point the server's tests back at the default one."""
    environment = dict(os.environ)
    for name in load_exactly(server).exports():
        environment.pop(name, None)
    environment[STAND_INS_VARIABLE] = f"{server}={flavour}"
    return environment


def run_flavour(server: str, flavour: str, pytest_args: list[str]) -> Outcome:
    began = time.monotonic()
    try:
        with testbed_lock():
            load_exactly(flavour).obtain()
            start(load_exactly(flavour))
    except TestbedError as error:
        return Outcome(flavour, "-", f"not started: {error}"[:300], time.monotonic() - began, False)
    paths, keyword = KIND_TESTS[server]
    argv = [sys.executable, "-m", "pytest", *paths, "-k", keyword, *pytest_args]
    print(f"\n=== {flavour} standing in for {server}: {' '.join(argv[3:])}", flush=True)
    result = subprocess.run(
        argv, env=stand_in_environment(server, flavour), stdout=subprocess.PIPE, text=True
    )
    sys.stdout.write(result.stdout)
    found = SUMMARY.findall(result.stdout)
    summary = found[-1] if found else f"pytest exited {result.returncode}"
    version = safe_version(load_exactly(flavour))
    return Outcome(flavour, version, summary, time.monotonic() - began, result.returncode == 0)


def print_table(outcomes: list[Outcome]) -> None:
    width = max(len("version"), *(len(o.version) for o in outcomes))
    print(f"\n{'flavour':<12} {'version':<{width}} {'seconds':>7}  result")
    for o in outcomes:
        verdict = "ok" if o.passed else "FAILED"
        print(f"{o.flavour:<12} {o.version:<{width}} {o.seconds:7.0f}  {verdict}: {o.summary}")


def main(argv: list[str] | None = None) -> int:
    every = [(server, f) for server, flavours in FLAVOURS.items() for f in flavours]
    parser = argparse.ArgumentParser(prog="python -m tests.testbed.matrix", description=__doc__)
    parser.add_argument("flavours", nargs="*", metavar="FLAVOUR", help="default: all")
    parser.add_argument("--pytest", default="-q -p no:cacheprovider", help="extra pytest args")
    args = parser.parse_args(argv)
    chosen = [(s, f) for s, f in every if not args.flavours or f in args.flavours]
    if not chosen:
        parser.error(f"no such flavour; known: {', '.join(f for _, f in every)}")
    outcomes = [run_flavour(s, f, shlex.split(args.pytest)) for s, f in chosen]
    print_table(outcomes)
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
