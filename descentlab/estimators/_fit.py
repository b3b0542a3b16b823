"""The fitting loop of the estimators: a descentlab method, epoch by epoch, until a tolerance.

``descentlab.run`` measures suboptimality against a reference optimum computed by an
independent solver; an estimator must not pay for that. ``descend`` advances the method one
epoch (n oracle calls) at a time and stops when the gradient mapping is small,

    ||G(x)||_inf <= tol * max(1, ||G(x0)||_inf),   G(x) = (x - prox_{h/L}(x - grad g(x)/L)) L

(the gradient of the smooth part for smooth objectives; seed 004's optimality measure, the
one of ``Problem.gradient_mapping``). On the averaged objectives of descentlab
(mean loss + lam Omega) this is scikit-learn's ``tol`` of its lbfgs solver (sup norm of the
gradient) whenever ||G(x0)||_inf <= 1, as for the logistic loss on bounded features. Each
check costs one full gradient (a vectorized pass, a fraction of a stochastic epoch).

Without a tolerance (the two-layer estimators) all ``max_iter`` epochs are run and the
state is recorded at about 50 geometric points. The records form a descentlab ``Trace``
(same columns as ``run``'s plus ``grad_inf``; ``subopt``, ``rel_subopt`` and
``dist_to_opt`` are NaN since no optimum is computed), with ``stop_reason`` "tol" or
"max_iter".

Divergence and lack of progress follow ``run``'s rules: F not finite or above
F(x0) + 1e6 max(|F(x0)|, 1) raises ``DivergenceError``; a fit that ends above F(x0), or never
goes below it (``descentlab.run.progress_flag``, without F* since none is computed), sets
the Trace's ``meta["no_progress"]`` and warns a scikit-learn ``ConvergenceWarning`` naming
the step size to change.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from ..errors import DescentlabError, DivergenceError
from ..methods import Method
from ..problems.base import Problem
from ..provenance import environment
from ..run import (
    DIVERGENCE_FACTOR,
    _plain,
    no_progress_message,
    progress_flag,
    step_size_named,
)
from ..trace import COLUMNS, Trace


@dataclass
class Descent:
    """What ``descend`` returns: the final point, epochs run, the Trace, convergence."""

    x: np.ndarray
    n_iter: int
    trace: Trace
    converged: bool


def descend(problem: Problem, method: Method, *, tol: float | None, max_iter: int,
            seed: int, x0: np.ndarray | None = None, step_arg: str | None = None) -> Descent:
    """Run ``method`` on ``problem`` for at most ``max_iter`` epochs (see the module doc).

    ``tol=None`` runs all ``max_iter`` epochs (the two-layer estimators). ``step_arg`` names
    the argument through which the user sets the step size, for the divergence and
    no-progress messages (default: "'step' (it was ...) in method_params")."""
    method._check_problem(problem)
    x0 = problem.default_x0() if x0 is None else problem.check_point(x0)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    state = method.init(problem, x0.copy(), rng)
    elapsed = time.perf_counter() - t0
    n = problem.n

    def measure() -> dict:
        x = state.x
        value = float(problem.value(x))
        gm = problem.gradient_mapping(x) if np.isfinite(value) else np.full(1, np.nan)
        return {"iteration": state.iteration, "oracle_calls": state.calls,
                "epochs": state.calls / n, "time_s": elapsed, "value": value,
                "subopt": math.nan, "rel_subopt": math.nan,
                "grad_norm": float(np.linalg.norm(gm)),
                "dist_to_init": float(np.linalg.norm(x - x0)), "dist_to_opt": math.nan,
                "grad_inf": float(np.max(np.abs(gm)))}

    rows = [measure()]
    f0 = rows[0]["value"]
    if not np.isfinite(f0):
        raise DescentlabError(f"x0: the objective is not finite at the starting point ({f0})")
    limit = f0 + DIVERGENCE_FACTOR * max(abs(f0), 1.0)
    threshold = None if tol is None else tol * max(1.0, rows[0]["grad_inf"])
    stop, epochs = "max_iter", 0
    start_calls = state.calls  # e.g. SAGA's first pass, done by init

    def make_trace(no_progress: str | None = None) -> Trace:
        meta = {"problem": problem.describe(),
                "method": {"name": method.name, **_plain(state.params)}, "seed": int(seed),
                "f_star": None, "tol": tol, "max_iter": int(max_iter), "stop_reason": stop,
                "stop_rule": "grad_inf <= tol * max(1, grad_inf at x0)",
                "no_progress": no_progress, "environment": environment()}
        return Trace(pd.DataFrame(rows, columns=[*COLUMNS, "grad_inf"]), meta)

    def step_named() -> str:
        return step_arg or f"{step_size_named(method, state)} in method_params"

    if threshold is not None and rows[0]["grad_inf"] <= threshold:
        stop = "tol"
    else:
        # with a tolerance every epoch is checked; without one, ~50 geometric records
        checks = range(1, max_iter + 1) if threshold is not None else \
            np.unique(np.round(np.geomspace(1, max_iter, min(max_iter, 50))).astype(int))
        for epochs in checks:
            epochs = int(epochs)
            target = start_calls + epochs * n
            if state.calls < target:
                t0 = time.perf_counter()
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    state = method.advance(state, int(target - state.calls))
                elapsed += time.perf_counter() - t0
            rows.append(measure())
            value = rows[-1]["value"]
            if not np.isfinite(value) or value > limit:
                stop = "diverged"
                raise DivergenceError(
                    f"{method.name} diverged after {epochs} epoch(s): objective {value:.3g} "
                    f"from {f0:.3g}; pass a smaller {step_named()}", trace=make_trace())
            if threshold is not None and rows[-1]["grad_inf"] <= threshold:
                stop = "tol"
                break
    values = [row["value"] for row in rows]
    flag = progress_flag(values, stationary_start=rows[0]["grad_inf"] == 0.0, stop=stop,
                         samples=method.samples)
    if flag is not None:
        warnings.warn(no_progress_message(flag, values, method.name, step_named()),
                      ConvergenceWarning, stacklevel=4)
    return Descent(np.array(state.x, dtype=np.float64), epochs, make_trace(flag),
                   stop == "tol")
