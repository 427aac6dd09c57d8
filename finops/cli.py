"""``finops-pack``: serve, worker, scan, demo, purge, prices."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from finops.config import Settings
from finops.errors import FinopsError
from finops.lifecycle import FinishOrGiveUp, Stopping, handle_stop_signals
from finops.logs import setup_logging

log = logging.getLogger("finops.cli")

DEMO_LATENCY_MS = 120
DEMO_OPERATOR = "operator@example.com"
SCAN_STOPPED_EXIT = 3  # `scan` stopped by SIGTERM/SIGINT before its report was written
SCAN_STOPPED_MESSAGE = (
    "finops-pack: the scan was stopped before it finished (SIGTERM or Ctrl+C), so no report was written. "
    "Nothing was changed in the account. Run the command again."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="finops-pack", description="Read-only AWS savings review.")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("serve", help="run the web app (with embedded Redis and worker unless FINOPS_REDIS_URL is set)")
    worker = sub.add_parser(
        "worker", help="run an RQ worker against FINOPS_REDIS_URL: a scan worker (any host, no database), "
                       "or with --store the worker where the database is")
    worker.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    worker.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)  # embedded: stop when serve dies
    worker.add_argument("--store", action="store_true",
                        help="also store results, send emails and run Test connection (needs FINOPS_DB_PATH)")
    worker.add_argument("--no-scan", action="store_true",
                        help="with --store: take no scan job (results, emails and Test connection only)")
    scan = sub.add_parser("scan", help="scan one account now, without web or Redis")
    scan.add_argument("--role-arn", required=True)
    scan.add_argument("--external-id", required=True)
    scan.add_argument("--regions", default="", help="comma-separated regions (default: every enabled one)")
    scan.add_argument("--format", choices=("json", "md"), default="json")
    scan.add_argument("--output", help="write the report here instead of standard output")
    scan.add_argument("--thresholds", help="TOML or JSON file of threshold overrides for this scan")
    scan.add_argument("--organization", action="store_true",
                      help="--role-arn is the management account's: also scan every active member account "
                           "through its finops-pack-readonly role, with the same External ID")
    demo = sub.add_parser("demo", help="run the product against a local emulated AWS with a seeded demo account")
    demo.add_argument("--no-browser-hint", action="store_true", help=argparse.SUPPRESS)
    sub.add_parser("purge", help="delete reviews past their retention date")
    operator = sub.add_parser("operator", help="operator accounts (the consultants who sign in)")
    operator_cmds = operator.add_subparsers(dest="operator_command", required=True)
    add = operator_cmds.add_parser("add", help="create an operator, or set a new password for one")
    add.add_argument("email")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    operator_cmds.add_parser("list", help="list operators")
    remove = operator_cmds.add_parser("remove", help="disable an operator and sign them out")
    remove.add_argument("email")
    invite = sub.add_parser("invite", help="create a review for a customer and print its invitation URL (last line)")
    invite.add_argument("--company", required=True)
    invite.add_argument("--email", required=True, help="the customer contact's email (the report is sent there)")
    invite.add_argument("--name", default="", help="the customer contact's name")
    invite.add_argument("--note", default="", help="a private note (operators only)")
    invite.add_argument("--operator", default="", help="the inviting operator's email (default: the first operator)")
    review_cmd = sub.add_parser("reviews", help="list or delete reviews")
    review_cmds = review_cmd.add_subparsers(dest="reviews_command", required=True)
    listing = review_cmds.add_parser("list", help="live reviews: id, company, status, account, savings, expiry")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    delete = review_cmds.add_parser("delete", help="delete a review now, with everything stored for it")
    delete.add_argument("id")
    sub.add_parser("checks", help="print the check catalogue (id, rule, default thresholds, action, formula)")
    prices = sub.add_parser("prices", help="the bundled AWS price catalogue")
    price_cmds = prices.add_subparsers(dest="prices_command", required=True)
    refresh = price_cmds.add_parser("refresh", help="rebuild it from the AWS Price List API (scanner's own identity)")
    refresh.add_argument("--regions", default="", help="comma-separated regions (default: every commercial region)")
    refresh.add_argument("--output", help="write here (default: the bundled finops/pricing/catalogue.json)")

    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        setup_logging(settings.log_level)
        return {
            "serve": cmd_serve, "worker": cmd_worker, "scan": cmd_scan, "demo": cmd_demo, "purge": cmd_purge,
            "prices": cmd_prices, "checks": cmd_checks, "operator": cmd_operator, "invite": cmd_invite,
            "reviews": cmd_reviews,
        }[args.command](settings, args)
    except FinopsError as error:
        print(f"finops-pack: {error.customer_message}", file=sys.stderr)
        return 2
    except Stopping:
        return 0  # SIGTERM or SIGINT, and everything we started is stopped


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from redis.exceptions import RedisError

    from finops import maintenance
    from finops.lifecycle import watch_parent
    from finops.queue import SERIALIZER, redis_connection, worker_queue_names
    from finops.worker import ReviewWorker

    handle_stop_signals()  # until RQ's own handlers (ReviewWorker's) take over in work()
    if args.no_scan and not args.store:
        raise SystemExit("finops-pack worker: --no-scan needs --store (a worker that takes nothing would idle)")
    connection = redis_connection(settings)
    if args.store:
        settings = settings.with_secret_key()  # the mail job derives the report link from it
        _requeue_lost_reviews(settings)
    from finops.worker import warm_up

    warm_up(settings, scan=not args.no_scan, store=args.store)  # its scans and work-horses reuse what it loaded
    worker = ReviewWorker(worker_queue_names(settings, store=args.store, scan=not args.no_scan),
                          connection=connection, settings=settings, store=args.store, scan=not args.no_scan,
                          serializer=SERIALIZER)
    if args.parent_pid:
        watch_parent(args.parent_pid, worker.on_parent_death)
    if args.store and not args.burst and not args.no_scan:
        maintenance.start(settings, connection)  # retention and email retries, in the product itself
    try:
        worker.work(burst=args.burst, with_scheduler=False, logging_level=settings.log_level)
    except RedisError as error:
        if not worker.stopping:
            raise
        log.warning("worker state=stopped redis=unreachable error=%s", error)  # its Redis stopped first
    return 0


def _requeue_lost_reviews(settings: Settings) -> None:
    from redis.exceptions import RedisError

    from finops.db import connect
    from finops.queue import requeue_lost_reviews

    try:
        requeued = requeue_lost_reviews(settings, connect(settings.db_path))
    except RedisError as error:  # the web app still starts; submitting will say the queue is down
        log.warning("requeue state=skipped redis=unreachable error=%s", error)
        return
    for review_id in requeued:
        log.warning("review=%s state=requeued reason=queued-in-sqlite-but-not-in-redis", review_id[:6])


def cmd_purge(settings: Settings, _args: argparse.Namespace) -> int:
    from jobs.retention import purge_expired_reviews

    print(f"deleted {purge_expired_reviews()} expired review(s)")
    return 0


def cmd_operator(settings: Settings, args: argparse.Namespace) -> int:
    import getpass

    from finops import operators
    from finops.db import connect

    db = connect(settings.db_path)
    if args.operator_command == "list":
        for row in operators.list_all(db):
            state = "disabled" if row["disabled"] else ("active" if row["has_password"] else "no password yet")
            print(f"{row['email']}\t{state}\tcreated {row['created_at']}\tlast sign-in {row['last_sign_in_at'] or '-'}")
        return 0
    if args.operator_command == "remove":
        if not operators.remove(db, args.email):
            raise FinopsError("no such operator", customer_message=f"No operator {args.email}.")
        print(f"operator {args.email} disabled and signed out")
        return 0
    password: str | None = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"Password for {args.email} (at least {operators.MIN_PASSWORD} characters; "
                                   "leave empty for a one-time set-password link): ") or None
        if password is not None and getpass.getpass("Repeat it: ") != password:
            raise FinopsError("mismatch", customer_message="The two passwords differ; nothing was changed.")
    operator = operators.add(db, args.email, password)
    if password is not None:
        print(f"operator {operator.email} can sign in at {settings.base_url}/sign-in")
        return 0
    token = operators.set_password_token(db, operator.id)
    print(f"operator {operator.email} created; this one-time link sets the password "
          f"(valid {operators.SET_PASSWORD_HOURS} hours):")
    print(f"{settings.base_url}/set-password/{token}")
    return 0


def cmd_invite(settings: Settings, args: argparse.Namespace) -> int:
    from finops import operators, reviews
    from finops.db import connect
    if not args.company.strip():
        raise FinopsError("no company", customer_message="--company must not be empty.")
    db = connect(settings.db_path)
    operator_id = None
    if args.operator:
        found = [r for r in operators.list_all(db) if r["email"] == args.operator.strip().lower()]
        if not found:
            raise FinopsError("no such operator", customer_message=f"No operator {args.operator}.")
        operator_id = found[0]["id"]
    review, url = reviews.create_invitation(db, settings, company=args.company, email=args.email, name=args.name,
                                            note=args.note, operator_id=operator_id)
    print(f"review {review['id']} for {review['contact_company']}: send this invitation link to "
          f"{review['contact_email']} (it expires {review['expires_at'][:10]})")
    print(url)
    return 0


def cmd_reviews(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from finops import dashboard, reviews
    from finops.db import connect

    db = connect(settings.db_path)
    if args.reviews_command == "delete":
        reviews.get_review(db, args.id)  # an unknown id: one sentence, exit code 2
        audit = reviews.delete_review(db, args.id, reviews.BY_CLI)
        print(f"deleted review {args.id} ({audit['rows_deleted']} rows)")
        return 0
    rows = [dashboard.as_json(row) for row in dashboard.list_reviews(db)]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    print("\t".join(("id", "company", "status", "account", "savings/mo", "commitments/mo", "expires")))
    for r in rows:
        print("\t".join(str(v) for v in (r["id"], r["company"] or "-", r["status"], r["account_id"] or "-",
                                         r["monthly_savings"] or "-", r["commitment_monthly_savings"] or "-",
                                         r["expires_at"][:10])))
    return 0


def cmd_checks(_settings: Settings, _args: argparse.Namespace) -> int:
    from finops.checks._docs import markdown

    sys.stdout.write(markdown())
    return 0


def cmd_prices(settings: Settings, args: argparse.Namespace) -> int:
    """Refresh the price catalogue from pricing:GetProducts with the scanner's own credentials."""
    from finops.pricing.refresh import CATALOGUE_PATH, load_catalogue, refresh_catalogue, write_catalogue

    output = Path(args.output) if args.output else CATALOGUE_PATH
    regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    base = load_catalogue(output if output.exists() else CATALOGUE_PATH)
    doc = refresh_catalogue(regions or None, base=base, on_progress=lambda m: print(f"- {m}", file=sys.stderr))
    write_catalogue(doc, output)
    priced = sum(len(p["regions"]) for p in doc["prices"].values())
    missing = sum(len(p.get("unavailable", {})) for p in doc["prices"].values())
    print(f"wrote {output}: {priced} priced key-regions, {missing} unavailable", file=sys.stderr)
    return 0


def cmd_scan(settings: Settings, args: argparse.Namespace) -> int:
    """The same pipeline as the web flow, synchronously; the report comes from a throwaway database."""
    from finops.checks.thresholds import read_overrides
    from finops.db import connect
    from finops.scan import run_scan

    stop = FinishOrGiveUp(settings.shutdown_grace, SCAN_STOPPED_MESSAGE, SCAN_STOPPED_EXIT)
    regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    overrides = read_overrides(args.thresholds, "--thresholds") if args.thresholds else {}
    if args.organization:
        return _scan_organization(settings, args, regions, overrides, stop)
    result = run_scan(
        args.role_arn, args.external_id, settings, regions=regions, threshold_overrides=overrides,
        on_step=lambda message: print(f"- {message}", file=sys.stderr),
    )
    db = connect(":memory:")
    model = _report_of(db, settings, args.role_arn, result)
    stop.finishing()
    _write_report(args, model)
    return 0


def _report_of(db: Any, settings: Settings, role_arn: str, result: Any) -> dict:
    """The report model of one account's scan, through a throwaway review in ``db``."""
    from finops import reviews
    from finops.report import build_report

    review = reviews.create_review(db, replace(settings, secret_key=secrets.token_hex(32)))  # links go nowhere
    db.execute("update reviews set status = 'running', role_arn = ? where id = ?", [role_arn, review["id"]])
    reviews.store_result(db, review["id"], result)
    return build_report(db, reviews.get_review(db, review["id"]))


def _scan_organization(settings: Settings, args: argparse.Namespace, regions: list[str], overrides: dict,
                       stop: FinishOrGiveUp) -> int:
    """The management account, then every active member account; one report with accounts[]."""
    from finops.db import connect
    from finops.organization import scan_organization
    from finops.report.organization import organization_report

    org = scan_organization(
        args.role_arn, args.external_id, settings, regions=regions, threshold_overrides=overrides,
        on_step=lambda message: print(f"- {message}", file=sys.stderr),
    )
    db = connect(":memory:")
    reports = {scan.account.account_id: _report_of(db, settings, scan.role_arn, scan.result)
               for scan in org.scans if scan.result is not None}
    model = organization_report(org.organization_id, [a.as_dict() for a in org.accounts], reports)
    stop.finishing()
    _write_report(args, model)
    return 0


def _write_report(args: argparse.Namespace, model: dict) -> None:
    from finops.report import to_json, to_markdown

    text = to_json(model) if args.format == "json" else to_markdown(model)
    if args.output:
        Path(args.output).write_text(text + ("\n" if not text.endswith("\n") else ""))
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(text)


def cmd_serve(settings: Settings, _args: argparse.Namespace) -> int:
    """The web app; without FINOPS_REDIS_URL also its own Redis and worker, stopped in order.

    SIGTERM/SIGINT: the web server closes its socket, the worker stops (a running scan gets
    FINOPS_SHUTDOWN_GRACE seconds, then its review says it was interrupted), Redis shuts down,
    exit 0. A second signal kills the worker and Redis at once.
    """
    from finops.embedded import EmbeddedRedis, WorkerSupervisor

    redis: EmbeddedRedis | None = None
    supervisor: WorkerSupervisor | None = None
    quick: WorkerSupervisor | None = None

    def stop_now() -> None:
        for each in (supervisor, quick):
            if each:
                each.kill()
        if redis:
            redis.kill()

    handle_stop_signals(on_force=stop_now)
    try:
        if not settings.redis_url:
            redis = EmbeddedRedis(settings.db_path.parent / "redis")  # named before it starts: the
            redis.start()  # `finally` below stops what a signal interrupts half-started
            os.environ["FINOPS_REDIS_URL"] = redis.url
            settings = replace(settings, redis_url=redis.url)
            _interrupt_orphaned_scans(settings)
            _requeue_lost_reviews(settings)
            supervisor = WorkerSupervisor({"FINOPS_REDIS_URL": redis.url}, args=("--store",))
            supervisor.start()
            quick = WorkerSupervisor({"FINOPS_REDIS_URL": redis.url}, args=("--store", "--no-scan"))
            quick.start()  # Test connection and stores never wait behind a scan
            log.info("embedded mode: redis=%s worker pid=%s", redis.url,
                     supervisor.process.pid if supervisor.process else None)
        else:
            _requeue_lost_reviews(settings)
        from finops.web import create_app

        app = create_app(settings)
        print(f"FinOps Pack is running at {settings.base_url}/", flush=True)
        app.run(host=settings.host, port=settings.port, threaded=True, use_reloader=False)
    finally:
        if quick:
            quick.stop(timeout=10)
        if supervisor:
            supervisor.stop(timeout=settings.shutdown_grace + 10)
            _interrupt_orphaned_scans(settings)  # had the worker no time to say so itself
        if redis:
            redis.stop()
    return 0


def _interrupt_orphaned_scans(settings: Settings) -> None:
    """Embedded mode: no scanner but ours uses this database, and ours is not running."""
    from finops import reviews
    from finops.db import connect
    from finops.errors import ScanInterrupted
    from finops.queue import drop_review_jobs, liveness

    db = connect(settings.db_path)
    # A review whose scan waits in the queue goes on; one whose job was running has lost its worker.
    for review_id in reviews.interrupt_running(db, ScanInterrupted("no embedded worker"),
                                              alive=liveness(settings, running_counts=False)):
        drop_review_jobs(settings, reviews.get_review(db, review_id))
        log.warning("review=%s state=failed code=scan_interrupted reason=embedded-worker-gone", review_id[:6])


def _wait_for_port(host: str, port: int, timeout: float = 30) -> None:
    """Wait until the web server accepts connections, so a printed URL works when clicked."""
    import socket

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)


def cmd_demo(settings: Settings, _args: argparse.Namespace) -> int:
    """Local AWS + demo customer account + the embedded product + one review already running."""
    from finops import reviews
    from finops.db import connect
    from finops.sandbox import seed
    from finops.sandbox.demo_account import load_demo_cost_data, seed_demo_account
    from finops.sandbox.server import LocalAWS

    handle_stop_signals()  # a stop while seeding: the local AWS lives in this process and ends with it
    local = LocalAWS().start()
    local.set_faults(latency_ms=DEMO_LATENCY_MS)  # a realistic round trip, so the scan is watchable
    os.environ.update(local.env())  # standard AWS settings: the app and its worker use them as-is
    if not os.environ.get("FINOPS_DB_PATH"):
        demo_dir = Path(tempfile.mkdtemp(prefix="finops-demo-"))
        os.environ["FINOPS_DB_PATH"] = str(demo_dir / "finops.db")
    os.environ.setdefault("FINOPS_SCANNER_PRINCIPAL_ARN", seed.DEFAULT_SCANNER_PRINCIPAL)
    settings = Settings.from_env()

    account = seed.customer_admin()
    demo = seed_demo_account(account)  # a small company's estate on which every savings check fires
    load_demo_cost_data(local, demo)  # CE spend, resource-level costs, COH, Reserved Instances, Savings Plans
    db = connect(settings.db_path)
    # A demo operator (credentials printed below) and the review they invited the demo customer to.
    from finops import operators

    password = secrets.token_urlsafe(12)
    operator = operators.add(db, DEMO_OPERATOR, password)
    review, invitation = reviews.create_invitation(
        db, settings, company="Example Corp", email="demo@example.com", name="Demo Customer",
        note="The demo: a small company's estate on which every check fires.", operator_id=operator.id,
    )
    # The demo's own review uses a role of another name, so a person walking the wizard can create
    # finops-pack-readonly with the wizard's exact commands.
    role_arn = seed.create_scanner_role(
        account, review["external_id"], settings.scanner_principal_arn or "", name="finops-pack-demo-readonly"
    )
    # Beside it, an invitation to review the demo account's whole organization (management account and
    # members, one without the role, one suspended), not started: the customer connects it in the wizard.
    from finops.sandbox.demo_organization import offer_organization_review

    organization = offer_organization_review(db, settings, account, operator_id=operator.id)
    print(f"Local AWS (moto + front responder) at {local.url}; demo customer account {account.account_id}")
    print(organization.announcement(), flush=True)

    def submit_when_ready() -> None:
        from finops.queue import enqueue_review

        deadline = time.time() + 30
        while not os.environ.get("FINOPS_REDIS_URL") and time.time() < deadline:
            time.sleep(0.2)
        live = Settings.from_env()
        reviews.submit(
            db, review["id"], role_arn=role_arn, external_id=review["external_id"],
            contact=reviews.Contact("Demo Customer", "demo@example.com", "Example Corp"),
            enqueue=lambda rid, attempt: enqueue_review(live, rid, attempt),
        )
        _wait_for_port(settings.host, settings.port)
        print(
            f"\nDashboard: {settings.base_url}/dashboard/  (sign in as {DEMO_OPERATOR} with password {password})\n"
            f"Demo review running: {invitation}\n\n"
            "That is the customer's invitation link (its wizard); the review is on the dashboard, with its report\n"
            "once the scan completes (mail is off in the demo: the dashboard shows the report link to copy).\n"
            f"To walk the wizard as a customer, create an invitation on the dashboard, open it, and run its\n"
            "CloudFormation or manual commands (AWS CLI: pip install awscli) in a shell with these settings,\n"
            "which point the CLI at the local AWS as the demo customer's administrator:\n"
            f"  export AWS_ENDPOINT_URL={local.url} AWS_DEFAULT_REGION=us-east-1 "
            f"AWS_ACCESS_KEY_ID={account.access_key_id} AWS_SECRET_ACCESS_KEY={account.secret_access_key}\n",
            flush=True,
        )

    threading.Thread(target=submit_when_ready, daemon=True).start()
    try:
        return cmd_serve(settings, _args)
    finally:
        local.stop()


if __name__ == "__main__":
    sys.exit(main())
