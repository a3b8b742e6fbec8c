"""Load benchmark: 20 sessions on the real-time screen for 60 s; what it costs the database.

Starts, on a separate database with the demo data: the live simulator and the worker (as in
`make run`) and one `streamlit run app.py`; then opens --sessions Streamlit sessions on Screen 4
for --seconds. --browsers of them (default 1) are Debian Chromium pages, each its own browser
context; the others speak Streamlit's own websocket protocol, exactly as the browser does: the
same script run, the same 2-second fragment reruns (the client answers the server's auto_rerun
message with a fragment rerun every interval, as the frontend's timer does), the same cached
data and the same deltas sent back; only the drawing in a browser is left out, which would
otherwise take the two cores of this machine from the server being measured. Reports:

- database statements per second sent by the app, counted inside the app process by a
  SQLAlchemy event listener (SWIPESAVVY_LIVE_STATS, ui/live_data.py): exact, app only;
- database transactions per second seen by PostgreSQL itself (pg_stat_database), in a second
  phase of --db-seconds where the simulator and the worker are stopped and the sessions carry
  on, so that every transaction counted is the app's (pg_stat_statements is not loaded on this
  server); the app's cache lifetime does not depend on events arriving, so the rate is the
  same as with them; also, for context, all transactions per second during the first phase;
- refresh times: server side, each fragment run's duration (p50/p95, from the app's stats
  file); client side, the seconds between two visible updates of "Last updated" in each session
  (from the deltas the server sends, or a MutationObserver in the Chromium pages); 2 s is the
  goal.

The goal: about one set of queries per 2 seconds however many sessions are open.
Run from the repository root:  .venv/bin/python bench/bench_live_load.py [--sessions 20 --seconds 60]
Writes bench/results/live_load.json and prints the same JSON. Uses DATABASE_URL (a server) as
the admin connection, default postgresql://postgres@127.0.0.1:5432/postgres.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
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

import websockets  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from bench.common import admin_url, demo_database, say  # noqa: E402

RESULTS_PATH = REPO_ROOT / "bench" / "results" / "live_load.json"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]
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


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(int(round(q * len(ordered) + 0.5)) - 1, 0))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_transactions(engine, database: str) -> tuple[int, datetime]:
    """Transactions committed and rolled back in the database so far, and when that was read."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT xact_commit + xact_rollback, clock_timestamp() FROM pg_stat_database "
                                "WHERE datname = :db"), {"db": database}).one()
    return int(row[0]), row[1]


LAST_UPDATED = re.compile(r"Last updated \*\*(\d\d:\d\d:\d\d)\*\*")


async def protocol_session(port: int, page_name: str, stop: asyncio.Event, updated_at: list[float]) -> None:
    """One Streamlit session over the websocket, as the browser runs it: open the page, then
    answer the server's auto_rerun with a fragment rerun every interval. Appends to updated_at
    the time of every change of the "Last updated" line the server sends."""
    async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                  max_size=None, open_timeout=120) as socket_:
        first = BackMsg()
        first.rerun_script.page_name = page_name
        await socket_.send(first.SerializeToString())
        page_hash, timer, shown = "", None, None

        async def rerun_every(interval: float, fragment_id: str) -> None:
            while True:
                await asyncio.sleep(interval)
                rerun = BackMsg()
                rerun.rerun_script.page_script_hash = page_hash
                rerun.rerun_script.fragment_id = fragment_id
                rerun.rerun_script.is_auto_rerun = True
                await socket_.send(rerun.SerializeToString())

        while not stop.is_set():
            try:
                data = await asyncio.wait_for(socket_.recv(), timeout=0.5)
            except asyncio.TimeoutError:
                continue
            message = ForwardMsg()
            message.ParseFromString(data)
            kind = message.WhichOneof("type")
            if kind == "new_session":
                page_hash = message.new_session.page_script_hash
            elif kind == "navigation":  # the page st.navigation chose: reruns name it, as the browser does
                page_hash = message.navigation.page_script_hash
            elif kind == "auto_rerun" and timer is None:
                timer = asyncio.create_task(rerun_every(message.auto_rerun.interval, message.auto_rerun.fragment_id))
            elif kind == "delta" and message.delta.new_element.WhichOneof("type") == "markdown":
                found = LAST_UPDATED.search(message.delta.new_element.markdown.body)
                if found and found.group(1) != shown:
                    shown = found.group(1)
                    updated_at.append(time.monotonic())
        if timer:
            timer.cancel()


async def drive_sessions(args, base: str, port: int, stats_file: Path, stats_engine, writers: list) -> dict:
    from playwright.async_api import async_playwright

    stop = asyncio.Event()
    protocol_updates = [[] for _ in range(args.sessions - args.browsers)]
    say(f"opening {args.sessions} sessions on the real-time screen ({args.browsers} in Chromium)")
    tasks = [asyncio.create_task(protocol_session(port, "live", stop, updates)) for updates in protocol_updates]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = []
        for _ in range(args.browsers):
            page = await (await browser.new_context(viewport={"width": 1400, "height": 1000})).new_page()
            await page.goto(f"{base}/live", wait_until="commit")
            pages.append(page)
        for page in pages:
            await page.wait_for_function("() => document.body.innerText.includes('Last updated')", timeout=300_000)
            await page.evaluate(WATCH_UPDATES)
        deadline = time.monotonic() + 300
        while any(len(updates) < 2 for updates in protocol_updates) and time.monotonic() < deadline:
            await asyncio.sleep(1)  # every session is refreshing
        stats_file.write_text("")
        for updates in protocol_updates:
            updates.clear()
        for page in pages:
            await page.evaluate("window.__updates = []")
        all_before = database_transactions(stats_engine, args.database)
        say(f"phase 1: {args.seconds:g} s with the simulator and the worker running")
        started = time.monotonic()
        await asyncio.sleep(args.seconds)
        elapsed = time.monotonic() - started
        all_after = database_transactions(stats_engine, args.database)
        browser_updates = [[t / 1000 for t in await page.evaluate("window.__updates")] for page in pages]
        lines = [json.loads(line) for line in stats_file.read_text().splitlines() if line.strip()]
        session_updates = [list(updates) for updates in protocol_updates]

        say(f"phase 2: {args.db_seconds:g} s with only the app talking to the database")
        for process in writers:
            process.terminate()
        for process in writers:
            process.wait(timeout=30)
        await asyncio.sleep(3)
        app_before = database_transactions(stats_engine, args.database)
        await asyncio.sleep(args.db_seconds)
        app_after = database_transactions(stats_engine, args.database)
        stop.set()
        await browser.close()
    await asyncio.gather(*tasks)
    seconds = lambda before, after: (after[1] - before[1]).total_seconds()
    return {
        "elapsed": elapsed, "lines": lines,
        "intervals": [b - a for updates in session_updates + browser_updates for a, b in zip(updates, updates[1:])],
        "browser_intervals": [b - a for updates in browser_updates for a, b in zip(updates, updates[1:])],
        # the two reads of the counters are transactions of their own: not the app's
        "app_transactions_per_s": (app_after[0] - app_before[0] - 1) / seconds(app_before, app_after),
        "all_transactions_per_s": (all_after[0] - all_before[0] - 1) / seconds(all_before, all_after),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--browsers", type=int, default=1, help="how many of the sessions are Chromium pages")
    parser.add_argument("--seconds", type=float, default=60, help="phase 1: everything running")
    parser.add_argument("--db-seconds", type=float, default=30, help="phase 2: only the app talks to the database")
    parser.add_argument("--rate", type=float, default=50, help="simulator events/s (make run's default)")
    parser.add_argument("--members", type=int, default=15_000, help="demo members (the demo's default)")
    parser.add_argument("--database", default="swipesavvy_bench_live_load")
    parser.add_argument("--reuse", action="store_true", help="reuse the database if it exists (no reload)")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH, help=f"where to write the JSON (default {RESULTS_PATH.relative_to(REPO_ROOT)})")
    parser.add_argument("--post-script-gc", choices=["config", "on", "off"], default="config",
                        help="Streamlit's runner.postScriptGC (a full garbage collection after every script and "
                             "fragment run): as .streamlit/config.toml says, or forced on or off")
    args = parser.parse_args()
    if not 0 <= args.browsers <= args.sessions:
        parser.error("--browsers must be between 0 and --sessions")

    url = demo_database(admin_url(), args.database, ["--members", str(args.members)], args.reuse,
                        what=f"the demo ({args.members:,} members)")
    stats_engine = create_engine(url, pool_size=1)  # pg_stat_user_tables is per database
    stats_file = Path(tempfile.mkstemp(prefix="live-load-", suffix=".jsonl")[1])
    env = {**os.environ, "DATABASE_URL": url}
    app_env = {**env, "SWIPESAVVY_LIVE_STATS": str(stats_file)}
    if args.post_script_gc != "config":
        app_env["STREAMLIT_RUNNER_POST_SCRIPT_GC"] = "true" if args.post_script_gc == "on" else "false"
    port = free_port()
    processes = [
        subprocess.Popen([sys.executable, "-m", "core", "simulate", "--rate", str(args.rate)],
                         cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "core", "worker"], cwd=REPO_ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                          "--server.headless", "true", "--server.address", "127.0.0.1"], cwd=REPO_ROOT,
                         env=app_env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(base + "/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        run = asyncio.run(drive_sessions(args, base, port, stats_file, stats_engine, writers=processes[:2]))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    elapsed, lines = run["elapsed"], run["lines"]
    statements = lines[-1]["statements_total"] - lines[0]["statements_total"] if len(lines) > 1 else 0
    snapshots = lines[-1]["snapshots_total"] - lines[0]["snapshots_total"] if len(lines) > 1 else 0
    app_seconds = lines[-1]["at"] - lines[0]["at"] if len(lines) > 1 else elapsed
    run_seconds = [line["seconds"] for line in lines]
    intervals, browser_intervals = run["intervals"], run["browser_intervals"]

    def summary(values: list[float], scale: float = 1.0, digits: int = 2) -> dict:
        if not values:
            return {"p50": None, "p95": None, "max": None, "n": 0}
        return {"p50": round(scale * statistics.median(values), digits), "p95": round(scale * percentile(values, 0.95), digits),
                "max": round(scale * max(values), digits), "n": len(values)}

    out = {
        "benchmark": "Screen 4 under load: sessions on the live page, one app process, simulator and worker running",
        "command": " ".join(["bench/bench_live_load.py", *sys.argv[1:]]),
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sessions": args.sessions, "browser_sessions": args.browsers, "seconds": round(elapsed, 1),
        "simulator_events_per_s": args.rate,
        "streamlit_post_script_gc": args.post_script_gc,
        "app_statements_per_s": round(statements / app_seconds, 2) if app_seconds else None,
        "app_refresh_sets_per_s": round(snapshots / app_seconds, 3) if app_seconds else None,
        "app_statements_per_refresh_set": round(statements / snapshots, 2) if snapshots else None,
        "db_app_transactions_per_s": round(run["app_transactions_per_s"], 2),
        "db_goal_refresh_sets_per_s": 1 / 2,
        "db_all_transactions_per_s_phase_1": round(run["all_transactions_per_s"], 1),
        "fragment_runs_per_s": round(len(run_seconds) / elapsed, 2),
        "fragment_runs_goal_per_s": args.sessions / 2,
        "server_refresh_ms": summary(run_seconds, 1000, 1),
        "client_seconds_between_updates": summary(intervals),
        "browser_seconds_between_updates": summary(browser_intervals),
        "how_counted": {
            "app_statements_per_s": "SQLAlchemy before_cursor_execute listener in the app process",
            "app_refresh_sets_per_s": "computations of the shared live snapshot (cache misses) in the app process",
            "db_app_transactions_per_s": "pg_stat_database xact_commit + xact_rollback in phase 2 (simulator and worker stopped); a refresh set is one transaction, and the pool's liveness ping (pool_pre_ping) on checkout one more",
            "db_all_transactions_per_s_phase_1": "the same in phase 1, simulator and worker included",
            "server_refresh_ms": "duration of each fragment run in the app (cache hit or the one computing)",
            "client_seconds_between_updates": "per session, between two changes of the \"Last updated\" line it received (protocol) or showed (browser)",
        },
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    stats_file.unlink(missing_ok=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
