"""The fitting loop of the estimators: a descentlab method, epoch by epoch, until a tolerance.

``descentlab.run`` measures suboptimality against a reference optimum computed by an
independent solver; an estimator must not pay for that. ``descend`` runs ``descentlab.run``
without a reference, recording every epoch (n oracle calls) after the method's set-up, and
stops when the gradient mapping is small (``Stop(grad_tol=tol)``),

    ||G(x)||_inf <= tol * max(1, ||G(x0)||_inf),   G(x) = (x - prox_{h/L}(x - grad g(x)/L)) L

(the gradient of the smooth part for smooth objectives; seed 004's optimality measure, the
one of ``Problem.gradient_mapping``). On the averaged objectives of descentlab
(mean loss + lam Omega) this is scikit-learn's ``tol`` of its lbfgs solver (sup norm of the
gradient) whenever ||G(x0)||_inf <= 1, as for the logistic loss on bounded features. Each
check costs one full gradient (a vectorized pass, a fraction of a stochastic epoch).

With ``gap=True`` (the linear estimators' ``stopping="gap"``) it stops instead when the
relative duality gap is small (``Stop(gap_tol=tol)``): gap(x) / max(|F(x)|, 1e-12) <= tol,
gap(x) = P(x) - D(theta(x)) the Fenchel duality gap (``LinearModel.duality_gap``), a
certificate that (F(x) - F*) / |F(x)| <= tol; the Trace then has ``gap`` and ``rel_gap``.

Without a tolerance (the two-layer estimators) all ``max_iter`` epochs are run and the
state is recorded at about 50 geometric epochs. The Trace has ``run``'s columns plus
``grad_inf`` (``subopt``, ``rel_subopt`` and ``dist_to_opt`` are NaN since no optimum is
computed), with ``stop_reason`` "tol" or "max_iter".

Divergence and lack of progress follow ``run``'s rules (``descentlab.run.progress_flag``,
without F* since none is computed): a diverging fit raises ``DivergenceError`` and one that
ends above F(x0) or never goes below it sets ``meta["no_progress"]`` and warns a
scikit-learn ``ConvergenceWarning``; both name the step size as the user set it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..errors import DivergenceError, NoProgressWarning
from ..methods import Method
from ..problems.base import Problem
from ..run import Stop, no_progress_message, run, step_size_named
from ..trace import Trace


@dataclass
class Descent:
    """What ``descend`` returns: the final point, epochs run, the Trace, convergence."""

    x: np.ndarray
    n_iter: int
    trace: Trace
    converged: bool


def descend(problem: Problem, method: Method, *, tol: float | None, max_iter: int,
            seed: int, x0: np.ndarray | None = None, step_arg: str | None = None,
            gap: bool = False) -> Descent:
    """Run ``method`` on ``problem`` for at most ``max_iter`` epochs (see the module doc).

    ``tol=None`` runs all ``max_iter`` epochs (the two-layer estimators). ``step_arg`` names
    the argument through which the user sets the step size, for the divergence and
    no-progress messages (default: "'step' (it was ...) in method_params"). ``gap=True``
    stops on the relative duality gap instead of the gradient mapping."""
    if tol is None:  # ~50 geometric records
        marks = np.unique(np.round(np.geomspace(1, max_iter, min(max_iter, 50))).astype(int))
    else:
        marks = np.arange(1, max_iter + 1)

    def step_named() -> str:
        return step_arg or f"{step_size_named(method.resolve(problem))} in method_params"

    try:
        with warnings.catch_warnings():  # reported below as the estimators' warning
            warnings.simplefilter("ignore", NoProgressWarning)
            stop = Stop(gap_tol=tol) if gap and tol is not None else Stop(grad_tol=tol)
            trace = run(problem, method, stop, x0=x0, seed=seed,
                        reference=False, record=problem.n * marks)
    except DivergenceError as err:
        epochs = err.trace.df["epochs"].iloc[-1]
        raise DivergenceError(f"{method.name} diverged after {epochs:.3g} epoch(s): objective "
                              f"{err.trace.final('value'):.3g} from "
                              f"{err.trace.df['value'].iloc[0]:.3g}; pass a smaller "
                              f"{step_named()}", trace=err.trace) from None
    flag = trace.meta["no_progress"]
    if flag is not None:
        warnings.warn(no_progress_message(flag, trace.df["value"].tolist(), method.name,
                                          step_named()), ConvergenceWarning, stacklevel=4)
    reason = trace.meta["stop_reason"]
    trace.meta.update(max_iter=int(max_iter), stop_reason="max_iter" if reason == "budget"
                      else reason, stop_rule="rel_gap <= tol" if gap else
                      "grad_inf <= tol * max(1, grad_inf at x0)")
    n_iter = int(marks[len(trace.df) - 2]) if len(trace.df) > 1 else 0
    return Descent(np.array(trace.x, dtype=np.float64), n_iter, trace, reason == "tol")
