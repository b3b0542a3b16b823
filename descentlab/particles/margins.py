"""Implicit bias of wide two-layer ReLU networks on separable data (seed 002, section 5).

Model (section 5.2): f(x) = (1/m) sum_j a_j relu(b_j . x), the bias through a constant input
coordinate (``descentlab.data.teacher.add_bias``). Labels y_i in {-1, +1}, u_i = y_i f(x_i).
Objectives (the loss of the ``FixedSample``), all minimised, unregularized:

    softmin      L = log((1/n) sum_i exp(-u_i))  = -(soft-min of the u_i)  (published code)
    exponential  L = (1/n) sum_i exp(-u_i)
    logistic     L = (1/n) sum_i log(1 + exp(-u_i))                        (Eq. 5.1)

Full-batch gradient descent with the mean-field step scaling (Eq. 3.3: the gradient w.r.t.
a particle multiplied by m), at step t = 1, 2, ... (``margin_gd``, run by
``descentlab.particles.train``):

    a_j <- a_j - gamma_t sum_i D_i relu(b_j . x_i),              D_i = dL/df(x_i),
    b_j <- b_j - gamma_t a_j sum_i D_i 1(b_j . x_i > 0) x_i       (regime "both" only),

both gradients at the current point. Regime ``"output"`` freezes the input weights at their
random initialisation (section 5.3, the kernel regime; lr_b_scale = 0): the features
relu(b_j . x_i) are computed once and a step is two products with them. ``schedule="sqrt"``
is the step of the published code, gamma_t = lr / sqrt(t + 1), and in the output regime
``output_boost`` multiplies it by max(1, ||a|| / sqrt(m)) (so that the output layer keeps
moving as ||a|| grows). ``schedule="constant"``: gamma_t = lr.

Implicit bias (Theorems 4-5 of section 5): the direction of the predictor converges to a
max-margin classifier. Training the output layer only, the margin is measured with the
Euclidean norm of a, training both layers (2-homogeneous in (a_j, b_j)) with the squared
norm of all weights; the normalized margins are (``normalized_margin``, as in the code)

    both:    min_i y_i f(x_i) / (||W||_F^2 / m),   ||W||_F^2 = sum_j a_j^2 + |b_j|^2,
    output:  min_i y_i f(x_i) / (||a|| / m).

With features Phi_j(x) = relu(b_j . x) / sqrt(m) (section 5.3) and theta_2 = a / sqrt(m),
f = theta_2 . Phi and the output margin is sqrt(m) min_i y_i f(x_i) / ||theta_2||: the
max-margin value for the kernel k_m = Phi . Phi times sqrt(m) (``rkhs_margin`` drops that
factor; it tends to the margin 1/||f*||_H of the kernel max-margin classifier f* as m grows).
The published code's max over all iterations is ``max`` over the recorded steps here.

Initialisation (``init_margin``, for ``ParticleBatch.init``), as in the published code:
b_j ~ N(0, I_D) (the uniform law on the sphere, ``b_init="sphere"``, gives the same limit
kernel up to the factor D, hence the same max-margin direction), a_j ~ N(0, 1) when both
layers train and a_j = 0 otherwise.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice
from ..errors import DescentlabError
from .batch import ParticleBatch
from .engine import Dynamics, TrainResult
from .samples import FixedSample
from .steps import broadcast

REGIMES = ("both", "output")
B_INITS = ("gaussian", "sphere")


def margin_gd(lr: float = 0.5, *, regime: str = "both", schedule: str = "sqrt",
              output_boost: bool = True) -> Dynamics:
    """The published GD of section 5 (module docstring): both layers, or the output layer
    only (input layer frozen) with its step times max(1, ||a||/sqrt m) if ``output_boost``."""
    check_choice("regime", regime, REGIMES)
    output = regime == "output"
    return Dynamics(lr, lr_b_scale=0.0 if output else 1.0, schedule=schedule,
                    output_boost=output_boost and output)


def init_margin(m: int, dim: int, rng: np.random.Generator, *, regime: str,
                b_init: str = "gaussian") -> tuple[np.ndarray, np.ndarray]:
    """b (m x dim normals, normalised for ``b_init="sphere"``), then a (m normals) if
    ``regime == "both"``, else a = 0 (module docstring)."""
    check_choice("regime", regime, REGIMES)
    check_choice("b_init", b_init, B_INITS)
    b = rng.standard_normal((m, dim))
    if b_init == "sphere":
        b /= np.linalg.norm(b, axis=1, keepdims=True)
    return (rng.standard_normal(m) if regime == "both" else np.zeros(m)), b


def _labelled(batch: ParticleBatch, X, y, name: str = "X") -> tuple[np.ndarray, np.ndarray]:
    """X (S, n, D) and labels y (S, n) in {-1, +1} of one sample per stream (or one for all)."""
    sample = FixedSample(X, y, loss="logistic")  # checks shapes, values and labels
    if sample.dim != batch.dim or sample.n_streams not in (1, batch.n_streams):
        raise DescentlabError(f"{name}: expected inputs of dimension {batch.dim} for "
                              f"{batch.n_streams} streams, got shape {sample.X.shape}")
    return broadcast(sample.X, sample.y, batch.n_streams)


def network_norms(batch: ParticleBatch, regime: str) -> np.ndarray:
    """(S, R): ||W||_F^2 / m (``both``) or ||a|| / m (``output``) of every network."""
    check_choice("regime", regime, REGIMES)
    m = np.asarray(batch.widths, dtype=np.float64)
    sq_a = np.add.reduceat(batch.a ** 2, batch.starts[:-1], axis=1)
    if regime == "output":
        return np.sqrt(sq_a) / m
    sq_b = np.add.reduceat((batch.b ** 2).sum(axis=2), batch.starts[:-1], axis=1)
    return (sq_a + sq_b) / m


def raw_margins(batch: ParticleBatch, X, y) -> np.ndarray:
    """(S, R): min_i y_i f(x_i) on X (n, D) or (S, n, D)."""
    X, y = _labelled(batch, X, y)
    return (y[:, :, None] * batch.predict(X)).min(axis=1)


def normalized_margin(batch: ParticleBatch, X, y, regime: str) -> np.ndarray:
    """(S, R): min_i y_i f(x_i) / (||W||^2/m) (both) or / (||a||/m) (output)."""
    norms = network_norms(batch, regime)
    with np.errstate(divide="ignore", invalid="ignore"):
        return raw_margins(batch, X, y) / norms


def rkhs_margin(batch: ParticleBatch, X, y) -> np.ndarray:
    """(S, R): min_i y_i f(x_i) / (||a|| / sqrt(m)), the output margin without the sqrt(m)."""
    return normalized_margin(batch, X, y, "output") / np.sqrt(np.asarray(batch.widths, float))


def misclassification(batch: ParticleBatch, X, y) -> np.ndarray:
    """(S, R): fraction of points with y f(x) <= 0 (a zero output counts as an error)."""
    X, y = _labelled(batch, X, y, "X_test")
    return (y[:, :, None] * batch.predict(X) <= 0).mean(axis=1)


def margin_records(regime: str, X_test=None, y_test=None):
    """An ``observe`` function for ``train``: the norm of ``network_norms`` ("norm") and,
    with a test set, the test error of ``misclassification`` ("test_error")."""
    check_choice("regime", regime, REGIMES)

    def observe(batch: ParticleBatch) -> dict[str, np.ndarray]:
        out = {"norm": network_norms(batch, regime)}
        if X_test is not None:
            out["test_error"] = misclassification(batch, X_test, y_test)
        return out

    return observe


def recorded_margins(result: TrainResult) -> np.ndarray:
    """(T, S, R): the normalized margins of a ``train`` result on a labelled fixed sample
    recorded with ``margin_records`` (min_i y_i f(x_i) / norm)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return result.margin / result.records["norm"]


__all__ = ["B_INITS", "REGIMES", "init_margin", "margin_gd", "margin_records",
           "misclassification", "network_norms", "normalized_margin", "raw_margins",
           "recorded_margins", "rkhs_margin"]
