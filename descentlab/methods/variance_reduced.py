"""Variance-reduced methods: SAG, SAGA, SVRG, loopless SVRG, SARAH, STORM and SpiderBoost.

F = g + h, g = (1/n) sum_i f_i with f_i L_max-smooth, F mu-strongly convex, h handled by
its prox. One sample j is drawn per iteration (uniformly, or by importance: see
``sampling``); costs are oracle calls (component gradients evaluated).

* SAGA (Defazio, Bach, Lacoste-Julien 2014, Thm 1): memory alpha_i = grad f_i(x_[i]),
  x+ = prox_{gh}(x - g [grad f_j(x) - alpha_j + mean(alpha)]), default g = 1/(3 L_max);
  E||x_k - x*||^2 <= (1 - min(1/(4n), mu/(3 L_max)))^k C. Seed 000 writes the update as
  theta_t = theta_{t-1} - gamma [grad f_i(t) + (1/n) sum_i y_i - y_i(t)].
* SAG (Le Roux, Schmidt, Bach 2012; Schmidt, Le Roux, Bach 2017, Thm 1): memory updated
  first, x+ = x - g mean(alpha); default g = 1/(16 L_max);
  E[F(x_k) - F*] <= (1 - min(mu/(16 L_max), 1/(8n)))^k C. Smooth problems only.
* SVRG (Johnson and Zhang 2013): every ``epoch_length`` iterations (default 2n) take the
  snapshot w = x and mu_w = grad g(w) (n calls); in between
  x+ = prox_{gh}(x - g [grad f_j(x) - grad f_j(w) + mu_w]); default g = 1/(10 L_max) (their
  0.1/L), linear convergence with factor 1/(mu g (1 - 2 L g) m) + 2 L g/(1 - 2 L g) per epoch.
* Loopless SVRG (Hofmann et al. 2015; Kovalev, Horvath, Richtarik 2020, Thm 5): the
  snapshot is refreshed with probability p = 1/n at each iteration; default g = 1/(6 L_max);
  O((n + L_max/mu) log 1/eps) calls.
* SARAH (Nguyen, Liu, Scheinberg, Takac 2017, Thm 2): v_0 = grad g(w),
  v_t = grad f_j(x_t) - grad f_j(x_{t-1}) + v_{t-1}, x_{t+1} = x_t - g v_t for
  ``epoch_length`` steps (default 2n), then restart from the last iterate; default
  g = 1/(2 L_max); per-epoch factor 1/(mu g (m+1)) + g L/(2 - g L). Smooth problems only.
* STORM (Cutkosky and Orabona 2019): recursive momentum d_t = g_t(x_t) +
  (1 - a_t)(d_{t-1} - g_t(x_{t-1})) with the same batch at x_t and x_{t-1}, adaptive step.
* SpiderBoost (Wang, Ji, Zhou, Liang, Tarokh 2019): SARAH/SPIDER estimator with a full
  gradient every q iterations, constant step 1/(2 L_max); Prox-SpiderBoost when h != 0.

With L_Q the smoothness constant of the sampling law (L_max for uniform sampling), the
default steps of SAG, SAGA, SVRG, loopless SVRG and SARAH use L_Q in place of L_max.

On linear models (least squares, logistic) the first five run compiled loops with one
scalar per sample and lazy sparse updates (``descentlab._compiled.variance_reduced``, on the
problem's ``linear_view()``); on other problems they go through the generic path built on
``batch_grad`` (memory of gradient vectors for SAG/SAGA). ``lazy=False`` runs the dense
reference recursion instead. STORM and SpiderBoost run on the generic path.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._compiled import variance_reduced as kernels
from .._validation import check_choice, check_int, check_positive
from ..errors import DescentlabError
from .base import Method, State, check_unit_interval
from .sampling import (
    SAMPLINGS,
    BatchStream,
    SamplingLaw,
    check_batch_size,
    check_rng,
    sampling_law,
)


@dataclass(frozen=True, kw_only=True, eq=False)
class VRState(State):
    """The sampling law of j and, on the compiled path, ``last``: the iteration up to which
    each coordinate of x is current (the lazy updates bring it up to date when read)."""

    law: SamplingLaw
    last: np.ndarray | None = None

    def info(self):
        return {"path": "generic" if self.last is None else "compiled",
                "sampling": self.law.name, "L_Q": self.law.L_Q, **super().info()}


class VarianceReduced(Method):
    """Shared defaults and checks of SAG, SAGA, SVRG, loopless SVRG and SARAH."""

    handles_prox: ClassVar[bool] = True
    #: the default step is 1 / (step_divisor L_Q)
    step_divisor: ClassVar[float]

    def __post_init__(self):
        super().__post_init__()
        if hasattr(self, "sampling"):
            check_choice(f"{self.name}: sampling", self.sampling, SAMPLINGS)

    def law(self, problem) -> SamplingLaw:
        """The law of the sample index j on ``problem``."""
        return sampling_law(self.name, problem, getattr(self, "sampling", "uniform"))

    def resolve(self, problem):
        self.check_problem(problem)
        if problem.n < 2:
            raise DescentlabError(f"{self.name}: needs a finite sum with n >= 2 components, "
                                  f"the problem has n = {problem.n}")
        law = self.law(problem)
        values = self._defaults(problem)
        if hasattr(self, "sampling"):
            values["sampling"] = law.name
        if self.step is None:
            values["step"] = 1.0 / (self.step_divisor * law.L_Q)
        return dataclasses.replace(self, **values)

    def _defaults(self, problem) -> dict:
        """Resolved values of the method's other hyperparameters."""
        return {}

    def _epoch_length(self, problem) -> dict:
        m = 2 * problem.n if self.epoch_length is None else self.epoch_length
        return {"epoch_length": check_int(f"{self.name}: epoch_length", m, minimum=1)}


# ------------------------------------------------------------------------ SAGA and SAG
@dataclass(frozen=True, kw_only=True, eq=False)
class MemoryState(VRState):
    """The memory of the component gradients and their mean: n scalars phi_j'(a_j . x_[j])
    and the data part of the mean gradient (compiled path), or the n x d table of gradients
    and its mean (generic path)."""

    memory: np.ndarray
    mean: np.ndarray


def _memory_state(method: VarianceReduced, problem, x0) -> MemoryState:
    """State of SAG/SAGA: the memory of every component gradient at x0 (n calls)."""
    view = problem.linear_view()
    if view is not None:
        memory, mean = np.empty(problem.n), np.empty(problem.dim)
        kernels.full_pass(*view.rows, x0, memory, mean)
        last = np.zeros(problem.dim, dtype=np.int64)
    else:
        memory = np.stack([problem.batch_grad(x0, np.array([i])) for i in range(problem.n)])
        mean, last = memory.mean(axis=0), None
    return MemoryState(x=x0, calls=problem.n, law=method.law(problem), last=last,
                       memory=memory, mean=mean)


@dataclass(frozen=True, kw_only=True)
class SAGA(VarianceReduced):
    """SAGA with prox (L1, elastic net); default step 1/(3 L_max)."""

    step: float | None = None
    lazy: bool = True
    sampling: str = "auto"
    name: ClassVar[str] = "saga"
    step_divisor: ClassVar[float] = 3.0

    def init(self, problem, x0, rng):
        return _memory_state(self, problem, x0)

    def advance(self, problem, state, rng, calls):
        k, it, step = max(1, int(calls)), state.iteration, self.step
        samples, weights = state.law.draw(rng, k), state.law.weights
        x, alpha, gbar, last = state.x, state.memory, state.mean, state.last
        if last is not None:
            v = problem.linear_view()
            if self.lazy and v.lam1 == 0.0:
                kernels.saga_loop_smooth(*v.rows, x, alpha, gbar, v.shift, last, samples, weights,
                                         it, step, v.lam2, False, v.free, v.lam2f)
            else:
                kernels.saga_loop(*v.rows, x, alpha, gbar, v.shift, last, samples, weights, it,
                                  step, v.lam1, v.lam2, not self.lazy, v.free, v.lam2f)
                kernels.catch_up(x, last, it + k, gbar, v.shift, step, v.lam1, v.lam2, v.free,
                                 v.lam2f)
        else:
            for j in samples:
                g = problem.batch_grad(x, np.array([j]))
                diff = g - alpha[j]
                x = problem.prox(x - step * (weights[j] * diff + gbar), step)
                gbar += diff / problem.n
                alpha[j] = g
        return state.after(k, k, x=x)


@dataclass(frozen=True, kw_only=True)
class SAG(VarianceReduced):
    """SAG (smooth problems); default step 1/(16 L_max), memory initialized at x0."""

    step: float | None = None
    lazy: bool = True
    name: ClassVar[str] = "sag"
    handles_prox: ClassVar[bool] = False
    step_divisor: ClassVar[float] = 16.0

    def init(self, problem, x0, rng):
        return _memory_state(self, problem, x0)

    def advance(self, problem, state, rng, calls):
        k, it, step = max(1, int(calls)), state.iteration, self.step
        samples = state.law.draw(rng, k)
        x, alpha, gbar, last = state.x, state.memory, state.mean, state.last
        if last is not None:
            v = problem.linear_view()
            if self.lazy:
                kernels.saga_loop_smooth(*v.rows, x, alpha, gbar, v.shift, last, samples,
                                         state.law.weights, it, step, v.lam2, True, v.free,
                                         v.lam2f)
            else:
                kernels.sag_loop(*v.rows, x, alpha, gbar, v.shift, last, samples, it, step,
                                 v.lam2, True, v.free, v.lam2f)
                kernels.catch_up(x, last, it + k, gbar, v.shift, step, 0.0, v.lam2, v.free,
                                 v.lam2f)
        else:
            for j in samples:
                g = problem.batch_grad(x, np.array([j]))
                gbar += (g - alpha[j]) / problem.n
                alpha[j] = g
                x = x - step * gbar
        return state.after(k, k, x=x)


# ------------------------------------------------------------------------------ SVRG
@dataclass(frozen=True, kw_only=True, eq=False)
class SVRGState(VRState):
    """The snapshot: n scalars phi_j'(a_j . w) and the data part of grad g(w) (compiled
    path), or w and grad g(w) (generic path); iterations to the next snapshot; snapshots
    taken."""

    snapshot: np.ndarray | None
    mu: np.ndarray | None
    to_go: int = 0
    snapshots: int = 0
    reported: ClassVar[tuple[str, ...]] = ("snapshots",)


@dataclass(frozen=True, kw_only=True)
class SVRG(VarianceReduced):
    """SVRG with snapshots every ``epoch_length`` iterations (default 2n), last iterate.

    Oracle calls: n per snapshot; 1 per inner iteration on linear models (grad f_j(w) is kept
    as the scalar phi_j'(a_j . w)), 2 on the generic path (it is recomputed).
    """

    step: float | None = None
    epoch_length: int | None = None
    lazy: bool = True
    sampling: str = "auto"
    name: ClassVar[str] = "svrg"
    step_divisor: ClassVar[float] = 10.0

    def _defaults(self, problem):
        return self._epoch_length(problem)

    def _gap(self, rng) -> int:
        """Iterations until the next snapshot."""
        return self.epoch_length

    def init(self, problem, x0, rng):
        compiled = problem.linear_view() is not None
        state = SVRGState(x=x0, law=self.law(problem),
                          last=np.zeros(problem.dim, dtype=np.int64) if compiled else None,
                          snapshot=np.empty(problem.n) if compiled else None,
                          mu=np.empty(problem.dim) if compiled else None)
        return dataclasses.replace(self._snapshot(problem, state), to_go=self._gap(rng))

    @staticmethod
    def _snapshot(problem, state: SVRGState) -> SVRGState:
        """w = x: its scalars (or the point itself) and grad g(w), n calls."""
        if state.last is not None:
            v = problem.linear_view()
            kernels.full_pass(*v.rows, state.x, state.snapshot, state.mu)
            snapshot, mu = state.snapshot, state.mu
        else:
            snapshot, mu = state.x.copy(), problem.grad(state.x)
        return state.after(0, problem.n, snapshot=snapshot, mu=mu,
                           snapshots=state.snapshots + 1)

    def advance(self, problem, state, rng, calls):
        step, weights, spent = self.step, state.law.weights, 0
        while spent < calls:
            k = max(1, min(state.to_go, int(calls) - spent))
            samples, it = state.law.draw(rng, k), state.iteration
            x, snap, mu, last = state.x, state.snapshot, state.mu, state.last
            if last is not None:
                v = problem.linear_view()
                if self.lazy and v.lam1 == 0.0:
                    kernels.svrg_loop_smooth(*v.rows, x, snap, mu, v.shift, last, samples,
                                             weights, it, step, v.lam2, v.free, v.lam2f)
                else:
                    kernels.svrg_loop(*v.rows, x, snap, mu, v.shift, last, samples, weights, it,
                                      step, v.lam1, v.lam2, not self.lazy, v.free, v.lam2f)
                    kernels.catch_up(x, last, it + k, mu, v.shift, step, v.lam1, v.lam2,
                                     v.free, v.lam2f)
                cost = k
            else:
                for j in samples:
                    idx = np.array([j])
                    g = weights[j] * (problem.batch_grad(x, idx) - problem.batch_grad(snap, idx)) \
                        + mu
                    x = problem.prox(x - step * g, step)
                cost = 2 * k
            spent += cost
            state = state.after(k, cost, x=x, to_go=state.to_go - k)
            if state.to_go <= 0:
                state = self._snapshot(problem, state)
                spent += problem.n
                state = dataclasses.replace(state, to_go=self._gap(rng))
        return state


@dataclass(frozen=True, kw_only=True)
class LSVRG(SVRG):
    """Loopless SVRG: the snapshot is refreshed with probability ``p`` (default 1/n) per
    iteration; default step 1/(6 L_max)."""

    p: float | None = None
    name: ClassVar[str] = "lsvrg"
    step_divisor: ClassVar[float] = 6.0

    def __post_init__(self):
        super().__post_init__()
        if self.p is not None:
            check_unit_interval("lsvrg: p", self.p, open_left=True, closed_right=True)

    def _defaults(self, problem):
        return {**self._epoch_length(problem), "p": 1.0 / problem.n if self.p is None
                else self.p}

    def _gap(self, rng) -> int:
        return int(rng.geometric(self.p))


# ----------------------------------------------------------------------------- SARAH
@dataclass(frozen=True, kw_only=True, eq=False)
class SARAHState(VRState):
    """The recursive estimator v_t, x_{t-1} and the iterations left before the restart."""

    v: np.ndarray | None = None
    x_prev: np.ndarray | None = None
    to_go: int = 0


@dataclass(frozen=True, kw_only=True)
class SARAH(VarianceReduced):
    """SARAH (smooth problems): recursive gradient estimator restarted every ``epoch_length``
    iterations (default 2n) from the last iterate; default step 1/(2 L_max).
    Oracle calls: n per restart, 2 per inner iteration."""

    step: float | None = None
    epoch_length: int | None = None
    lazy: bool = True
    name: ClassVar[str] = "sarah"
    handles_prox: ClassVar[bool] = False
    step_divisor: ClassVar[float] = 2.0

    def _defaults(self, problem):
        return self._epoch_length(problem)

    def init(self, problem, x0, rng):
        last = None if problem.linear_view() is None else np.zeros(problem.dim, dtype=np.int64)
        return self._restart(problem, SARAHState(x=x0, law=self.law(problem), last=last))

    def _restart(self, problem, state: SARAHState) -> SARAHState:
        """v_0 = grad g(w) at w = x (n calls), then the first step x_1 = w - step v_0."""
        x = state.x
        if state.last is not None:
            view = problem.linear_view()
            scalars, g = np.empty(problem.n), np.empty(problem.dim)
            kernels.full_pass(*view.rows, x, scalars, g)
            g += view.lam2 * x + view.shift
            if view.free >= 0:
                g[view.free] += (view.lam2f - view.lam2) * x[view.free]
            state.last[:] = state.iteration
        else:
            g = problem.grad(x)
        return state.after(1, problem.n, v=g, x_prev=x.copy(), x=x - self.step * g,
                           to_go=self.epoch_length - 1)

    def advance(self, problem, state, rng, calls):
        step, spent = self.step, 0
        while spent < calls:
            if state.to_go <= 0:
                state = self._restart(problem, state)
                spent += problem.n
                continue
            k = max(1, min(state.to_go, (int(calls) - spent + 1) // 2))
            samples, it = state.law.draw(rng, k), state.iteration
            x, x_prev, vec = state.x, state.x_prev, state.v
            if state.last is not None:
                v = problem.linear_view()
                kernels.sarah_loop(*v.rows, x, vec, v.shift, state.last, samples, it, step,
                                   v.lam2, not self.lazy, v.free, v.lam2f)
                kernels.sarah_catch_up(x, vec, state.last, it + k, step, v.lam2, v.free,
                                       v.lam2f)
            else:
                for j in samples:
                    idx = np.array([j])
                    vec = problem.batch_grad(x, idx) - problem.batch_grad(x_prev, idx) + vec
                    x_prev, x = x, x - step * vec
            spent += 2 * k
            state = state.after(k, 2 * k, x=x, x_prev=x_prev, v=vec, to_go=state.to_go - k)
        return state


# ----------------------------------------------------------------------------- STORM
@dataclass(frozen=True, kw_only=True, eq=False)
class STORMState(State):
    """The batch stream, d_t, a_{t+1}, eta_t, sum_i G_i^2 and x_{t-1}."""

    stream: BatchStream
    d: np.ndarray | None = None
    a: float = 1.0
    eta: float | None = None
    sum_sq_grad: float = 0.0
    x_prev: np.ndarray | None = None
    reported: ClassVar[tuple[str, ...]] = ("a", "eta")


@dataclass(frozen=True, kw_only=True)
class STORM(Method):
    """STORM, stochastic recursive momentum (Cutkosky and Orabona 2019, Algorithm 1).

    With B_t a fresh batch and g_t(.) = g_{B_t}(.) (the SAME batch at x_t and x_{t-1}):

        d_1 = g_1(x_1),   d_t = g_t(x_t) + (1 - a_t)(d_{t-1} - g_t(x_{t-1}))   (t >= 2),
        G_t = ||g_t(x_t)||,   eta_t = k / (w + sum_{i <= t} G_i^2)^(1/3),
        x_{t+1} = x_t - eta_t d_t,   a_{t+1} = min(1, c eta_t^2).

    This is the paper's adaptive variant (the clipping min(1, .) is ours: it keeps the
    recursion a convex combination when k, w, c are not the theorem's). Defaults k = 0.1,
    w = 0.1, c = 100: the values of the paper's experiments (k = w = 0.1, c picked on a
    logarithmic grid); they are not scale-free, so k usually needs tuning. Its Theorem 1
    takes k = b G^(2/3)/L, c = 28 L^2 + G^2/(7 L k^3), w = max((4 L k)^3, 2 G^2,
    (c k/(4 L))^3) with G a bound on the stochastic gradient norms, unknown here, and then
    a_t <= 1 without clipping.
    Rate (Theorem 1): E||grad F(x_hat)|| = O~(1/sqrt T + sigma^(1/3)/T^(1/3)) for x_hat drawn
    uniformly among x_1..x_T on smooth non-convex F (we report the last iterate).
    Oracle calls: b for the first iteration, 2b per iteration after it (two gradient
    evaluations of the same batch). Smooth problems only.
    """

    k: float = 0.1
    w: float = 0.1
    c: float = 100.0
    batch_size: int = 1
    name: ClassVar[str] = "storm"
    step_param: ClassVar[str] = "k"

    def __post_init__(self):
        super().__post_init__()
        self._set(k=check_positive("storm: k", self.k), w=check_positive("storm: w", self.w),
                  c=check_positive("storm: c", self.c))
        check_int("storm: batch_size", self.batch_size, minimum=1)

    def resolve(self, problem):
        self.check_problem(problem)
        return dataclasses.replace(self, batch_size=check_batch_size(self.name, self.batch_size,
                                                                     problem.n))

    def init(self, problem, x0, rng):
        check_rng(self.name, rng)
        return STORMState(x=x0, stream=BatchStream(problem.n, self.batch_size))

    def advance(self, problem, state, rng, calls):
        gain, w, c, b = self.k, self.w, self.c, self.batch_size
        batches, d, a, eta, sum_sq = state.stream.batches(rng), state.d, state.a, state.eta, \
            state.sum_sq_grad
        x, x_prev, spent, it = state.x, state.x_prev, 0, 0
        while it == 0 or spent < calls:
            idx = batches.next()
            g = problem.batch_grad(x, idx)
            if d is None:
                d = g
                spent += b
            else:
                d = g + (1.0 - a) * (d - problem.batch_grad(x_prev, idx))
                spent += 2 * b
            sum_sq += float(g @ g)
            eta = gain / (w + sum_sq) ** (1.0 / 3.0)
            a = min(1.0, c * eta * eta)
            x_prev, x = x, x - eta * d
            it += 1
        return state.after(it, spent, x=x, x_prev=x_prev, d=d, a=a, eta=eta, sum_sq_grad=sum_sq,
                           stream=batches.stream())


# ----------------------------------------------------------------------- SpiderBoost
@dataclass(frozen=True, kw_only=True, eq=False)
class SpiderBoostState(State):
    """The batch stream, the estimator v_k, x_{k-1} and the full gradients computed."""

    stream: BatchStream
    v: np.ndarray | None = None
    x_prev: np.ndarray | None = None
    full_gradients: int = 0
    reported: ClassVar[tuple[str, ...]] = ("full_gradients",)


@dataclass(frozen=True, kw_only=True)
class SpiderBoost(Method):
    """SpiderBoost and Prox-SpiderBoost (Wang, Ji, Zhou, Liang, Tarokh 2019, Alg. 1 and 2).

        v_k = grad g(x_k)                                                 if k mod q = 0,
        v_k = (1/|S|) sum_{j in S} (grad f_j(x_k) - grad f_j(x_{k-1})) + v_{k-1}   otherwise,
        x_{k+1} = prox_{step h}(x_k - step v_k)

    (SARAH/SPIDER estimator, Nguyen et al. 2017, Fang et al. 2018; S drawn with
    replacement, fresh each iteration; the prox is the identity on smooth problems).
    Defaults: step = 1/(2 L_max), |S| = q = ceil(sqrt n). The paper's L bounds the
    smoothness of every component (E||grad f_j(x) - grad f_j(y)||^2 <= L^2 ||x - y||^2), so
    L_max is the constant of the paper's step 1/(2L). Rate (Wang et al. 2019, smooth and
    composite non-convex cases): E||G(x_zeta)||^2 = O(L (F(x_0) - F*) / K) for x_zeta
    uniform among the K iterates (G the gradient mapping), i.e. O(n + sqrt(n) / eps^2)
    oracle calls for E||G|| <= eps, near-optimal for finite sums. On strongly convex
    problems the constant step converges linearly (we report the last iterate). Oracle
    calls: n per full gradient, 2|S| per other iteration.
    """

    step: float | None = None
    batch_size: int | None = None
    q: int | None = None
    name: ClassVar[str] = "spiderboost"
    handles_prox: ClassVar[bool] = True

    def __post_init__(self):
        super().__post_init__()
        check_int("spiderboost: batch_size", self.batch_size, minimum=1, allow_none=True)
        check_int("spiderboost: q", self.q, minimum=1, allow_none=True)

    def resolve(self, problem):
        n = problem.n
        root = math.ceil(math.sqrt(n))
        b = check_batch_size(self.name, root if self.batch_size is None else self.batch_size, n)
        return dataclasses.replace(
            self, batch_size=b, q=int(self.q) if self.q is not None else root,
            step=float(self.step if self.step is not None else 0.5 / float(problem.L_max)))

    def init(self, problem, x0, rng):
        check_rng(self.name, rng)
        return SpiderBoostState(x=x0, stream=BatchStream(problem.n, self.batch_size))

    def advance(self, problem, state, rng, calls):
        s, b, q, prox, n = self.step, self.batch_size, self.q, problem.nonsmooth, problem.n
        batches, x, x_prev, v = state.stream.batches(rng), state.x, state.x_prev, state.v
        t, spent, it, full = state.iteration, 0, 0, state.full_gradients
        while it == 0 or spent < calls:
            if t % q == 0:
                v = problem.grad(x)
                spent += n
                full += 1
            else:
                idx = batches.next()
                v = problem.batch_grad(x, idx) - problem.batch_grad(x_prev, idx) + v
                spent += 2 * b
            x_new = x - s * v
            if prox:
                x_new = problem.prox(x_new, s)
            x_prev, x = x, x_new
            t += 1
            it += 1
        return state.after(it, spent, x=x, x_prev=x_prev, v=v, full_gradients=full,
                           stream=batches.stream())


__all__ = ["LSVRG", "SAG", "SAGA", "SARAH", "STORM", "SVRG", "SpiderBoost", "VarianceReduced"]
