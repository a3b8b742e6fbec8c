"""The input side of the engine: option checks, the validated variant table, control pairing.

Owns: the allowed option values (:data:`METRICS`, :data:`METHODS`, ...), the
checks of :func:`~core.experiments.stats.analyze`'s options, turning the input
frame into validated float arrays with row labels for error messages, and
matching every treatment row with its control row.  The input columns are
described in the package docstring (:mod:`core.experiments.stats`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


METRICS = ("binomial", "mean", "ratio")
METHODS = ("frequentist", "sequential", "bayesian")
DIFFERENCES = ("relative", "absolute")
ALTERNATIVES = ("two-sided", "greater", "less")
CORRECTIONS = (None, "holm", "bh")


_BASE_COLUMNS = ("variant", "n", "sum")
_RATIO_COLUMNS = ("den_sum", "den_sum_squares", "sum_product")
_CUPED_COLUMNS = ("pre_sum", "pre_sum_squares", "pre_sum_product")


def _check_options(metric, method, difference, alpha, cuped, sequential_tuning, correction, alternative) -> None:
    for name, value, allowed in (
        ("metric", metric, METRICS),
        ("method", method, METHODS),
        ("difference", difference, DIFFERENCES),
        ("correction", correction, CORRECTIONS),
        ("alternative", alternative, ALTERNATIVES),
    ):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}.")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}.")
    if cuped and metric == "ratio":
        raise ValueError("cuped=True supports binomial and mean metrics; ratio metrics are analysed without CUPED.")
    if not sequential_tuning > 0:
        raise ValueError(f"sequential_tuning (expected total sample size N) must be positive, got {sequential_tuning!r}.")
    if correction is not None and method == "bayesian":
        raise ValueError("correction adjusts p-values; method='bayesian' has none. Use a frequentist or sequential method.")


@dataclass
class _VariantTable:
    """The input frame as float arrays, validated, plus labels for error messages."""

    variant: np.ndarray
    comparison: np.ndarray | None
    columns: dict[str, np.ndarray]
    extra: dict[str, np.ndarray]

    def label(self, row: int) -> str:
        name = f"variant {self.variant[row]!r}"
        if self.comparison is not None:
            name += f" (comparison {self.comparison[row]!r})"
        return name

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, metric: str, cuped: bool, correction_by: str | None) -> _VariantTable:
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"variants must be a pandas DataFrame with one row per variant, got {type(frame).__name__}.")
        required = list(_BASE_COLUMNS)
        if metric != "binomial":
            required.append("sum_squares")
        if metric == "ratio":
            required += _RATIO_COLUMNS
        if cuped:
            required += _CUPED_COLUMNS
        if correction_by is not None:
            required.append(correction_by)
        missing = [column for column in required if column not in frame.columns]
        if missing:
            raise ValueError(
                f"variants is missing column(s) {missing} needed for metric={metric!r}"
                f"{' with cuped=True' if cuped else ''}; it has {list(frame.columns)}."
            )
        if len(frame) == 0:
            raise ValueError("variants is empty: need at least a control row and a treatment row.")

        numeric = [c for c in required if c not in ("variant", correction_by)]
        if "sum_squares" in frame.columns and "sum_squares" not in numeric:
            numeric.append("sum_squares")  # optional for binomial, but checked when given
        table = cls(
            variant=frame["variant"].to_numpy(dtype=object),
            comparison=frame["comparison"].to_numpy(dtype=object) if "comparison" in frame.columns else None,
            columns={},
            extra={correction_by: frame[correction_by].to_numpy(dtype=object)} if correction_by else {},
        )
        for column in numeric:
            try:
                values = pd.to_numeric(frame[column], errors="raise").to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError) as error:
                raise ValueError(f"column {column!r} must be numeric: {error}") from None
            table._fail_where(
                ~np.isfinite(values),
                f"{column} is missing or not finite",
                lambda r, c=column, v=values: f"{c}={v[r]}",
                "fill in the summary statistic (0 is a valid value for a sum).",
            )
            table.columns[column] = values
        table._validate(metric, cuped)
        return table

    def _fail_where(self, bad: np.ndarray, problem: str, describe, fix: str) -> None:
        """Raise one ValueError listing (up to five of) the rows where ``bad`` holds."""
        if not bad.any():
            return
        rows = np.flatnonzero(bad)
        listed = "; ".join(f"{self.label(r)}: {describe(r)}" for r in rows[:5])
        more = f"; and {rows.size - 5} more row(s)" if rows.size > 5 else ""
        raise ValueError(f"{problem} — {listed}{more}. Fix: {fix}")

    def _validate(self, metric: str, cuped: bool) -> None:
        n, total = self.columns["n"], self.columns["sum"]
        self._fail_where(
            n <= 0, "n must be positive", lambda r: f"n={n[r]:g}",
            "a variant with no units cannot be analysed; drop the row or wait until it has traffic.",
        )
        if metric == "binomial":
            self._fail_where(
                (total < 0) | (total > n), "binomial sum must be between 0 and n",
                lambda r: f"sum={total[r]:g}, n={n[r]:g}",
                "sum counts converting units (each unit 0 or 1); for other values use metric='mean'.",
            )
            if "sum_squares" in self.columns:
                squares = self.columns["sum_squares"]
                self._fail_where(
                    ~np.isclose(squares, total, rtol=1e-9, atol=1e-9),
                    "binomial sum_squares must equal sum (0/1 values square to themselves)",
                    lambda r: f"sum={total[r]:g}, sum_squares={squares[r]:g}",
                    "for non-0/1 values use metric='mean'.",
                )
        else:
            self._check_second_moment("sum", "sum_squares")
        if metric == "ratio":
            self._check_second_moment("den_sum", "den_sum_squares")
            self._check_cross_moment("sum", "sum_squares", "den_sum", "den_sum_squares", "sum_product")
        if cuped:
            squares = "sum_squares" if "sum_squares" in self.columns else "sum"  # binomial: x^2 = x
            self._check_second_moment("pre_sum", "pre_sum_squares")
            self._check_cross_moment("sum", squares, "pre_sum", "pre_sum_squares", "pre_sum_product")

    def _centered(self, sum_x: str, sum_y: str, sum_xy: str) -> np.ndarray:
        """n * sum(xy) - sum(x) sum(y): n (n - 1) times the sample covariance."""
        n = self.columns["n"]
        return n * self.columns[sum_xy] - self.columns[sum_x] * self.columns[sum_y]

    def _check_second_moment(self, sum_column: str, squares_column: str) -> None:
        n, total, squares = self.columns["n"], self.columns[sum_column], self.columns[squares_column]
        spread = self._centered(sum_column, sum_column, squares_column)
        # Rounding in the database can make a zero variance slightly negative; allow for it.
        tolerance = 1e-9 * np.maximum(n * np.abs(squares), total**2) + 1e-12
        self._fail_where(
            (squares < 0) | (spread < -tolerance),
            f"{squares_column} is too small for {sum_column}: it implies a negative variance",
            lambda r: f"n={n[r]:g}, {sum_column}={total[r]:g}, {squares_column}={squares[r]:g} "
            f"(need {squares_column} >= {sum_column}^2/n = {total[r] ** 2 / n[r]:g})",
            f"{squares_column} must be the sum over units of the squared value, not the square of the sum.",
        )

    def _check_cross_moment(self, sum_x: str, squares_x: str, sum_y: str, squares_y: str, product: str) -> None:
        """Cauchy-Schwarz: a covariance can be no larger than the two standard deviations allow."""
        covariance = self._centered(sum_x, sum_y, product)
        spread_x = np.maximum(self._centered(sum_x, sum_x, squares_x), 0)
        spread_y = np.maximum(self._centered(sum_y, sum_y, squares_y), 0)
        scale = self.columns["n"] * np.abs(self.columns[product]) + np.abs(self.columns[sum_x] * self.columns[sum_y])
        tolerance = 1e-9 * scale**2 + 1e-12
        self._fail_where(
            covariance**2 > spread_x * spread_y + tolerance,
            f"{product} is inconsistent with {squares_x} and {squares_y}: it implies a correlation beyond ±1",
            lambda r: f"{product}={self.columns[product][r]:g}",
            f"{product} must be the sum over units of the per-unit product of the values behind "
            f"{sum_x} and {sum_y}, over the same units.",
        )


def _pair_with_control(table: _VariantTable, control: object) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of (control, treatment) for every treatment row, matched within comparisons."""
    if table.comparison is None:
        group = np.zeros(table.variant.size, dtype=np.int64)
        group_names = np.array([None], dtype=object)
    else:
        group, group_names = pd.factorize(table.comparison, use_na_sentinel=False)
    is_control = table.variant == control
    if not isinstance(is_control, np.ndarray):  # comparing with an unhashable / odd object
        is_control = np.array([v == control for v in table.variant], dtype=bool)
    is_control = is_control.astype(bool)

    keys = pd.DataFrame({"group": group, "variant": table.variant})
    duplicated = keys.duplicated(keep=False).to_numpy()
    table._fail_where(
        duplicated, "each variant may appear once per comparison", lambda r: "duplicate row",
        "aggregate the rows first, or add a 'comparison' column that tells the analyses apart.",
    )

    controls_per_group = np.bincount(group[is_control], minlength=len(group_names))
    lacking = np.flatnonzero(controls_per_group == 0)
    if lacking.size:
        where = "" if table.comparison is None else f" in comparison {group_names[lacking[0]]!r}"
        present = sorted(map(str, pd.unique(table.variant[group == lacking[0]])))
        more = f" (and {lacking.size - 1} more comparison(s))" if lacking.size > 1 else ""
        raise ValueError(
            f"no control row{where}{more}: expected a variant named {control!r}, found {present}. "
            "Fix: pass control=<the name of your control variant>."
        )
    control_row_of_group = np.empty(len(group_names), dtype=np.int64)
    control_row_of_group[group[is_control]] = np.flatnonzero(is_control)
    treatment_rows = np.flatnonzero(~is_control)
    if treatment_rows.size == 0:
        raise ValueError(f"only control rows ({control!r}) were given: need at least one treatment variant to compare.")
    return control_row_of_group[group[treatment_rows]], treatment_rows
