"""One scan, exactly as the product runs it, in a fresh process; prints one JSON line.

Run by bench/run.py with AWS_ENDPOINT_URL pointing at the replay server, so peak RSS
(``ru_maxrss``) is this one scan's, not the benchmark's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role-arn", required=True)
    parser.add_argument("--external-id", required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--regions", required=True)
    parser.add_argument("--what-if", default="", help="comma separated: fast-timestamps (not the product's code)")
    args = parser.parse_args()
    if "fast-timestamps" in args.what_if.split(","):
        _fast_timestamps()

    started = time.perf_counter()
    from finops.collect import discover
    from finops.config import Settings
    from finops.scan import run_scan

    imported = time.perf_counter()
    settings = Settings(scan_concurrency=args.workers, regions=tuple(args.regions.split(",")))
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = run_scan(args.role_arn, args.external_id, settings)
    wall = time.perf_counter() - t0

    findings = sorted(
        (f.check_id, f.region, f.resource_id, str(f.monthly_savings)) for f in result.findings
    )
    inventory = sorted((i.resource_type, i.region, i.resource_id) for i in result.inventory)
    per_type: dict[str, int] = {}
    for resource_type, _, _ in inventory:
        per_type[resource_type] = per_type.get(resource_type, 0) + 1
    print(json.dumps({
        "workers": args.workers,
        "scan_s": round(wall, 3),
        "import_s": round(imported - started, 3),
        "api_calls": sum(c.api_calls for c in result.coverage),
        "attempts": sum(c.attempts for c in result.coverage),
        "retries": sum(c.retries for c in result.coverage),
        "reads": len(result.coverage),
        # reads that failed (a check's own rows, e.g. a price the catalogue lacks there, are not reads)
        "not_ok": [(c.source, c.region, c.status, c.detail) for c in result.coverage
                   if c.status != "ok" and not c.source.startswith("check:")],
        "unpriced_findings": sum(1 for f in result.findings if f.monthly_savings is None),
        # the longest chains of sequential calls: at L ms per call a read takes >= calls x L
        "longest_reads": [
            (c.source, c.region, c.api_calls)
            for c in sorted(result.coverage, key=lambda c: -c.api_calls)[:5]
        ],
        "regions": len(result.regions),
        "inventory": len(inventory),
        "inventory_by_type": per_type,
        "findings": len(findings),
        "commitments": len(result.commitments),
        # CPU of the checks engine (context, every check, merge) over this inventory, and of the whole scan
        "checks_cpu_s": result.checks.cpu_seconds,
        "scan_cpu_s": round(time.process_time() - cpu0, 3),
        "collectors": sorted(discover()),
        # identical across runs when the replay is faithful (checked by run.py)
        "digest": hashlib.sha256(json.dumps([findings, inventory]).encode()).hexdigest()[:16],
        "peak_rss_mb": peak_rss_mb(),
    }))


def _fast_timestamps() -> None:
    """What-if: parse ISO 8601 timestamps with datetime.fromisoformat, dateutil only as a fallback.

    botocore parses every timestamp in a response with dateutil, which is about half of the XML
    parsing time of a large EC2 answer. The product would do this per session with
    ``ResponseParserFactory.set_parser_defaults(timestamp_parser=...)``; here it is the module default.
    """
    from datetime import UTC, datetime

    import botocore.parsers
    from botocore.utils import parse_timestamp

    def parse(value):  # type: ignore[no-untyped-def]
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return parse_timestamp(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    botocore.parsers.DEFAULT_TIMESTAMP_PARSER = parse


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MB.

    VmHWM, not ``ru_maxrss``: Linux carries the forking parent's high-water mark over ``exec``
    into ``ru_maxrss`` (exec_mmap keeps the old mm's peak in signal->maxrss), so a child of a
    large benchmark process would report the parent's size instead of its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


if __name__ == "__main__":
    main()
