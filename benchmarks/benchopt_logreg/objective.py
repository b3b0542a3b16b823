"""L2-regularized logistic regression, with benchopt's `benchmark_logreg_l2` conventions.

    F(beta) = sum_i log(1 + exp(-y_i (x_i . beta + c))) + (lmbd / 2) ||beta||^2,

y_i in {-1, +1}, c the (unpenalized) intercept when ``fit_intercept`` (then beta carries
it as its last entry). The names match benchmark_logreg_l2 (objective parameters ``lmbd``
and ``fit_intercept``; solvers receive ``set_objective(X, y, lmbd, fit_intercept)`` and
return ``dict(beta=...)``), so the descentlab solvers of this folder run unchanged in that
benchmark: ``benchopt run benchmark_logreg_l2 -s <this folder>/solvers/descentlab.py``.

descentlab's ``Logistic(X, y, reg="l2", lam)`` minimizes the mean loss plus
lam ||beta||^2 / 2, which is F / n with lam = lmbd / n (same minimizer).
"""

import numpy as np
from benchopt import BaseObjective


def logreg_l2(X, y, lmbd, beta, fit_intercept=False):
    """(F(beta), training error) of the objective above."""
    c = 0.0
    if fit_intercept:
        beta, c = beta[:-1], beta[-1]
    margins = y * (X @ beta + c)
    value = np.logaddexp(0.0, -margins).sum() + 0.5 * lmbd * float(beta @ beta)
    return value, float(np.mean(margins <= 0))


class Objective(BaseObjective):
    name = "L2 Logistic Regression"
    url = "https://github.com/benchopt/benchmark_logreg_l2"
    min_benchopt_version = "1.10"
    requirements = ["numpy", "scipy", "scikit-learn"]
    sampling_strategy = "callback"

    parameters = {
        "lmbd": [1.0, 0.01],
        "fit_intercept": [False, True],
    }

    def set_data(self, X, y):
        labels = set(np.unique(y).tolist())
        if labels != {-1.0, 1.0}:
            raise ValueError(f"the logistic loss is implemented with y in {{-1, +1}}, "
                             f"got labels {sorted(labels)}")
        self.X, self.y = X, y

    def get_objective(self):
        return dict(X=self.X, y=self.y, lmbd=self.lmbd, fit_intercept=self.fit_intercept)

    def evaluate_result(self, beta):
        value, error = logreg_l2(self.X, self.y, self.lmbd, beta, self.fit_intercept)
        return dict(value=value, train_error=error)

    def get_one_result(self):
        return dict(beta=np.zeros(self.X.shape[1] + int(self.fit_intercept)))
