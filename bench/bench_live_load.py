"""Load benchmark: 20 browser sessions on the real-time screen for 60 s; what it costs the database.

Starts, on a separate database with the demo data: the live simulator and the worker (as in
`make run`), one `streamlit run app.py`, then --sessions Chromium pages (each its own browser
context, i.e. its own Streamlit session) open on Screen 4 for --seconds. Reports:

- database statements per second sent by the app, counted inside the app process by a
  SQLAlchemy event listener (SWIPESAVVY_LIVE_STATS, ui/live_data.py): exact, app only;
- refresh sets per second seen by PostgreSQL itself: every live snapshot reads the small
  `regions` table exactly once (live_activity.sql) and nothing else in the app or the worker or
  the simulator reads it, so the growth of its scan counters in pg_stat_user_tables counts the
  snapshots the database served (pg_stat_statements is not loaded on this server);
- all transactions per second of the database (pg_stat_database), simulator and worker included,
  for context;
- refresh times: server side, each fragment run's duration (p50/p95, from the app's stats
  file); client side, the time between two visible updates of "Last updated" in each page
  (p50/p95; 2 s is the target), from a MutationObserver.

The goal: about one set of queries per 2 seconds however many sessions are open.
Run from the repository root:  .venv/bin/python bench/bench_live_load.py [--sessions 20 --seconds 60]
Writes bench/results/live_load.json and prints the same JSON. Uses DATABASE_URL (a server) as
the admin connection, default postgresql://postgres@127.0.0.1:5432/postgres.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from core.db import normalize_url, with_database  # noqa: E402

RESULTS_PATH = REPO_ROOT / "bench" / "results" / "live_load.json"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CHROMIUM = "/usr/bin/chromium"
# Twenty pages drawing deck.gl through a software WebGL would take the two cores from the
# server being measured: WebGL is off (the map stays empty; everything else renders).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows", "--disable-webgl", "--disable-3d-apis"]
# Records, in each page, when the "Last updated" line changes.
WATCH_UPDATES = """() => {
  window.__updates = [];
  let last = null;
  const read = () => {
    const match = document.body.innerText.match(/Last updated (\\d\\d:\\d\\d:\\d\\d)/);
    if (match && match[1] !== last) { last = match[1]; window.__updates.push(performance.now()); }
  };
  new MutationObserver(read).observe(document.body, {subtree: true, childList: true, characterData: true});
  read();
}"""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(int(round(q * len(ordered) + 0.5)) - 1, 0))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_counters(engine, database: str) -> dict:
    with engine.connect() as conn:
        row = conn.execute(text("""
            SELECT (SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables
                    WHERE relname = 'regions') AS region_scans,
                   (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :db) AS transactions,
                   clock_timestamp() AS at"""), {"db": database}).mappings().one()
    return dict(row)


def prepare_database(admin_url: str, name: str, reuse: bool, members: int) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        if exists and not reuse:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        if not exists or not reuse:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = with_database(admin_url, name)
    if not exists or not reuse:
        say(f"loading the demo ({members:,} members) into {name}")
        subprocess.run([sys.executable, "-m", "core", "demo", "--members", str(members)], cwd=REPO_ROOT,
                       env={**os.environ, "DATABASE_URL": url}, check=True, stdout=sys.stderr)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=50, help="simulator events/s (make run's default)")
    parser.add_argument("--members", type=int, default=15_000, help="demo members (the demo's default)")
    parser.add_argument("--database", default="swipesavvy_bench_live_load")
    parser.add_argument("--reuse", action="store_true", help="reuse the database if it exists (no reload)")
    args = parser.parse_args()

    admin_url = normalize_url(os.environ.get("DATABASE_URL") or DEFAULT_ADMIN_URL)
    url = prepare_database(admin_url, args.database, args.reuse, args.members)
    stats_engine = create_engine(admin_url, pool_size=1)
    stats_file = Path(tempfile.mkstemp(prefix="live-load-", suffix=".jsonl")[1])
    env = {**os.environ, "DATABASE_URL": url}
    port = free_port()
    processes = [
        subprocess.Popen([sys.executable, "-m", "core", "simulate", "--rate", str(args.rate), "--burst-every", "30"],
                         cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "core", "worker"], cwd=REPO_ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                          "--server.headless", "true", "--server.address", "127.0.0.1"], cwd=REPO_ROOT,
                         env={**env, "SWIPESAVVY_LIVE_STATS": str(stats_file)},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(base + "/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # The root first: until some session has run app.py, Streamlit 1.67 runs a deep
            # link's pages/<x>.py on its own (the old pages-directory mode).
            first = browser.new_context().new_page()
            first.goto(base)
            first.wait_for_function("() => document.body.innerText.includes('Campaign analytics')", timeout=180_000)
            first.context.close()
            say(f"opening {args.sessions} sessions on the real-time screen")
            pages = []
            for _ in range(args.sessions):
                page = browser.new_context(viewport={"width": 1000, "height": 800}).new_page()
                page.goto(f"{base}/live", wait_until="commit")
                pages.append(page)
            for page in pages:
                page.wait_for_function("() => document.body.innerText.includes('Last updated')", timeout=300_000)
                page.evaluate(WATCH_UPDATES)
            time.sleep(2)  # every session is refreshing now
            stats_file.write_text("")
            before = database_counters(stats_engine, args.database)
            say(f"measuring for {args.seconds:g} s")
            started = time.monotonic()
            while time.monotonic() - started < args.seconds:
                pages[0].wait_for_timeout(1000)  # keeps Playwright's event loop serving all pages
            elapsed = time.monotonic() - started
            updates = [page.evaluate("window.__updates") for page in pages]
            lines = [json.loads(line) for line in stats_file.read_text().splitlines() if line.strip()]
            browser.close()
        time.sleep(11)  # idle backends report their table statistics within 10 s
        after = database_counters(stats_engine, args.database)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    db_seconds = (after["at"] - before["at"]).total_seconds() - 11  # the wait after the run: idle
    statements = lines[-1]["statements_total"] - lines[0]["statements_total"] if len(lines) > 1 else 0
    app_seconds = lines[-1]["at"] - lines[0]["at"] if len(lines) > 1 else elapsed
    snapshots_seen_by_db = after["region_scans"] - before["region_scans"]
    run_seconds = [line["seconds"] for line in lines]
    intervals = [b - a for page_updates in updates for a, b in zip(page_updates, page_updates[1:])]
    intervals_s = [i / 1000 for i in intervals]
    out = {
        "benchmark": "Screen 4 under load: browser sessions on the live page, one app process",
        "command": " ".join(["bench/bench_live_load.py", *sys.argv[1:]]),
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sessions": args.sessions, "seconds": round(elapsed, 1), "simulator_events_per_s": args.rate,
        "app_statements_per_s": round(statements / app_seconds, 2) if app_seconds else None,
        "app_statements_per_refresh_set": 7,
        "db_refresh_sets_per_s": round(snapshots_seen_by_db / elapsed, 3),
        "db_refresh_sets_target_per_s": 0.5,
        "db_transactions_per_s_all_clients": round((after["transactions"] - before["transactions"]) / max(db_seconds, 1), 1),
        "fragment_runs": len(run_seconds),
        "fragment_runs_per_s": round(len(run_seconds) / elapsed, 2),
        "server_refresh_ms": {"p50": round(1000 * statistics.median(run_seconds), 1) if run_seconds else None,
                              "p95": round(1000 * percentile(run_seconds, 0.95), 1) if run_seconds else None,
                              "max": round(1000 * max(run_seconds), 1) if run_seconds else None},
        "client_seconds_between_updates": {"p50": round(statistics.median(intervals_s), 2) if intervals_s else None,
                                           "p95": round(percentile(intervals_s, 0.95), 2) if intervals_s else None,
                                           "updates_seen": len(intervals_s) + len(updates)},
        "how_counted": {
            "app_statements_per_s": "SQLAlchemy before_cursor_execute listener in the app process",
            "db_refresh_sets_per_s": "growth of pg_stat_user_tables scans of `regions` (read once per live snapshot, by nothing else)",
            "db_transactions_per_s_all_clients": "pg_stat_database xact_commit + xact_rollback, simulator and worker included",
        },
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    stats_file.unlink(missing_ok=True)
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
