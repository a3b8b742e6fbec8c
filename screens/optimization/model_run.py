"""The current model run: its header (when, on which data), training by hand, and how good
its models are on held-out data; and reading the run's JSON fields."""
import json

import pandas as pd
import streamlit as st

from core.access.auth import User, can
from ui import optimize_data as opt
from ui.format import date_time, escape_markdown, percent


def as_dict(value) -> dict:
    """A JSON column of the run or a card, as a dict (empty when absent)."""
    if isinstance(value, dict):
        return value
    return json.loads(value) if isinstance(value, str) and value else {}


def run_header(user: User, run: dict | None, tz: str) -> None:
    if run is None:
        st.info("**No model results yet.** The worker retrains the models every 6 hours (`python -m core worker`); "
                "to train now run `python -m core train`" + (" or use *Train now*." if can(user, "run_jobs") else "."),
                icon=":material/model_training:")
        return
    st.caption(f"Models of run #{int(run['run_id'])}, trained {date_time(run['finished_at'], tz)} "
               f"on events through {date_time(run['data_through'], tz)}, in {run['seconds']:.0f} s · "
               "impacts are USD of profit per week (revenue − reward cost − send cost) with 90 % intervals · "
               "hours are each member's local time")


def train_button(user: User) -> None:
    if not can(user, "run_jobs"):
        return
    with st.popover("Train now", icon=":material/model_training:"):
        st.write("Retrain every model on the latest events and rebuild the recommendations. "
                 "Takes about a minute on the demo data; the screen keeps the previous results until it finishes.")
        if st.button("Start training", type="primary", key="train_start"):
            bar = st.progress(0.0, text="starting")
            with st.status("Training…", expanded=True) as status:
                outcome = opt.train_now(user, lambda fraction, message: bar.progress(min(max(fraction, 0.0), 1.0),
                                                                                     text=escape_markdown(message)))
                detail = escape_markdown(outcome.detail)
                status.update(label=f"Skipped: {detail}" if outcome.skipped else f"Done: {detail}", state="complete")
            st.rerun()


def model_quality(run: dict) -> None:
    metrics = as_dict(run["metrics"])
    with st.expander("How good are the models? (held-out evaluations of this run)"):
        send = metrics.get("send_time", {}).get("held_out", {})
        aff = metrics.get("affinity", {}).get("held_out", {})
        off = metrics.get("offers", {}).get("held_out_campaigns", {})
        rows = []
        if send:
            ratio = send["rate_ratio"]
            rows.append(("Send time", "open rate at the recommended hour vs other sends, held-out weeks (×, within campaigns)",
                         f"×{ratio['estimate']:.2f} ({ratio['low']:.2f}–{ratio['high']:.2f})", "×1.00"))
        if aff:
            model = aff["model"]
            rows.append(("Affinity", "hit rate at 3, last two weeks held out",
                         f"{percent(model['estimate'])} ({percent(model['low'])}–{percent(model['high'])})",
                         f"popularity {percent(aff['popularity']['estimate'])}, exposure only "
                         f"{percent(aff['exposure_only']['estimate'])}"))
            per = aff.get("per_impression")
            if per:
                rows.append(("Affinity", "held-out clicks per impression in each member's top 3 categories",
                             f"{percent(per['model']['estimate'])} ({percent(per['model']['low'])}–"
                             f"{percent(per['model']['high'])})",
                             f"popularity {percent(per['popularity']['estimate'])}, exposure only "
                             f"{percent(per['exposure_only']['estimate'])}"))
        if off:
            rows.append(("Offers", "error of conversions per send on unseen campaigns",
                         percent(off["model_error"], 3), f"segment average {percent(off['baseline_error'], 3)}"))
        for item in metrics.get("uplift", []):
            rows.append((f"Uplift (test {item['test_id']}, {item['variant']})", f"Qini coefficient, {item['outcome']}, held-out members",
                         f"{item['qini_coefficient']:+.2f} ({item['qini_low']:+.2f} to {item['qini_high']:+.2f})", "random 0"))
        st.dataframe(pd.DataFrame(rows, columns=["Model", "Metric", "Model's value (95 %)", "Baseline"]),
                     hide_index=True, width="stretch")
        st.caption("Method and tolerances: docs/optimization.md.")
