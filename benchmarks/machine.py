"""What the numbers were taken on, and per-process CPU and memory read from /proc.

psutil is not a dependency: /proc/<pid>/stat and /proc/<pid>/status say all we need.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (its threads included)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    # Field 2 (comm) may hold spaces; everything after its closing parenthesis is fixed.
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _CLOCK_TICKS


def memory_kib(pid: int) -> dict[str, int]:
    """``VmRSS`` (resident now) and ``VmHWM`` (resident peak), in KiB."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


@dataclass
class HostCpu:
    """Whole-machine CPU use between two readings, from /proc/stat."""

    busy: float = 0.0
    total: float = 0.0

    @staticmethod
    def read() -> HostCpu:
        first = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()[1:]
        values = [float(v) for v in first]
        idle = values[3] + (values[4] if len(values) > 4 else 0.0)  # idle + iowait
        total = sum(values[:8])  # guest time is already counted in user
        return HostCpu(busy=total - idle, total=total)

    def busy_fraction_since(self, earlier: HostCpu) -> float:
        """Fraction of all cores busy (0..1) between ``earlier`` and this reading."""
        total = self.total - earlier.total
        return (self.busy - earlier.busy) / total if total > 0 else 0.0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def describe_machine() -> dict[str, Any]:
    mem_total = 0
    for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
        if line.startswith("MemTotal:"):
            mem_total = int(line.split()[1]) // 1024
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_mib": mem_total,
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": {
            name: _version(name)
            for name in ("slack_bolt", "slack_sdk", "aiohttp", "httpx", "pydantic")
        },
        "load_average_at_start": load_average(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "shared_machine": True,
    }
