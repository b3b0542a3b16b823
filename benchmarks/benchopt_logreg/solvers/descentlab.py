"""descentlab's methods on the L2-logistic objective, as one benchopt solver parametrised by
``method`` (any name of ``descentlab.methods.METHODS``; every hyperparameter is the theory's
default):

* ``gd``: gradient descent, step 1/L (seed 000: F(x_k) - F* <= (1 - mu/L)^k (F(x_0) - F*));
* ``saga``: SAGA (Defazio, Bach, Lacoste-Julien 2014; seed 000, variance reduction), on the
  compiled lazy loop for CSR/dense linear models, importance-sampled when L_max > 2 mean L_j;
* ``svrg``: SVRG (Johnson and Zhang 2013), a snapshot every 2n inner steps, compiled too;
* ``katyusha``: loopless Katyusha (Kovalev, Horvath, Richtarik 2020; accelerated variance
  reduction, (n + sqrt(n kappa)) log(1/eps) component gradients), whose defaults need
  mu > 0: objectives with lmbd = 0 or an unpenalized intercept are skipped.

benchopt's lmbd becomes descentlab's lam = lmbd / n (``Logistic`` minimizes the mean loss,
the objective the sum). One benchopt callback = one ``Method.advance`` of n oracle calls
(one iteration of GD, one epoch of the stochastic methods); the method's set-up (SAGA's
first pass, SVRG's first snapshot) is timed.

Self-contained, so that it runs in benchopt's own logistic-regression benchmark too:
``benchopt run benchmark_logreg_l2 -s path/to/descentlab.py``.
"""

import inspect

import numpy as np
from benchopt import BaseSolver
from benchopt.stopping_criterion import SufficientProgressCriterion

from descentlab.methods import get_method
from descentlab.problems import Logistic

#: methods whose default parameters need a strongly convex objective
NEEDS_STRONG_CONVEXITY = {"katyusha"}
#: methods whose objective F(x_k) is not monotone (stopped on a flat curve)
NON_MONOTONE = {"katyusha"}


class FlatCurveCriterion(SufficientProgressCriterion):
    """benchopt's default rule, except for methods whose objective is not monotone.

    Accelerated iterates overshoot: on ill-conditioned problems F(y_k) rises for tens of
    epochs before the linear phase, and the default criterion (no improvement of the best
    value in ``patience`` evaluations) stops them on that bump. For those a rise counts as
    movement: stop when |F_k - F_(k-1)| <= eps max_j |F_j - F_(j-1)| for ``patience``
    consecutive evaluations.
    """

    def check_convergence(self, objective_list):
        if getattr(self.solver, "method", None) not in NON_MONOTONE:
            return super().check_convergence(objective_list)
        values = np.array([d[self.key_to_monitor_] for d in objective_list], dtype=float)
        if values.size <= self.patience:
            return False, 0.0
        moves = np.abs(np.diff(values))
        scale, recent = moves.max(), moves[-self.patience:].max()
        if recent <= self.eps * scale:
            return True, 1.0
        ratio = max(recent / scale, self.eps) if scale > 0 else 1.0
        return False, float(np.log(ratio) / np.log(self.eps))


class Solver(BaseSolver):
    name = "descentlab"
    sampling_strategy = "callback"
    stopping_criterion = FlatCurveCriterion(strategy="callback")
    parameters = {"method": ["gd", "saga", "svrg", "katyusha"]}
    references = [
        "A. Defazio, F. Bach, S. Lacoste-Julien, 'SAGA: A Fast Incremental Gradient Method "
        "With Support for Non-Strongly Convex Composite Objectives', NeurIPS 2014",
        "R. Johnson, T. Zhang, 'Accelerating Stochastic Gradient Descent using Predictive "
        "Variance Reduction', NeurIPS 2013",
        "D. Kovalev, S. Horvath, P. Richtarik, 'Don't Jump Through Hoops and Remove Those "
        "Loops: SVRG and Katyusha are Better Without the Outer Loop', ALT 2020"]

    def skip(self, X, y, lmbd, fit_intercept=False):
        if fit_intercept and "fit_intercept" not in inspect.signature(Logistic).parameters:
            return True, "this descentlab has no unpenalized intercept in Logistic"
        if self.method in NEEDS_STRONG_CONVEXITY and (lmbd <= 0 or fit_intercept):
            return True, f"{self.method}'s default parameters need a strongly convex objective"
        return False, None

    def set_objective(self, X, y, lmbd, fit_intercept=False):
        options = {"fit_intercept": True} if fit_intercept else {}
        self.problem = Logistic(X, y, reg="l2", lam=lmbd / X.shape[0], **options)
        self.algorithm = get_method(self.method)
        self.seed = self.get_seed(use_repetition=True)

    def warm_up(self):
        self.run_once(2)  # compiles the numba kernels outside the timed runs

    def run(self, callback):
        problem, rng = self.problem, np.random.default_rng(self.seed)
        method = self.algorithm.resolve(problem)
        self.state = method.init(problem, problem.default_x0(), rng)
        while callback():
            self.state = method.advance(problem, self.state, rng, problem.n)

    def get_result(self):
        return dict(beta=np.array(self.state.x, dtype=np.float64))
