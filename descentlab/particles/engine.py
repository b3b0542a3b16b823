"""The particle engine: one batched loop for the two-layer dynamics of descentlab.

Every network h(x) = (alpha/m) sum_j a_j sigma(b_j . x) of a ``ParticleBatch`` descends the
objective G = L(h)/alpha^2 of ``data`` (``descentlab.particles.samples``): at step
k = 1, 2, ..., for each layer l with gamma_l = gamma_k x lr_l_scale,

    w_j <- (1 - gamma_l lam_k) w_j - gamma_l m dG/dw_j + sqrt(2 gamma_l tau_k) xi_j,

particle gradient descent with the step multiplied by m (Eq. 3.3 of seed 002; W <- W -
gamma m grad G(W)), and with a temperature tau_k > 0 the Euler-Maruyama scheme of the
mean-field Langevin dynamics dw_j = -(m grad_{w_j} G + lam w_j) dt + sqrt(2 tau) dB_j
(seed 000, Idea 1; Mei et al. 2018, Chizat 2022), xi_j ~ N(0, I) drawn for a then b. The
noise is sqrt(2 gamma tau) per coordinate, not sqrt(2 gamma m tau): the m -> infinity
limit minimizes G(mu) + (lam/2) int ||w||^2 dmu + tau int mu log mu.

The parameters (``Dynamics`` unless said otherwise), each one choice, never separate code:

* loss: the data's (square, logistic, exponential, soft-min);
* scaling: the batch's alpha (1: mean field; large, with G = L/alpha^2: the lazy regime
  of Chizat, Oyallon and Bach; alpha = m: h = sum_j a_j sigma(b_j . x), no 1/m);
* per-layer rates ``lr_a_scale``, ``lr_b_scale``; 0 freezes a layer, and a frozen input
  layer on a fixed sample keeps its features sigma(b X^T), computed once;
* ``order``: "simultaneous" (both gradients at the current point) or "sequential" (a
  first, the new a_j in the b-gradient; residuals and activations of the current point);
* ``schedule`` of gamma_k: "constant" (lr), "sqrt" (lr / sqrt(k + 1)) or "curvature"
  (lr / C_k, C_k a bound of ||m grad^2 G|| of each network at its current point, square
  loss and relu: every step a stable small step of the flow); ``output_boost`` multiplies
  gamma_k by max(1, ||a_r|| / sqrt(m_r)) per network;
* ``temperature`` tau_k (a number, or a function of the steps done k - 1) and the weight
  decay lam_k = ``weight_decay`` + ``kappa`` tau_k (kappa: entropy relative to the prior
  N(0, I/kappa));
* data (``train``'s argument): fresh samples every step (one-pass SGD on the population
  risk), a fixed sample in full batch (GD) or minibatches (SGD), the exact population risk;
* ``stop`` (``EarlyStop``): a network stops when its loss falls below rtol times its
  initial loss or its time sum_k gamma_k reaches max_time; a stream whose networks all
  stopped leaves the batch;
* ``record_at``, ``observe``: the loss and user metrics (snapshots, test risks, margins)
  at chosen steps; ``matmul_dtype``; ``reduction`` (``descentlab.particles.steps``).

The published convention of Figures 2-3 (code of Bach and Chizat's ICM notebook),
f(x) = sum_j A_j relu(B_j . x) with A_j = a_j / m, batch of n fresh points:

    A <- A - (lr/m) mean_i relu(B x_i)(f(x_i) - y_i)
    B <- B - m lr sum_i A_j 1(B_j . x_i > 0)(f(x_i) - y_i) x_i     (with the updated A)

is ``published_sgd(lr, n)`` = Dynamics(lr, lr_a_scale=1, lr_b_scale=n,
order="sequential"): mean-field SGD whose hidden layer has a learning rate n times the
output layer's (the SUM over the batch). Figure 3: lr = 0.005, n = 100, 10^4 steps;
Figure 2: lr = 0.002, n = 100, 2 10^5 steps. ``velocity`` is the vector field of the
gradient flows (``descentlab.particles.flow``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .._compiled.losses import LossCode
from .._compiled.particles import KERNELS, RELU, objectives
from .._validation import check_choice, check_int, check_positive
from ..errors import DescentlabError, DivergenceError
from .batch import ParticleBatch
from .samples import FixedSample, FreshSamples, PopulationRisk
from .steps import ClosedFormStep, Step, broadcast

ORDERS = ("simultaneous", "sequential")
SCHEDULES = ("constant", "sqrt", "curvature")
MATMUL_DTYPES = ("float64", "float32")
REDUCTIONS = ("auto", "compiled", "blas", "gram")


@dataclass(frozen=True)
class Dynamics:
    """lr: gamma of Eq. (3.3) (the factor of the curvature schedule); the other fields are
    those of the module docstring."""

    lr: float
    lr_a_scale: float = 1.0
    lr_b_scale: float = 1.0
    order: str = "simultaneous"
    schedule: str = "constant"
    output_boost: bool = False
    temperature: float | Callable[[int], float] = 0.0
    weight_decay: float = 0.0
    kappa: float = 0.0

    def __post_init__(self):
        check_positive("lr", self.lr)
        check_positive("lr_a_scale", self.lr_a_scale, strict=False)
        check_positive("lr_b_scale", self.lr_b_scale, strict=False)
        check_choice("order", self.order, ORDERS)
        check_choice("schedule", self.schedule, SCHEDULES)
        if not callable(self.temperature):
            check_positive("temperature", self.temperature, strict=False)
        check_positive("weight_decay", self.weight_decay, strict=False)
        check_positive("kappa", self.kappa, strict=False)

    @property
    def noisy(self) -> bool:
        return callable(self.temperature) or self.temperature > 0

    def temperature_at(self, k: int) -> tuple[float, float]:
        """(tau_k, lam_k) after k steps."""
        tau = float(self.temperature(k) if callable(self.temperature) else self.temperature)
        return tau, self.weight_decay + self.kappa * tau


def published_sgd(lr: float, batch_size: int) -> Dynamics:
    """The update of the published Figures 2-3 (see the module docstring)."""
    batch_size = check_int("batch_size", batch_size, minimum=1)
    return Dynamics(lr, lr_a_scale=1.0, lr_b_scale=float(batch_size), order="sequential")


@dataclass(frozen=True)
class EarlyStop:
    """A network stops when loss <= rtol x its loss at step 0, or its time
    sum_k gamma_k >= max_time (either may be None)."""

    rtol: float | None = None
    max_time: float | None = None

    def __post_init__(self):
        check_positive("rtol", self.rtol, allow_none=True)
        check_positive("max_time", self.max_time, allow_none=True)


@dataclass
class TrainResult:
    """What ``train`` returns.

    record_steps (T,) the steps of the records, record_time (T, S, R) the time sum_k gamma_k
    of each network there; loss (T, S, R): the objective L (not divided by alpha^2) on a
    fixed sample (full batch) or the population risk, otherwise the loss of the last step's
    batch (NaN at step 0); margin (T, S, R): min_i y_i h(x_i) on a fixed sample with labels
    (else None); records: ``observe``'s values stacked (T, ...); time (S, R); with ``stop``,
    stopped_at (S, R) the step at which each network stopped (``steps`` if it did not) and
    stop_loss (S, R) its loss there. NaN marks the records of streams that left the batch.
    """

    batch: ParticleBatch
    record_steps: np.ndarray
    record_time: np.ndarray
    loss: np.ndarray
    margin: np.ndarray | None
    records: dict[str, np.ndarray]
    time: np.ndarray
    stopped_at: np.ndarray | None = None
    stop_loss: np.ndarray | None = None


def snapshot(batch: ParticleBatch) -> dict[str, np.ndarray]:
    """An ``observe`` function: copies of the particles a (S, M) and b (S, M, D)."""
    return {"a": batch.a.copy(), "b": batch.b.copy()}


def evaluate(batch: ParticleBatch, sample: FixedSample) -> tuple[np.ndarray, np.ndarray]:
    """(L, min_i y_i h(x_i)) of every network on the whole sample, (S, R) each (float64)."""
    X, y = broadcast(sample.X, sample.y, batch.n_streams)
    ZT = np.matmul(batch.b, X.transpose(0, 2, 1))
    (S, n), R = y.shape, batch.n_networks
    F, D, L, margin = np.empty((S, R, n)), np.empty((S, R, n)), np.empty((S, R)), \
        np.empty((S, R))
    KERNELS[batch.act.code].forward(ZT, batch.a, batch.scale, batch.starts, F, False)
    objectives(np.ascontiguousarray(y), F, int(sample.loss.code), D, L, margin)
    return L, margin


def velocity(batch: ParticleBatch, data, a: np.ndarray | None = None,
             b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(m dG/da (S, M), m dG/db (S, M, D), loss (S, R)) at (a, b) (default: the batch's).

    ``data``: a full-batch FixedSample (loss L) or a PopulationRisk (exact; loss
    E[(h - y)^2] / 2). Both gradients at the same point.
    """
    if a is not None or b is not None:
        batch = ParticleBatch(batch.widths, batch.a if a is None else a,
                              batch.b if b is None else b, batch.alpha, batch.activation)
    if isinstance(data, PopulationRisk):
        return data.velocity(batch, batch.a, batch.b)
    if not isinstance(data, FixedSample) or not data.full_batch:
        raise DescentlabError("data: the velocity field needs a full-batch FixedSample or a "
                              "PopulationRisk")
    _check_data(batch, data)
    step = Step(batch, data, np.dtype(np.float64), reduction="blas")
    loss = step.forward().copy()
    ones = np.ones((batch.n_streams, batch.n_networks))
    return step.output_gradient() / batch.alpha, step.input_gradient(ones) / batch.alpha, loss


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


def _reduction(requested: str, batch, data, dyn: Dynamics, stop, mm: np.dtype) -> str:
    """The reduction of ``train`` (its docstring), after checking that it can run."""
    if isinstance(data, PopulationRisk):
        if dyn.order == "sequential":
            raise DescentlabError("order: 'sequential' needs a sample-based risk "
                                  "(FreshSamples or FixedSample), not PopulationRisk")
        return "closed-form"
    fixed = isinstance(data, FixedSample) and data.full_batch
    if dyn.schedule == "curvature" and not (data.loss.code == LossCode.SQUARE and fixed
                                            and batch.act.code == RELU):
        raise DescentlabError("schedule: 'curvature' needs the square loss, relu and a "
                              "full-batch FixedSample")
    if stop is not None and not fixed:
        raise DescentlabError("stop: early stopping needs a full-batch FixedSample")
    needs = "soft-min loss" if data.loss.code == LossCode.SOFTMIN else \
        "curvature schedule" if dyn.schedule == "curvature" else \
        "early stop" if stop is not None else None
    if requested == "compiled" and needs:
        raise DescentlabError(f"reduction: the {needs} needs reduction='blas' (or 'auto')")
    if requested == "gram" and not (fixed and mm == np.float64 and not dyn.weight_decay
                                    and not dyn.kappa and not dyn.noisy):
        raise DescentlabError("reduction: 'gram' needs a full-batch FixedSample, float64 "
                              "products, and neither weight decay nor temperature")
    return requested if requested in ("blas", "gram") else "blas" if needs else "compiled"


class _Run:
    """One ``train`` call: the networks still in the batch, their clocks and the records."""

    def __init__(self, batch: ParticleBatch, data, dynamics: Dynamics, stop, reduction: str,
                 mm: np.dtype):
        self.out, self.work, self.data, self.step = batch, batch, data, None
        self.dynamics, self.stop, self.reduction, self.mm = dynamics, stop, reduction, mm
        S, R = batch.n_streams, batch.n_networks
        self.live, self.time, self.done = np.arange(S), np.zeros((S, R)), np.zeros((S, R), bool)
        self.stopped_at, self.stop_loss = np.full((S, R), -1), np.full((S, R), np.nan)
        self.loss0 = self.last_loss = None
        self.sqrt_m = np.sqrt(np.asarray(batch.widths, dtype=np.float64))
        self.static = None  # gamma when it does not change from step to step
        if dynamics.schedule == "constant" and not dynamics.output_boost and stop is None:
            self.static = np.full((S, R), dynamics.lr)
        self.layers = (None, None, None)  # gamma and its per-layer steps
        self.unit = dynamics.lr_a_scale == dynamics.lr_b_scale == 1.0
        self.sequential = dynamics.order == "sequential"
        self.temperature = None if callable(dynamics.temperature) else \
            dynamics.temperature_at(0)  # (tau, lam) when constant
        self.rows: dict[str, list] = {"step": [], "time": [], "loss": [], "margin": []}
        self.extra: dict[str, list] = {}
        self._make_step()

    def _make_step(self, keep: np.ndarray | None = None) -> None:
        work, data = self.work, self.data
        if self.reduction == "closed-form":
            self.step = ClosedFormStep(work, data)
        else:
            self.step = Step(work, data, self.mm, reduction=self.reduction, previous=self.step,
                             frozen=self.dynamics.lr_b_scale == 0 and data.full_batch,
                             keep=keep)

    def gammas(self, k: int, loss: np.ndarray | None) -> np.ndarray:
        """gamma_k (S_live, R) after the forward pass (``loss`` at the current point)."""
        dyn, work, live = self.dynamics, self.work, self.live
        if self.static is not None:
            self.time += self.static
            return self.static
        if dyn.schedule == "curvature":
            gamma = dyn.lr / self.step.curvature()
        else:
            gamma = np.full(work.a.shape[:1] + self.time.shape[1:],
                            dyn.lr / math.sqrt(k + 1.0) if dyn.schedule == "sqrt" else dyn.lr)
        if dyn.output_boost:
            a2 = np.add.reduceat(work.a * work.a, work.starts[:-1], axis=1)
            gamma *= np.maximum(1.0, np.sqrt(a2) / self.sqrt_m)
        if self.stop is not None:
            if not np.all(np.isfinite(loss)):
                raise DivergenceError(f"train: the loss is not finite after {k - 1} steps; "
                                      f"lower the step size 'lr' (it was {dyn.lr:g})")
            self.loss0 = loss.copy() if self.loss0 is None else self.loss0
            rtol, max_time = self.stop.rtol, self.stop.max_time
            newly = ~self.done[live] & (
                (loss <= rtol * self.loss0 if rtol is not None else False)
                | (self.time[live] >= max_time if max_time is not None else False))
            rows, cols = np.nonzero(newly)
            self.stopped_at[live[rows], cols], self.done[live[rows], cols] = k - 1, True
            self.stop_loss[live[rows], cols] = loss[rows, cols]
            gamma[self.done[live]] = 0.0
        if work is self.out:
            self.time += gamma
        else:
            self.time[live] += gamma
        return gamma

    def per_layer(self, gamma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(gamma lr_a_scale, gamma lr_b_scale), the same arrays while gamma is."""
        if self.unit:
            return gamma, gamma
        if gamma is not self.layers[0]:
            sa, sb = self.dynamics.lr_a_scale, self.dynamics.lr_b_scale
            self.layers = (gamma, gamma if sa == 1.0 else gamma * sa, gamma * sb)
        return self.layers[1], self.layers[2]

    def advance(self, k: int, rng) -> None:
        """Step k of every live network."""
        dyn, work = self.dynamics, self.work
        tau, lam = self.temperature or dyn.temperature_at(k - 1)
        if self.reduction == "compiled":
            gamma = self.gammas(k, None)
            self.last_loss = self.step.fused(*self.per_layer(gamma), lam, self.sequential)
        else:
            self.last_loss = self.step.forward()
            gamma = self.gammas(k, self.last_loss)
            self.step.update(*self.per_layer(gamma), lam, self.sequential)
        if tau > 0:
            of = work.network_of
            work.a += np.sqrt(2.0 * gamma * dyn.lr_a_scale * tau)[:, of] \
                * rng.standard_normal(work.a.shape)
            work.b += np.sqrt(2.0 * gamma * dyn.lr_b_scale * tau)[:, of, None] \
                * rng.standard_normal(work.b.shape)

    def drop_finished(self) -> bool:
        """Let the streams whose networks all stopped leave the batch; True if none is left."""
        if self.stop is None:
            return False
        finished = self.done[self.live].all(axis=1)
        if not finished.any():
            return False
        self.sync()
        keep = ~finished
        self.live = self.live[keep]
        if not self.live.size:
            self.work = self.out
            return True
        self.work, self.data = self.work.streams(keep), self.data.streams(keep)
        self.loss0 = self.loss0[keep]
        self._make_step(keep)
        return False

    def sync(self) -> ParticleBatch:
        """Form the input weights (``Step.materialize``), copy the live streams' particles
        into the full batch; returns the live streams' batch."""
        if hasattr(self.step, "materialize"):
            self.step.materialize()
        if self.work is not self.out:
            self.out.a[self.live], self.out.b[self.live] = self.work.a, self.work.b
        return self.work

    def record(self, k: int, observe) -> None:
        """The loss (and margin) of every network after k steps, and ``observe(batch)``."""
        S, R = self.out.n_streams, self.out.n_networks
        loss, margin = np.full((S, R), np.nan), np.full((S, R), np.nan)
        live, work, data = self.live, self.sync(), self.data
        if isinstance(data, PopulationRisk):
            loss[live] = data.velocity(work, work.a, work.b)[2]
        elif data.full_batch:
            loss[live], margin[live] = evaluate(work, data)
        elif self.last_loss is not None:
            loss[live] = self.last_loss
        if not np.all(np.isfinite(loss[live])) and (k or data.full_batch):
            bad = sorted({self.out.widths[r] for r in np.nonzero(
                ~np.isfinite(loss[live]).all(axis=0))[0]})
            raise DivergenceError(f"train: the loss of the networks of widths {bad} is not "
                                  f"finite after {k} steps; lower the step size 'lr' (it "
                                  f"was {self.dynamics.lr:g})")
        for key, value in zip(self.rows, (k, self.time.copy(), loss, margin), strict=True):
            self.rows[key].append(value)
        for key, value in ({} if observe is None else observe(self.out)).items():
            self.extra.setdefault(key, []).append(np.asarray(value))


def train(batch: ParticleBatch, data, dynamics: Dynamics, steps: int, *,
          record_at: Iterable[int] | int | None = None,
          observe: Callable[[ParticleBatch], dict] | None = None,
          stop: EarlyStop | None = None, rng: np.random.Generator | None = None,
          matmul_dtype: str = "float64", reduction: str = "auto") -> TrainResult:
    """Run ``steps`` steps of ``dynamics`` on every network of ``batch`` (not modified).

    ``data``: FreshSamples, FixedSample or PopulationRisk (simultaneous order only).
    ``record_at``: step counts at which the loss is recorded and ``observe(batch)`` called
    (default: 0 and ``steps``; an integer k: every k steps). ``rng``: the Generator of the
    Langevin noise (needed when the temperature is positive). ``matmul_dtype="float32"``
    computes the two matrix products of a step in single precision. ``reduction``: how the
    sums over samples are computed (``descentlab.particles.steps``): "compiled", "blas",
    "gram" ("blas" with the pre-activations updated through the Gram matrix of a fixed
    sample, for inputs of high dimension), or "auto": "blas" when the soft-min loss, the
    curvature schedule or early stopping needs it, else "compiled". A network whose loss
    becomes NaN/Inf raises DivergenceError at the next record (lower ``lr``).
    """
    if not isinstance(batch, ParticleBatch):
        raise DescentlabError(f"batch: expected a ParticleBatch, got {type(batch).__name__}")
    if not isinstance(dynamics, Dynamics):
        raise DescentlabError(f"dynamics: expected a Dynamics, got {type(dynamics).__name__}")
    steps = check_int("steps", steps, minimum=0)
    mm = np.dtype(check_choice("matmul_dtype", matmul_dtype, MATMUL_DTYPES))
    check_choice("reduction", reduction, REDUCTIONS)
    _check_data(batch, data)
    if isinstance(record_at, numbers.Integral):
        record = set(range(0, steps + 1, check_int("record_at", record_at, minimum=1)))
    else:
        record = {int(k) for k in ([0, steps] if record_at is None else record_at)}
        if record and (min(record) < 0 or max(record) > steps):
            raise DescentlabError(f"record_at: expected step counts in [0, {steps}], got "
                                  f"values in [{min(record)}, {max(record)}]")
    if dynamics.noisy and not isinstance(rng, np.random.Generator):
        raise DescentlabError("rng: a positive temperature needs a numpy Generator")
    run = _Run(batch.copy(), data, dynamics, stop,
               _reduction(reduction, batch, data, dynamics, stop, mm), mm)
    if 0 in record:
        run.record(0, observe)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(1, steps + 1):
            run.advance(k, rng)
            if run.drop_finished():
                break
            if k in record:
                run.record(k, observe)
    out = run.out
    run.sync()
    S, R = out.n_streams, out.n_networks
    rows = {key: np.array(v).reshape((-1,) + (() if key == "step" else (S, R)))
            for key, v in run.rows.items()}
    labels = isinstance(data, FixedSample) and data.loss.labels and data.full_batch
    result = TrainResult(out, rows["step"].astype(np.int64), rows["time"], rows["loss"],
                         rows["margin"] if labels else None,
                         {key: np.stack(v) for key, v in run.extra.items()}, run.time)
    if stop is not None:
        left = run.stopped_at < 0
        if left.any():
            run.stopped_at[left], run.stop_loss[left] = steps, evaluate(out, data)[0][left]
        result.stopped_at, result.stop_loss = run.stopped_at, run.stop_loss
    return result


__all__ = ["MATMUL_DTYPES", "ORDERS", "REDUCTIONS", "SCHEDULES", "Dynamics", "EarlyStop",
           "TrainResult", "evaluate", "published_sgd", "snapshot", "train", "velocity"]
