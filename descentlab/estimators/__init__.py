"""scikit-learn estimators backed by descentlab's problems and methods.

* ``LogisticRegression``, ``Ridge``, ``Lasso``, ``ElasticNet`` (scikit-learn's parameters
  and objectives), ``LeastSquaresRegressor`` (descentlab's lam / reg parametrization):
  ``linear.py``;
* ``TwoLayerRegressor``, ``TwoLayerClassifier``: wide two-layer networks in mean-field
  (alpha = 1) or lazy (alpha > 1) scaling, trained by any descentlab method: ``twolayer.py``.

All follow scikit-learn's estimator API (fit / predict / score, get_params / set_params,
Pipeline, GridSearchCV) and expose ``trace_``, the descentlab Trace of the fit.
"""

from .linear import (
    ElasticNet,
    Lasso,
    LeastSquaresRegressor,
    LogisticRegression,
    Ridge,
)
from .twolayer import TwoLayerClassifier, TwoLayerRegressor

__all__ = ["ElasticNet", "Lasso", "LeastSquaresRegressor",
           "LogisticRegression", "Ridge", "TwoLayerClassifier", "TwoLayerRegressor"]
