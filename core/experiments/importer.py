"""Import a real A/B test data set — one row per unit with its variant and outcomes — as an
ended test in the database, all or nothing, so the tracker analyses it like any other test.

Every row is checked before anything is written (ImportRejected lists the lines and what is
wrong); the write is one transaction under an advisory lock. An import creates:
- one member per unit (new member ids; the data set's unit id kept in full_name), in a region
  and segment named after the import;
- a campaign (ended) for the test, hung on an "imported data" merchant and offer;
- the test (stopped; its plan is the sample it has) with its variants and design weights, one
  assignment per unit;
- one campaign_members row per unit with its outcomes mapped onto the tracker's outcomes
  (opens → opened, clicks → clicked / clicks per member, conversions → converted, revenue);
- optionally a pre-period campaign that ended just before the test with a pre-treatment
  covariate per unit (e.g. Hillstrom's past-year spend), which the tracker uses for CUPED.
There are no raw events: the per-member table is what the tracker reads.

PRESETS describe the three public data sets in shared/datasets (cookie_cats, ab_data,
hillstrom), including the published cleaning of ab_data.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from core.access.auth import User, action
from core.platform.db import execute, fetch_df, fetch_scalar
from core.experiments.outcomes import OUTCOMES
from core.experiments.tests_repo import VARIANT_NAME
from core.platform.event_file import position, read_content
from core.platform.ingest import MAX_REPORTED_PROBLEMS, ImportRejected, copy_frame

IMPORT_LOCK_KEY = 7_301_777
TARGETS = {  # campaign_members column -> kind of value accepted
    "opens": "count", "clicks": "count", "conversions": "count", "revenue": "money",
}
TRUE_WORDS = {"true": 1, "false": 0, "yes": 1, "no": 0}


@dataclass(frozen=True)
class ImportSpec:
    """How a file maps onto a test: columns, control, outcome mapping, metrics."""

    name: str
    variant_column: str
    control: str
    outcomes: dict[str, str]                     # file column -> campaign_members column (TARGETS)
    primary_metric: str
    unit_column: str | None = None               # None: the line number is the unit id
    time_column: str | None = None               # when each unit entered the test (UTC if no zone)
    pre_period: dict[str, str] = field(default_factory=dict)  # file column -> target, before the test
    guardrail_metrics: tuple[str, ...] = ()
    weights: dict[str, float] | None = None      # design split; default equal
    channel: str = "in_app"
    hypothesis: str = ""
    minimum_detectable_effect: float = 0.02
    clean: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    cleaning: str = ""                           # what clean() does, in words


def _clean_ab_data(frame: pd.DataFrame) -> pd.DataFrame:
    aligned = (frame["group"] == "treatment") == (frame["landing_page"] == "new_page")
    return frame[aligned].drop_duplicates("user_id", keep="first")


PRESETS: dict[str, ImportSpec] = {
    "cookie_cats": ImportSpec(
        name="Cookie Cats: first gate at level 30 vs 40", unit_column="userid", variant_column="version",
        control="gate_30", primary_metric="converted",
        outcomes={"retention_1": "opens", "retention_7": "conversions", "sum_gamerounds": "clicks"},
        hypothesis="Moving the first gate from level 30 to 40 changes retention. Mapped: retention_7 → converted, "
                   "retention_1 → opened, game rounds → clicks per member."),
    "ab_data": ImportSpec(
        name="Udacity landing page: old vs new", unit_column="user_id", variant_column="group",
        control="control", primary_metric="converted", time_column="timestamp",
        outcomes={"converted": "conversions"},
        hypothesis="The new landing page converts better. Mapped: converted → converted.",
        clean=_clean_ab_data,
        cleaning="kept rows whose group saw its own page (treatment ↔ new_page) and the first row per user"),
    "hillstrom": ImportSpec(
        name="Hillstrom e-mail: men's and women's e-mails vs none", variant_column="segment",
        control="No E-Mail", primary_metric="clicked", channel="email", guardrail_metrics=(),
        outcomes={"visit": "clicks", "conversion": "conversions", "spend": "revenue"},
        pre_period={"history": "revenue"},
        hypothesis="An e-mail brings visits and spend. Mapped: visit → clicked, conversion → converted, "
                   "spend → revenue per member; past-year spend (history) is the CUPED pre-period."),
}


@dataclass
class ImportedTest:
    test_id: int
    campaign_id: int
    units: int
    dropped_rows: int
    per_variant: dict[str, int]
    pre_period_campaign_id: int | None = None


def preset_for(path: str | Path) -> str | None:
    """The preset named like the file (cookie_cats.csv.gz -> cookie_cats), if any."""
    stem = Path(path).name.split(".")[0]
    return stem if stem in PRESETS else None


# ----------------------------------------------------------------------------- validation


class _Problems:
    def __init__(self):
        self.lines: list[tuple[int, str]] = []
        self.total = 0

    def flag(self, mask, lines: np.ndarray, column: str, values: pd.Series, what: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        self.total += int(mask.sum())
        for i in np.flatnonzero(mask)[:MAX_REPORTED_PROBLEMS]:
            self.lines.append((int(lines[i]), f"line {lines[i]}, column {column}: {values.iloc[i]!r} {what}"))

    def add(self, message: str) -> None:
        self.total += 1
        self.lines.append((0, message))

    def raise_if_any(self) -> None:
        if self.total:
            raise ImportRejected([m for _, m in sorted(self.lines, key=lambda p: p[0])], self.total)


def _parse_count(values: pd.Series) -> pd.Series:
    words = values.str.strip().str.lower().map(TRUE_WORDS)
    numbers = pd.to_numeric(values, errors="coerce")
    return words.fillna(numbers)


def validate(frame: pd.DataFrame, spec: ImportSpec) -> tuple[pd.DataFrame, int]:
    """Check the rows against the spec; return one typed row per unit and the rows cleaning dropped."""
    problems = _Problems()
    columns = [spec.variant_column, *spec.outcomes, *spec.pre_period]
    columns += [c for c in (spec.unit_column, spec.time_column) if c]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ImportRejected([f"line 1 (header): missing column(s) {', '.join(missing)}; the file has "
                              f"{', '.join(frame.columns)}"], 1)
    for target in [*spec.outcomes.values(), *spec.pre_period.values()]:
        if target not in TARGETS:
            raise ImportRejected([f"outcome target {target!r} is not one of {', '.join(TARGETS)}"], 1)
    frame = frame.assign(_line=np.arange(len(frame)) + 2)  # the header is line 1
    before = len(frame)
    if spec.clean is not None:
        frame = spec.clean(frame)
    dropped = before - len(frame)
    if frame.empty:
        raise ImportRejected(["no rows left to import" + (f" after cleaning ({spec.cleaning})" if spec.cleaning else "")], 1)
    lines = frame._line.to_numpy()

    variant = frame[spec.variant_column].str.strip()
    problems.flag(~variant.str.match(VARIANT_NAME), lines, spec.variant_column, variant,
                  "is not a usable variant name (1–40 letters, digits, spaces, '-', '_' or '.')")
    found = sorted(set(variant[variant.str.match(VARIANT_NAME)]))
    if spec.control not in found:
        problems.add(f"control {spec.control!r} is not a value of column {spec.variant_column} "
                     f"(values: {', '.join(found[:10])}); choose the control with --control")
    if len(found) < 2:
        problems.add(f"column {spec.variant_column} has {len(found)} variant(s); a test needs at least two")
    if spec.weights is not None and set(spec.weights) != set(found):
        problems.add(f"weights name {sorted(spec.weights)} but the file's variants are {found}")

    if spec.unit_column:
        unit = frame[spec.unit_column].str.strip()
        problems.flag(unit.eq(""), lines, spec.unit_column, unit, "is empty; every row needs its unit id")
        duplicated = unit.duplicated(keep="first") & unit.ne("")
        problems.flag(duplicated, lines, spec.unit_column, unit,
                      "appears more than once; the unit of analysis is one row per unit")
    else:
        unit = pd.Series((lines - 1).astype(str), index=frame.index)

    typed = pd.DataFrame({"unit": unit.to_numpy(), "variant": variant.to_numpy()}, index=frame.index)
    for source, kind in [*[(c, TARGETS[t]) for c, t in spec.outcomes.items()],
                         *[(c, TARGETS[t]) for c, t in spec.pre_period.items()]]:
        raw = frame[source]
        value = _parse_count(raw) if kind == "count" else pd.to_numeric(raw, errors="coerce")
        problems.flag(value.isna(), lines, source, raw,
                      "is not a number" + (" or true/false" if kind == "count" else ""))
        problems.flag(value < 0, lines, source, raw, "is negative")
        if kind == "count":
            problems.flag(value.notna() & (value % 1 != 0), lines, source, raw, "is not a whole number")
        typed[source] = value.to_numpy()

    if spec.time_column:
        raw = frame[spec.time_column]
        when = pd.to_datetime(raw, errors="coerce", format="ISO8601", utc=True)
        problems.flag(when.isna(), lines, spec.time_column, raw, "is not a time; use ISO 8601 like 2017-01-21 22:11:48")
        problems.flag(when > pd.Timestamp.now(tz="UTC"), lines, spec.time_column, raw, "is in the future")
        typed["entered_at"] = when.to_numpy()
    problems.raise_if_any()
    return typed.reset_index(drop=True), dropped


# ----------------------------------------------------------------------------- writing


def _members(ids: np.ndarray, units: pd.Series, slug: str, signup: datetime) -> pd.DataFrame:
    return pd.DataFrame({
        "member_id": ids, "signup_at": signup, "region_code": "IMPORTED", "latitude": 0.0, "longitude": 0.0,
        "device": "web", "timezone": "UTC", "segment": f"imported {slug}", "notifications_opt_in": True,
        "full_name": (f"{slug} unit " + units).to_numpy(), "email": (f"{slug}-unit-" + units + "@import.invalid").to_numpy(),
        "phone": None,
    })


def _member_outcomes(campaign_id: int, ids: np.ndarray, variant, values: dict[str, np.ndarray],
                     sent_at: pd.Series) -> pd.DataFrame:
    """campaign_members rows: sent once at sent_at, each outcome at that moment when non-zero."""
    count = lambda target: values.get(target, np.zeros(len(ids)))  # noqa: E731
    at_if = lambda target: sent_at.where(count(target) > 0)  # noqa: E731
    engaged = sent_at.where((count("opens") > 0) | (count("clicks") > 0))
    return pd.DataFrame({
        "campaign_id": campaign_id, "member_id": ids, "variant": variant, "first_send_at": sent_at,
        "first_delivered_at": sent_at, "first_open_at": at_if("opens"), "first_click_at": at_if("clicks"),
        "first_conversion_at": at_if("conversions"), "last_engaged_at": engaged, "sends": 1,
        "opens": count("opens").astype(np.int64), "clicks": count("clicks").astype(np.int64),
        "conversions": count("conversions").astype(np.int64), "revenue": np.round(count("revenue"), 2),
        "reward_cost": 0.0,
    })


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "import"


def read_frame(path: str | Path) -> pd.DataFrame:
    """The file's rows as strings; gzip is read as its content whatever the file's name. A file
    that is empty, binary or not UTF-8 is rejected with its name, line and column."""
    path = Path(path)
    data = read_content(path)  # no such file, too large, a damaged gzip: rejected there
    if not data.strip():
        raise ImportRejected([f"{path.name}: line 1, column 1: the file is empty; it needs a header line naming "
                              "its columns and one row per unit"], 1)
    bad = [data.find(b"\x00")]  # a NUL byte, or the first byte that is not UTF-8
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad.append(error.start)
    if max(bad) >= 0:
        offset = min(b for b in bad if b >= 0)
        line, column, _ = position(data, offset)
        raise ImportRejected([f"{path.name}: line {line}, column {column}: byte 0x{data[offset]:02x} is not CSV "
                              "text; the file is binary or in another encoding — save it as UTF-8 CSV"], 1)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ImportRejected([f"{path.name}: not a readable CSV file ({str(error).strip()})"], 1) from None
    if frame.empty:
        raise ImportRejected([f"{path.name}: line 2, column 1: the file has a header but no rows"], 1)
    return frame


@action("create_test")
def import_experiment(db: Engine, path: str | Path, spec: ImportSpec, user: User | None = None,
                      now: datetime | None = None) -> ImportedTest:
    """Validate the file against the spec and create the test as `user` (who needs the right to
    create tests: the command line passes the system); all or nothing."""
    from core.access.audit import record

    path = Path(path)
    frame = read_frame(path)
    for metric in (spec.primary_metric, *spec.guardrail_metrics):
        if metric not in OUTCOMES:
            raise ImportRejected([f"metric {metric!r} is not one of {', '.join(OUTCOMES)}"], 1)
    units, dropped = validate(frame, spec)

    now = now or datetime.now(timezone.utc).replace(microsecond=0)
    if "entered_at" in units:
        sent_at = pd.Series(pd.to_datetime(units.entered_at, utc=True))
    else:  # no times in the file: every unit entered the test at one moment, a day ago
        sent_at = pd.Series(pd.Timestamp(now - timedelta(days=1)), index=units.index)
    started_at = sent_at.min().to_pydatetime()
    ended_at = (sent_at.max() + pd.Timedelta(seconds=1)).to_pydatetime()
    names = sorted(set(units.variant), key=lambda v: (v != spec.control, v))
    weights = spec.weights or {v: 1.0 for v in names}
    slug = _slug(spec.name)
    campaign_name = f"Imported: {spec.name}"

    with db.begin() as conn:
        if not fetch_scalar(conn, "advisory_try_lock", lock_key=IMPORT_LOCK_KEY):
            raise ImportRejected(["another experiment import is running; try again when it has finished"], 1)
        ids = fetch_df(conn, "ab_import_next_ids", campaign_name=campaign_name).iloc[0]
        if ids.name_taken:
            raise ImportRejected([f"a campaign named {campaign_name!r} exists already (imported before?); "
                                  "import under another name with --name"], 1)
        execute(conn, "ab_import_region")
        merchant_id, offer_id, campaign_id = int(ids.merchant_id), int(ids.offer_id), int(ids.campaign_id)
        copy_frame(conn, "merchants", pd.DataFrame([{"merchant_id": merchant_id, "name": f"Imported: {spec.name}"[:200],
                                                     "category": "imported"}]))
        copy_frame(conn, "offers", pd.DataFrame([{"offer_id": offer_id, "merchant_id": merchant_id,
                                                  "name": "Imported data (no reward)", "reward_type": "fixed",
                                                  "reward_value": 0.01}]))
        campaign = {"name": campaign_name, "channel": spec.channel, "offer_id": offer_id, "segment": f"imported {slug}",
                    "send_hour": 0, "status": "ended", "budget": 0, "cost_per_send": 0}
        pre_campaign_id = campaign_id + 1 if spec.pre_period else None
        campaigns = [{**campaign, "campaign_id": campaign_id, "starts_at": started_at, "ends_at": ended_at}]
        if pre_campaign_id:
            campaigns.append({**campaign, "campaign_id": pre_campaign_id, "name": f"{campaign_name} (pre-period)",
                              "starts_at": started_at - timedelta(days=1), "ends_at": started_at})
        copy_frame(conn, "campaigns", pd.DataFrame(campaigns))

        member_ids = np.arange(int(ids.member_id), int(ids.member_id) + len(units), dtype=np.int64)
        copy_frame(conn, "members", _members(member_ids, units.unit, slug, started_at - timedelta(days=1)))
        values = {target: units[column].to_numpy(float) for column, target in spec.outcomes.items()}
        copy_frame(conn, "campaign_members", _member_outcomes(campaign_id, member_ids, units.variant.to_numpy(),
                                                              values, sent_at))
        if pre_campaign_id:
            pre_values = {target: units[column].to_numpy(float) for column, target in spec.pre_period.items()}
            pre_sent = pd.Series(pd.Timestamp(started_at - timedelta(days=1)), index=units.index)
            copy_frame(conn, "campaign_members", _member_outcomes(pre_campaign_id, member_ids, None, pre_values, pre_sent))
        imported = [campaign_id] + ([pre_campaign_id] if pre_campaign_id else [])
        execute(conn, "reach_from_members", campaign_ids=imported)
        execute(conn, "reach_all_campaigns_add", campaign_ids=imported)  # "All campaigns" counts them too

        test_id = execute(conn, "ab_test_insert", campaign_id=campaign_id, test_name=spec.name, hypothesis=spec.hypothesis,
                          primary_metric=spec.primary_metric, guardrail_metrics=list(spec.guardrail_metrics),
                          minimum_detectable_effect=spec.minimum_detectable_effect, alpha=0.05, status="stopped",
                          created_by=user.email, started_at=started_at, ended_at=ended_at,
                          decision="imported data set; no decision recorded",
                          # The data set is the whole experiment: it ran to the sample it has.
                          planned_per_arm=int(units.variant.value_counts().min())).one().test_id
        execute(conn, "ab_variants_insert", test_id=test_id, variants=names,
                weights=[float(weights[v]) for v in names], control=spec.control)
        copy_frame(conn, "ab_assignments", pd.DataFrame({"campaign_id": campaign_id, "test_id": test_id,
                                                         "member_id": member_ids, "variant": units.variant.to_numpy(),
                                                         "assigned_at": sent_at}))
        details = {"file": path.name, "units": len(units), "dropped_rows": dropped, "cleaning": spec.cleaning or None}
        record(conn, user, "import_experiment",
               f"ab_test:{test_id}", details)
    return ImportedTest(int(test_id), campaign_id, len(units), dropped,
                        units.variant.value_counts().to_dict(), pre_campaign_id)


def spec_from_options(path: str | Path, preset: str | None = None, **overrides) -> ImportSpec:
    """The preset (named, or named like the file) with command-line overrides applied; without a
    preset the overrides must name at least the variant column, control, outcomes and metric."""
    preset = preset or preset_for(path)
    overrides = {k: v for k, v in overrides.items() if v not in (None, {}, [], ())}
    if preset:
        if preset not in PRESETS:
            raise ImportRejected([f"unknown preset {preset!r}; presets are {', '.join(PRESETS)}"], 1)
        return replace(PRESETS[preset], **overrides)
    needed = ["variant_column", "control", "outcomes", "primary_metric"]
    lacking = [k for k in needed if k not in overrides]
    if lacking:
        flags = ", ".join("--" + k.replace("_", "-").replace("outcomes", "outcome") for k in lacking)
        raise ImportRejected([f"{Path(path).name} matches no preset ({', '.join(PRESETS)}); give {flags}"], 1)
    overrides.setdefault("name", Path(path).name.split(".")[0])
    return ImportSpec(**overrides)
