"""Particle gradient descent with the mean-field step scaling (Eq. 3.3 of seed 002), batched.

One step of ``ParticleSGD(lr, lr_a_scale, lr_b_scale, order)`` on a batch of networks,
with (X, y) the step's sample (fresh, fixed or minibatch; see ``descentlab.meanfield.data``)
and l'_i = loss'(y_i, h(x_i)):

    a_j <- a_j - lr lr_a_scale (m dG/da_j),  m dG/da_j = mean_i l'_i sigma(b_j.x_i) / alpha,
    b_j <- b_j - lr lr_b_scale (m dG/db_j),  m dG/db_j = mean_i l'_i a_j sigma'(b_j.x_i) x_i/alpha,

i.e. W <- W - gamma m grad G(W) with gamma = lr (Eq. 3.3), with per-layer learning
rates. ``order="simultaneous"`` evaluates both gradients at the current point;
``order="sequential"`` updates a first and uses the new a_j in the b-gradient (the
residuals h(x_i) - y_i and the activation pattern stay those of the current point).

The published convention of Figures 2-3 (code of Bach and Chizat's ICM notebook),
f(x) = sum_j A_j relu(B_j . x) with A_j = a_j / m, batch of n fresh points:

    A <- A - (lr/m) mean_i relu(B x_i)(f(x_i) - y_i)
    B <- B - m lr sum_i A_j 1(B_j . x_i > 0)(f(x_i) - y_i) x_i     (with the updated A)

is ``published_sgd(lr, n)`` = ParticleSGD(lr, lr_a_scale=1, lr_b_scale=n,
order="sequential"): mean-field SGD whose hidden layer has a learning rate n times the
output layer's (the SUM over the batch). Figure 3: lr = 0.005, n = 100, 10^4 steps;
Figure 2: lr = 0.002, n = 100, 2 10^5 steps.

``train`` advances every network of a ``ParticleBatch`` together: per step two BLAS
products per stream (Z^T = b X^T and Q X, ``descentlab.meanfield._kernels``) and one
compiled pass over the (particle, sample) array, whatever the number of networks.

With ``FixedSample`` in full batch this is gradient descent on the empirical risk (and,
with a small ``lr``, the explicit Euler scheme of the gradient flow, see ``flow.py``);
with minibatches, multi-pass SGD; with ``FreshSamples``, one-pass SGD on the population
risk; with ``PopulationRisk``, gradient descent on the exact population risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_choice, check_int, check_positive
from ..errors import DescentlabError, DivergenceError
from . import _kernels
from .data import FixedSample, FreshSamples, PopulationRisk
from .particles import ParticleBatch

ORDERS = ("simultaneous", "sequential")
MATMUL_DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class ParticleSGD:
    """lr: gamma of Eq. (3.3); lr_a_scale, lr_b_scale: per-layer multipliers; order."""

    lr: float
    lr_a_scale: float = 1.0
    lr_b_scale: float = 1.0
    order: str = "simultaneous"

    def __post_init__(self):
        check_positive("lr", self.lr)
        check_positive("lr_a_scale", self.lr_a_scale, strict=False)
        check_positive("lr_b_scale", self.lr_b_scale, strict=False)
        check_choice("order", self.order, ORDERS)


def published_sgd(lr: float, batch_size: int) -> ParticleSGD:
    """The update of the published Figures 2-3 (see the module docstring)."""
    batch_size = check_int("batch_size", batch_size, minimum=1)
    return ParticleSGD(lr, lr_a_scale=1.0, lr_b_scale=float(batch_size), order="sequential")


@dataclass
class TrainResult:
    """What ``train`` returns.

    record_steps: (T,) step counts at which ``test_risk`` (T, S, R) was measured (mean
    loss on the test sample, not divided by alpha^2) and ``batch_loss`` (T, S, R) is the
    mean loss of the batches of the steps since the previous record (NaN at step 0).
    snapshot_steps: (K,) and snapshots of a (K, S, M) and b (K, S, M, D).
    """

    batch: ParticleBatch
    record_steps: np.ndarray
    test_risk: np.ndarray | None
    batch_loss: np.ndarray
    snapshot_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    snapshots_a: np.ndarray | None = None
    snapshots_b: np.ndarray | None = None


def _steps_array(values, steps: int, name: str) -> np.ndarray:
    if values is None:
        return np.zeros(0, dtype=np.int64)
    arr = np.unique(np.asarray(values, dtype=np.int64))
    if arr.size and (arr[0] < 0 or arr[-1] > steps):
        raise DescentlabError(f"{name}: expected step counts in [0, {steps}], got values in "
                              f"[{arr[0]}, {arr[-1]}]")
    return arr


def _check_data(batch: ParticleBatch, data) -> None:
    if not isinstance(data, (FreshSamples, FixedSample, PopulationRisk)):
        raise DescentlabError(f"data: expected FreshSamples, FixedSample or PopulationRisk, "
                              f"got {type(data).__name__}")
    if data.dim != batch.dim:
        raise DescentlabError(f"data: inputs of dimension {data.dim}, the particles have "
                              f"{batch.dim}")
    S = getattr(data, "n_streams", None)
    if S is not None and S not in (1, batch.n_streams):
        raise DescentlabError(f"data: {S} streams of data for {batch.n_streams} streams of "
                              f"networks")


def _broadcast(X: np.ndarray, y: np.ndarray, S: int):
    if X.shape[0] == S:
        return X, y
    return np.broadcast_to(X, (S,) + X.shape[1:]), np.broadcast_to(y, (S,) + y.shape[1:])


def sample_risk(batch: ParticleBatch, X: np.ndarray, y: np.ndarray, loss) -> np.ndarray:
    """risk[s, r] = mean_i loss(y_i, h_r(x_i)) on X (S, n, D), y (S, n)."""
    X, y = _broadcast(np.asarray(X, float), np.asarray(y, float), batch.n_streams)
    ZT = np.matmul(batch.b, X.transpose(0, 2, 1))
    S, n = y.shape
    F, out = np.empty((S, batch.n_networks, n)), np.empty((S, batch.n_networks))
    _kernels.risk_pass(ZT, np.ascontiguousarray(y), batch.a, batch.scale, batch.starts,
                       batch.act.code, loss.code, F, out)
    return out


def batch_velocity(batch: ParticleBatch, data, a: np.ndarray | None = None,
                   b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(m dG/da (S, M), m dG/db (S, M, D), risk (S, R)) at (a, b) (default: the batch's).

    ``data``: a full-batch FixedSample (empirical risk; risk = mean loss) or a
    PopulationRisk (exact; risk = E[(h - y)^2] / 2). Both gradients at the same point.
    """
    a = batch.a if a is None else a
    b = batch.b if b is None else b
    if isinstance(data, PopulationRisk):
        return data.velocity(batch, a, b)
    if not isinstance(data, FixedSample) or data.batch_size is not None:
        raise DescentlabError("data: the velocity field needs a full-batch FixedSample or a "
                              "PopulationRisk")
    X, y = _broadcast(data.X, data.y, batch.n_streams)
    S, n = y.shape
    M, R = batch.n_particles, batch.n_networks
    ZT = np.matmul(b, X.transpose(0, 2, 1))
    F, D = np.empty((S, R, n)), np.empty((S, R, n))
    Lm, GA, Q = np.empty((S, R)), np.empty((S, M)), np.empty((S, M, n))
    a_work = np.array(a, dtype=np.float64)  # lr_a = 0: left unchanged
    _kernels.step(ZT, np.ascontiguousarray(y), a_work, batch.scale, batch.starts,
                       batch.act.code, data.loss.code, 0.0, 1.0, False, F, D, Lm, GA, Q)
    vb = np.matmul(Q, X) / (n * batch.alpha)
    return GA / batch.alpha, vb, Lm


def train(batch: ParticleBatch, data, dynamics: ParticleSGD, steps: int, *,
          record_at=None, test: FixedSample | None = None, snapshot_at=None,
          matmul_dtype: str = "float64") -> TrainResult:
    """Run ``steps`` steps of ``dynamics`` on every network of ``batch`` (not modified).

    ``data``: FreshSamples (SGD on the population risk), FixedSample (GD, or SGD with
    minibatches, on an empirical risk) or PopulationRisk (GD on the exact population
    risk, simultaneous order only). ``record_at``: step counts at which the test risk on
    ``test`` is measured (default: 0 and ``steps``); ``snapshot_at``: step counts at which
    the particles are stored. ``matmul_dtype="float32"`` computes the two matrix products
    of a step (b X^T and Q X) in single precision (about twice as fast for large inputs);
    the particles, the sums of the compiled pass and the updates stay in float64. A
    network whose loss becomes NaN/Inf raises DivergenceError (lower ``lr``).
    """
    if not isinstance(batch, ParticleBatch):
        raise DescentlabError(f"batch: expected a ParticleBatch, got {type(batch).__name__}")
    if not isinstance(dynamics, ParticleSGD):
        raise DescentlabError(f"dynamics: expected a ParticleSGD, got "
                              f"{type(dynamics).__name__}")
    steps = check_int("steps", steps, minimum=0)
    check_choice("matmul_dtype", matmul_dtype, MATMUL_DTYPES)
    mm = np.dtype(matmul_dtype)
    _check_data(batch, data)
    population = isinstance(data, PopulationRisk)
    if population and dynamics.order == "sequential":
        raise DescentlabError("order: 'sequential' needs a sample-based risk (FreshSamples or "
                              "FixedSample), not PopulationRisk")
    records = _steps_array([0, steps] if record_at is None else record_at, steps, "record_at")
    snaps = _steps_array(snapshot_at, steps, "snapshot_at")
    if test is not None:
        _check_data(batch, test)

    out = batch.copy()
    a, b = out.a, out.b
    S, M, R = out.n_streams, out.n_particles, out.n_networks
    act, starts, scale = out.act.code, out.starts, out.scale
    sequential = dynamics.order == "sequential"
    lr_a = dynamics.lr * dynamics.lr_a_scale / out.alpha
    lr_b_unit = dynamics.lr * dynamics.lr_b_scale / out.alpha  # times 1/n of the batch

    test_risk = np.full((records.size, S, R), np.nan) if test is not None else None
    batch_loss = np.full((records.size, S, R), np.nan)
    snap_a = np.empty((snaps.size, S, M)) if snaps.size else None
    snap_b = np.empty((snaps.size, S, M, out.dim)) if snaps.size else None
    loss_sum, loss_count = np.zeros((S, R)), 0
    buffers: dict = {}

    record_index = {int(k): i for i, k in enumerate(records)}
    snap_index = {int(k): i for i, k in enumerate(snaps)}

    def observe(k: int) -> None:
        nonlocal loss_sum, loss_count
        i = record_index.get(k)
        if i is not None:
            if test is not None:
                test_risk[i] = sample_risk(out, test.X, test.y, test.loss)
            if loss_count:
                batch_loss[i] = loss_sum / loss_count
                if not np.all(np.isfinite(batch_loss[i])):
                    bad = sorted({out.widths[r] for r in np.nonzero(
                        ~np.isfinite(batch_loss[i]).all(axis=0))[0]})
                    raise DivergenceError(f"train: the loss of the networks of widths {bad} "
                                          f"is not finite after {k} steps; lower the step "
                                          f"size 'lr' (it was {dynamics.lr:g})")
            loss_sum, loss_count = np.zeros((S, R)), 0
        j = snap_index.get(k)
        if j is not None:
            snap_a[j], snap_b[j] = a, b

    observe(0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(1, steps + 1):
            if population:
                va, vb, risk = data.velocity(out, a, b)
                a -= dynamics.lr * dynamics.lr_a_scale * va
                b -= dynamics.lr * dynamics.lr_b_scale * vb
                loss_sum += risk
            else:
                X, y = data.next()
                X, y = _broadcast(X, y, S)
                n = X.shape[1]
                if buffers.get("n") != n:
                    buffers = {"n": n, "ZT": np.empty((S, M, n), mm),
                               "F": np.empty((S, R, n)), "D": np.empty((S, R, n)),
                               "Q": np.empty((S, M, n), mm), "Lm": np.empty((S, R)),
                               "GA": np.empty((S, M)), "G": np.empty((S, M, out.dim), mm)}
                ZT, Q, G, Lm = buffers["ZT"], buffers["Q"], buffers["G"], buffers["Lm"]
                bm = b if mm == b.dtype else b.astype(mm)
                X = X if mm == X.dtype else X.astype(mm)
                if S == 1:
                    np.matmul(bm[0], X[0].T, out=ZT[0])
                else:
                    np.matmul(bm, X.transpose(0, 2, 1), out=ZT)
                # a <- a - lr_a GA in place; Q = -(lr_b/n) a* D sigma', so that b += Q X
                _kernels.step(ZT, np.ascontiguousarray(y), a, scale, starts, act,
                              data.loss.code, lr_a, -lr_b_unit / n, sequential,
                              buffers["F"], buffers["D"], Lm, buffers["GA"], Q)
                if S == 1:
                    np.matmul(Q[0], X[0], out=G[0])
                else:
                    np.matmul(Q, X, out=G)
                b += G
                loss_sum += Lm
            loss_count += 1
            observe(k)
    return TrainResult(out, records, test_risk, batch_loss, snaps, snap_a, snap_b)


__all__ = ["ORDERS", "ParticleSGD", "TrainResult", "batch_velocity", "published_sgd",
           "sample_risk", "train"]
