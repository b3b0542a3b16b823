"""scikit-learn estimators for wide two-layer networks (seed 002, sections 3-4; seed 000).

The network is an average of ``width`` = m particles w_j = (a_j, b_j) (Eq. 3.1 of 002),

    h(x) = (alpha / m) sum_j a_j sigma(b_j . x'),   x' = (x, 1) when ``bias=True``,

trained on G(W) = (1/alpha^2) (1/n) sum_i loss(y_i, h(x_i)) (square loss for
``TwoLayerRegressor``, logistic loss for ``TwoLayerClassifier``) by any descentlab method
through ``descentlab.problems.twolayer.TwoLayerProblem``. ``alpha = 1`` is the mean-field
scaling; ``alpha > 1`` the lazy regime (use ``symmetric=True`` so that h = 0 at
initialisation). ``lr`` is the mean-field learning rate gamma of Eq. (3.3): methods whose
step hyperparameter is ``step`` (gd, heavy-ball, nesterov, sgd, ...) get step = gamma m, so
that each particle moves by -gamma grad J(w_j | mu) whatever the width; methods with an
``lr`` (adam, rmsprop, adagrad) get lr as it is. ``lr=None`` keeps the method's default
(for gd: 1/L with L the Gauss-Newton curvature estimate at the initialisation).

``epochs`` passes over the data (one GD iteration each) are run; the Trace (``trace_``)
records the objective and gradient norm at about 50 geometric points. The particles are
exposed as ``a_`` (shape (m,)) and ``b_`` (shape (m, n_features + bias)), stacked over
classes for one-vs-rest multiclass classification ((n_classes, m) and (n_classes, m, D));
``descentlab.particles.plot_particles(ax, a_[None], b_[None])`` draws the particle picture
when D = 2 (2 inputs, or 1 input with the bias).

check_estimator: every check passes except, for ``TwoLayerRegressor``,
``check_regressors_train``, which sets ``alpha = 0.01`` believing alpha to be a
regularization strength (scikit-learn's convention, e.g. MLPRegressor's L2 penalty); here
alpha is the output scaling of seed 002 and 0.01 multiplies the objective by 1e4, so GD's
default step diverges. The name follows the issue and the seed; the test suite fits the
same data with alpha = 1.

Dense inputs only (converted to float64). Scale the features (StandardScaler) as for any
network; the regressor standardizes the targets unless ``normalize_y=False``.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..data.teacher import add_bias
from ..errors import DescentlabError
from ..methods import get_method
from ..problems.twolayer import TwoLayerProblem, forward, get_activation
from ._classifier import OneVsRestClassifierMixin
from ._fit import descend
from .linear import _seed


class _TwoLayerBase(BaseEstimator):
    """Shared parameters and training of the two-layer estimators."""

    _loss: str = "square"

    def __init__(self, width=100, *, alpha=1.0, activation="relu", method="gd", epochs=200,
                 lr=None, bias=True, symmetric=False, method_params=None,
                 random_state=None):
        self.width = width
        self.alpha = alpha
        self.activation = activation
        self.method = method
        self.epochs = epochs
        self.lr = lr
        self.bias = bias
        self.symmetric = symmetric
        self.method_params = method_params
        self.random_state = random_state

    def _check_params(self) -> None:
        if not isinstance(self.width, numbers.Integral) or self.width < 1:
            raise DescentlabError(f"width: expected an integer >= 1, got {self.width!r}")
        if not isinstance(self.epochs, numbers.Integral) or self.epochs < 1:
            raise DescentlabError(f"epochs: expected an integer >= 1, got {self.epochs!r}")
        if not isinstance(self.alpha, numbers.Real) or not self.alpha > 0:
            raise DescentlabError(f"alpha: expected a positive number, got {self.alpha!r}")
        if self.lr is not None and (not isinstance(self.lr, numbers.Real) or not self.lr > 0):
            raise DescentlabError(f"lr: expected a positive number or None, got {self.lr!r}")
        get_activation(self.activation)

    def _inputs(self, X) -> np.ndarray:
        return add_bias(X) if self.bias else X

    def _train(self, X: np.ndarray, y: np.ndarray, seed: int):
        """Train one network on (X with bias, y); returns (a, b, Descent)."""
        problem = TwoLayerProblem(X, y, int(self.width), activation=self.activation,
                                  loss=self._loss, alpha=float(self.alpha), init_seed=seed,
                                  symmetric=bool(self.symmetric))
        if not isinstance(self.method, str):
            raise DescentlabError(f"method: expected a descentlab method name, got "
                                  f"{self.method!r}")
        params = dict(self.method_params or {})
        method = get_method(self.method, **params)
        step_arg = None  # the step is named as the user set it: lr, else method_params
        if self.lr is not None and method.step_param not in params:
            value = float(self.lr) * problem.m if method.step_param == "step" else float(self.lr)
            method = get_method(self.method, **params, **{method.step_param: value})
            step_arg = f"lr (it was {float(self.lr):.3g})"
        result = descend(problem, method, tol=None, max_iter=int(self.epochs), seed=seed,
                         step_arg=step_arg)
        a, b = problem.unpack(result.x)
        self.method_ = method.name
        return a.copy(), b.copy(), result

    def _scores(self, X) -> np.ndarray:
        """h(x) for every network: shape (n_networks, n_samples)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Xb = self._inputs(X)
        a = self.a_.reshape(-1, self.a_.shape[-1])
        b = self.b_.reshape(-1, *self.b_.shape[-2:])
        return np.stack([forward(a[k], b[k], Xb, alpha=float(self.alpha),
                                 activation=self.activation) for k in range(a.shape[0])])


class TwoLayerRegressor(RegressorMixin, _TwoLayerBase):
    """Two-layer network regressor, square loss (see the module docstring).

    ``normalize_y=True`` (default) fits the network to (y - mean y) / std y and predicts
    mean y + std y h(x): a network of unit-scale particles then starts at the scale of the
    targets, and GD's default step 1/L (curvature at the initialisation) stays stable;
    without it, targets of size 100 make the particles grow until that step diverges.
    """

    _loss = "square"

    def __init__(self, width=100, *, alpha=1.0, activation="relu", method="gd", epochs=200,
                 lr=None, bias=True, symmetric=False, normalize_y=True, method_params=None,
                 random_state=None):
        super().__init__(width, alpha=alpha, activation=activation, method=method,
                         epochs=epochs, lr=lr, bias=bias, symmetric=symmetric,
                         method_params=method_params, random_state=random_state)
        self.normalize_y = normalize_y

    def fit(self, X, y):
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        self.y_mean_, self.y_scale_ = 0.0, 1.0
        if self.normalize_y:
            self.y_mean_ = float(np.mean(y))
            self.y_scale_ = float(np.std(y)) or 1.0
        target = (y - self.y_mean_) / self.y_scale_
        self.a_, self.b_, result = self._train(self._inputs(X), target,
                                               _seed(self.random_state))
        self.n_iter_ = int(result.n_iter)
        self.trace_ = result.trace
        return self

    def predict(self, X):
        scores = self._scores(X)[0]
        return self.y_mean_ + self.y_scale_ * scores


class TwoLayerClassifier(OneVsRestClassifierMixin, _TwoLayerBase):
    """Two-layer network classifier, logistic loss on labels mapped to -1/+1; one network per
    class (one-vs-rest) for 3+ classes (see the module docstring)."""

    _loss = "logistic"

    def fit(self, X, y):
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        positives = self._positive_classes(y)
        Xb, seed = self._inputs(X), _seed(self.random_state)
        nets = [self._train(Xb, np.where(y == c, 1.0, -1.0), seed + k)
                for k, c in enumerate(positives)]
        if len(nets) == 1:
            self.a_, self.b_, result = nets[0]
            self.trace_ = result.trace
            self.n_iter_ = int(result.n_iter)
        else:
            self.a_ = np.stack([a for a, _, _ in nets])
            self.b_ = np.stack([b for _, b, _ in nets])
            self.trace_ = [r.trace for _, _, r in nets]
            self.n_iter_ = np.array([r.n_iter for _, _, r in nets])
        return self

    def decision_function(self, X):
        scores = self._scores(X)
        return scores[0] if scores.shape[0] == 1 else scores.T



__all__ = ["TwoLayerClassifier", "TwoLayerRegressor"]
