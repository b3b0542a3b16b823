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

Without a tolerance (the two-layer estimators) all ``max_iter`` epochs are run and the
state is recorded at about 50 geometric epochs. The Trace has ``run``'s columns plus
``grad_inf`` (``subopt``, ``rel_subopt`` and ``dist_to_opt`` are NaN since no optimum is
computed), with ``stop_reason`` "tol" or "max_iter".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DivergenceError
from ..methods import Method
from ..problems.base import Problem
from ..run import Stop, run
from ..trace import Trace


@dataclass
class Descent:
    """What ``descend`` returns: the final point, epochs run, the Trace, convergence."""

    x: np.ndarray
    n_iter: int
    trace: Trace
    converged: bool


def descend(problem: Problem, method: Method, *, tol: float | None, max_iter: int,
            seed: int, x0: np.ndarray | None = None) -> Descent:
    """Run ``method`` on ``problem`` for at most ``max_iter`` epochs (see the module doc).

    ``tol=None`` runs all ``max_iter`` epochs (the two-layer estimators)."""
    if tol is None:  # ~50 geometric records
        marks = np.unique(np.round(np.geomspace(1, max_iter, min(max_iter, 50))).astype(int))
    else:
        marks = np.arange(1, max_iter + 1)
    try:
        trace = run(problem, method, Stop(grad_tol=tol), x0=x0, seed=seed, reference=False,
                    record=problem.n * marks)
    except DivergenceError as err:
        raise DivergenceError(f"{err}; pass it in method_params", trace=err.trace) from None
    reason = trace.meta["stop_reason"]
    trace.meta.update(max_iter=int(max_iter), stop_reason="max_iter" if reason == "budget"
                      else reason, stop_rule="grad_inf <= tol * max(1, grad_inf at x0)")
    n_iter = int(marks[len(trace.df) - 2]) if len(trace.df) > 1 else 0
    return Descent(np.array(trace.x, dtype=np.float64), n_iter, trace, reason == "tol")
