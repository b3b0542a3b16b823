"""Fits of convergence rates on recorded curves (seed 004, the rate hierarchy; seed 000).

Two shapes of convergence are fitted, each by ordinary least squares on a log scale over
a window that is reported with the fit (the *range of the fit*):

* **linear** (geometric) convergence e_k ~ C rho^k: ``rho = exp(slope)`` of the line through
  (k, log e_k) over the records whose error lies in [low, high], away from the transient
  (above ``high``) and from the rounding floor (below ``low``). On a Trace the same fit is
  made against the iteration counter and against the oracle calls, giving the contraction
  *per iteration* and *per oracle call* (one call = one component gradient, a full gradient
  costs n; DESIGN.md "Contracts"); rho_per_call = rho_per_iteration^(1/n) for full-gradient
  methods, which is how GD and SAGA are compared on the same axis.
* **sublinear** (power law) convergence e_t ~ C t^(-p): ``p = -slope`` of the line through
  (log t, log e_t) over t in [t_min, t_max] (and e_t in [low, high]). Seed 004's hierarchy
  is stated in such exponents: ||grad|| ~ t^(-1/2) (smooth), F - F* ~ 1/t (convex),
  1/t^2 (Nesterov), E||grad|| ~ T^(-1/4) (SGD).

``calls_to_reach`` reads the first time a decreasing curve crosses a level, interpolating
log e linearly between the two records around the crossing (exact for a geometric curve
between records), and ``loglog_slope`` is the fitted exponent of a scaling law y ~ x^p, the
measure used for the complexity table of seed 000.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DescentlabError


# ------------------------------------------------------------------------ linear rates
@dataclass(frozen=True)
class LinearRateFit:
    """rho (contraction per unit of ``k``), and the range of k used for the fit."""

    rho: float
    k_first: float
    k_last: float
    n_points: int

    @property
    def rate(self) -> float:
        """-log(rho): the exponent of exp(-rate k)."""
        return -float(np.log(self.rho))


def fit_linear_rate(k, err, *, low: float = 1e-9, high: float = 1e-2,
                    min_points: int = 5) -> LinearRateFit:
    """Fit err_k ~ C rho^k on the records with low <= err_k <= high.

    Raises ``DescentlabError`` when fewer than ``min_points`` records fall in the window.
    """
    k = np.asarray(k, dtype=np.float64)
    err = np.asarray(err, dtype=np.float64)
    mask = np.isfinite(err) & (err > 0) & (err >= low) & (err <= high)
    if mask.sum() < min_points:
        raise DescentlabError(f"fit window: only {int(mask.sum())} records with error in "
                              f"[{low:g}, {high:g}]; need {min_points} (run longer or widen it)")
    slope = np.polyfit(k[mask], np.log(err[mask]), 1)[0]
    return LinearRateFit(float(np.exp(slope)), float(k[mask].min()), float(k[mask].max()),
                         int(mask.sum()))


@dataclass(frozen=True)
class TraceRateFit:
    """Linear rate of one column of a Trace, per iteration, per oracle call and per epoch.

    ``err_first``/``err_last`` and the iteration/call ranges describe the fit window.
    """

    column: str
    rho_per_iteration: float
    rho_per_call: float
    rho_per_epoch: float
    iteration_first: float
    iteration_last: float
    calls_first: float
    calls_last: float
    err_first: float
    err_last: float
    n_points: int

    @property
    def iterations_per_efold(self) -> float:
        """Iterations needed to divide the error by e (1 / -log rho_per_iteration)."""
        return -1.0 / float(np.log(self.rho_per_iteration))

    @property
    def calls_per_efold(self) -> float:
        """Oracle calls needed to divide the error by e."""
        return -1.0 / float(np.log(self.rho_per_call))


def _frame(trace) -> pd.DataFrame:
    df = getattr(trace, "df", trace)
    if not isinstance(df, pd.DataFrame):
        raise DescentlabError(f"trace: expected a descentlab Trace or a DataFrame, got "
                              f"{type(trace).__name__}")
    return df


def _column(df: pd.DataFrame, column: str) -> np.ndarray:
    if column not in df.columns:
        raise DescentlabError(f"column: expected one of {', '.join(df.columns)}, got {column!r}")
    return df[column].to_numpy(dtype=np.float64)


def fit_trace_linear_rate(trace, column: str = "subopt", *, normalize: bool = True,
                          low: float = 1e-9, high: float = 1e-2,
                          min_points: int = 5) -> TraceRateFit:
    """Linear rate of ``column`` of a Trace (or its DataFrame).

    With ``normalize`` the column is divided by its first value, so that the window
    [low, high] is relative (e.g. (F - F*)/(F0 - F*) or ||x - x*||/||x0 - x*||). The
    contraction per iteration and per oracle call are fitted on the same records.
    """
    df = _frame(trace)
    err = _column(df, column)
    if normalize:
        if not (np.isfinite(err[0]) and err[0] > 0):
            raise DescentlabError(f"{column}: the first record is {err[0]!r}; cannot normalize "
                                  "by it (pass normalize=False)")
        err = err / err[0]
    it = _column(df, "iteration")
    calls = _column(df, "oracle_calls")
    by_it = fit_linear_rate(it, err, low=low, high=high, min_points=min_points)
    by_calls = fit_linear_rate(calls, err, low=low, high=high, min_points=min_points)
    mask = np.isfinite(err) & (err > 0) & (err >= low) & (err <= high)
    epochs = _column(df, "epochs") if "epochs" in df.columns else None
    if epochs is not None:
        by_epoch = fit_linear_rate(epochs, err, low=low, high=high, min_points=min_points)
        rho_epoch = by_epoch.rho
    else:
        rho_epoch = float("nan")
    return TraceRateFit(column, by_it.rho, by_calls.rho, rho_epoch, by_it.k_first, by_it.k_last,
                        by_calls.k_first, by_calls.k_last, float(err[mask].max()),
                        float(err[mask].min()), by_it.n_points)


# --------------------------------------------------------------------- sublinear rates
@dataclass(frozen=True)
class PowerLawFit:
    """err_t ~ constant * t^(-exponent), fitted on t in [t_first, t_last] (n_points records)."""

    exponent: float
    constant: float
    t_first: float
    t_last: float
    n_points: int

    def __call__(self, t):
        """The fitted curve at ``t``."""
        return self.constant * np.asarray(t, dtype=np.float64) ** (-self.exponent)


def fit_power_law(t, err, *, t_min: float | None = None, t_max: float | None = None,
                  low: float = 0.0, high: float = np.inf, min_points: int = 5) -> PowerLawFit:
    """Fit err_t ~ C t^(-p) by least squares of log err on log t.

    Uses the records with t_min <= t <= t_max, t > 0, and low <= err <= high (err > 0).
    Raises ``DescentlabError`` when fewer than ``min_points`` records remain.
    """
    t = np.asarray(t, dtype=np.float64)
    err = np.asarray(err, dtype=np.float64)
    if t.shape != err.shape:
        raise DescentlabError(f"t, err: expected arrays of the same shape, got {t.shape} and "
                              f"{err.shape}")
    mask = np.isfinite(t) & np.isfinite(err) & (t > 0) & (err > 0) & (err >= low) & (err <= high)
    if t_min is not None:
        mask &= t >= t_min
    if t_max is not None:
        mask &= t <= t_max
    if mask.sum() < min_points:
        raise DescentlabError(f"fit window: only {int(mask.sum())} records with t in "
                              f"[{t_min}, {t_max}] and error in [{low:g}, {high:g}]; need "
                              f"{min_points}")
    slope, intercept = np.polyfit(np.log(t[mask]), np.log(err[mask]), 1)
    return PowerLawFit(float(-slope), float(np.exp(intercept)), float(t[mask].min()),
                       float(t[mask].max()), int(mask.sum()))


def running_min(values) -> np.ndarray:
    """min_{i <= k} values_i for every k (NaN entries are skipped)."""
    v = np.asarray(values, dtype=np.float64)
    return np.fmin.accumulate(v)


def fit_trace_power_law(trace, column: str = "grad_norm", *, by: str = "iteration",
                        best_so_far: bool = False, t_min: float | None = None,
                        t_max: float | None = None, low: float = 0.0, high: float = np.inf,
                        min_points: int = 5) -> PowerLawFit:
    """Power law of ``column`` against ``by`` on a Trace.

    ``best_so_far`` fits the running minimum (the quantity of the non-convex bounds,
    min_{i<t} ||grad f(x_i)||).
    """
    df = _frame(trace)
    err = _column(df, column)
    if best_so_far:
        err = running_min(err)
    return fit_power_law(_column(df, by), err, t_min=t_min, t_max=t_max, low=low, high=high,
                         min_points=min_points)


# ------------------------------------------------------------------ complexity tools
def calls_to_reach(x, err, eps: float) -> float:
    """First x where the curve (x_k, err_k) reaches ``err <= eps``, log-interpolated.

    Between the last record above ``eps`` and the first at or below it, log err is taken
    linear in x (exact for a geometric decrease). Returns NaN when ``eps`` is never
    reached, and x_0 when the first record is already below.
    """
    x = np.asarray(x, dtype=np.float64)
    err = np.asarray(err, dtype=np.float64)
    if eps <= 0:
        raise DescentlabError(f"eps: expected a positive level, got {eps!r}")
    below = np.flatnonzero(np.isfinite(err) & (err <= eps))
    if below.size == 0:
        return float("nan")
    j = int(below[0])
    if j == 0:
        return float(x[0])
    e0, e1 = err[j - 1], err[j]
    if not (np.isfinite(e0) and e0 > 0) or e1 <= 0 or e0 <= e1:
        return float(x[j])
    frac = (np.log(e0) - np.log(eps)) / (np.log(e0) - np.log(e1))
    return float(x[j - 1] + frac * (x[j] - x[j - 1]))


@dataclass(frozen=True)
class SlopeFit:
    """y ~ C x^slope fitted in log-log over ``n_points`` points, x in [x_first, x_last]."""

    slope: float
    intercept: float
    x_first: float
    x_last: float
    n_points: int
    #: largest |residual| of the fit, in log units
    max_residual: float


def loglog_slope(x, y) -> SlopeFit:
    """Least-squares slope of log y against log x (the exponent p of y ~ C x^p)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    mask = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if mask.sum() < 2 or np.unique(x[mask]).size < 2:
        raise DescentlabError(f"loglog_slope: need at least two distinct positive x with finite "
                              f"positive y, got {int(mask.sum())} points")
    lx, ly = np.log(x[mask]), np.log(y[mask])
    slope, intercept = np.polyfit(lx, ly, 1)
    resid = ly - (slope * lx + intercept)
    return SlopeFit(float(slope), float(intercept), float(x[mask].min()), float(x[mask].max()),
                    int(mask.sum()), float(np.max(np.abs(resid))))


__all__ = ["LinearRateFit", "PowerLawFit", "SlopeFit", "TraceRateFit", "calls_to_reach",
           "fit_linear_rate", "fit_power_law", "fit_trace_linear_rate", "fit_trace_power_law",
           "loglog_slope", "running_min"]
