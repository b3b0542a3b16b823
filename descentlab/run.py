"""The one loop: advance a method on a problem until a stopping rule fires, and record a Trace.

``run(problem, method, stop)`` resolves the method's defaults on the problem, calls
``method.advance`` between recording points (``record``: geometric or linear in oracle calls
up to the budget, every epoch, or explicit marks counted from the end of ``init``), measures
outside the timed section (the timed section is ``init`` plus every ``advance``), and stops
at the first rule of ``Stop`` that holds:

* budget: ``epochs`` (n oracle calls each) or ``calls``, the smaller wins;
* ``tol``: relative suboptimality (F - F*) / max(|F*|, 1e-12) <= tol (needs F*);
* ``grad_tol``: ||G(x)||_inf <= grad_tol max(1, ||G(x0)||_inf), G the gradient mapping
  (scikit-learn's lbfgs ``tol`` on the averaged objectives; needs no F*);
* ``gap_tol``: relative duality gap gap(x) / max(|F(x)|, 1e-12) <= gap_tol, with
  gap(x) = P(x) - D(theta(x)) >= F(x) - F* the Fenchel duality gap of a linear model with a
  penalty (``LinearModel.duality_gap``, ``problems.duality``): a certificate that needs no
  F*; so a run stopped by it has (F - F*) / |F(x)| <= gap_tol;
* ``time_limit``: seconds of wall time;

or on divergence (F not finite, or F > F(x0) + 1e6 max(|F(x0)|, 1)), which raises
``DivergenceError`` naming the step size to lower. The rows hold the Trace columns, plus
``grad_inf`` (||G(x)||_inf) when the run uses ``grad_tol`` or has no reference optimum,
``gap`` and ``rel_gap`` (the duality gap and its relative value) when it uses ``gap_tol``,
plus the caller's ``metrics(problem, x)``. The accuracy rules are checked at the recording
points only (the first record where one holds ends the run).

**No progress.** A run that stops otherwise but failed to lower F is flagged
(:func:`progress_flag`, ``Trace.meta["no_progress"]``) and ``run`` warns a
``NoProgressWarning``. With delta = 1e-9 max(|F(x0)|, 1) (rounding):

* ``"ended_above_start"``: the final F is above F(x0) + delta (a step size too large, the
  method oscillating or slowly diverging below the 1e6 divergence threshold; or a budget
  that stops a non-monotone method, e.g. heavy ball on an ill-conditioned problem, in its
  transient rise: the result is worse than x0 either way);
* ``"no_decrease"``: no record has F below F(x0) - delta (the run barely moved: a step size
  or budget too small).

Not flagged: runs stopped by ``tol``; samplers (Langevin, whose F fluctuates at the
temperature's level); runs from an x0 that is already optimal (F(x0) - F* <= delta) or
stationary (gradient mapping exactly 0), where no decrease is possible. Noisy stochastic
methods and non-monotone ones (Katyusha, heavy ball) are flagged only if they end above
F(x0), i.e. never for the noise or bumps of a run that converges.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ._validation import check_choice, check_int, check_positive
from .errors import DescentlabError, DivergenceError, NoProgressWarning
from .methods import Method, get_method
from .problems.base import Problem
from .provenance import environment
from .trace import Trace

DIVERGENCE_FACTOR = 1e6
DEFAULT_EPOCHS = 100
#: rounding allowance of the no-progress rule, relative to max(|F(x0)|, 1)
PROGRESS_RTOL = 1e-9
#: the largest budget in oracle calls (2^53: exact in float64, far beyond any real run)
MAX_BUDGET_CALLS = 2**53


def relative_subopt(value: float, f_star: float) -> float:
    """(F - F*) / max(|F*|, 1e-12)."""
    return (value - f_star) / max(abs(f_star), 1e-12)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Stop:
    """When a run ends: the first of these rules that holds (see the module docstring).

    Without a budget, a run gets 100 epochs (10^4 with ``tol``, ``grad_tol`` or
    ``time_limit``), except one recording at explicit marks, which ends at its last mark.
    """

    epochs: float | None = None
    calls: int | None = None
    tol: float | None = None
    grad_tol: float | None = None
    gap_tol: float | None = None
    time_limit: float | None = None

    def __post_init__(self):
        values = {"epochs": check_positive("epochs", self.epochs, allow_none=True),
                  "calls": check_int("calls", self.calls, minimum=1, allow_none=True),
                  "tol": check_positive("tol", self.tol, allow_none=True),
                  "grad_tol": check_positive("grad_tol", self.grad_tol, allow_none=True,
                                             strict=False),
                  "gap_tol": check_positive("gap_tol", self.gap_tol, allow_none=True,
                                            strict=False),
                  "time_limit": check_positive("time_limit", self.time_limit, allow_none=True)}
        if values["calls"] is not None and values["calls"] > MAX_BUDGET_CALLS:
            raise DescentlabError(f"calls: expected at most 2^53 = {MAX_BUDGET_CALLS} "
                                  f"oracle calls, got {values['calls']}")
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def budget(self, n: int, *, default: bool = True) -> int | None:
        """The budget in oracle calls (when none is given: the default, or None)."""
        budgets = [] if self.calls is None else [self.calls]
        if self.epochs is not None:
            if self.epochs * n > MAX_BUDGET_CALLS:
                raise DescentlabError(f"epochs: expected at most "
                                      f"{MAX_BUDGET_CALLS / n:.3g} epochs (2^53 oracle calls "
                                      f"of n = {n}), got {self.epochs:g}")
            budgets.append(max(1, math.ceil(self.epochs * n)))
        if budgets or not default:
            return min(budgets, default=None)
        unbounded = any(v is not None for v in (self.tol, self.grad_tol, self.gap_tol,
                                                self.time_limit))
        return (100 * DEFAULT_EPOCHS if unbounded else DEFAULT_EPOCHS) * n


def _targets(record, n_records: int, n: int, budget: int | None, start: int) -> np.ndarray:
    """The oracle-call counts at which to record, after ``init`` spent ``start``."""
    if isinstance(record, str) and record != "epochs":
        n_records = min(n_records, budget)  # at most one record per oracle call
        if record == "geometric":
            points = np.geomspace(min(n, budget), budget, n_records)
        else:
            points = np.linspace(budget / n_records, budget, n_records)
        return np.unique(np.maximum(np.round(points).astype(np.int64), 1))
    marks = n * np.arange(1, -(-(budget - start) // n) + 1) if isinstance(record, str) else \
        np.asarray(record, dtype=np.int64)
    marks = start + marks
    return marks if budget is None else marks[marks <= budget]


def run(problem: Problem, method: Method | str, stop: Stop | None = None, *, x0=None,
        record: str | Sequence[int] = "geometric", n_records: int = 100,
        seed: int | np.random.Generator = 0, f_star: float | None = None,
        reference: bool = True, metrics: Callable[[Problem, np.ndarray], dict] | None = None,
        budget_epochs=None, budget_calls=None, tol=None, gap_tol=None,
        time_limit=None) -> Trace:
    """Run ``method`` on ``problem`` until ``stop`` (or the shorthand ``budget_epochs``,
    ``budget_calls``, ``tol``, ``gap_tol``, ``time_limit``; default 100 epochs) from ``x0``
    (default ``problem.default_x0()``) and return its Trace (final point in ``trace.x``).

    ``gap_tol`` stops at the first record whose relative duality gap
    gap / max(|F(x)|, 1e-12) is <= gap_tol (linear models with a penalty; a certificate:
    the relative suboptimality is then below it too); the Trace gets ``gap`` and
    ``rel_gap`` columns. A problem without a duality gap raises ``DescentlabError``.

    Raises ``DivergenceError`` when F becomes non-finite or exceeds
    F(x0) + 1e6 max(|F(x0)|, 1); warns ``NoProgressWarning`` (and sets
    ``meta["no_progress"]``) when the run ends above F(x0) or never goes below it (see the
    module docstring).

    Parameters
    ----------
    record : "geometric" (default) or "linear": ``n_records`` points up to the budget
        (a point already passed is skipped); "epochs": every epoch after ``init``; or the
        oracle-call counts after ``init`` at which to record. With "epochs" and explicit
        marks there is one row per mark, even when an advance went past several.
    seed : seed of the numpy Generator handed to the method (or the Generator itself).
    f_star : optimal value to measure against (default: ``problem.solution()`` when the
        problem has one and ``reference`` is true).
    reference : False runs without a reference optimum (no ``solution()``; subopt is NaN
        unless ``f_star`` is given).
    metrics : ``metrics(problem, x) -> dict`` of extra columns, evaluated at every record.
    """
    if not isinstance(problem, Problem):
        raise DescentlabError(f"problem: expected a descentlab Problem, got "
                              f"{type(problem).__name__}")
    if isinstance(method, str):
        method = get_method(method)
    if isinstance(method, type) and issubclass(method, Method):
        raise DescentlabError(f"method: expected a descentlab Method or a method name, got the "
                              f"class {method.__name__}; pass an instance, e.g. "
                              f"{method.__name__}()")
    if not isinstance(method, Method):
        raise DescentlabError(f"method: expected a descentlab Method or a method name, got "
                              f"{type(method).__name__}")
    shorthand = {"epochs": budget_epochs, "calls": budget_calls, "tol": tol,
                 "gap_tol": gap_tol, "time_limit": time_limit}
    given = stop is not None
    if not given:
        try:
            stop = Stop(**shorthand)
        except DescentlabError as exc:
            raise _as_shorthand(exc) from None
    elif any(v is not None for v in shorthand.values()):
        raise DescentlabError("stop: give a Stop or the keywords budget_epochs, budget_calls, "
                              "tol, gap_tol, time_limit, not both")
    explicit = not isinstance(record, str) or record == "epochs"
    if isinstance(record, str):
        check_choice("record", record, ("geometric", "linear", "epochs"))
    else:
        record = _check_marks(record)
    n_records = check_int("n_records", n_records, minimum=1)
    if isinstance(seed, np.random.Generator):
        rng, seed = seed, None
    else:
        seed = check_int("seed", seed, minimum=0)
        rng = np.random.default_rng(seed)
    n = problem.n
    try:
        budget = stop.budget(n, default=isinstance(record, str))
    except DescentlabError as exc:
        raise exc if given else _as_shorthand(exc) from None
    f_star = _check_f_star(f_star)
    # the method's checks against the problem (e.g. Katyusha's mu > 0) and the starting point
    # come before the (possibly costly) reference solution
    method = method.resolve(problem)
    x0 = problem.default_x0() if x0 is None else problem.check_point(x0)
    gap = stop.gap_tol is not None
    if gap:
        problem.check_duality_gap()

    x_star = None
    if f_star is None and reference:
        try:
            x_star, f_star = problem.solution()
        except NotImplementedError:
            pass
    if stop.tol is not None and f_star is None:
        raise DescentlabError(f"tol: {type(problem).__name__} has no reference optimum; pass "
                              "f_star= or use a budget")
    x0 = problem.default_x0() if x0 is None else problem.check_point(x0)
    grad_inf = stop.grad_tol is not None or not reference

    def measure(state, elapsed: float) -> dict:
        x = state.x
        value = float(problem.value(x))
        gm = problem.gradient_mapping(x) if np.isfinite(value) else None
        row = {"iteration": state.iteration, "oracle_calls": state.calls,
               "epochs": state.calls / n, "time_s": elapsed, "value": value,
               "subopt": math.nan, "rel_subopt": math.nan,
               "grad_norm": math.nan if gm is None else float(np.linalg.norm(gm)),
               "dist_to_init": float(np.linalg.norm(x - x0)), "dist_to_opt": math.nan}
        if f_star is not None:
            row["subopt"] = value - f_star
            row["rel_subopt"] = relative_subopt(value, f_star)
        if x_star is not None:
            row["dist_to_opt"] = float(np.linalg.norm(x - x_star))
        if grad_inf:
            row["grad_inf"] = math.nan if gm is None else float(np.max(np.abs(gm)))
        if gap:
            row["gap"] = float(problem.duality_gap(x)) if np.isfinite(value) else math.nan
            row["rel_gap"] = row["gap"] / max(abs(value), 1e-12)
        if metrics is not None:
            row.update(_check_metrics(metrics(problem, x), row))
        return row

    t0 = time.perf_counter()
    state = method.init(problem, x0.copy(), rng)
    elapsed = time.perf_counter() - t0
    rows = [measure(state, elapsed)]  # the method's set-up (e.g. SAGA's first pass) is timed
    f0 = rows[0]["value"]
    if not np.isfinite(f0):
        raise DescentlabError(f"x0: the objective is not finite at the starting point ({f0})")
    limit = f0 + DIVERGENCE_FACTOR * max(abs(f0), 1.0)
    grad_limit = None if stop.grad_tol is None else \
        stop.grad_tol * max(1.0, rows[0]["grad_inf"])
    wall0 = time.perf_counter()

    def reached(row: dict) -> str | None:
        """The accuracy rule or time limit that holds at this record, if any."""
        if stop.tol is not None and row["rel_subopt"] <= stop.tol:
            return "tol"
        if grad_limit is not None and row["grad_inf"] <= grad_limit:
            return "tol"
        if gap and row["rel_gap"] <= stop.gap_tol:
            return "tol"
        if stop.time_limit is not None and time.perf_counter() - wall0 >= stop.time_limit:
            return "time_limit"
        return None

    def make_trace(reason: str, no_progress: str | None = None) -> Trace:
        meta = {"problem": problem.describe(),
                "method": {"name": method.name, **_scalars(method.hyperparameters()),
                           **_scalars(state.info())},
                "seed": seed, "f_star": f_star, "budget_calls": budget, "tol": stop.tol,
                "grad_tol": stop.grad_tol, "gap_tol": stop.gap_tol, "time_limit": stop.time_limit,
                "stop_reason": reason, "no_progress": no_progress,
                "environment": environment()}
        return Trace(pd.DataFrame(rows, columns=list(rows[0])), meta, x=state.x)

    reason = reached(rows[0])
    for target in () if reason else _targets(record, n_records, n, budget, state.calls):
        if state.calls < target:
            t0 = time.perf_counter()
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                state = method.advance(problem, state, rng, int(target - state.calls))
            elapsed += time.perf_counter() - t0
        elif not explicit:
            continue
        rows.append(measure(state, elapsed))
        value = rows[-1]["value"]
        if not np.isfinite(value) or value > limit:
            raise DivergenceError(
                f"{method.name} diverged at iteration {state.iteration}: F = {value:.3g} from "
                f"F(x0) = {f0:.3g}; lower the step size {step_size_named(method)}",
                trace=make_trace("diverged"))
        reason = reached(rows[-1])
        if reason:
            break
    reason = reason or "budget"
    values = [row["value"] for row in rows]
    flag = progress_flag(values, f_star=f_star, stationary_start=rows[0]["grad_norm"] == 0.0,
                         stop=reason, samples=method.samples)
    if flag is not None:
        warnings.warn(no_progress_message(flag, values, method.name, step_size_named(method)),
                      NoProgressWarning, stacklevel=2)
    return make_trace(reason, flag)


def progress_flag(values: Sequence[float], *, f_star: float | None = None,
                  stationary_start: bool = False, stop: str | None = None,
                  samples: bool = False) -> str | None:
    """The no-progress flag of a run whose recorded objective values are ``values``
    (``values[0]`` = F(x0)): None, "ended_above_start" or "no_decrease".

    The rule of the module docstring: with delta = PROGRESS_RTOL max(|F(x0)|, 1),
    "ended_above_start" when the last value exceeds F(x0) + delta, "no_decrease" when no
    later value is below F(x0) - delta; never for a run stopped by ``tol``, a sampler, or a
    start that is optimal (F(x0) - F* <= delta) or stationary.
    """
    if stop == "tol" or samples or stationary_start or len(values) < 2:
        return None
    f0 = float(values[0])
    delta = PROGRESS_RTOL * max(abs(f0), 1.0)
    if f_star is not None and f0 - f_star <= delta:
        return None
    if values[-1] > f0 + delta:
        return "ended_above_start"
    if min(values[1:]) >= f0 - delta:
        return "no_decrease"
    return None


def no_progress_message(flag: str, values: Sequence[float], method_name: str,
                        step: str) -> str:
    """The warning for a run flagged by :func:`progress_flag` (``step`` names the step size)."""
    f0, records = values[0], len(values) - 1
    if flag == "ended_above_start":
        return (f"{method_name} made no progress: F ended at {values[-1]:.3g}, above "
                f"F(x0) = {f0:.3g} (lowest {min(values[1:]):.3g} over {records} records); "
                f"the step size {step} may be too large (the iterates oscillate or diverge "
                "slowly): lower it; or, for a non-monotone method (momentum can rise before "
                "it converges), raise the budget")
    return (f"{method_name} made no progress: F never went below F(x0) = {f0:.6g} "
            f"(within rounding) in {records} records; raise the step size {step} or the "
            "budget")


def _check_marks(record) -> np.ndarray:
    """Explicit recording marks: increasing positive oracle-call counts."""
    try:
        marks = np.asarray(record, dtype=np.float64)
    except (TypeError, ValueError):
        raise DescentlabError(f"record: expected 'geometric', 'linear', 'epochs' or increasing "
                              f"positive oracle-call counts, got {record!r}") from None
    if marks.ndim != 1 or not marks.size or not np.all(np.isfinite(marks)) \
            or np.any(marks < 1) or np.any(marks != np.round(marks)) \
            or np.any(np.diff(marks) <= 0):
        raise DescentlabError(f"record: expected increasing positive oracle-call counts, got "
                              f"{np.asarray(record).tolist()!r}")
    return marks.astype(np.int64)


def _check_metrics(extra, row: dict) -> dict:
    """The dict a ``metrics`` function returned, checked: new column names, scalar values."""
    if not isinstance(extra, dict):
        raise DescentlabError(f"metrics: expected a function returning a dict of numbers, got "
                              f"{type(extra).__name__}")
    clash = sorted(set(extra) & set(row))
    if clash:
        raise DescentlabError(f"metrics: the columns {clash} are run's own; name the extra "
                              f"columns differently")
    return extra


def _as_shorthand(exc: DescentlabError) -> DescentlabError:
    """An error of ``Stop`` named after run's shorthand keyword (budget_epochs, ...)."""
    text = str(exc)
    for field, keyword in (("epochs:", "budget_epochs:"), ("calls:", "budget_calls:")):
        if text.startswith(field):
            text = keyword + text[len(field):]
    return DescentlabError(text)


def _check_f_star(f_star) -> float | None:
    """None, or a finite number (the optimal value to measure against)."""
    if f_star is None:
        return None
    if isinstance(f_star, bool) or not isinstance(f_star, numbers.Real) \
            or not math.isfinite(f_star):
        raise DescentlabError(f"f_star: expected a finite number or None, got {f_star!r}")
    return float(f_star)


def step_size_named(method: Method) -> str:
    """'name' (it was value) of a resolved method's step-size hyperparameter."""
    step = getattr(method, method.step_param, None)
    return f"'{method.step_param}'" + (f" (it was {step:.3g})" if isinstance(step, float)
                                       else "")


def _scalars(values: dict) -> dict:
    """The JSON-able scalars of ``values`` (a method by its str, arrays dropped)."""
    values = {k: str(v) if isinstance(v, Method) else v.item() if isinstance(v, np.generic)
              else v for k, v in values.items()}
    return {k: v for k, v in values.items() if v is None or isinstance(v, (bool, int, float, str))}


__all__ = ["DEFAULT_EPOCHS", "DIVERGENCE_FACTOR", "MAX_BUDGET_CALLS", "Stop",
           "no_progress_message", "progress_flag", "relative_subopt", "run", "step_size_named"]
