"""What the Lambda checks share: architecture names, the effort of moving to arm64, GB units."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

MIB_PER_GB = Decimal(1024)
SECONDS_PER_HOUR = Decimal(3600)
INTERPRETED = ("python", "nodejs", "ruby")
# Runtimes Lambda never offered on arm64 (arm64 needs Amazon Linux 2 or later): the function must
# first move to a current runtime of its language.
NO_ARM64_RUNTIMES = frozenset({
    "go1.x", "python2.7", "python3.6", "python3.7", "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10",
    "nodejs10.x", "java8", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "ruby2.5", "provided",
})


def arch(architectures: Iterable[str] | None) -> str:
    """The catalogue's architecture name: "arm64" when the function runs on arm64, else "x86"."""
    return "arm64" if "arm64" in (architectures or ()) else "x86"


def memory_gb(data: Mapping[str, Any]) -> Decimal | None:
    memory = data.get("memory_mb")
    if memory is None or memory == "" or Decimal(str(memory)) <= 0:
        return None
    return Decimal(str(memory)) / MIB_PER_GB


def arm64_effort(data: Mapping[str, Any]) -> tuple[str, str]:
    """(effort, why) of moving a function to arm64."""
    runtime = str(data.get("runtime") or "")
    if data.get("package_type") == "Image":
        return "Medium", "a container image: it must be rebuilt for arm64"
    if runtime in NO_ARM64_RUNTIMES:
        return "High", f"runtime {runtime} has no arm64 version: the function must first move to a current runtime"
    if runtime.startswith(INTERPRETED):
        return "Low", f"interpreted runtime {runtime} in a Zip package: only native dependencies need rebuilding"
    return "Medium", f"runtime {runtime or 'unknown'}: compiled code and native dependencies must be rebuilt for arm64"
