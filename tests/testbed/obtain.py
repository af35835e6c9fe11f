"""Getting server software onto the machine, once: Debian packages, cargo- and Go-built binaries."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from tests.testbed.base import TestbedError

APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
# Wait for the dpkg lock instead of failing when another apt run (e.g. a setup script) holds it.
APT_LOCK_WAIT = ["-o", "DPkg::Lock::Timeout=600"]
# apt says these when its package lists are missing or stale: worth one `apt-get update`.
STALE_LIST_HINTS = (
    "Unable to locate package",
    "has no installation candidate",
    "404  Not Found",
)

_apt_updated = False
_apt_lock = threading.Lock()


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command, echoing it, and raise TestbedError with its output if it fails."""
    print("+ " + shlex.join(argv), flush=True)
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise TestbedError(f"command failed ({result.returncode}): {shlex.join(argv)}\n{output}")
    return result


def missing_debs(packages: list[str]) -> list[str]:
    """Those of `packages` that dpkg does not report as installed."""
    query = ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *packages]
    listed = subprocess.run(query, capture_output=True, text=True).stdout
    installed = {line.split()[0] for line in listed.splitlines() if line.endswith(" installed")}
    return [name for name in packages if name not in installed]


def apt_install(*packages: str) -> None:
    """Install Debian packages if missing; refresh the package lists once if apt needs it."""
    global _apt_updated
    with _apt_lock:
        missing = missing_debs(list(packages))
        if not missing:
            return
        install = [
            "apt-get",
            *APT_LOCK_WAIT,
            "install",
            "-y",
            "--no-install-recommends",
        ]
        try:
            run([*install, *missing], env=APT_ENV)
        except TestbedError as error:
            if _apt_updated or not any(hint in str(error) for hint in STALE_LIST_HINTS):
                raise
            run(["apt-get", *APT_LOCK_WAIT, "update"], env=APT_ENV)
            _apt_updated = True
            run([*install, *missing], env=APT_ENV)


def maven() -> str:
    """The mvn command, installed with Debian's Maven and JDK 17 when the machine lacks it."""
    if not shutil.which("mvn"):
        apt_install("maven", "openjdk-17-jdk-headless")
    return shutil.which("mvn") or "mvn"


def cargo_bin_dir() -> Path:
    return Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo") / "bin"


def cargo_install(crate: str, binary: str) -> Path:
    """`cargo install CRATE --locked` unless the binary is already in cargo's bin dir."""
    target = cargo_bin_dir() / binary
    if target.exists():
        return target
    cargo = shutil.which("cargo") or str(cargo_bin_dir() / "cargo")
    if not Path(cargo).exists():
        raise TestbedError(f"cargo not found; install Rust (rustup) to build {crate}")
    print(f"building {crate} with cargo: this takes several minutes once", flush=True)
    run([cargo, "install", crate, "--locked"])
    return target


def go() -> str:
    """The go command: on PATH, or where the Go tarball installs it."""
    found = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(found).exists():
        raise TestbedError("go not found; install Go (1.26 builds the test bed's Go servers)")
    return found


def go_environ(**extra: str) -> dict[str, str]:
    """The caller's environment plus -mod=mod (resolve what a go.mod leaves out) and `extra`.

    GOPROXY, GOMODCACHE and GOCACHE keep their defaults, so Go's own caches are reused."""
    flags = f"{os.environ.get('GOFLAGS', '')} -mod=mod".strip()
    return {**os.environ, "GOFLAGS": flags, **extra}


def go_mod_download(module: str, version: str) -> dict:
    """`go mod download -json MODULE@VERSION`: its JSON (Dir: the read-only module source)."""
    argv = [go(), "mod", "download", "-json", f"{module}@{version}"]
    print("+ " + shlex.join(argv), flush=True)
    with tempfile.TemporaryDirectory() as outside_any_module:  # no go.mod to consult or edit
        result = subprocess.run(
            argv, capture_output=True, text=True, env=go_environ(), cwd=outside_any_module
        )
    try:
        info = json.loads(result.stdout)
    except json.JSONDecodeError:
        info = {"Error": (result.stdout + result.stderr).strip()[-3000:]}
    if result.returncode != 0 or info.get("Error") or not info.get("Dir"):
        raise TestbedError(f"go mod download {module}@{version} failed: {info.get('Error')}")
    return info


def go_build(source: Path, output: Path, ldflags: str = "") -> None:
    """`go build` of the main package in `source` to `output`: static (CGO_ENABLED=0), timed."""
    began = time.monotonic()
    argv = [go(), "build", "-trimpath", "-ldflags", ldflags, "-o", str(output), "."]
    run(argv, cwd=source, env=go_environ(CGO_ENABLED="0"))
    print(f"built {output} in {time.monotonic() - began:.0f} s", flush=True)
