"""
A descentlab estimator in scikit-learn's GridSearchCV
=====================================================

:class:`descentlab.estimators.LogisticRegression` follows scikit-learn's conventions (``C``,
``penalty``, ``l1_ratio``, ``fit_intercept``, ``tol``, ``max_iter``) and adds ``method=``,
any descentlab method (here SAGA). It works in a ``Pipeline`` and in ``GridSearchCV``; the
fitted estimator keeps the descentlab :class:`~descentlab.trace.Trace` of its fit in
``trace_``. Data: a1a (:math:`n = 1605`, 119 binary features).
"""

import matplotlib.pyplot as plt
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

from descentlab.data.libsvm import load_libsvm
from descentlab.estimators import LogisticRegression

X, y = load_libsvm("a1a")      # by name: found in the datasets directory

pipe = make_pipeline(MaxAbsScaler(), LogisticRegression(method="saga"))
search = GridSearchCV(pipe, {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]}, cv=3).fit(X, y)
print("best C:", search.best_params_, f"cross-validated accuracy {search.best_score_:.3f}")

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
Cs = search.cv_results_["param_logisticregression__C"].data.astype(float)
left.semilogx(Cs, search.cv_results_["mean_test_score"], "o-")
left.set(xlabel="C", ylabel="mean CV accuracy", title="GridSearchCV over C")
trace = search.best_estimator_[-1].trace_
right.semilogy(trace.df["oracle_calls"] / X.shape[0], trace.df["grad_norm"])
right.set(xlabel="epochs", ylabel="||gradient mapping||", title="the refit's Trace (SAGA)")
plt.show()
