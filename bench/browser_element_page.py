"""The page bench/browser_element_costs.py serves: a title and `n` elements of one `kind` (query
parameters), each from a fixed seeded generator, so every run draws the same thing:
- plotly: a Plotly bar chart of 90 days; vega: the same as a Vega-Lite bar chart (Vega's SVG
  renderer, Streamlit's default); vega_canvas: the same drawn by Vega's canvas renderer;
- dataframe: st.dataframe of 20 rows; table: st.table of the same; html: the same as one HTML table;
- none: the title alone."""
import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="Element costs", layout="wide")
kind = st.query_params.get("kind", "none")
n = int(st.query_params.get("n", "0"))
st.title(f"{n} × {kind}")
days = pd.date_range("2026-01-01", periods=90, freq="D")
columns = st.columns(2)
for i in range(n):
    values = np.random.default_rng(i).poisson(1_000, size=len(days))
    rows = pd.DataFrame({"day": days[:20].strftime("%Y-%m-%d"), "sends": values[:20]})
    with columns[i % 2]:
        if kind == "plotly":
            figure = go.Figure(go.Bar(x=days, y=values))
            figure.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10))
            st.plotly_chart(figure, key=f"chart_{i}")
        elif kind in ("vega", "vega_canvas"):
            renderer = {"usermeta": {"embedOptions": {"renderer": "canvas"}}} if kind == "vega_canvas" else {}
            st.vega_lite_chart(pd.DataFrame({"day": days, "sends": values}),
                               {"mark": "bar", "encoding": {"x": {"field": "day", "type": "temporal"},
                                                            "y": {"field": "sends", "type": "quantitative"}},
                                **renderer},
                               height=300, key=f"chart_{i}")
        elif kind == "dataframe":
            st.dataframe(rows, key=f"table_{i}")
        elif kind == "table":
            st.table(rows)
        elif kind == "html":
            cells = "".join(f"<tr><td>{html.escape(d)}</td><td>{v}</td></tr>" for d, v in zip(rows.day, rows.sends))
            st.html(f"<table><tr><th>day</th><th>sends</th></tr>{cells}</table>")
