"""What the product's processes cost: CPU and RSS read from /proc, per process group.

`bin/msesync start -d` runs each role (web, worker, beat, keeper) in a process group of its
own whose id is in <data dir>/run/NAME.pid; a group holds the role's process and the shell
loop that restarts it.
"""

import os
from pathlib import Path


def group_processes(pgid: int) -> list[tuple[Path, list[str]]]:
    """(proc dir, stat fields after the name) of every process in a process group."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            found.append((stat.parent, fields))
    return found


def group_cpu_seconds(pgid: int) -> float:
    """utime + stime of every process in a process group, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(f[11]) + int(f[12]) for _, f in group_processes(pgid)) / ticks


def rss_mb(proc: Path) -> float:
    try:
        for line in (proc / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def largest_rss_mb(pgid: int) -> float:
    """RSS of the group's largest process (the role's own; the rest is its restart loop)."""
    return max([0.0] + [rss_mb(proc) for proc, _ in group_processes(pgid)])


def product_groups(data_dir: Path) -> dict[str, int]:
    """Role name -> process group id of a product started with `bin/msesync start -d`."""
    return {p.stem: int(p.read_text()) for p in (data_dir / "run").glob("*.pid")}
