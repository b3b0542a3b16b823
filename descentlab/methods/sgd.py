"""Stochastic gradient descent on the generic path: any problem, through ``batch_grad``.

A batch B is a vector of indices (repeats allowed) drawn by ``sampling.BatchStream``;
g_B(x) = (1/|B|) sum_{i in B} grad f_i(x) = ``problem.batch_grad(x, B)`` costs |B| oracle
calls. ``SGD`` documents the update, its step schedules (``step_at``, shared with the
adaptive methods) and their rates (seeds 000 and 004).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._compiled import stochastic as kernels
from .._validation import check_choice, check_int, check_positive
from ..errors import DescentlabError
from .base import Method, State, check_unit_interval, iterations_for
from .sampling import BatchStream, check_batch_size, check_rng, expected_smoothness

SCHEDULES = ("constant", "inverse", "inverse-sqrt", "step-decay")
SAMPLINGS = ("with-replacement", "permutation")
MOMENTUM_TYPES = ("heavy-ball", "nesterov")


def step_at(schedule: str, base: float, t: int, epochs: float, *, t0=None,
            decay_factor: float = 0.5, decay_every: float = 10.0) -> float:
    """The step of ``schedule`` after t iterations and ``epochs`` epochs (see ``SGD``)."""
    if schedule == "constant":
        return base
    if schedule == "inverse":
        return base / (t + t0)
    if schedule == "inverse-sqrt":
        return base / math.sqrt(t + 1.0)
    return base * decay_factor ** math.floor(epochs / decay_every)


def check_schedule(method: Method, allowed=SCHEDULES) -> None:
    """Check ``schedule``, ``decay_factor`` in (0, 1] and ``decay_every`` > 0 of ``method``."""
    check_choice(f"{method.name}: schedule", method.schedule, allowed)
    method._set(decay_factor=check_unit_interval(f"{method.name}: decay_factor",
                                                 method.decay_factor, open_left=True,
                                                 closed_right=True),
                decay_every=check_positive(f"{method.name}: decay_every", method.decay_every))


@dataclass(frozen=True, kw_only=True, eq=False)
class SGDState(State):
    """The batch stream, the last iterate x_t (``x`` is the average when averaging), x_{t-1}
    (momentum only) and the number of averaged iterates."""

    stream: BatchStream
    x_last: np.ndarray
    x_prev: np.ndarray | None = None
    n_averaged: int = 0
    compiled: bool = False

    def info(self):
        return {"path": "compiled" if self.compiled else "generic", **super().info()}


@dataclass(frozen=True, kw_only=True)
class SGD(Method):
    """Stochastic gradient descent with schedules, momentum, averaging and prox.

    Update (B_t a batch of ``batch_size`` indices, s_t the step of ``schedule``):

    * plain         x_{t+1} = x_t - s_t g_{B_t}(x_t)                (Robbins and Monro 1951)
    * heavy-ball    x_{t+1} = x_t - s_t g_{B_t}(x_t) + m (x_t - x_{t-1})   (seed 000, Polyak)
    * nesterov      y_t = x_t + m (x_t - x_{t-1}),  x_{t+1} = y_t - s_t g_{B_t}(y_t)
                    (Sutskever, Martens, Dahl, Hinton 2013)
    * prox          when h != 0 the right-hand side is followed by prox_{s_t h}
                    (proximal SGD; no theory is claimed together with momentum).

    Schedules (t = iterations done, e = epochs done = oracle calls / n):
    ``constant`` s_t = step; ``inverse`` s_t = step / (t + t0); ``inverse-sqrt``
    s_t = step / sqrt(t + 1); ``step-decay`` s_t = step * decay_factor^floor(e / decay_every).

    Defaults (Lb = ``expected_smoothness(problem, batch_size)``; with momentum m every
    default step is multiplied by (1 - m) so that the effective step s / (1 - m) of the
    equivalent averaged form stays the same, Sebbouh, Gower, Defazio 2021):

    * constant, step-decay, inverse-sqrt: step = 1/(2 Lb). Constant step, mu > 0:
      E||x_t - x*||^2 <= (1 - s mu)^t ||x_0 - x*||^2 + 2 s sigma_b^2 / mu
      (Gower et al. 2019, Thm 3.1). inverse-sqrt, non-convex: min_t E||grad F(x_t)||^2 =
      O(log T / sqrt T), i.e. the T^(-1/4) rate of seed 004 for the norm (Ghadimi and Lan
      2013); convex with averaging: F(x_bar_T) - F* = O(log T / sqrt T) (Nemirovski,
      Juditsky, Lan, Shapiro 2009). step-decay: decay_factor = 1/2 every 10 epochs, after
      the halving schedule of Ge, Kakade, Kidambi, Netrapalli (2019), near-optimal on least
      squares; their analysis halves every T / log2(T) iterations for a known horizon T,
      10 epochs is a horizon-free default (tune ``decay_every`` to the budget).
    * inverse: step = 2/mu, t0 = 2 Lb step / (1 - m) (so s_0 = (1 - m)/(2 Lb) and
      s_t ~ 2/(mu t)), the smooth form of the switching schedule of Gower et al. (2019,
      Thm 3.2): E||x_t - x*||^2 = O(kappa_b^2 ||x_0 - x*||^2 / t^2 + sigma_b^2/(mu^2 t)).
      Needs mu > 0 unless ``step`` is given.

    Compiled path: on linear models (``problem.linear_view()`` not None) the loop runs in
    ``descentlab._compiled.stochastic`` with the same batches, steps and averaging. With no
    momentum it is lazy (O(nnz of the batch) per iteration: the L2 shrink as one scalar,
    Bottou's scaling trick, and the L1 soft threshold applied just in time, Lipton and Elkan
    2015), exact with respect to the dense recursion that ``lazy=False`` runs (also used
    with momentum, and for averaging with an L1 term). Other problems take the generic
    path through ``batch_grad``.

    ``averaging``: report the Polyak-Ruppert average (Polyak and Juditsky 1992) of the
    iterates x_t produced after ``average_start`` epochs as ``state.x``, the last iterate
    being kept internally; with a constant step on least squares the average converges at
    O(1/t) (Bach and Moulines 2013). ``sampling``: 'with-replacement' (i.i.d. batches) or
    'permutation' (epochs of random permutations, random reshuffling).

    The default Lb is the with-replacement value; it is also a valid (larger) bound for
    batches taken without replacement.
    """

    step: float | None = None
    batch_size: int = 1
    schedule: str = "constant"
    t0: float | None = None
    decay_factor: float = 0.5
    decay_every: float = 10.0
    averaging: bool = False
    average_start: float = 0.0
    sampling: str = "with-replacement"
    momentum: float = 0.0
    momentum_type: str = "heavy-ball"
    lazy: bool = True
    name: ClassVar[str] = "sgd"
    handles_prox: ClassVar[bool] = True

    def __post_init__(self):
        super().__post_init__()
        check_int("sgd: batch_size", self.batch_size, minimum=1)
        check_schedule(self)
        check_choice("sgd: sampling", self.sampling, SAMPLINGS)
        check_choice("sgd: momentum_type", self.momentum_type, MOMENTUM_TYPES)
        for key in ("averaging", "lazy"):
            if not isinstance(getattr(self, key), (bool, np.bool_)):
                raise DescentlabError(f"sgd: {key}: expected True or False, "
                                      f"got {getattr(self, key)!r}")
        self._set(momentum=check_unit_interval("sgd: momentum", self.momentum),
                  average_start=check_positive("sgd: average_start", self.average_start,
                                               strict=False),
                  averaging=bool(self.averaging), lazy=bool(self.lazy))
        if self.t0 is not None:
            self._set(t0=check_positive("sgd: t0", self.t0, strict=False))

    def resolve(self, problem):
        b = check_batch_size(self.name, self.batch_size, problem.n)
        Lb = expected_smoothness(problem, b)
        m, step, t0 = self.momentum, self.step, self.t0
        if self.schedule == "inverse":
            if step is None:
                if problem.mu <= 0:
                    raise DescentlabError(
                        "sgd: schedule='inverse' defaults to step = 2/mu and needs mu > 0, "
                        "the problem reports mu = 0; pass step= (the numerator c of "
                        "c/(t + t0)) or use schedule='inverse-sqrt'")
                step = (1.0 - m) * 2.0 / float(problem.mu)
            if t0 is None:
                t0 = 2.0 * Lb * step / (1.0 - m)
            if t0 <= 0:
                raise DescentlabError("sgd: t0: expected a positive number with "
                                      "schedule='inverse' (the first step is step / t0)")
        elif step is None:
            step = (1.0 - m) / (2.0 * Lb)
        return dataclasses.replace(self, step=float(step), batch_size=b, t0=t0)

    def init(self, problem, x0, rng):
        check_rng(self.name, rng)
        return SGDState(x=x0, x_last=x0, x_prev=x0 if self.momentum else None,
                        stream=BatchStream(problem.n, self.batch_size,
                                           self.sampling == "permutation"),
                        compiled=problem.linear_view() is not None)

    def steps(self, t: int, spent: int, n: int, k: int) -> np.ndarray:
        """The steps s_t of the next k iterations (``step_at`` with the same float
        operations), after t iterations and ``spent`` oracle calls."""
        if self.schedule == "constant":
            return np.full(k, self.step)
        ts = np.arange(t, t + k, dtype=np.float64)
        if self.schedule == "inverse":
            return self.step / (ts + self.t0)
        if self.schedule == "inverse-sqrt":
            return self.step / np.sqrt(ts + 1.0)
        epochs = (spent + self.batch_size * np.arange(k, dtype=np.float64)) / n
        powers = np.floor(epochs / self.decay_every)
        table = {e: self.step * self.decay_factor ** math.floor(e) for e in np.unique(powers)}
        return np.array([table[e] for e in powers]) if len(table) > 1 else \
            np.full(k, table[powers[0]])

    def _advance_compiled(self, problem, state, rng, calls):
        b, n, view = self.batch_size, problem.n, problem.linear_view()
        k = iterations_for(calls, b)
        batches = state.stream.batches(rng)
        idx = batches.take(k)
        steps = self.steps(state.iteration, state.calls, n, k)
        spent_after = state.calls + b * np.arange(1, k + 1)
        averaged = spent_after > self.average_start * n
        avg_from = int(np.argmax(averaged)) if self.averaging and averaged.any() else k
        x = state.x_last.copy()
        lam1, lam2, shift = view.lam1, view.lam2, view.shift
        has_shift = bool(np.any(shift))
        n_avg, x_avg = state.n_averaged, state.x
        lazy = self.lazy and not self.momentum and not (lam1 and has_shift) and \
            not (self.averaging and (lam1 or has_shift)) and float(steps.max()) * lam2 < 1.0
        if lazy:
            asum = np.zeros_like(x)
            kernels.sgd_lazy(*view.rows, x, asum, idx, b, steps, avg_from, lam1, lam2, shift,
                             view.free, view.lam2f, self.averaging)
            new = k - avg_from
            if new > 0:
                x_avg = asum / new if n_avg == 0 else \
                    (x_avg * n_avg + asum) / (n_avg + new)
                n_avg += new
            x_prev = None
        else:
            x_prev = x.copy() if state.x_prev is None else state.x_prev.copy()
            x_avg = x_avg.copy() if n_avg else np.empty_like(x)
            n_avg = kernels.sgd_dense(*view.rows, x, x_prev, x_avg, n_avg, idx, b, steps,
                                      avg_from, lam1, lam2, shift, view.free, view.lam2f,
                                      float(self.momentum), self.momentum_type == "nesterov")
        return state.after(k, k * b, x=x_avg if (self.averaging and n_avg) else x, x_last=x,
                           x_prev=x_prev if self.momentum else None, n_averaged=n_avg,
                           stream=batches.stream())

    def advance(self, problem, state, rng, calls):
        if state.compiled:
            return self._advance_compiled(problem, state, rng, calls)
        b, step, schedule, m = self.batch_size, self.step, self.schedule, self.momentum
        nesterov, prox, averaging = self.momentum_type == "nesterov", problem.nonsmooth, \
            self.averaging
        n, batches = problem.n, state.stream.batches(rng)
        x, x_prev = state.x_last, state.x_prev
        x_avg, n_avg = (state.x if state.n_averaged else None), state.n_averaged
        avg_from = self.average_start * n
        k = iterations_for(calls, b)
        t, spent = state.iteration, state.calls
        for _ in range(k):
            s = step if schedule == "constant" else step_at(
                schedule, step, t, spent / n, t0=self.t0, decay_factor=self.decay_factor,
                decay_every=self.decay_every)
            idx = batches.next()
            if not m:
                x_new = x - s * problem.batch_grad(x, idx)
            elif nesterov:
                y = x + m * (x - x_prev)
                x_new = y - s * problem.batch_grad(y, idx)
            else:
                x_new = x - s * problem.batch_grad(x, idx) + m * (x - x_prev)
            if prox:
                x_new = problem.prox(x_new, s)
            x_prev, x = x, x_new
            t += 1
            spent += b
            if averaging and spent > avg_from:
                n_avg += 1
                x_avg = x.copy() if n_avg == 1 else x_avg + (x - x_avg) / n_avg
        return state.after(k, k * b, x=x_avg if (averaging and n_avg) else x, x_last=x,
                           x_prev=x_prev if m else None, n_averaged=n_avg,
                           stream=batches.stream())


__all__ = ["SCHEDULES", "SGD", "check_schedule", "step_at"]
