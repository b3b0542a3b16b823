"""descentlab's SVRG on the L2-logistic objective, as a benchopt solver.

SVRG (Johnson and Zhang 2013; seed 000, variance reduction): a snapshot w with its full
gradient every 2n inner steps, x <- x - step (grad f_j(x) - grad f_j(w) + grad F(w)),
on descentlab's compiled lazy loop for linear models (importance sampling when
L_max > 2 mean L_j); default step from the theory (descentlab.methods.SVRG).
benchopt's lmbd becomes descentlab's lam = lmbd / n. One benchopt callback = one epoch
(n oracle calls of ``Method.advance``); the first snapshot is timed.

Self-contained, so that it runs in benchopt's own logistic-regression benchmark too:
``benchopt run benchmark_logreg_l2 -s path/to/descentlab_svrg.py``.
"""

import inspect

import numpy as np
from benchopt import BaseSolver

from descentlab.methods import get_method
from descentlab.problems import Logistic

METHOD = "svrg"
NEEDS_STRONG_CONVEXITY = False


class Solver(BaseSolver):
    name = "descentlab-svrg"
    sampling_strategy = "callback"
    references = ["R. Johnson, T. Zhang, 'Accelerating Stochastic Gradient Descent using "
                  "Predictive Variance Reduction', NeurIPS 2013"]

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

    def warm_up(self):
        self.run_once(2)  # compiles the numba kernels outside the timed runs

    def run(self, callback):
        problem = self.problem
        rng = np.random.default_rng(self.seed)
        self.state = self.method.init(problem, problem.default_x0(), rng)
        while callback():
            self.state = self.method.advance(self.state, problem.n)

    def get_result(self):
        return dict(beta=np.array(self.state.x, dtype=np.float64))
