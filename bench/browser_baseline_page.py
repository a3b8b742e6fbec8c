"""The browser benchmark's reference pages (bench/bench_browser.py serves this script beside the
app): issue 15's "small Streamlit page" — a title, four metrics, one Plotly chart and a 50-row
table — and, with ?page=title, a page with only a title (the floor of any Streamlit page).

The screens are measured against this page side by side because absolute times move 2–4× with
the machine's load; the ratio is what the floors are about. The "Series" select box is the
widget whose change redraws the chart (the reference for every interaction). The data are made
up and fixed (a seeded generator), so every run draws the same thing."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="Reference page", layout="wide")

if st.query_params.get("page") == "title":
    st.title("Reference: a title only")
    st.stop()

st.title("Reference: a small page")
SERIES = ["Conversions", "Clicks", "Opens"]
series = st.selectbox("Series", SERIES, key="series")

generator = np.random.default_rng(SERIES.index(series) + 1)
days = pd.date_range("2026-01-01", periods=90, freq="D")
values = generator.poisson(1_000 * (SERIES.index(series) + 1), size=len(days))

first, second, third, fourth = st.columns(4)
first.metric("Sends", f"{values.sum() * 10:,}", delta="3.1 %", border=True)
second.metric(series, f"{values.sum():,}", delta="-1.2 %", border=True)
third.metric("Rate", f"{values.mean() / 100:.2f} %", delta="0.4 pp", border=True)
fourth.metric("Revenue", f"${values.sum() * 1.7:,.0f}", delta="2.0 %", border=True)

figure = go.Figure(go.Scatter(x=days, y=values, mode="lines", name=series))
figure.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), yaxis_title=f"{series} (count)")
st.plotly_chart(figure, width="stretch")

table = pd.DataFrame({"day": days[:50], series.lower(): values[:50],
                      "rate_pct": np.round(values[:50] / 100, 2), "revenue_usd": np.round(values[:50] * 1.7, 2)})
st.dataframe(table, hide_index=True, width="stretch")
