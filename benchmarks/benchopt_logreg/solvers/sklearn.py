"""scikit-learn's LogisticRegression as the reference solvers of this folder.

C = 1 / lmbd turns scikit-learn's C sum_i loss + ||w||^2 / 2 into the objective times
1/lmbd (same minimizer); the intercept, when fitted, is unpenalized in both. Sampled with
the 'iteration' strategy: each run refits with max_iter = n_iter from zero.
"""

import warnings

import numpy as np
from benchopt import BaseSolver
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression


class Solver(BaseSolver):
    name = "sklearn"
    sampling_strategy = "iteration"
    parameters = {"solver": ["lbfgs", "saga"]}

    def set_objective(self, X, y, lmbd, fit_intercept=False):
        self.X, self.y = X, y
        self.clf = LogisticRegression(solver=self.solver, C=1.0 / lmbd, tol=1e-15,
                                      fit_intercept=fit_intercept)

    def run(self, n_iter):
        self.clf.max_iter = max(int(n_iter), 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.clf.fit(self.X, self.y)

    def get_result(self):
        beta = self.clf.coef_.ravel()
        if self.clf.fit_intercept:
            beta = np.r_[beta, self.clf.intercept_]
        return dict(beta=beta)
