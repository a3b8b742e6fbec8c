"""Benchmark: the seed's load test, 100 → 1,500 live campaigns fed by the simulator (issue 15).

Issue 15's words: "the seed's load test (100 → 1,500 active campaigns, the simulator feeding all
of them) runs as a benchmark with error rate < 0.1 % and the rollup lag < 5 s throughout".

On a database of its own (the demo with --campaigns 1500, loaded by `python -m core demo`), or
on an existing demo database with enough campaigns (--database NAME --reuse), it ramps the number
of live campaigns in steps (--steps, default 100,250,500,1000,1500). At each step exactly that
many campaigns are live — status 'live' and a date range around now, written to the campaigns
table, which is what the simulator reads (queries/live_simulator_campaigns.sql, every
core.demo.simulator.RELOAD_SECONDS); every other campaign is paused — and, once the simulator
says it sends for exactly that many, each rate of --rates (extra load in events/s on top of the
world's own, spread over the live campaigns by audience size) is held for --hold seconds.

Beside it, as in production, run: the live simulator (`core.demo.simulator.run` in a child
process, the same loop as `python -m core simulate`, with its write_batch, load_world and
Simulator wrapped to count batches, failures and reloads, and to take a new --rate from the
parent without a restart) and the worker's jobs (`core.worker.run_forever` with the rollup and
BRIN-summary jobs, or the whole `python -m core worker` with --worker-jobs all).

Measured at each step and rate:
- events/s achieved (the event id sequence) and how many live campaigns got at least one event;
- errors: write batches that failed (the simulator retries them), events the roller moved to
  rollup_quarantine, failed rollup job runs (job_runs), a simulator that died; the error rate is
  (events of failed batches + quarantined events) / events attempted;
- rollup lag, sampled every second with the System screen's own definition
  (core.platform.health.check: seconds since the rollups last advanced while events wait, 0
  when none wait) — the floor is its maximum over the hold; and, as bench_platform.py defines
  it, each sample's newest event id until a finished rollup run moved the watermark past it
  (from job_runs' finished_at and "event_id a→b");
- the screens' main queries, one after another with a pause, on their own connection:
  Campaign analytics' portfolio (core.analytics.campaigns.portfolio_comparison, last 28 days
  against the previous period), the Overview's cards (period_summaries), the Real-time tiles
  (core.live.tiles.snapshot, 15-minute window) and the System screen's health check — p50/p95;
- the simulator's reloads of the live campaigns (seconds each) and its batches' write times.

Run from the repository root (the full ramp takes about 15 minutes and both cores; best on a
quiet machine):
    .venv/bin/python bench/bench_campaign_load.py                         # loads its own database
    .venv/bin/python bench/bench_campaign_load.py --reuse                 # the same, no reload
    .venv/bin/python bench/bench_campaign_load.py --database swipesavvy_bench_browser_1500 --reuse
    .venv/bin/python bench/bench_campaign_load.py --database swipesavvy_bench_campaign_load_smoke \\
        --campaigns 300 --members 5000 --days 7 --steps 50,150,300 --hold 15 --drop \\
        --output /tmp/campaign_load_smoke.json                            # a quick smoke run (3 minutes)
Campaign statuses and dates are put back as they were at the end (also when interrupted).
Writes bench/results/campaign_load.json and prints a table. Uses DATABASE_URL (a server) as the
admin connection, default postgresql://postgres@127.0.0.1:5432/postgres.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.common import admin_url, demo_database, drop_database, say  # noqa: E402

RESULTS_PATH = REPO_ROOT / "bench" / "results" / "campaign_load.json"
DEFAULT_DATABASE = "swipesavvy_bench_campaign_load"
ERROR_RATE_FLOOR = 0.001   # < 0.1 %
LAG_FLOOR_SECONDS = 5.0    # < 5 s throughout
DEFAULT_WORKER_JOBS = "rollup,brin_summarize"
ROLLUP_DETAIL = re.compile(r"event_id (\d+)\D+(\d+)")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(int(round(q * len(ordered) + 0.5)) - 1, 0))]


def summary(values: list[float], digits: int = 2) -> dict:
    if not values:
        return {"p50": None, "p95": None, "max": None, "n": 0}
    return {"p50": round(statistics.median(values), digits), "p95": round(percentile(values, 0.95), digits),
            "max": round(max(values), digits), "n": len(values)}


# --- the child processes -------------------------------------------------------------------------

def simulator_child(stats_dir: Path, seed: int | None) -> int:
    """The live simulator (core.demo.simulator.run, as `python -m core simulate`) with its
    writes, reloads and rate watched: a JSON line per batch and per reload in stats_dir/log.jsonl,
    the current state in stats_dir/status.json, the rate read from stats_dir/rate every 0.5 s."""
    from core.demo import simulator
    from core.platform.db import make_engine

    log_file = open(stats_dir / "log.jsonl", "a", buffering=1)
    holder: dict = {"sim": None, "live": None}
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())

    def record(**line) -> None:
        log_file.write(json.dumps({"t": time.time(), **line}) + "\n")

    def read_rate() -> float:
        try:
            return float((stats_dir / "rate").read_text())
        except (OSError, ValueError):
            return 0.0

    write_batch, load_world = simulator.write_batch, simulator.load_world

    def watched_write(db, batch):
        if batch.empty:
            return write_batch(db, batch)
        started = time.monotonic()
        try:
            written = write_batch(db, batch)
        except Exception as error:  # the simulator keeps the batch and retries it (database errors)
            record(kind="batch", n=len(batch), ok=False, s=time.monotonic() - started,
                   error=f"{type(error).__name__}: {str(getattr(error, 'orig', None) or error).strip()[:300]}")
            raise
        record(kind="batch", n=len(batch), ok=True, s=time.monotonic() - started)
        return written

    def watched_load_world(db, now, *args, **kwargs):
        started = time.monotonic()
        state = load_world(db, now, *args, **kwargs)
        holder["live"] = len(state.campaigns)
        record(kind="reload", campaigns=len(state.campaigns), s=time.monotonic() - started)
        return state

    class WatchedSimulator(simulator.Simulator):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            holder["sim"] = self

    simulator.write_batch, simulator.load_world, simulator.Simulator = watched_write, watched_load_world, WatchedSimulator

    def status() -> None:
        while not stopping.wait(0.5):
            sim = holder["sim"]
            if sim is not None:
                sim.rate = read_rate()  # the next step's extra load reads it
            state = {"t": time.time(), "live_campaigns": holder["live"], "rate": sim.rate if sim else None,
                     "clock": sim.clock.isoformat() if sim is not None else None,
                     "queued": len(sim.pending) if sim is not None else None}
            (stats_dir / "status.tmp").write_text(json.dumps(state))
            os.replace(stats_dir / "status.tmp", stats_dir / "status.json")

    threading.Thread(target=status, daemon=True).start()
    engine = make_engine(pool_size=2)
    try:
        report = simulator.run(engine, rate=read_rate(), seed=seed, should_stop=stopping.is_set,
                               progress=lambda message: print(f"{time.strftime('%H:%M:%S')} {message}", flush=True))
    except Exception as error:
        record(kind="fatal", error=f"{type(error).__name__}: {str(error).strip()[:500]}")
        raise
    print(f"wrote {report.events:,} events in {report.seconds:.1f}s", flush=True)
    return 0


def worker_child(jobs: str) -> int:
    """The worker's own loop (core.worker.run_forever) with only the named jobs."""
    import logging

    from core import worker
    from core.platform.db import make_engine

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    names = set(jobs.split(","))
    unknown = names - {job.name for job in worker.SCHEDULE}
    if unknown:
        print(f"unknown jobs {sorted(unknown)}; the worker has {[job.name for job in worker.SCHEDULE]}", file=sys.stderr)
        return 2
    worker.SCHEDULE[:] = [job for job in worker.SCHEDULE if job.name in names]
    worker.run_forever(make_engine(pool_size=4))
    return 0


# --- the live set --------------------------------------------------------------------------------

def saved_campaigns(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(text(
            "SELECT campaign_id, status, starts_at, ends_at, updated_at FROM campaigns ORDER BY campaign_id")).mappings()]


def live_order(engine) -> list[int]:
    """The campaigns in the order they are made live: those live now first (their history and
    A/B tests are the demo's), then the others, each by id."""
    with engine.connect() as conn:
        return [int(c) for c in conn.execute(text(
            "SELECT campaign_id FROM campaigns ORDER BY (status = 'live' AND starts_at <= now() "
            "AND (ends_at IS NULL OR ends_at > now() + interval '1 day')) DESC, campaign_id")).scalars()]


def set_live(engine, ids: list[int]) -> None:
    """Exactly `ids` live now (a start before now, an end well after it); every other campaign paused."""
    with engine.begin() as conn:
        conn.execute(text("""
            UPDATE campaigns SET
              status = CASE WHEN campaign_id = ANY(:ids) THEN 'live' ELSE 'paused' END,
              starts_at = CASE WHEN campaign_id = ANY(:ids) THEN least(starts_at, now() - interval '1 day') ELSE starts_at END,
              ends_at = CASE WHEN campaign_id = ANY(:ids) AND ends_at IS NOT NULL
                             THEN greatest(ends_at, now() + interval '30 days') ELSE ends_at END,
              updated_at = now()"""), {"ids": ids})


def restore_campaigns(engine, saved: list[dict]) -> None:
    with engine.begin() as conn:
        conn.execute(text("""
            UPDATE campaigns c SET status = o.status, starts_at = o.starts_at, ends_at = o.ends_at, updated_at = o.updated_at
            FROM unnest(CAST(:ids AS integer[]), CAST(:statuses AS text[]), CAST(:starts AS timestamptz[]),
                        CAST(:ends AS timestamptz[]), CAST(:updated AS timestamptz[]))
                 AS o(campaign_id, status, starts_at, ends_at, updated_at)
            WHERE c.campaign_id = o.campaign_id"""),
            {"ids": [c["campaign_id"] for c in saved], "statuses": [c["status"] for c in saved],
             "starts": [c["starts_at"] for c in saved], "ends": [c["ends_at"] for c in saved],
             "updated": [c["updated_at"] for c in saved]})


# --- measuring -----------------------------------------------------------------------------------

class Children:
    """The simulator and the worker, in child processes with their logs in one folder."""

    def __init__(self, url: str, folder: Path, worker_jobs: str, seed: int | None):
        env = {**os.environ, "DATABASE_URL": url}
        self.folder = folder
        script = str(Path(__file__).resolve())
        seed_args = ["--seed", str(seed)] if seed is not None else []
        self.simulator = subprocess.Popen([sys.executable, script, "--simulator-child", str(folder), *seed_args],
                                          cwd=REPO_ROOT, env=env, stdout=open(folder / "simulator.log", "w"),
                                          stderr=subprocess.STDOUT)
        command = ([sys.executable, "-m", "core", "worker"] if worker_jobs == "all"
                   else [sys.executable, script, "--worker-child", worker_jobs])
        self.worker = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=open(folder / "worker.log", "w"),
                                       stderr=subprocess.STDOUT)

    def set_rate(self, rate: float) -> None:
        (self.folder / "rate.tmp").write_text(repr(float(rate)))
        os.replace(self.folder / "rate.tmp", self.folder / "rate")

    def status(self) -> dict:
        try:
            return json.loads((self.folder / "status.json").read_text())
        except (OSError, ValueError):
            return {}

    def log(self, since: float = 0.0, until: float = float("inf")) -> list[dict]:
        path = self.folder / "log.jsonl"
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
        return [line for line in lines if since <= line["t"] < until]

    def alive(self) -> dict:
        return {"simulator": self.simulator.poll() is None, "worker": self.worker.poll() is None}

    def stop(self) -> None:
        for process in (self.simulator, self.worker):
            if process.poll() is None:
                process.terminate()
        for process in (self.simulator, self.worker):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def sample_once(engine, health) -> dict:
    """One sample: the System screen's health check (timed) and the sequence and watermark."""
    wall = datetime.now(timezone.utc)
    started = time.perf_counter()
    report = health.check(engine)
    health_ms = (time.perf_counter() - started) * 1000
    with engine.connect() as conn:
        last_id, watermark = conn.execute(text(
            "SELECT coalesce(pg_sequence_last_value('events_event_id_seq'), 0), w.last_event_id "
            "FROM rollup_watermarks w WHERE w.name = 'events'")).one()
    return {"at": wall, "t": wall.timestamp(), "health_ms": health_ms, "reachable": report.reachable,
            "lag": report.rollup_lag_seconds, "pending": report.pending_events,
            "last_id": int(last_id), "watermark": int(watermark)}


class Sampler(threading.Thread):
    """A sample every second until stopped."""

    def __init__(self, engine, health, children: "Children"):
        super().__init__(daemon=True)
        self.engine, self.health, self.children = engine, health, children
        self.samples: list[dict] = []
        self.errors: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        due = time.monotonic()
        while not self.stopping.is_set():
            try:
                sample = sample_once(self.engine, self.health)
                clock = self.children.status().get("clock")  # the simulated clock: does it keep pace?
                sample["simulator_behind"] = (sample["at"] - datetime.fromisoformat(clock)).total_seconds() if clock else None
                self.samples.append(sample)
            except Exception as error:  # counted, not fatal: the load goes on
                self.errors.append(f"{type(error).__name__}: {str(error).strip()[:200]}")
            due += 1.0
            self.stopping.wait(max(0.0, due - time.monotonic()))


class ScreenQueries(threading.Thread):
    """The screens' main queries, one after another with `pause` seconds between rounds."""

    def __init__(self, engine, tz: str, pause: float):
        super().__init__(daemon=True)
        from core.analytics import campaigns as analytics
        from core.analytics.presets import comparison_for, preset_period
        from core.live import tiles

        self.engine, self.pause = engine, pause
        self.stopping = threading.Event()
        self.times: dict[str, list[float]] = {"portfolio": [], "overview": [], "live_tiles": []}
        self.errors: list[str] = []
        period = preset_period("last_28_days", tz)
        comparison = comparison_for(period, "previous", "last_28_days")

        def live():
            snapshot = tiles.snapshot(engine, 15, tz)
            if snapshot.error:
                raise RuntimeError(snapshot.error)

        self.functions = {
            "portfolio": lambda: analytics.portfolio_comparison(engine, period, comparison),
            "overview": lambda: analytics.period_summaries(engine, period, None, comparison),
            "live_tiles": live,
        }

    def run(self) -> None:
        while not self.stopping.is_set():
            for name, function in self.functions.items():
                if self.stopping.is_set():
                    return
                started = time.perf_counter()
                try:
                    function()
                except Exception as error:
                    self.errors.append(f"{name}: {type(error).__name__}: {str(error).strip()[:200]}")
                    continue
                self.times[name].append((time.perf_counter() - started) * 1000)
            self.stopping.wait(self.pause)


def wait_for(condition, timeout: float, what: str, every: float = 1.0) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(every)
    return time.monotonic() - started


def rollup_runs(engine, since: datetime) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT started_at, finished_at, status, detail FROM job_runs "
            "WHERE job = 'rollup' AND started_at >= :since ORDER BY started_at"), {"since": since}).mappings().all()
    out = []
    for row in rows:
        found = ROLLUP_DETAIL.search(row["detail"] or "") if row["status"] == "succeeded" else None
        out.append({**row, "to_id": int(found.group(2)) if found else None})
    return out


def event_lags(samples: list[dict], runs: list[dict]) -> tuple[list[float], int]:
    """Per sample: from when its newest event id was read until a finished rollup run had moved
    the watermark past it; and how many samples no run reached."""
    done = sorted((r["finished_at"], r["to_id"]) for r in runs if r["to_id"] is not None and r["finished_at"])
    lags, never = [], 0
    for sample in samples:
        if sample["watermark"] >= sample["last_id"]:
            lags.append(0.0)
            continue
        finished = next((at for at, to_id in done if to_id >= sample["last_id"] and at >= sample["at"]), None)
        if finished is None:
            never += 1
        else:
            lags.append((finished - sample["at"]).total_seconds())
    return lags, never


def measure_hold(args, engine, query_engine, health, children: Children, live: int, rate: float) -> dict:
    """Hold one step at one rate for --hold seconds and measure it."""
    started_wall = datetime.now(timezone.utc)
    first = sample_once(engine, health)
    sampler = Sampler(engine, health, children)
    queries = None if args.no_queries else ScreenQueries(query_engine, args.tz, args.query_pause)
    sampler.start()
    if queries:
        queries.start()
    time.sleep(args.hold)
    sampler.stopping.set()
    if queries:
        queries.stopping.set()
    sampler.join()
    if queries:
        queries.join()
    last = sample_once(engine, health)
    ended_wall = last["at"]
    seconds = (ended_wall - started_wall).total_seconds()
    alive = children.alive()
    log = children.log(started_wall.timestamp(), ended_wall.timestamp())
    batches = [line for line in log if line["kind"] == "batch"]
    failed = [line for line in batches if not line["ok"]]
    reloads = [line for line in log if line["kind"] == "reload"]
    fatal = [line["error"] for line in children.log() if line["kind"] == "fatal"]
    with engine.connect() as conn:
        quarantined = int(conn.execute(text(
            "SELECT count(*) FROM rollup_quarantine WHERE quarantined_at >= :a AND quarantined_at < :b"),
            {"a": started_wall, "b": ended_wall}).scalar())
        fed = int(conn.execute(text(
            "SELECT count(DISTINCT campaign_id) FROM events WHERE event_id > :a AND event_id <= :b"),
            {"a": first["last_id"], "b": last["last_id"]}).scalar())
    attempted = sum(line["n"] for line in batches)
    failed_events = sum(line["n"] for line in failed)
    error_rate = (failed_events + quarantined) / attempted if attempted else (1.0 if fatal or not alive["simulator"] else 0.0)
    events = last["last_id"] - first["last_id"]
    health_lags = [s["lag"] for s in sampler.samples if s["lag"] is not None]
    status = children.status()
    return {
        "live_campaigns": live, "rate_requested_events_per_s": rate,
        "started_at": started_wall.isoformat(timespec="seconds"), "seconds": round(seconds, 1),
        "simulator_live_campaigns": status.get("live_campaigns"),
        "later_stages_queued": status.get("queued"),
        "campaigns_with_events": fed,
        "events": events, "events_per_s": round(events / seconds, 1) if seconds else None,
        "batches": len(batches), "batches_failed": len(failed), "events_attempted": attempted,
        "events_in_failed_batches": failed_events, "quarantined": quarantined,
        "simulator_alive": alive["simulator"], "worker_alive": alive["worker"], "simulator_fatal": fatal,
        "error_rate": round(error_rate, 6),
        "batch_errors": sorted({line.get("error", "") for line in failed})[:5],
        "rollup_lag_s": summary(health_lags),
        "pending_events": summary([float(s["pending"]) for s in sampler.samples if s["pending"] is not None], 0),
        "samples": len(sampler.samples), "sampling_errors": sampler.errors[:5],
        "batches_per_s": round(len(batches) / seconds, 2) if seconds else None,
        "write_seconds_per_batch": summary([line["s"] for line in batches], 3),
        "simulator_behind_clock_s": summary([s["simulator_behind"] for s in sampler.samples
                                             if s.get("simulator_behind") is not None]),
        "simulator_reloads": {"n": len(reloads), "seconds": summary([line["s"] for line in reloads], 2)},
        "queries_ms": {**({name: summary(values, 1) for name, values in queries.times.items()} if queries else {}),
                       "system_health": summary([s["health_ms"] for s in sampler.samples], 1)},
        "query_errors": (queries.errors[:5] if queries else []),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "_samples": sampler.samples,  # for the event lag, computed at the end from job_runs
        "_window": (started_wall, ended_wall),
    }


def finish_step(result: dict, runs: list[dict]) -> dict:
    started, ended = result.pop("_window")
    samples = result.pop("_samples")
    mine = [r for r in runs if started <= r["started_at"] < ended]
    lags, never = event_lags(samples, runs)
    result["rollup_runs"] = len(mine)
    result["rollup_runs_failed"] = sum(r["status"] == "failed" for r in mine)
    result["rollup_failures"] = sorted({(r["detail"] or "")[:200] for r in mine if r["status"] == "failed"})[:5]
    result["event_lag_s"] = {**summary(lags), "never_rolled_up": never}
    errors_ok = (result["error_rate"] < ERROR_RATE_FLOOR and result["simulator_alive"] and not result["simulator_fatal"])
    lag_max = result["rollup_lag_s"]["max"]
    lag_ok = (lag_max is not None and lag_max < LAG_FLOOR_SECONDS and result["worker_alive"]
              and result["rollup_runs_failed"] == 0 and result["rollup_lag_s"]["n"] >= 0.8 * result["seconds"])
    result["floors"] = {"error_rate_under_0.1_percent": errors_ok, "rollup_lag_under_5_s_throughout": lag_ok}
    result["met"] = errors_ok and lag_ok
    return result


def table(steps: list[dict]) -> str:
    """One line per step and rate: what the README's tables show."""
    num = lambda v, d=1: "-" if v is None else f"{v:,.{d}f}"
    pair = lambda q: f"{num(q.get('p50'), 0)} / {num(q.get('p95'), 0)}" if q and q.get("n") else "-"
    rows = [["live", "extra ev/s", "ev/s", "fed", "batches", "failed", "quarant.", "error %", "sim behind max s",
             "lag p50/p95/max s",
             "event lag p95/max s", "portfolio ms", "overview ms", "live ms", "health ms", "met"]]
    for s in steps:
        lag, ev, q = s["rollup_lag_s"], s["event_lag_s"], s["queries_ms"]
        rows.append([f"{s['live_campaigns']:,}", f"{s['rate_requested_events_per_s']:g}", num(s["events_per_s"], 0),
                     f"{s['campaigns_with_events']:,}", f"{s['batches']:,}", f"{s['batches_failed']:,}",
                     f"{s['quarantined']:,}", f"{100 * s['error_rate']:.3f}", num(s["simulator_behind_clock_s"]["max"]),
                     f"{num(lag['p50'])} / {num(lag['p95'])} / {num(lag['max'])}", f"{num(ev['p95'])} / {num(ev['max'])}",
                     pair(q.get("portfolio")), pair(q.get("overview")), pair(q.get("live_tiles")),
                     pair(q.get("system_health")), "yes" if s["met"] else "NO"])
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def database_facts(engine) -> dict:
    with engine.connect() as conn:
        row = conn.execute(text("""
            SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM campaigns) AS campaigns,
                   (SELECT count(*) FROM campaigns WHERE status = 'live') AS live_campaigns,
                   (SELECT count(*) FROM members) AS members,
                   (SELECT count(*) FROM rollup_quarantine) AS quarantined,
                   current_setting('server_version') AS server_version""")).mappings().one()
    return dict(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="100,250,500,1000,1500", help="live campaigns at each step, comma separated")
    parser.add_argument("--rates", type=float, nargs="+", default=[50, 2000],
                        help="extra load of the simulator in events/s, each held at every step (default: 50, the "
                             "rate the live benchmarks run make run's simulator at, and 2,000, the simulator's floor)")
    parser.add_argument("--hold", type=float, default=60, help="seconds each step is held at each rate")
    parser.add_argument("--settle", type=float, default=10,
                        help="seconds after the simulator feeds a step's campaigns (or a new rate) before measuring")
    parser.add_argument("--database", default=DEFAULT_DATABASE,
                        help="the database (made and loaded unless --reuse finds it); an existing other one needs --reuse")
    parser.add_argument("--reuse", action="store_true", help="reuse the database if it exists (no reload)")
    parser.add_argument("--reload", action="store_true", help="drop and reload an existing --database other than the default")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end (only one this run loaded)")
    parser.add_argument("--campaigns", type=int, default=1500, help="demo campaigns when loading")
    parser.add_argument("--members", type=int, default=60_000, help="demo members when loading")
    parser.add_argument("--days", type=int, default=30, help="demo days when loading")
    parser.add_argument("--worker-jobs", default=DEFAULT_WORKER_JOBS,
                        help=f"the worker's jobs run beside (default {DEFAULT_WORKER_JOBS}); 'all': python -m core worker, "
                             "whose first act on an untrained database is a model retrain")
    parser.add_argument("--no-queries", action="store_true", help="do not time the screens' queries")
    parser.add_argument("--query-pause", type=float, default=1.0, help="seconds between two rounds of the screens' queries")
    parser.add_argument("--tz", default="America/New_York")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulator's extra load")
    parser.add_argument("--warmup-timeout", type=float, default=1800,
                        help="seconds the simulator and the rollups may take to catch up with the clock first")
    parser.add_argument("--step-timeout", type=float, default=120,
                        help="seconds the simulator may take to send for a new step's campaigns")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH,
                        help=f"where to write the JSON (default {RESULTS_PATH.relative_to(REPO_ROOT)})")
    parser.add_argument("--simulator-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.simulator_child:
        sys.exit(simulator_child(args.simulator_child, args.seed))
    if args.worker_child:
        sys.exit(worker_child(args.worker_child))
    steps = [int(s) for s in args.steps.split(",") if s.strip()]
    if not steps or min(steps) <= 0:
        parser.error("--steps: positive numbers of campaigns, e.g. 100,250,500,1000,1500")

    admin = admin_url()
    probe = create_engine(admin, pool_size=1)
    with probe.connect() as conn:
        exists = bool(conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": args.database}).scalar())
    probe.dispose()
    if exists and not args.reuse and args.database != DEFAULT_DATABASE and not args.reload:
        parser.error(f"database {args.database} exists: --reuse to measure on it, --reload to drop and reload it")
    loads = not (exists and args.reuse)
    url = demo_database(admin, args.database,
                        ["--campaigns", str(args.campaigns), "--members", str(args.members), "--days", str(args.days)],
                        args.reuse, what=f"the demo ({args.campaigns:,} campaigns, {args.members:,} members, {args.days} days)")
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "core", "migrate", "up"], cwd=REPO_ROOT, env=env, check=True, stdout=sys.stderr)
    os.environ["DATABASE_URL"] = url  # the children, and core's engines in this process

    from core.platform import health
    from core.platform.db import make_engine

    engine = make_engine(url, pool_size=2)
    query_engine = make_engine(url, pool_size=2)
    load_at_start = [round(v, 2) for v in os.getloadavg()]
    facts = database_facts(engine)
    say(f"database {args.database}: {facts['events']:,} events, {facts['campaigns']:,} campaigns "
        f"({facts['live_campaigns']:,} live), {facts['members']:,} members; load average {load_at_start}")
    if facts["campaigns"] < max(steps):
        sys.exit(f"{args.database} has {facts['campaigns']:,} campaigns, fewer than the largest step ({max(steps):,})")
    saved = saved_campaigns(engine)
    order = live_order(engine)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the campaigns are put back
    folder = Path(tempfile.mkdtemp(prefix="campaign-load-"))
    results, children, warmup = [], None, {}
    run_started = datetime.now(timezone.utc)
    try:
        set_live(engine, order[:steps[0]])
        children = Children(url, folder, args.worker_jobs, args.seed)
        children.set_rate(args.rates[0])
        say(f"started the simulator and the worker ({args.worker_jobs}); logs in {folder}")

        def caught_up() -> bool:
            status = children.status()
            if not all(children.alive().values()):
                raise RuntimeError(f"a child process ended: {children.alive()}; see {folder}")
            if not status.get("clock"):
                return False
            behind = (datetime.now(timezone.utc) - datetime.fromisoformat(status["clock"])).total_seconds()
            if behind > 5:
                return False
            sample = sample_once(engine, health)
            return sample["lag"] is not None and sample["lag"] < LAG_FLOOR_SECONDS and sample["pending"] < 100_000

        say("waiting for the simulator to catch up with the clock and the rollups with it")
        warmup["seconds"] = round(wait_for(caught_up, args.warmup_timeout, "catching up"), 1)
        say(f"  caught up in {warmup['seconds']:g} s")
        for n in steps:
            set_live(engine, order[:n])
            say(f"step: {n:,} live campaigns; waiting for the simulator to send for them")
            took = wait_for(lambda: children.status().get("live_campaigns") == n or not children.alive()["simulator"],
                            args.step_timeout, f"the simulator sending for {n} campaigns", every=0.5)
            for rate in args.rates:
                children.set_rate(rate)
                time.sleep(args.settle)
                say(f"  {n:,} campaigns at {rate:g} events/s extra: holding {args.hold:g} s "
                    f"(the simulator took {took:.1f} s to pick them up)")
                result = measure_hold(args, engine, query_engine, health, children, n, rate)
                result["seconds_to_pick_up_the_campaigns"] = round(took, 1)
                results.append(result)
                lag = result["rollup_lag_s"]
                say(f"    {result['events_per_s']:,} events/s, {result['campaigns_with_events']:,} campaigns fed, "
                    f"error rate {100 * result['error_rate']:.3f} %, lag p95 {lag['p95']} max {lag['max']} s")
                if not children.alive()["simulator"]:
                    say("the simulator died: stopping the ramp")
                    break
            if not children.alive()["simulator"]:
                break
        if results and children.alive()["worker"]:  # the last samples' events rolled up, for their event lag
            newest = max(sample["last_id"] for sample in results[-1]["_samples"] or [{"last_id": 0}])
            try:
                wait_for(lambda: sample_once(engine, health)["watermark"] >= newest, 60, "the last rollup", every=0.5)
            except TimeoutError as error:
                say(str(error))
    finally:
        if children is not None:
            children.stop()
        restore_campaigns(engine, saved)
        say("campaign statuses and dates put back")
    runs = rollup_runs(engine, run_started - timedelta(seconds=5))
    steps_out = [finish_step(result, runs) for result in results]
    facts_end = database_facts(engine)
    engine.dispose()
    query_engine.dispose()
    out = {
        "benchmark": "the seed's load test: live campaigns ramped in steps, the live simulator feeding all of them "
                     "and the rollups beside; per step and rate: events/s, errors, rollup lag, the screens' queries",
        "command": " ".join(["bench/bench_campaign_load.py", *sys.argv[1:]]),
        "measured_at": run_started.isoformat(timespec="seconds"),
        "floors": {"error_rate": f"< {100 * ERROR_RATE_FLOOR:g} %", "rollup_lag": f"< {LAG_FLOOR_SECONDS:g} s throughout"},
        "all_met": bool(steps_out) and all(s["met"] for s in steps_out) and len(steps_out) == len(steps) * len(args.rates),
        "database": {"name": args.database, "loaded_by_this_run": loads, **{k: v for k, v in facts.items() if k != "server_version"},
                     "events_at_end": facts_end["events"], "quarantined_at_end": facts_end["quarantined"]},
        "worker_jobs": args.worker_jobs, "hold_seconds": args.hold, "settle_seconds": args.settle,
        "warmup": warmup,
        "steps": steps_out,
        "definitions": {
            "error_rate": "(events of write batches that failed + events moved to rollup_quarantine) / events the "
                          "simulator tried to write, over the hold; a failed batch is retried by the simulator",
            "rollup_lag_s": "core.platform.health.check's rollup_lag_seconds (the System screen's): seconds since the "
                            "rollups last advanced while events wait, 0 when none wait; sampled every second",
            "event_lag_s": "per sample, from reading the newest event id until a finished rollup run (job_runs) had "
                           "moved the watermark past it (bench_platform.py's definition, at 1-second samples)",
            "campaigns_with_events": "distinct campaign_id among the events written during the hold",
            "simulator_behind_clock_s": "wall clock minus the simulator's simulated clock, sampled every second: it "
                                        "ticks every 0.5 s, so about 0.5 s when it keeps pace",
            "simulator_reloads": "the simulator's reads of the live campaigns and their settings (core.demo.simulator."
                                 "load_world, every RELOAD_SECONDS), seconds each",
            "events_per_s": "event ids assigned during the hold / its seconds: the world's own events and the extra load. "
                            "The extra load's rate counts every event a send will bring (core.demo.simulator."
                            "EVENTS_PER_LOAD_SEND); its opens, clicks and conversions come minutes to days later "
                            "(later_stages_queued), so a short hold sees about half the asked rate",
            "queries_ms": "portfolio: core.analytics.campaigns.portfolio_comparison (last 28 days vs previous); "
                          "overview: period_summaries (all campaigns, same periods); live_tiles: "
                          "core.live.tiles.snapshot (15 min); system_health: core.platform.health.check",
        },
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "postgresql": facts["server_version"], "load_average_start": load_at_start,
                    "load_average_end": [round(v, 2) for v in os.getloadavg()]},
        "logs": str(folder),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(table(steps_out))
    print(f"all floors met: {'yes' if out['all_met'] else 'no'}; JSON in {args.output}")
    if args.drop and loads:
        drop_database(admin, args.database)
        say(f"dropped {args.database}")


if __name__ == "__main__":
    main()
