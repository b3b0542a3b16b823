"""The one loop: advance a method on a problem under a budget and record a Trace.

``run`` calls ``method.advance`` between recording points (a geometric or linear
schedule in oracle calls), evaluates the metrics outside the timed section (the timed
section is ``init`` plus every ``advance``), and stops on
budget, tolerance (relative suboptimality (F - F*) / max(|F*|, 1e-12)), time limit or
divergence (F not finite, or F > F(x0) + 1e6 max(|F(x0)|, 1): a ``DivergenceError``).

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

import math
import numbers
import time
import warnings
from collections.abc import Sequence

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


def _schedule(kind: str, n_records: int, budget: int, first: int) -> np.ndarray:
    n_records = min(n_records, budget)  # at most one record per oracle call
    if kind == "geometric":
        points = np.geomspace(first, budget, n_records)
    else:
        points = np.linspace(budget / n_records, budget, n_records)
    return np.unique(np.maximum(np.round(points).astype(np.int64), 1))


def _budget(problem: Problem, budget_epochs, budget_calls, tol, time_limit) -> int:
    budgets = []
    if budget_calls is not None:
        calls = check_int("budget_calls", budget_calls, minimum=1)
        if calls > MAX_BUDGET_CALLS:
            raise DescentlabError(f"budget_calls: expected at most 2^53 = {MAX_BUDGET_CALLS} "
                                  f"oracle calls, got {calls}")
        budgets.append(calls)
    if budget_epochs is not None:
        epochs = check_positive("budget_epochs", budget_epochs)
        if epochs * problem.n > MAX_BUDGET_CALLS:
            most = MAX_BUDGET_CALLS / problem.n
            raise DescentlabError(f"budget_epochs: expected at most {most:.3g} epochs (2^53 "
                                  f"oracle calls of n = {problem.n}), got {epochs:g}")
        budgets.append(max(1, math.ceil(epochs * problem.n)))
    if not budgets:
        epochs = 100 * DEFAULT_EPOCHS if (tol is not None or time_limit is not None) \
            else DEFAULT_EPOCHS
        budgets.append(epochs * problem.n)
    return min(budgets)


def run(problem: Problem, method: Method | str, *, x0=None, budget_epochs=None,
        budget_calls=None, tol=None, time_limit=None, record: str = "geometric",
        n_records: int = 100, seed: int = 0, f_star: float | None = None) -> Trace:
    """Run ``method`` on ``problem`` and return its Trace.

    Parameters
    ----------
    x0 : starting point (default ``problem.default_x0()``).
    budget_epochs, budget_calls : stop after this many epochs (n oracle calls each) or
        oracle calls; the smaller wins. Default: 100 epochs (10^4 with ``tol``/``time_limit``).
    tol : stop once the relative suboptimality is at most ``tol`` (needs F*).
    time_limit : stop after this many seconds of wall time.
    record : "geometric" (default) or "linear" spacing of the ``n_records`` recording points.
    seed : seed of the numpy Generator handed to the method.
    f_star : optimal value to measure against (default: ``problem.solution()`` when the
        problem has one).

    Raises ``DivergenceError`` when F becomes non-finite or exceeds F(x0) + 1e6 max(|F(x0)|, 1);
    warns ``NoProgressWarning`` (and sets ``meta["no_progress"]``) when the run ends above
    F(x0) or never goes below it (see the module docstring).
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
    tol = check_positive("tol", tol, allow_none=True)
    time_limit = check_positive("time_limit", time_limit, allow_none=True)
    check_choice("record", record, ("geometric", "linear"))
    n_records = check_int("n_records", n_records, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    budget = _budget(problem, budget_epochs, budget_calls, tol, time_limit)
    f_star = _check_f_star(f_star)
    # the starting point and the method's set-up (its checks against the problem, e.g.
    # Katyusha's mu > 0) come before the (possibly costly) reference solution
    method._check_problem(problem)
    x0 = problem.default_x0() if x0 is None else problem.check_point(x0)
    rng = np.random.default_rng(seed)
    t_init = time.perf_counter()
    state = method.init(problem, x0.copy(), rng)
    t_init = time.perf_counter() - t_init

    x_star = None
    if f_star is None:
        try:
            x_star, f_star = problem.solution()
        except NotImplementedError:
            if tol is not None:
                raise DescentlabError(
                    f"tol: {type(problem).__name__} has no reference optimum; pass f_star= "
                    "or use a budget") from None

    def measure(elapsed: float) -> dict:
        x = state.x
        value = float(problem.value(x))
        row = {"iteration": state.iteration, "oracle_calls": state.calls,
               "epochs": state.calls / problem.n, "time_s": elapsed, "value": value,
               "subopt": math.nan, "rel_subopt": math.nan, "grad_norm": math.nan,
               "dist_to_init": float(np.linalg.norm(x - x0)), "dist_to_opt": math.nan}
        if np.isfinite(value):
            row["grad_norm"] = float(np.linalg.norm(problem.gradient_mapping(x)))
        if f_star is not None:
            row["subopt"] = value - f_star
            row["rel_subopt"] = relative_subopt(value, f_star)
        if x_star is not None:
            row["dist_to_opt"] = float(np.linalg.norm(x - x_star))
        return row

    rows = [measure(t_init)]  # the method's set-up (e.g. SAGA's first pass) is timed too
    f0 = rows[0]["value"]
    if not np.isfinite(f0):
        raise DescentlabError(f"x0: the objective is not finite at the starting point ({f0})")
    limit = f0 + DIVERGENCE_FACTOR * max(abs(f0), 1.0)
    elapsed, wall0, stop = t_init, time.perf_counter(), "budget"
    first = min(problem.n, budget)

    def make_trace(no_progress: str | None = None) -> Trace:
        meta = {"problem": problem.describe(), "method": {"name": method.name,
                **_plain(state.params)}, "seed": seed, "f_star": f_star, "budget_calls": budget,
                "tol": tol, "time_limit": time_limit, "stop_reason": stop,
                "no_progress": no_progress, "environment": environment()}
        return Trace(pd.DataFrame(rows, columns=list(rows[0])), meta)

    for target in _schedule(record, n_records, budget, first):
        if state.calls >= target:
            continue
        t0 = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            state = method.advance(state, int(target - state.calls))
        elapsed += time.perf_counter() - t0
        rows.append(measure(elapsed))
        value = rows[-1]["value"]
        if not np.isfinite(value) or value > limit:
            stop = "diverged"
            raise DivergenceError(
                f"{method.name} diverged at iteration {state.iteration}: F = {value:.3g} from "
                f"F(x0) = {f0:.3g}; lower the step size {step_size_named(method, state)}",
                trace=make_trace())
        if tol is not None and rows[-1]["rel_subopt"] <= tol:
            stop = "tol"
            break
        if time_limit is not None and time.perf_counter() - wall0 >= time_limit:
            stop = "time_limit"
            break
    values = [row["value"] for row in rows]
    flag = progress_flag(values, f_star=f_star, stationary_start=rows[0]["grad_norm"] == 0.0,
                         stop=stop, samples=method.samples)
    if flag is not None:
        warnings.warn(no_progress_message(flag, values, method.name,
                                          step_size_named(method, state)),
                      NoProgressWarning, stacklevel=2)
    return make_trace(flag)


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


def _check_f_star(f_star) -> float | None:
    """None, or ``f_star`` as a finite float."""
    if f_star is None:
        return None
    if isinstance(f_star, bool) or not isinstance(f_star, numbers.Real) \
            or not math.isfinite(f_star):
        raise DescentlabError(f"f_star: expected a finite number or None, got {f_star!r}")
    return float(f_star)


def step_size_named(method: Method, state) -> str:
    """'name' (it was value) of the method's step-size hyperparameter, for error messages."""
    step = state.params.get(method.step_param)
    return f"'{method.step_param}'" + (f" (it was {step:.3g})" if isinstance(step, float)
                                       else "")


def _plain(params: dict) -> dict:
    """The JSON-able scalars of a state's params (arrays such as x_prev are dropped)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in params.items()
            if v is None or isinstance(v, (bool, int, float, str, np.generic))}
