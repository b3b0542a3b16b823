"""scikit-learn estimators for descentlab's linear models (seed 000: regularized ERM).

Each estimator builds a descentlab problem (``Logistic`` or ``LeastSquares`` with an
unpenalized intercept when ``fit_intercept=True``) whose objective is scikit-learn's divided
by a constant, so that the minimizers coincide:

* ``LogisticRegression(C, l1_ratio)``: scikit-learn minimizes
  C sum_i log(1 + exp(-y_i z_i)) + pen(w), pen = (1 - r) ||w||^2 / 2 + r ||w||_1 (r =
  l1_ratio); divided by C n this is descentlab's mean loss + lam Omega with
  **lam = 1 / (C n)** and reg "l2" (r = 0), "l1" (r = 1), "elasticnet" (0 < r < 1), None
  (C = inf).
* ``Ridge(alpha)``: ||y - Xw||^2 + alpha ||w||^2, divided by 2n: **lam = alpha / n**, "l2".
* ``Lasso(alpha)``: ||y - Xw||^2 / (2n) + alpha ||w||_1: **lam = alpha**, "l1".
* ``ElasticNet(alpha, l1_ratio)``: ||y - Xw||^2 / (2n) + alpha r ||w||_1
  + alpha (1 - r) ||w||^2 / 2: **lam = alpha**, "elasticnet".
* ``LeastSquaresRegressor(lam, reg, l1_ratio)``: descentlab's own parametrization,
  ||y - Xw||^2 / (2n) + lam Omega(w) (the estimator to grid-search ``lam`` over).

``penalty`` (LogisticRegression). scikit-learn >= 1.8 deprecates it in favour of
``l1_ratio`` and ``C=np.inf``; the default ``penalty="deprecated"`` does what scikit-learn's
default does (the penalty follows ``l1_ratio``: 0 -> l2, 1 -> l1, in between ->
elasticnet; C = inf -> none). An explicit "l2", "l1", "elasticnet" or None is still honoured,
as scikit-learn 1.8-1.9 still does (without its FutureWarning); with "elasticnet" the
``l1_ratio`` gives the mix.

``method``: any descentlab method name (``descentlab.methods.METHODS``) or a ``Method``;
``method_params`` passes hyperparameters (e.g. ``{"step": 1e-3}``). ``"auto"`` (default)
runs ``descentlab.methods.Auto``: the fastest method measured for the problem's shape and
penalty by ``benchmarks/peers.py`` (Newton-CG for L2, L-BFGS without a penalty or in high
dimension, OWL-QN for L1 and elastic net, proximal Newton for those on sparse data; see
``descentlab.methods.auto``). These take full passes over the data and a line search, so
unscaled features slow them down but do not make them diverge; scale the features anyway
(``StandardScaler`` in a Pipeline). Methods without a prox refuse L1 penalties with a clear
error; Katyusha's defaults need mu > 0, which the logistic loss with an unpenalized
intercept does not have (pass its step and theta1, or ``fit_intercept=False``).

Stopping (``tol``, ``max_iter``, ``stopping``): epochs of the method until, with
``stopping="gradient"`` (default), the sup norm of the gradient mapping is
<= tol max(1, its value at 0), or, with ``stopping="gap"``, the relative duality gap
gap(x) / |F(x)| is <= tol (``LinearModel.duality_gap``: a certificate that the relative
suboptimality of the fitted objective is below tol; needs a penalty)
(``descentlab.estimators._fit``); ``n_iter_``
counts epochs (passes over the data, n oracle calls each; one iteration of a full-gradient
method), as scikit-learn's sag/saga count them. A ``ConvergenceWarning`` is raised when
``max_iter`` is reached first.

Multiclass logistic regression is one-vs-rest (one binary problem per class, the
probabilities normalized as scikit-learn's OvR does), not scikit-learn's multinomial loss:
same API (``coef_`` of shape (n_classes, n_features)), different model for 3+ classes.
Inputs are converted to float64 (dense or CSR); sample weights are not supported.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import DescentlabError
from ..methods import Method, get_method
from ..problems.linear import LeastSquares, LinearModel, Logistic
from ._classifier import OneVsRestClassifierMixin
from ._fit import descend

_PENALTIES = ("deprecated", "l2", "l1", "elasticnet", None)


def resolve_method(method, method_params, n: int) -> Method:
    """The descentlab Method an estimator runs (``"auto"``: see the module docstring)."""
    params = dict(method_params or {})
    if isinstance(method, Method):
        if params:
            raise DescentlabError("method_params: give hyperparameters either in the Method "
                                  "object or in method_params, not both")
        return method
    if not isinstance(method, str):
        raise DescentlabError(f"method: expected a descentlab method name or Method, got "
                              f"{type(method).__name__}")
    if method == "auto" and params:
        raise DescentlabError(f"method_params: method='auto' takes no hyperparameters (it "
                              f"picks the method); name a method to pass {sorted(params)}")
    return get_method(method, **params)


def _seed(random_state) -> int:
    """An integer seed drawn from scikit-learn's random_state (None, int or RandomState)."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _check_stopping(stopping, problem: LinearModel) -> bool:
    """Whether the fit stops on the duality gap (``stopping="gap"``) or the gradient mapping."""
    if stopping not in ("gradient", "gap"):
        raise DescentlabError(f"stopping: expected 'gradient' or 'gap', got {stopping!r}")
    if stopping == "gap":
        try:
            problem.check_duality_gap()
        except DescentlabError:
            raise DescentlabError("stopping: 'gap' needs a penalty (the duality gap of an "
                                  "unpenalized model is not finite); use stopping='gradient'"
                                  ) from None
    return stopping == "gap"


def _check_common(est) -> None:
    if not isinstance(est.fit_intercept, (bool, np.bool_)):
        raise DescentlabError(f"fit_intercept: expected a bool, got {est.fit_intercept!r}")
    if not isinstance(est.tol, numbers.Real) or not est.tol >= 0:
        raise DescentlabError(f"tol: expected a number >= 0, got {est.tol!r}")
    if not isinstance(est.max_iter, numbers.Integral) or est.max_iter < 1:
        raise DescentlabError(f"max_iter: expected an integer >= 1, got {est.max_iter!r}")


class _LinearFit:
    """Shared fitting of one linear problem, and the sklearn plumbing of the estimators."""

    def _fit_problem(self, problem: LinearModel, seed: int):
        method = resolve_method(self.method, self.method_params, problem.n)
        step_arg = None
        if isinstance(self.method, Method):  # not method_params: name the Method's step
            step = method.hyperparameters().get(method.step_param)
            given = f" (it was {step:.3g})" if isinstance(step, float) else ""
            step_arg = f"'{method.step_param}'{given} of the Method passed as method="
        gap = _check_stopping(self.stopping, problem)
        result = descend(problem, method, tol=self.tol, max_iter=self.max_iter, seed=seed,
                         step_arg=step_arg, gap=gap)
        if not result.converged and not result.trace.no_progress:  # else descend warned
            measure = (f"relative duality gap {result.trace.final('rel_gap'):.2e}" if gap else
                       f"sup norm of the gradient mapping {result.trace.final('grad_inf'):.2e}")
            warnings.warn(f"{type(self).__name__} ({method.name}) did not reach tol={self.tol} "
                          f"in max_iter={self.max_iter} epochs ({measure}); increase max_iter or "
                          "scale the features (StandardScaler)",
                          ConvergenceWarning, stacklevel=3)
        self.method_ = method.name
        x = result.x
        if problem.fit_intercept:
            return x[:-1], float(x[-1]), result
        return x, 0.0, result

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _validate_fit(est, X, y, *, classifier: bool):
    X, y = validate_data(est, X, y, accept_sparse="csr", dtype=np.float64,
                         y_numeric=not classifier)
    if sp.issparse(X):
        X.sort_indices()
    return X, y


# --------------------------------------------------------------------- classification
class LogisticRegression(_LinearFit, OneVsRestClassifierMixin, BaseEstimator):
    """L2 / L1 / elastic-net logistic regression with scikit-learn's parameters, solved by a
    descentlab method (see the module docstring for the mapping lam = 1 / (C n)).

    Attributes: ``classes_``, ``coef_`` (1 or n_classes rows), ``intercept_``, ``n_iter_``
    (epochs, one entry per binary problem), ``trace_`` (the descentlab Trace; a list of
    Traces for one-vs-rest), ``method_`` (the method run), ``n_features_in_``.
    """

    def __init__(self, penalty="deprecated", *, C=1.0, l1_ratio=0.0, fit_intercept=True,
                 tol=1e-4, max_iter=100, method="auto", method_params=None,
                 random_state=None, stopping="gradient"):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.method = method
        self.method_params = method_params
        self.random_state = random_state
        self.stopping = stopping

    def _regularization(self, n: int) -> dict:
        """reg / lam / l1_ratio of the descentlab problem."""
        if self.penalty not in _PENALTIES:
            raise DescentlabError(f"penalty: expected one of 'l2', 'l1', 'elasticnet', None "
                                  f"(or leave the default), got {self.penalty!r}")
        if not isinstance(self.C, numbers.Real) or not self.C > 0:
            raise DescentlabError(f"C: expected a positive number (np.inf: no penalty), "
                                  f"got {self.C!r}")
        r = self.l1_ratio
        if r is not None and (not isinstance(r, numbers.Real) or not 0 <= r <= 1):
            raise DescentlabError(f"l1_ratio: expected a number in [0, 1], got {r!r}")
        penalty = self.penalty
        if penalty == "deprecated":
            if self.C == np.inf:
                penalty = None
            elif r is None or r == 0:
                penalty = "l2"
            else:
                penalty = "l1" if r == 1 else "elasticnet"
        if penalty is None or self.C == np.inf:
            return {"reg": None, "lam": 0.0}
        lam = 1.0 / (float(self.C) * n)
        if penalty == "elasticnet":
            if r is None:
                raise DescentlabError("l1_ratio: penalty='elasticnet' needs l1_ratio in [0, 1]")
            return {"reg": "elasticnet", "lam": lam, "l1_ratio": float(r)}
        return {"reg": penalty, "lam": lam}

    def fit(self, X, y):
        """Fit on X (n_samples, n_features), dense or sparse, and labels y (2+ classes)."""
        _check_common(self)
        X, y = _validate_fit(self, X, y, classifier=True)
        positives = self._positive_classes(y)
        reg = self._regularization(X.shape[0])
        seed = _seed(self.random_state)
        coefs, intercepts, n_iter, traces = [], [], [], []
        for k, positive in enumerate(positives):
            signs = np.where(y == positive, 1.0, -1.0)
            problem = Logistic(X, signs, fit_intercept=self.fit_intercept, **reg)
            w, b, result = self._fit_problem(problem, seed + k)
            coefs.append(w)
            intercepts.append(b)
            n_iter.append(result.n_iter)
            traces.append(result.trace)
        self.coef_ = np.vstack(coefs)
        self.intercept_ = np.asarray(intercepts)
        self.n_iter_ = np.asarray(n_iter, dtype=np.int32)
        self.trace_ = traces[0] if len(traces) == 1 else traces
        return self

    def decision_function(self, X):
        """x . w + b per sample (one column per class for 3+ classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        scores = X @ self.coef_.T + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))



# ------------------------------------------------------------------------- regression
class _LeastSquaresBase(_LinearFit, RegressorMixin, BaseEstimator):
    """Least squares with a penalty; subclasses map their parameters to (reg, lam)."""

    def _regularization(self, n: int) -> dict:
        raise NotImplementedError

    def fit(self, X, y):
        """Fit on X (n_samples, n_features), dense or sparse, and real targets y."""
        _check_common(self)
        X, y = _validate_fit(self, X, y, classifier=False)
        reg = self._regularization(X.shape[0])
        problem = LeastSquares(X, y, fit_intercept=self.fit_intercept, **reg)
        w, b, result = self._fit_problem(problem, _seed(self.random_state))
        self.coef_, self.intercept_ = w, b
        self.n_iter_ = int(result.n_iter)
        self.trace_ = result.trace
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        return np.asarray(X @ self.coef_).ravel() + self.intercept_


def _check_alpha(alpha, name: str = "alpha") -> float:
    """``alpha`` (the parameter ``name``) as a float >= 0."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha >= 0:
        raise DescentlabError(f"{name}: expected a number >= 0, got {alpha!r}")
    return float(alpha)


class Ridge(_LeastSquaresBase):
    """scikit-learn's Ridge, ||y - Xw||^2 + alpha ||w||^2, solved by a descentlab method
    (descentlab's LeastSquares with reg="l2", lam = alpha / n)."""

    def __init__(self, alpha=1.0, *, fit_intercept=True, tol=1e-4, max_iter=1000,
                 method="auto", method_params=None, random_state=None, stopping="gradient"):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.method = method
        self.method_params = method_params
        self.random_state = random_state
        self.stopping = stopping

    def _regularization(self, n):
        alpha = _check_alpha(self.alpha)
        return {"reg": "l2", "lam": alpha / n} if alpha > 0 else {"reg": None, "lam": 0.0}


class Lasso(_LeastSquaresBase):
    """scikit-learn's Lasso, ||y - Xw||^2 / (2n) + alpha ||w||_1, solved by a descentlab
    proximal method (descentlab's LeastSquares with reg="l1", lam = alpha)."""

    def __init__(self, alpha=1.0, *, fit_intercept=True, tol=1e-4, max_iter=1000,
                 method="auto", method_params=None, random_state=None, stopping="gradient"):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.method = method
        self.method_params = method_params
        self.random_state = random_state
        self.stopping = stopping

    def _regularization(self, n):
        alpha = _check_alpha(self.alpha)
        return {"reg": "l1", "lam": alpha} if alpha > 0 else {"reg": None, "lam": 0.0}


class ElasticNet(_LeastSquaresBase):
    """scikit-learn's ElasticNet, ||y - Xw||^2 / (2n) + alpha r ||w||_1
    + alpha (1 - r) ||w||^2 / 2 (r = l1_ratio); descentlab's reg="elasticnet", lam = alpha."""

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, tol=1e-4,
                 max_iter=1000, method="auto", method_params=None, random_state=None,
                 stopping="gradient"):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.method = method
        self.method_params = method_params
        self.random_state = random_state
        self.stopping = stopping

    def _regularization(self, n):
        alpha = _check_alpha(self.alpha)
        r = self.l1_ratio
        if not isinstance(r, numbers.Real) or not 0 <= r <= 1:
            raise DescentlabError(f"l1_ratio: expected a number in [0, 1], got {r!r}")
        if alpha == 0:
            return {"reg": None, "lam": 0.0}
        return {"reg": "elasticnet", "lam": alpha, "l1_ratio": float(r)}


class LeastSquaresRegressor(_LeastSquaresBase):
    """descentlab's own parametrization: ||y - Xw||^2 / (2n) + lam Omega(w), Omega given by
    ``reg`` (None, "l2": ||w||^2 / 2, "l1", "elasticnet" with ``l1_ratio``)."""

    def __init__(self, lam=0.0, *, reg="l2", l1_ratio=None, fit_intercept=True, tol=1e-4,
                 max_iter=1000, method="auto", method_params=None, random_state=None,
                 stopping="gradient"):
        self.lam = lam
        self.reg = reg
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.method = method
        self.method_params = method_params
        self.random_state = random_state
        self.stopping = stopping

    def _regularization(self, n):
        lam = _check_alpha(self.lam, "lam") if self.lam is not None else 0.0
        if lam == 0 or self.reg is None:
            if lam != 0:
                raise DescentlabError(f"lam: got lam={lam} with reg=None; pass reg='l2', "
                                      "'l1' or 'elasticnet' to regularize")
            return {"reg": None, "lam": 0.0}
        return {"reg": self.reg, "lam": lam, "l1_ratio": self.l1_ratio}


__all__ = ["ElasticNet", "Lasso", "LeastSquaresRegressor",
           "LogisticRegression", "Ridge", "resolve_method"]
