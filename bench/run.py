"""Scan benchmark: a 10,000-resource account over 17 regions, scanned with the default pool and
with one worker, at 0 ms and 100 ms per AWS call, and with the default pool while 30 % of calls
are throttled, side by side in the same run. One command: ``python bench/run.py``.

1. Start the local AWS (moto + front) in this process and seed the account through moto's
   backends (bench/scenario.py).
2. Scan it once through the replay server in record mode: every answer is kept in memory.
3. Replay: each measured scan runs in a fresh subprocess (bench/scan_once.py, so peak RSS is that
   scan's), against the replay server, which answers from memory after ``latency`` ms per call,
   and (throttled runs) answers a random ``--throttle`` share of calls with AWS's throttling error.

Prints a table and a ``BENCH_JSON`` line, and writes bench/results/latest.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
NETGUARD_DIR = ROOT / "tests" / "netguard"
sys.path[:0] = [str(ROOT), str(NETGUARD_DIR), str(BENCH)]
os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"  # before moto builds any EC2 backend

import netguard  # noqa: E402  the tests' loopback-only guard: this benchmark never leaves 127.0.0.1

NETGUARD_LOG = Path(tempfile.mkdtemp(prefix="finops-bench-")) / "netguard.log"
NETGUARD_LOG.write_text("")
netguard.install(str(NETGUARD_LOG))

import scenario  # noqa: E402

from finops.config import Settings  # noqa: E402
from finops.sandbox import seed  # noqa: E402
from finops.sandbox.replay import ReplayServer  # noqa: E402
from finops.sandbox.server import LocalAWS  # noqa: E402

EXTERNAL_ID = "fp-bench-external-id-0001"
TARGET_SPEEDUP_AT_100MS = 5.0
TARGET_PEAK_RSS_MB = 300.0
TARGET_CHECKS_CPU_S = 1.0
TARGET_THROTTLED_RATIO = 1.5  # issue 10: a scan with 30 % of calls throttled takes <= 1.5x the unthrottled one
THROTTLE_SEED = 10


def run_child(replay: ReplayServer, role_arn: str, workers: int, regions: list[str], what_if: str = "",
              code: Path = ROOT) -> dict:
    """One scan in a fresh process, by the code in ``code`` (this checkout, or an earlier commit's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINOPS_")}
    env.update({
        "AWS_ENDPOINT_URL": replay.url,
        "NETGUARD_LOG": str(NETGUARD_LOG),
        "PYTHONPATH": os.pathsep.join([str(NETGUARD_DIR), str(code)]),
    })
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(code / "bench" / "scan_once.py"), "--role-arn", role_arn, "--external-id", EXTERNAL_ID,
         "--workers", str(workers), "--regions", ",".join(regions), "--what-if", what_if],
        env=env, capture_output=True, text=True, timeout=1800, cwd=str(code),
    )
    if proc.returncode != 0:
        raise SystemExit(f"scan subprocess failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = round(time.perf_counter() - started, 3)
    out.setdefault("retries", out.get("attempts", 0) - out.get("api_calls", 0))  # older scan_once.py
    return out


def measure(replay: ReplayServer, role_arn: str, workers: int, latency_ms: int, regions: list[str],
            repeat: int, what_if: str = "", throttle: float = 0.0, code: Path = ROOT, label: str = "") -> dict:
    runs = []
    for number in range(repeat):
        replay.replay(latency_ms, throttle_rate=throttle, seed=THROTTLE_SEED + number)
        replay.latency_by_service = {"s3": 0} if "s3-free" in what_if else {}
        replay.reset_stats()
        run = run_child(replay, role_arn, workers, regions, what_if, code)
        stats = replay.stats.as_dict()
        # Throttled answers the scan's reads got (the scanner's own AssumeRole calls are not reads).
        throttled_reads = stats["throttled"] - stats["throttled_by_action"].get("sts:AssumeRole", 0)
        run.update(http_requests=stats["requests"], replay_misses=stats["misses"],
                   missed_keys=stats["missed_keys"][:3], throttled=stats["throttled"],
                   throttled_reads=throttled_reads)
        runs.append(run)
        shown = f" what-if {what_if}" if what_if else ""
        shown += f" throttled {throttle:.0%}" if throttle else ""
        shown += f" ({label})" if label else ""
        print(f"  latency={latency_ms:>3} ms workers={workers}{shown}: scan {run['scan_s']:.2f} s, "
              f"{run['api_calls']} API calls, {run['http_requests']} HTTP requests"
              + (f" ({run['throttled']} throttled, {run['retries']} retries in coverage)" if throttle else "")
              + f", peak RSS {run['peak_rss_mb']:.0f} MB", flush=True)
    best = dict(runs[0])
    best["scan_s"] = round(statistics.median(r["scan_s"] for r in runs), 3)
    best["scan_s_all"] = [r["scan_s"] for r in runs]
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    best["replay_misses"] = sum(r["replay_misses"] for r in runs)
    best["latency_ms"] = latency_ms
    best["what_if"] = what_if
    best["throttle"] = throttle
    best["code"] = label or "this checkout"
    best["throttled_all"] = [r["throttled"] for r in runs]
    best["retries_all"] = [r["retries"] for r in runs]
    best["throttled_reads_all"] = [r["throttled_reads"] for r in runs]
    best["not_ok_all"] = [r["not_ok"] for r in runs]
    best["digests"] = sorted({r["digest"] for r in runs})
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--latencies", default="0,100", help="ms per call, comma separated")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration (median is reported)")
    parser.add_argument("--output", default=str(BENCH / "results" / "latest.json"))
    parser.add_argument("--pool", type=int, default=Settings().scan_concurrency,
                        help="the pool size compared with one worker (default: the product's default)")
    parser.add_argument("--throttle", type=float, default=0.3,
                        help="share of calls throttled in the throttled runs (0 to skip them)")
    parser.add_argument("--before", metavar="COMMIT", default="",
                        help="also scan with this commit's code (git archive), unthrottled and throttled")
    parser.add_argument("--what-if", action="store_true",
                        help="also run what-if scans at 100 ms (changes not in the product yet, see bench/README.md)")
    args = parser.parse_args()
    latencies = [int(x) for x in args.latencies.split(",")]
    regions = list(scenario.DEFAULT_REGIONS)
    default_workers = args.pool
    load_before = os.getloadavg()
    bench_started = time.perf_counter()

    print(f"Seeding {args.resources:,} resources over {len(regions)} regions in the local AWS ...", flush=True)
    local = LocalAWS().start()
    os.environ.update(local.env())
    customer = seed.customer_admin()
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    t0 = time.perf_counter()
    layout = scenario.seed(customer, args.resources, regions)
    _load_costs(local, customer.account_id)
    seed_s = time.perf_counter() - t0
    print(f"  seeded {layout.as_dict()} in {seed_s:.1f} s", flush=True)

    replay = ReplayServer(upstream=local.url).start()
    print("Recording one scan through moto (the emulator's CPU time dominates this one) ...", flush=True)
    recorded = run_child(replay, role_arn, default_workers, regions)
    record_stats = replay.stats.as_dict()
    print(f"  recorded {len(replay.answers)} distinct answers ({replay.response_bytes() / 1e6:.1f} MB) "
          f"from {record_stats['requests']} requests; scan through moto took {recorded['scan_s']:.1f} s; "
          f"collectors: {', '.join(recorded['collectors'])}", flush=True)
    local.stop()  # from here on nothing can reach moto: every answer comes from the recording
    _quiet_parent()

    print("Replaying (fresh process per scan) ...", flush=True)
    results = []
    for latency in latencies:
        for workers in (default_workers, 1):
            results.append(measure(replay, role_arn, workers, latency, regions, args.repeat))
        if args.throttle:
            results.append(measure(replay, role_arn, default_workers, latency, regions, args.repeat,
                                   throttle=args.throttle))
    befores = []
    if args.before:
        before_code = _checkout(args.before)
        print(f"The same scans with the code of {args.before} (before) ...", flush=True)
        for latency in latencies:
            for throttle in ((0.0, args.throttle) if args.throttle else (0.0,)):
                befores.append(measure(replay, role_arn, default_workers, latency, regions, 1, throttle=throttle,
                                       code=before_code, label=f"before: {args.before}"))
    what_ifs = []
    if args.what_if:
        print("What-if scans at 100 ms (not the product's code; see bench/README.md) ...", flush=True)
        for what_if, workers in (("fast-timestamps", default_workers), ("s3-free", default_workers),
                                 ("fast-timestamps,s3-free", default_workers), ("fast-timestamps,s3-free", 1)):
            what_ifs.append(measure(replay, role_arn, workers, 100, regions, 1, what_if))
    replay.stop()

    problems = []
    digests = {d for r in results for d in r["digests"]} | {recorded["digest"]}
    if len(digests) != 1:
        problems.append(f"replayed scans differ from the recorded one (digests {sorted(digests)})")
    if any(r["replay_misses"] for r in results + what_ifs):
        problems.append(f"replay misses: {[(r['latency_ms'], r['workers'], r['missed_keys']) for r in results]}")
    if any(not_ok != recorded["not_ok"] for r in results for not_ok in r["not_ok_all"]):
        problems.append(f"replayed coverage differs from the recording: {[r['not_ok_all'] for r in results]}")
    for r in results:  # every throttled answer a read got is a retry its coverage row counts
        if r["throttle"] and r["retries_all"] != r["throttled_reads_all"]:
            problems.append(f"retries in coverage {r['retries_all']} != throttled reads {r['throttled_reads_all']} "
                            f"at {r['latency_ms']} ms")
    if recorded["not_ok"]:  # faithful, but then the figures include those errors' retries
        problems.append(f"the recorded scan has coverage gaps: {recorded['not_ok']}")
    violations = NETGUARD_LOG.read_text().strip()
    if violations:
        problems.append(f"network guard: something tried to leave loopback: {violations}")

    ratios, throttled_ratios = {}, {}
    for latency in latencies:
        pooled = next(r for r in results if r["latency_ms"] == latency and r["workers"] == default_workers
                      and not r["throttle"])
        single = next(r for r in results if r["latency_ms"] == latency and r["workers"] == 1)
        ratios[latency] = round(single["scan_s"] / pooled["scan_s"], 2)
        throttled = next((r for r in results if r["latency_ms"] == latency and r["throttle"]), None)
        if throttled is not None:
            throttled_ratios[latency] = round(throttled["scan_s"] / pooled["scan_s"], 2)
    peak = max(r["peak_rss_mb"] for r in results)
    checks_cpu = max(r["checks_cpu_s"] for r in results)
    targets = {
        "checks_cpu_lt_1s": checks_cpu < TARGET_CHECKS_CPU_S,
        "speedup_at_100ms_ge_5x": (ratios.get(100, 0) >= TARGET_SPEEDUP_AT_100MS) if 100 in ratios else None,
        "peak_rss_le_300mb": peak <= TARGET_PEAK_RSS_MB,
        "throttled_le_1_5x": (all(v <= TARGET_THROTTLED_RATIO for v in throttled_ratios.values())
                              if throttled_ratios else None),
    }
    summary = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "versions": _versions(),
        "scenario": layout.as_dict(),
        "seed_s": round(seed_s, 2),
        "collectors": recorded["collectors"],
        "inventory": recorded["inventory"],
        "inventory_by_type": recorded["inventory_by_type"],
        "findings": recorded["findings"],
        "longest_reads": recorded["longest_reads"],
        "record": {"scan_s": recorded["scan_s"], "requests": record_stats["requests"],
                   "answers": len(replay.answers), "response_mb": round(replay.response_bytes() / 1e6, 2)},
        "runs": [{k: r[k] for k in ("latency_ms", "workers", "throttle", "scan_s", "scan_s_all", "process_s",
                                    "api_calls", "attempts", "retries", "throttled", "http_requests", "reads",
                                    "inventory", "peak_rss_mb", "replay_misses", "checks_cpu_s", "scan_cpu_s")}
                 for r in results],
        "throttled_vs_unthrottled": {f"{k}ms": v for k, v in throttled_ratios.items()},
        "checks": {
            "inventory": recorded["inventory"], "findings": recorded["findings"],
            "commitments": recorded["commitments"],
            "cpu_s": [r["checks_cpu_s"] for r in results], "scan_cpu_s": [r["scan_cpu_s"] for r in results],
        },
        "speedup": {f"{k}ms": v for k, v in ratios.items()},
        "what_if": [{k: r[k] for k in ("what_if", "latency_ms", "workers", "scan_s", "api_calls", "peak_rss_mb")}
                    for r in what_ifs],
        "before": [{k: r[k] for k in ("code", "latency_ms", "workers", "throttle", "scan_s", "api_calls", "retries",
                                      "inventory", "not_ok")} for r in befores],
        "peak_rss_mb": peak,
        "targets": targets,
        "problems": problems,
        "bench_s": round(time.perf_counter() - bench_started, 1),
    }
    _print_table(summary, default_workers)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"Written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    print("BENCH_JSON " + json.dumps(summary, separators=(",", ":")))
    return 1 if problems else 0


def _checkout(commit: str) -> Path:
    """``commit``'s tree in a temporary directory (git archive: nothing in this checkout changes)."""
    target = Path(tempfile.mkdtemp(prefix="finops-bench-before-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _quiet_parent() -> None:
    """Drop moto's state and freeze what is left, so this process's garbage collector (which
    serves the replay) does not walk a large heap in the middle of measured scans."""
    from moto.moto_api import _internal

    _internal.moto_api_backend.reset()
    gc.collect()
    gc.freeze()


def _load_costs(local: LocalAWS, account_id: str) -> None:
    """Cost Explorer and Cost Optimization Hub answers, as the demo has them (if this version has them)."""
    try:
        from finops.sandbox import cost_fixtures
    except ImportError:
        return
    cost_fixtures.load_demo_costs(local, account_id)


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("boto3", "botocore", "moto")}


def _print_table(s: dict, default_workers: int) -> None:
    sc = s["scenario"]
    print()
    print(f"FinOps Pack scan benchmark  {s['when']}  ({s['machine']['cpus']} CPUs, load avg before "
          f"{s['machine']['load_avg_before'][0]}, after {s['machine']['load_avg_after'][0]})")
    print(f"Account: {sc['total']:,} resources over {sc['regions']} regions ({sc['volumes']:,} volumes, "
          f"{sc['elastic_ips']:,} EIPs, {sc['snapshots']:,} snapshots, {sc['instances']} instances, "
          f"{sc['nat_gateways']} NAT gateways, {sc['s3_buckets']} buckets)")
    print(f"Collectors ({len(s['collectors'])}): {', '.join(s['collectors'])}; inventory read: "
          f"{s['inventory']:,}; findings: {s['findings']:,}")
    print(f"Recording through moto: {s['record']['scan_s']:.1f} s for {s['record']['requests']} requests "
          f"({s['record']['response_mb']} MB of answers)")
    chains = ", ".join(f"{src} {reg} {n}" for src, reg, n in s["longest_reads"][:3])
    print(f"Longest sequential reads (API calls): {chains}")
    print()
    header = (f"{'latency/call':>12}  {'workers':>7}  {'throttled':>9}  {'scan wall':>9}  {'API calls':>9}  "
              f"{'retries':>7}  {'HTTP reqs':>9}  {'resources':>9}  {'peak RSS':>8}")
    print(header)
    print("-" * len(header))
    for r in s["runs"]:
        print(f"{r['latency_ms']:>9} ms  {r['workers']:>7}  {r['throttle']:>9.0%}  {r['scan_s']:>7.2f} s  "
              f"{r['api_calls']:>9}  {r['retries']:>7}  {r['http_requests']:>9}  {r['inventory']:>9}  "
              f"{r['peak_rss_mb']:>5.0f} MB")
    for latency, ratio in s["speedup"].items():
        print(f"{latency:>12}  speed-up, {default_workers} workers vs 1: {ratio:.2f}x")
    for latency, ratio in s["throttled_vs_unthrottled"].items():
        print(f"{latency:>12}  throttled / unthrottled ({default_workers} workers): {ratio:.2f}x")
    for r in s["what_if"]:
        print(f"{'what-if':>12}  {r['workers']:>7}  {r['scan_s']:>7.2f} s  at {r['latency_ms']} ms with {r['what_if']}")
    for r in s["before"]:
        print(f"{'before':>12}  {r['workers']:>7}  {r['throttle']:>9.0%}  {r['scan_s']:>7.2f} s  "
              f"at {r['latency_ms']} ms, {r['retries']} retries, {r['inventory']} resources ({r['code']})")
    print()
    t = s["targets"]
    if t["speedup_at_100ms_ge_5x"] is not None:
        print(f"Target  >= 5x faster than one worker at 100 ms: {'PASS' if t['speedup_at_100ms_ge_5x'] else 'FAIL'} "
              f"({s['speedup'].get('100ms')}x)")
    if t["throttled_le_1_5x"] is not None:
        print(f"Target  throttled scan <= {TARGET_THROTTLED_RATIO}x the unthrottled one, every resource read: "
              f"{'PASS' if t['throttled_le_1_5x'] else 'FAIL'} ({s['throttled_vs_unthrottled']})")
    print(f"Target  peak RSS <= 300 MB: {'PASS' if t['peak_rss_le_300mb'] else 'FAIL'} ({s['peak_rss_mb']:.0f} MB)")
    c = s["checks"]
    print(f"Target  checks + merge < 1 s CPU over {c['inventory']:,} resources: "
          f"{'PASS' if t['checks_cpu_lt_1s'] else 'FAIL'} ({max(c['cpu_s']):.3f} s at most, per scan "
          f"{', '.join(f'{x:.3f}' for x in c['cpu_s'])} s; the whole scan's CPU beside it: "
          f"{', '.join(f'{x:.1f}' for x in c['scan_cpu_s'])} s; {c['findings']:,} findings, "
          f"{c['commitments']} commitments)")
    for problem in s["problems"]:
        print(f"PROBLEM {problem}")
    print(f"Benchmark took {s['bench_s']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
