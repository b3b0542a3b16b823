"""Gaussian features, labels of a noisy linear teacher: y = sign(X beta + noise * eps)."""

import numpy as np
from benchopt import BaseDataset


def make_data(n_samples: int, n_features: int, noise: float, random_state: int):
    """(X, y): X_ij ~ N(0, 1), beta ~ N(0, I/d), y = sign(X beta + noise N(0, 1)) in {-1, 1}."""
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((n_samples, n_features))
    beta = rng.standard_normal(n_features) / np.sqrt(n_features)
    scores = X @ beta + noise * rng.standard_normal(n_samples)
    return X, np.where(scores > 0, 1.0, -1.0)


class Dataset(BaseDataset):
    name = "simulated"

    parameters = {
        "n_samples, n_features": [(500, 50)],
        "noise": [0.5],
        "random_state": [0],
    }

    def get_data(self):
        X, y = make_data(self.n_samples, self.n_features, self.noise, self.random_state)
        return dict(X=X, y=y)
