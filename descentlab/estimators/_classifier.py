"""What the one-vs-rest classifiers share: labels, probabilities, predictions, accuracy.

A binary problem per positive class (one for two classes, one per class for 3+): with the
scores s = decision_function(x) (a vector for two classes, one column per class otherwise),
P(class | x) = sigmoid(s) (the one-vs-rest sigmoids normalized to sum 1 for 3+ classes),
predict = the class of the largest score (s > 0 for two classes).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..errors import DescentlabError


class OneVsRestClassifierMixin(ClassifierMixin):
    """predict_proba / predict / score from ``decision_function`` and ``classes_``."""

    def _positive_classes(self, y) -> np.ndarray:
        """Sets ``classes_`` (>= 2 classes) and returns the positive class of each problem."""
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise DescentlabError(f"y: this classifier needs samples of at least 2 classes, "
                                  f"the data contain only one class: "
                                  f"{self.classes_.tolist()[0]!r}")
        return self.classes_[1:] if self.classes_.size == 2 else self.classes_

    def predict_proba(self, X):
        """P(class | x): sigmoid of the score (one-vs-rest scores normalized to sum 1)."""
        scores = self.decision_function(X)
        p = expit(scores)
        if scores.ndim == 1:
            return np.column_stack([1.0 - p, p])
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy; labels never seen during fit are an error (not silently wrong)."""
        check_is_fitted(self)
        unseen = np.setdiff1d(np.unique(np.asarray(y)), self.classes_)
        if unseen.size:
            raise ValueError(f"y: labels never seen during fit: {unseen[:10].tolist()}; the "
                             f"classes learned are {self.classes_.tolist()}")
        return super().score(X, y, sample_weight=sample_weight)
