"""Tab "Calculator": the tracker's analysis of summary statistics pasted by an analyst."""
import streamlit as st

from core.experiments import calculator
from core.experiments import results as tracker
from screens.ab_tests.decided import verdict_box
from ui.format import escape_markdown, p_value, probability

EXAMPLE = "variant,n,sum\ncontrol,10000,1200\ntreatment,10000,1290"


def result_columns(difference: str) -> dict:
    number = st.column_config.NumberColumn
    lift = "percent" if difference == "relative" else "%.4f"
    return {
        "variant": "Treatment", "n_control": number("Control n", format="%d"),
        "n_treatment": number("Treatment n", format="%d"),
        "control_mean": number("Control mean", format="%.4f"), "treatment_mean": number("Treatment mean", format="%.4f"),
        "estimate": number(f"Lift ({difference})", format=lift), "ci_low": number("Interval low", format=lift),
        "ci_high": number("Interval high", format=lift), "p_value": number("p-value", format="%.4f"),
        "adjusted_p_value": number("p-value (Holm)", format="%.4f"),
        "chance_to_win": number("Chance to win", format="percent"), "risk_treatment": number("Risk of shipping", format="%.4f"),
        "reason": "Why no number"}


def calculator_tab() -> None:
    st.markdown("Paste counts and sums per variant (first line the control) and get the tracker's analysis. "
                "Columns: `variant, n, sum` and optionally `sum_squares` (needed for means) and `weight` "
                "(the designed split, for the sample-ratio check).")
    text = st.text_area("Summary statistics (CSV or pasted from a spreadsheet)", EXAMPLE, height=120, key="calc_text")
    c1, c2, c3, c4, c5 = st.columns(5)
    metric = c1.radio("Metric", ["binomial", "mean"], key="calc_metric",
                      format_func={"binomial": "Rate (0/1 per unit)", "mean": "Mean per unit"}.get)
    method = c2.selectbox("Method", list(tracker.METHODS), format_func=tracker.METHODS.get, key="calc_method")
    difference = c3.radio("Lift", ["relative", "absolute"], key="calc_difference")
    alpha = c4.selectbox("α", [0.05, 0.01, 0.1], key="calc_alpha")
    planned = c5.number_input("Planned members per arm", min_value=0, value=0, step=1000, key="calc_planned",
                              help="0 = no plan; with a plan the verdict says how many more members are needed.")
    try:
        frame = calculator.parse_pasted(text)
        answer = calculator.calculate(frame, metric=metric, method=method, difference=difference, alpha=alpha,
                                      needed_per_arm=int(planned) or None)
    except ValueError as error:  # the message quotes the pasted text
        st.error(escape_markdown(error), icon=":material/error:")
        return
    verdict_box(answer.verdict)
    columns = [c for c in ["variant", "n_control", "n_treatment", "control_mean", "treatment_mean", "estimate", "ci_low",
                           "ci_high", "p_value", "adjusted_p_value", "chance_to_win", "risk_treatment", "reason"]
               if c in answer.analysis]
    st.dataframe(answer.analysis[columns], hide_index=True, width="stretch", key="calc_result",
                 column_config=result_columns(difference))
    if answer.srm_detected:
        st.caption(f"Sample ratio: p = {p_value(answer.srm_p_value)} (mismatch) · no winner can be read from a "
                   "broken split.")
        return
    winner = answer.best_probability.idxmax()
    st.caption(f"Sample ratio: p = {p_value(answer.srm_p_value)} (as designed) · another view of the same data, not "
               f"the verdict: {escape_markdown(winner)} has {probability(answer.best_probability.max())} chance to "
               "be best (Bayesian, flat prior; the verdict needs the significance and sample above).")
