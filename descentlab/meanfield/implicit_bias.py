"""Implicit bias of wide two-layer ReLU networks on separable data (seed 002, section 5).

Model (section 5.2): f(x) = (1/m) sum_j a_j relu(b_j . x), the bias through a constant input
coordinate (``descentlab.problems.twolayer.add_bias``). Labels y_i in {-1, +1}, u_i = y_i f(x_i).
Objectives (``MarginGD.loss``), all minimised, unregularized:

    softmin      L = log((1/n) sum_i exp(-u_i))  = -(soft-min of the u_i)  (published code)
    exponential  L = (1/n) sum_i exp(-u_i)
    logistic     L = (1/n) sum_i log(1 + exp(-u_i))                        (Eq. 5.1)

Full-batch gradient descent with the mean-field step scaling (Eq. 3.3: the gradient w.r.t.
a particle multiplied by m), at step t = 1, 2, ...:

    a_j <- a_j - gamma_t sum_i D_i relu(b_j . x_i),              D_i = dL/df(x_i),
    b_j <- b_j - gamma_t a_j sum_i D_i 1(b_j . x_i > 0) x_i       (regime "both" only),

both gradients at the current point. Regime ``"output"`` freezes the input weights at their
random initialisation (section 5.3, the kernel regime): the features relu(b_j . x_i) are
computed once and a step is two passes over them. ``schedule="sqrt"`` is the step of the
published code, gamma_t = lr / sqrt(t + 1), and in the output regime ``output_boost``
multiplies it by max(1, ||a|| / sqrt(m)) (so that the output layer keeps moving as ||a||
grows). ``schedule="constant"``: gamma_t = lr.

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

Initialisation (``init_networks``), as in the published code: b_j ~ N(0, I_D) (the uniform
law on the sphere, ``b_init="sphere"``, gives the same limit kernel up to the factor D, hence
the same max-margin direction), a_j ~ N(0, 1) when both layers train and a_j = 0 otherwise.

Networks are batched as in ``descentlab.meanfield.particles`` (S streams, each with its own
training set, R networks of any widths per stream): a step is one BLAS product b X^T per
stream, two compiled passes without reductions (``_margin_kernels``: F with relu in place,
then Q), the reductions GA = relu(b X^T) D as BLAS products per network, and one product
Q X, whatever the number of networks; in the output regime the features are computed once
and a step is two BLAS matrix-vector products per network. ``matmul_dtype="float32"`` runs
the products in single precision and stores the features so (the objective, its
derivatives, the records and the parameters stay float64).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .._validation import check_choice, check_int, check_positive
from ..errors import DescentlabError, DivergenceError
from . import _margin_kernels
from .dynamics import MATMUL_DTYPES, _steps_array
from .particles import ParticleBatch

REGIMES = ("both", "output")
SCHEDULES = ("sqrt", "constant")
MARGIN_LOSSES = tuple(_margin_kernels.LOSS_CODES)
B_INITS = ("gaussian", "sphere")


@dataclass(frozen=True)
class MarginGD:
    """Full-batch GD on a margin loss (see the module docstring).

    lr: base step; loss: "softmin", "exponential" or "logistic"; schedule: "sqrt"
    (lr / sqrt(t + 1)) or "constant"; output_boost: in the output regime multiply the step
    by max(1, ||a|| / sqrt(m)) (published code).
    """

    lr: float = 0.5
    loss: str = "softmin"
    schedule: str = "sqrt"
    output_boost: bool = True

    def __post_init__(self):
        check_positive("lr", self.lr)
        check_choice("loss", self.loss, MARGIN_LOSSES)
        check_choice("schedule", self.schedule, SCHEDULES)

    def step_size(self, t: int) -> float:
        """gamma_t for the t-th step (t >= 1)."""
        return self.lr / np.sqrt(t + 1.0) if self.schedule == "sqrt" else self.lr


def published_margin_gd(lr: float = 0.5) -> MarginGD:
    """The published setting: soft-min, lr / sqrt(t + 1), output step times max(1, ||a||/sqrt m)."""
    return MarginGD(lr=lr, loss="softmin", schedule="sqrt", output_boost=True)


def init_networks(widths: Sequence[int], dim: int,
                  rng_for: Callable[[int, int], np.random.Generator], *, regime: str,
                  streams: int = 1, b_init: str = "gaussian") -> ParticleBatch:
    """Networks r of stream s drawn from ``rng_for(s, r)``: b (m x dim normals, normalised
    for ``b_init="sphere"``), then a (m normals) if ``regime == "both"``, else a = 0."""
    check_choice("regime", regime, REGIMES)
    check_choice("b_init", b_init, B_INITS)
    dim = check_int("dim", dim, minimum=1)
    streams = check_int("streams", streams, minimum=1)
    a_rows, b_rows = [], []
    for s in range(streams):
        a_parts, b_parts = [], []
        for r, m in enumerate(widths):
            m = check_int("widths", m, minimum=1)
            rng = rng_for(s, r)
            b = rng.standard_normal((m, dim))
            if b_init == "sphere":
                b /= np.linalg.norm(b, axis=1, keepdims=True)
            a = rng.standard_normal(m) if regime == "both" else np.zeros(m)
            a_parts.append(a)
            b_parts.append(b)
        a_rows.append(np.concatenate(a_parts))
        b_rows.append(np.concatenate(b_parts))
    return ParticleBatch(tuple(widths), np.stack(a_rows), np.stack(b_rows))


def _as_streams(batch: ParticleBatch, X, y, name: str = "X") -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim == 2:
        X = X[None]
    if y.ndim == 1:
        y = y[None]
    S = batch.n_streams
    if X.ndim != 3 or X.shape[0] not in (1, S) or X.shape[2] != batch.dim:
        raise DescentlabError(f"{name}: expected shape (n, {batch.dim}) or ({S}, n, "
                              f"{batch.dim}), got {X.shape}")
    if y.shape != X.shape[:2] and not (y.shape[0] == 1 and y.shape[1] == X.shape[1]):
        raise DescentlabError(f"y: expected shape {X.shape[:2]} (labels of {name}), got "
                              f"{y.shape}")
    if not np.all(np.isfinite(X)):
        raise DescentlabError(f"{name}: contains NaN or Inf")
    if not np.all(np.abs(y) == 1):
        raise DescentlabError("y: margin losses need labels in {-1, +1}")
    X = np.broadcast_to(X, (S,) + X.shape[1:])
    y = np.broadcast_to(y, (S, X.shape[1]))
    return np.ascontiguousarray(X), np.ascontiguousarray(y)


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
    X, y = _as_streams(batch, X, y)
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
    X, y = _as_streams(batch, X, y, "X_test")
    return (y[:, :, None] * batch.predict(X) <= 0).mean(axis=1)


@dataclass
class MarginResult:
    """What ``train_margin`` returns; arrays (T, S, R) at the steps ``record_steps`` (T,).

    objective: L; margin: normalized margin; raw_margin: min_i y_i f(x_i); norm: the
    normalisation; test_error: on the test set (None without one).
    """

    batch: ParticleBatch
    regime: str
    record_steps: np.ndarray
    objective: np.ndarray
    margin: np.ndarray
    raw_margin: np.ndarray
    norm: np.ndarray
    test_error: np.ndarray | None


def train_margin(batch: ParticleBatch, X, y, gd: MarginGD, steps: int, *, regime: str,
                 record_at=None, X_test=None, y_test=None,
                 matmul_dtype: str = "float64") -> MarginResult:
    """Run ``steps`` steps of ``gd`` on every network of ``batch`` (not modified).

    X: (n, D) or (S, n, D) with the bias coordinate included; y the labels in {-1, +1}.
    ``record_at``: step counts at which the objective, margins and test error are recorded
    (default: 0 and ``steps``). A network whose objective becomes NaN/Inf raises
    DivergenceError (lower ``lr``).
    """
    if not isinstance(batch, ParticleBatch):
        raise DescentlabError(f"batch: expected a ParticleBatch, got {type(batch).__name__}")
    if not isinstance(gd, MarginGD):
        raise DescentlabError(f"gd: expected a MarginGD, got {type(gd).__name__}")
    if batch.activation != "relu" or batch.alpha != 1.0:
        raise DescentlabError("batch: margin training is for relu networks with alpha = 1 "
                              "(2-homogeneous, as in section 5 of seed 002)")
    check_choice("regime", regime, REGIMES)
    check_choice("matmul_dtype", matmul_dtype, MATMUL_DTYPES)
    steps = check_int("steps", steps, minimum=0)
    X, y = _as_streams(batch, X, y)
    if (X_test is None) != (y_test is None):
        raise DescentlabError("X_test, y_test: give both or neither")
    if X_test is not None:
        X_test, y_test = _as_streams(batch, X_test, y_test, "X_test")
    records = _steps_array([0, steps] if record_at is None else record_at, steps, "record_at")
    mm = np.dtype(matmul_dtype)
    code = _margin_kernels.LOSS_CODES[gd.loss]
    both = regime == "both"

    out = batch.copy()
    a, b = out.a, out.b
    S, M, R, n = out.n_streams, out.n_particles, out.n_networks, X.shape[1]
    starts, c = out.starts, out.scale
    sqrt_m = np.sqrt(np.asarray(out.widths, dtype=np.float64))
    Xm = X.astype(mm)
    P = np.empty((S, M, n), mm)  # relu(b X^T): recomputed each step, or frozen
    F, D = np.empty((S, R, n)), np.empty((S, R, n))
    Lv, Mg, GA = np.empty((S, R)), np.empty((S, R)), np.empty((S, M))
    Q = np.empty((S, M, n), mm) if both else None
    G = np.empty((S, M, out.dim), mm) if both else None

    def features() -> None:
        bm = b if mm == b.dtype else b.astype(mm)
        np.matmul(bm, Xm.transpose(0, 2, 1), out=P)

    T = records.size
    objective, raw, norm = np.empty((T, S, R)), np.empty((T, S, R)), np.empty((T, S, R))
    errors = np.empty((T, S, R)) if X_test is not None else None
    record_index = {int(k): i for i, k in enumerate(records)}

    def observe(k: int) -> None:
        i = record_index.get(k)
        if i is None:
            return
        Zf = np.matmul(b, X.transpose(0, 2, 1))  # float64 for the records
        _margin_kernels.forward_pass(Zf, y, a, c, starts, code, F, D, Lv, Mg)
        if not np.all(np.isfinite(Lv)):
            raise DivergenceError(f"train_margin: the objective is not finite after {k} "
                                  f"steps; lower the step size 'lr' (it was {gd.lr:g})")
        objective[i], raw[i], norm[i] = Lv, Mg, network_norms(out, regime)
        if errors is not None:
            errors[i] = misclassification(out, X_test, y_test)

    def output_gradient() -> None:
        """GA[s, j] = sum_i P[s, j, i] D[s, r(j), i] (BLAS, one product per network)."""
        Dm = D if mm == D.dtype else D.astype(mm)
        for r in range(R):
            j0, j1 = starts[r], starts[r + 1]
            GA[:, j0:j1] = np.matmul(P[:, j0:j1], Dm[:, r, :, None])[:, :, 0]

    if not both:
        features()
        np.maximum(P, 0, out=P)
    observe(0)
    network_of = out.network_of
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(1, steps + 1):
            lr = np.full((S, R), gd.step_size(k))
            if both:
                features()
                _margin_kernels.forward_relu(P, a, c, starts, F, True)  # P = relu in place
            else:
                if gd.output_boost:
                    rms = np.sqrt(np.add.reduceat(a * a, starts[:-1], axis=1)) / sqrt_m
                    lr *= np.maximum(1.0, rms)
                w = (c * a).astype(mm)
                for r in range(R):
                    j0, j1 = starts[r], starts[r + 1]
                    F[:, r] = np.matmul(w[:, None, j0:j1], P[:, j0:j1])[:, 0]
            _margin_kernels.objectives(y, F, code, D, Lv, Mg)
            output_gradient()
            if both:
                _margin_kernels.input_factors(P, a, D, starts, -lr, Q)
                np.matmul(Q, Xm, out=G)
                b += G
            a -= lr[:, network_of] * GA
            observe(k)
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = raw / norm
    return MarginResult(out, regime, records, objective, margin, raw, norm, errors)


__all__ = ["B_INITS", "MARGIN_LOSSES", "MarginGD", "MarginResult", "REGIMES", "SCHEDULES",
           "init_networks", "network_norms", "normalized_margin", "published_margin_gd",
           "raw_margins", "misclassification", "rkhs_margin", "train_margin"]
