"""Report benchmark: how long a large report takes to serve, beside a small one, in one run.

    python bench/report.py                 # or: make bench-report   (under a minute)
    python bench/report.py --sizes 200,2000,10000 --repeat 9

For each size (200 findings is the baseline), a finished review is stored in a real SQLite file
through the product's own ``reviews.store_result`` (``finops.sandbox.large_review``: findings
spread over every usage check, six regions, price lines, metrics, alternatives, and a quarter of
them named by a Cost Optimization Hub recommendation). Each page is then fetched through the
whole Flask stack (routing, link check, report cache, template) with the test client:

- **first view**: a fresh report cache, so the model is built from SQLite, then rendered: what the
  first reader of a report in a web process waits (the median of ``--repeat`` fresh caches);
- **next views**: the model cached, rendered again: every later reader (median of ``--repeat``).

Pages: the report (each group's first findings; the rest on demand), one "Show more" page of a
group, every finding at once (``?all=1``, to print), and the JSON, Markdown and CSV downloads.
Target (issue 10): the 2,000-finding report served in under 200 ms, first view included. Prints a
table and a ``BENCH_JSON`` line, writes ``bench/results/report.json``; exits 1 when the target is
missed. Single process, no network: nothing here leaves the test client.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from finops.config import Settings  # noqa: E402
from finops.db import connect  # noqa: E402
from finops.report import GROUP_PREVIEW, groups  # noqa: E402
from finops.report.cache import ReportCache  # noqa: E402
from finops.sandbox import large_review  # noqa: E402
from finops.web import create_app  # noqa: E402

TARGET_MS = 200.0
TARGET_FINDINGS = 2000


def timed(fetch, repeat: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = fetch()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=f"200,{TARGET_FINDINGS}")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent / "results" / "report.json"))
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="finops-report-bench-"))
    os.environ.update(FINOPS_DB_PATH=str(workdir / "finops.db"), FINOPS_SECRET_KEY="report-benchmark-" + "k" * 32,
                      FINOPS_BASE_URL="http://127.0.0.1:5000", FINOPS_REDIS_URL="redis://127.0.0.1:1/0",
                      FINOPS_LOG_LEVEL="WARNING")
    settings = Settings.from_env()
    db = connect(settings.db_path)
    app = create_app(settings, enqueue=lambda review_id: None)
    client = app.test_client()
    load_before = os.getloadavg()
    rows = []
    for size in [int(n) for n in args.sizes.split(",")]:
        review_id, path = large_review.create(db, settings, size)
        client.get(path)  # imports, template compilation: once per process, not per report
        first_group = groups(app.extensions["finops.report_cache"].report(db, dict(
            next(iter(db.query("select * from reviews where id = ?", [review_id])))))["findings"])[0]
        pages = {
            "report": path,
            "show more (one group)": f"{path}/findings?" + "&".join(
                f"{k}={v}" for k, v in {"category": first_group["category"], "action": first_group["action"],
                                        "offset": GROUP_PREVIEW}.items()),
            "every finding (?all=1)": f"{path}?all=1",
            "JSON": f"{path}.json", "Markdown": f"{path}.md", "CSV": f"{path}.csv",
        }
        for name, url in pages.items():
            def fetch(url: str = url) -> int:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                return len(response.data)

            retired: list[ReportCache] = []

            def fetch_cold(url: str = url, retired: list[ReportCache] = retired) -> int:
                # A fresh cache; the previous one is kept until after the timing, so freeing its
                # models (tens of MB at 2,000 findings) is not counted as this view's time.
                retired.append(app.extensions["finops.report_cache"])
                app.extensions["finops.report_cache"] = ReportCache()
                return fetch(url)

            cold, size_bytes = timed(fetch_cold, args.repeat)
            retired.clear()
            fetch()
            warm, _ = timed(fetch, args.repeat)
            rows.append({"findings": size, "page": name, "first_view_ms": round(cold, 1),
                         "next_views_ms": round(warm, 1), "bytes": size_bytes})
    big = next((r for r in rows if r["findings"] == TARGET_FINDINGS and r["page"] == "report"), None)
    ok = big is None or big["first_view_ms"] < TARGET_MS
    summary = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "machine": {"cpus": os.cpu_count(), "load_avg_before": [round(x, 2) for x in load_before],
                           "load_avg_after": [round(x, 2) for x in os.getloadavg()]},
               "repeat": args.repeat, "rows": rows,
               "target": {"report_2000_findings_under_200ms": ok if big else None}}
    print(f"FinOps Pack report benchmark  {summary['when']}  ({os.cpu_count()} CPUs, load avg before "
          f"{summary['machine']['load_avg_before'][0]}, after {summary['machine']['load_avg_after'][0]}); "
          f"medians of {args.repeat}")
    header = f"{'findings':>8}  {'page':<24} {'first view ms':>13} {'next views ms':>13} {'KiB':>8}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['findings']:>8}  {r['page']:<24} {r['first_view_ms']:>13} {r['next_views_ms']:>13} "
              f"{r['bytes'] / 1024:>8.0f}")
    if big:
        print(f"Target  report of {TARGET_FINDINGS} findings under {TARGET_MS:.0f} ms (first view): "
              f"{'PASS' if ok else 'FAIL'}")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print("BENCH_JSON " + json.dumps(summary, separators=(",", ":")))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
