"""descentlab's (loopless) Katyusha on the L2-logistic objective, as a benchopt solver.

L-Katyusha (Kovalev, Horvath, Richtarik 2020; seed 000, accelerated variance reduction,
(n + sqrt(n kappa)) log(1/eps) component gradients): the negative-momentum coupling of
z, y and a snapshot w refreshed with probability 1/n (descentlab.methods.Katyusha, the
paper's default parameters, which need mu > 0: objectives with lmbd = 0 or an
unpenalized intercept are skipped). benchopt's lmbd becomes descentlab's lam = lmbd / n.
One benchopt callback = one epoch (n oracle calls of ``Method.advance``).

Self-contained, so that it runs in benchopt's own logistic-regression benchmark too:
``benchopt run benchmark_logreg_l2 -s path/to/descentlab_katyusha.py``.
"""

import inspect

import numpy as np
from benchopt import BaseSolver
from benchopt.stopping_criterion import StoppingCriterion

from descentlab.methods import get_method
from descentlab.problems import Logistic

METHOD = "katyusha"
NEEDS_STRONG_CONVEXITY = True


class FlatCurveCriterion(StoppingCriterion):
    """Stop once the objective stops moving, for methods whose objective is not monotone.

    Accelerated iterates overshoot: on ill-conditioned problems F(y_k) rises for tens of
    epochs before the linear phase, and benchopt's default criterion (no improvement of
    the best value in 3 evaluations) stops them on that bump. Here a rise counts as
    movement: stop when |F_k - F_(k-1)| <= eps max_j |F_j - F_(j-1)| for ``patience``
    consecutive evaluations.
    """

    def __init__(self, eps=1e-10, patience=3, strategy=None, key_to_monitor="value",
                 minimize=True):
        self.eps, self.patience = eps, patience
        super().__init__(eps=eps, patience=patience, strategy=strategy,
                         key_to_monitor=key_to_monitor, minimize=minimize)

    def check_convergence(self, objective_list):
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
    name = "descentlab-katyusha"
    sampling_strategy = "callback"
    stopping_criterion = FlatCurveCriterion(strategy="callback")
    references = ["D. Kovalev, S. Horvath, P. Richtarik, 'Don't Jump Through Hoops and "
                  "Remove Those Loops: SVRG and Katyusha are Better Without the Outer "
                  "Loop', ALT 2020"]

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
