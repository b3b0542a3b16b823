"""descentlab's gradient descent on the L2-logistic objective, as a benchopt solver.

Gradient descent x <- x - step grad F(x) with the step 1/L of the smooth theory
(seed 000: F(x_k) - F* <= (1 - mu/L)^k (F(x_0) - F*) for mu-strongly convex F), L the
certified smoothness constant of ``descentlab.problems.Logistic``. benchopt's lmbd
becomes descentlab's lam = lmbd / n (``Logistic`` minimizes the mean loss, the
objective the sum). One benchopt callback = one iteration (n oracle calls).

Self-contained, so that it runs in benchopt's own logistic-regression benchmark too:
``benchopt run benchmark_logreg_l2 -s path/to/descentlab_gd.py``.
"""

import inspect

import numpy as np
from benchopt import BaseSolver

from descentlab.methods import get_method
from descentlab.problems import Logistic

METHOD = "gd"
NEEDS_STRONG_CONVEXITY = False


class Solver(BaseSolver):
    name = "descentlab-gd"
    sampling_strategy = "callback"

    def skip(self, X, y, lmbd, fit_intercept=False):
        if fit_intercept and "fit_intercept" not in inspect.signature(Logistic).parameters:
            return True, "this descentlab has no unpenalized intercept in Logistic"
        if NEEDS_STRONG_CONVEXITY and (lmbd <= 0 or fit_intercept):
            return True, f"{METHOD}'s default parameters need a strongly convex objective"
        return False, None

    def set_objective(self, X, y, lmbd, fit_intercept=False):
        options = {"fit_intercept": True} if fit_intercept else {}
        self.problem = Logistic(X, y, reg="l2", lam=lmbd / X.shape[0], **options)
        self.method = get_method(METHOD)
        self.seed = self.get_seed(use_repetition=True)

    def run(self, callback):
        problem = self.problem
        rng = np.random.default_rng(self.seed)
        self.state = self.method.init(problem, problem.default_x0(), rng)
        while callback():
            self.state = self.method.advance(self.state, problem.n)

    def get_result(self):
        return dict(beta=np.array(self.state.x, dtype=np.float64))
