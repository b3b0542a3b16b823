"""Momentum and acceleration: heavy ball, Nesterov, FISTA, Katyusha and Catalyst.

Notation: F = g + h with g = (1/n) sum_i f_i L-smooth (each f_i L_max-smooth) and F
mu-strongly convex (mu >= 0), h handled by its prox, kappa = L / mu. HeavyBall, Nesterov
and FISTA use one full gradient (n oracle calls) per iteration.

* ``HeavyBall``   x+ = x - a grad g(x) + b (x - x-)  (Polyak 1964). With mu > 0 the default
  is Polyak's tuning a = 4 / (sqrt L + sqrt mu)^2, b = ((sqrt kappa - 1)/(sqrt kappa + 1))^2,
  whose asymptotic rate on quadratics is (sqrt kappa - 1)/(sqrt kappa + 1) for
  ||x - x*||; it is a local result (no global guarantee on non-quadratic problems,
  Lessard, Recht, Packard 2016). With mu = 0: b = 1/2, a = (1 - b)/L, the range where
  Ghadimi, Feyzmahdavian, Johansson (2015) prove an O(1/t) rate for the averaged iterate.
* ``Nesterov``    y = x + beta_k (x - x-),  x+ = y - s grad g(y),  s = 1/L  (Nesterov 1983,
  2004). Convex variant beta_k = (k - 1)/(k + 2): F(x_k) - F* <= 2 L ||x0 - x*||^2 / (k+1)^2.
  Strongly convex variant beta = (sqrt kappa - 1)/(sqrt kappa + 1):
  F(x_k) - F* <= (1 - 1/sqrt kappa)^k (F0 - F* + mu ||x0 - x*||^2 / 2)
  (Nesterov 2004, Thm 2.2.3).
* ``FISTA``       x_k = prox_{s h}(y_k - s grad g(y_k)), t_{k+1} = (1 + sqrt(1 + 4 t_k^2))/2,
  y_{k+1} = x_k + ((t_k - 1)/t_{k+1}) (x_k - x_{k-1})  (Beck and Teboulle 2009):
  F(x_k) - F* <= 2 L ||x0 - x*||^2 / (k+1)^2. Optional adaptive restart (O'Donoghue and
  Candes 2015): 'gradient' resets t when (y_k - x_k) . (x_k - x_{k-1}) > 0, 'function'
  when F(x_k) > F(x_{k-1}).
* ``Katyusha``    loopless Katyusha, L-Katyusha (Kovalev, Horvath, Richtarik 2020, "Don't
  jump through hoops and remove those loops", Algorithm 2): accelerated variance reduction
  in O((n + sqrt(n L_max / mu)) log(1/eps)) iterations of 3 expected calls.
* ``Catalyst``    (Lin, Mairal, Harchaoui 2015; 2018): wraps any method; outer step k
  minimizes h_k(x) = F(x) + kappa ||x - y_{k-1}||^2/2 approximately (``inner_epochs`` passes
  of the inner method, warm-started at x_{k-1}), then y_k = x_k + beta_k (x_k - x_{k-1}) with
  alpha_k^2 = (1 - alpha_k) alpha_{k-1}^2 + q alpha_k, q = mu/(mu + kappa),
  beta_k = alpha_{k-1}(1 - alpha_{k-1})/(alpha_{k-1}^2 + alpha_k). Default kappa =
  L_max/(n + 1) - mu (or L_max/(n+1) when that is not positive): accelerated
  O((n + sqrt(n L_max/mu)) log 1/eps) up to log factors for SAGA/SVRG inner methods.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._compiled import stochastic as kernels
from .._compiled import variance_reduced as vr_kernels
from .._validation import check_choice, check_positive
from ..errors import DescentlabError
from ..problems.proximal_term import ProximalTerm
from .base import Method, State, check_unit_interval, iterations_for, proximal_methods
from .sampling import SAMPLINGS, SamplingLaw, check_rng, sampling_law


def _check_momentum(name: str, value: float | None) -> None:
    if value is not None and not (0.0 <= value < 1.0):
        raise DescentlabError(f"{name}: expected a momentum in [0, 1), got {value!r}")


@dataclass(frozen=True, kw_only=True, eq=False)
class MomentumState(State):
    """x and the previous iterate x_{k-1}."""

    x_prev: np.ndarray


# ------------------------------------------------------------------------ heavy ball
@dataclass(frozen=True, kw_only=True)
class HeavyBall(Method):
    """Polyak's heavy ball x+ = x - step grad F(x) + momentum (x - x-)."""

    step: float | None = None
    momentum: float | None = None
    name: ClassVar[str] = "heavy-ball"

    def __post_init__(self):
        super().__post_init__()
        _check_momentum("heavy-ball: momentum", self.momentum)

    def resolve(self, problem):
        self.check_problem(problem)
        L, mu = problem.L, problem.mu
        if mu > 0:
            step = 4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2
            b = ((math.sqrt(L) - math.sqrt(mu)) / (math.sqrt(L) + math.sqrt(mu))) ** 2
        else:
            b = 0.5
            step = (1.0 - b) / L
        return dataclasses.replace(self, step=step if self.step is None else self.step,
                                   momentum=b if self.momentum is None else self.momentum)

    def init(self, problem, x0, rng):
        return MomentumState(x=x0, x_prev=x0.copy())

    def advance(self, problem, state, rng, calls):
        s, b, x, x_prev = self.step, self.momentum, state.x, state.x_prev
        k = iterations_for(calls, problem.n)
        for _ in range(k):
            x, x_prev = x - s * problem.grad(x) + b * (x - x_prev), x
        return state.after(k, k * problem.n, x=x, x_prev=x_prev)


# -------------------------------------------------------------------------- Nesterov
@dataclass(frozen=True, kw_only=True)
class Nesterov(Method):
    """Nesterov's accelerated gradient; variant 'convex', 'strongly-convex' or 'auto'.

    'auto' takes the strongly convex variant when the problem reports mu > 0. ``momentum``
    fixes beta (default: the variant's, beta_k = (k - 1)/(k + 2) for 'convex').
    """

    step: float | None = None
    variant: str = "auto"
    momentum: float | None = None
    name: ClassVar[str] = "nesterov"

    def __post_init__(self):
        super().__post_init__()
        check_choice("nesterov: variant", self.variant, ("auto", "convex", "strongly-convex"))
        _check_momentum("nesterov: momentum", self.momentum)

    def resolve(self, problem):
        self.check_problem(problem)
        variant, beta = self.variant, self.momentum
        if variant == "auto":
            variant = "strongly-convex" if problem.mu > 0 else "convex"
        if variant == "strongly-convex":
            if problem.mu <= 0:
                raise DescentlabError("nesterov: variant='strongly-convex' needs mu > 0, "
                                      "the problem reports mu = 0")
            if beta is None:
                sk = math.sqrt(problem.L / problem.mu)
                beta = (sk - 1.0) / (sk + 1.0)
        return dataclasses.replace(self, step=1.0 / problem.L if self.step is None
                                   else self.step, variant=variant, momentum=beta)

    def init(self, problem, x0, rng):
        return MomentumState(x=x0, x_prev=x0.copy())

    def advance(self, problem, state, rng, calls):
        s, beta, x, x_prev = self.step, self.momentum, state.x, state.x_prev
        k = iterations_for(calls, problem.n)
        for i in range(state.iteration + 1, state.iteration + k + 1):
            b = (i - 1.0) / (i + 2.0) if beta is None else beta
            y = x + b * (x - x_prev)
            x, x_prev = y - s * problem.grad(y), x
        return state.after(k, k * problem.n, x=x, x_prev=x_prev)


# ----------------------------------------------------------------------------- FISTA
@dataclass(frozen=True, kw_only=True, eq=False)
class FISTAState(State):
    """t_k, the extrapolated point y_k, restarts so far, F(x_{k-1}) (function restart)."""

    y: np.ndarray
    t: float = 1.0
    restarts: int = 0
    f_prev: float | None = None
    reported: ClassVar[tuple[str, ...]] = ("restarts",)


@dataclass(frozen=True, kw_only=True)
class FISTA(Method):
    """FISTA with optional adaptive restart (None, 'gradient' or 'function')."""

    step: float | None = None
    restart: str | None = "gradient"
    name: ClassVar[str] = "fista"
    handles_prox: ClassVar[bool] = True

    def __post_init__(self):
        super().__post_init__()
        if self.restart in ("none", "None", ""):
            self._set(restart=None)
        check_choice("fista: restart", self.restart, (None, "gradient", "function"))

    def resolve(self, problem):
        return self if self.step is not None else dataclasses.replace(self, step=1.0 / problem.L)

    def init(self, problem, x0, rng):
        return FISTAState(x=x0, y=x0.copy(),
                          f_prev=problem.value(x0) if self.restart == "function" else None)

    def advance(self, problem, state, rng, calls):
        s, restart = self.step, self.restart
        x, t, y, f_prev, restarts = state.x, state.t, state.y, state.f_prev, state.restarts
        k = iterations_for(calls, problem.n)
        for _ in range(k):
            x_new = problem.prox(y - s * problem.grad(y), s)
            restarted = False
            if restart == "gradient":
                restarted = float((y - x_new) @ (x_new - x)) > 0.0
            elif restart == "function":
                f_new = problem.value(x_new)
                restarted, f_prev = f_new > f_prev, f_new
            if restarted:
                t, y = 1.0, x_new
                restarts += 1
            else:
                t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
                y = x_new + ((t - 1.0) / t_new) * (x_new - x)
                t = t_new
            x = x_new
        return state.after(k, k * problem.n, x=x, t=t, y=y, f_prev=f_prev, restarts=restarts)


# -------------------------------------------------------------------------- Katyusha
@dataclass(frozen=True, kw_only=True, eq=False)
class KatyushaState(State):
    """z_k, the snapshot w_k and grad g(w_k) (None before the first iteration), the block of
    pre-drawn indices and coin flips with the position in it, snapshots taken, the sampling
    law; on the compiled path ``snap`` holds the n scalars phi_j'(a_j . w_k), ``grad_w``
    the data part of grad g(w_k), ``tables`` the lazy loop's (M^t, S_t)."""

    z: np.ndarray
    w: np.ndarray
    grad_w: np.ndarray | None = None
    block_idx: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, np.int64))
    block_coin: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    pos: int = 0
    snapshots: int = 0
    law: SamplingLaw | None = None
    compiled: bool = False
    snap: np.ndarray | None = None
    tables: tuple | None = None
    reported: ClassVar[tuple[str, ...]] = ("snapshots",)

    def info(self):
        return {"path": "compiled" if self.compiled else "generic",
                "sampling": self.law.name, "L_Q": self.law.L_Q, **super().info()}


@dataclass(frozen=True, kw_only=True)
class Katyusha(Method):
    """Loopless Katyusha, L-Katyusha (Kovalev, Horvath, Richtarik 2020, Algorithm 2).

    With y_0 = w_0 = z_0 = x_0, i_k uniform in {1..n}, and s = eta / L the step on z:

        x_k     = theta1 z_k + theta2 w_k + (1 - theta1 - theta2) y_k
        g_k     = grad f_{i_k}(x_k) - grad f_{i_k}(w_k) + grad g(w_k)
        z_{k+1} = prox_{s' h}((z_k + s mu x_k - s g_k) / (1 + s mu)),   s' = s / (1 + s mu)
        y_{k+1} = x_k + theta1 (z_{k+1} - z_k)
        w_{k+1} = y_k with probability p (then grad g(w_{k+1}) is recomputed, n calls),
                  w_k otherwise.

    With h = 0 the z-step is the paper's z_{k+1} = (eta sigma x_k + z_k - (eta/L) g_k) /
    (1 + eta sigma), sigma = mu/L; with h != 0 it is the proximal z-step of L-Katyusha with
    arbitrary sampling (Qian, Qu, Richtarik 2019). ``state.x`` is y_k.

    Defaults (the paper's choice for uniform sampling of one index, whose
    expected smoothness is L_max, so that the paper's L is L_max here): sigma = mu/L_max,
    theta1 = min(sqrt(2 sigma n / 3), 1/2), theta2 = 1/2, p = 1/n,
    eta = theta2 / ((1 + theta2) theta1), i.e. step = eta / L_max. Rate: E[Psi_k] <= eps
    Psi_0 after O((n + sqrt(n L_max / mu)) log(1/eps)) iterations, the accelerated
    complexity (n + sqrt(n kappa)) log(1/eps) of seed 000 with kappa = L_max / mu, Psi a
    Lyapunov function combining ||z_k - x*||^2, F(y_k) - F* and F(w_k) - F*. Needs
    mu > 0: without strong convexity the defaults are undefined and a DescentlabError is
    raised unless both ``theta1`` and ``step`` are given (then sigma = 0 and no rate is
    claimed).
    Oracle calls: 2 per iteration, plus n for grad g(w_0) in the first iteration and each
    time w changes: 2 + p n = 3 per iteration on average. Randomness: blocks of n
    iterations, ``rng.integers(0, n, size=n)`` then ``rng.random(n)`` (the coin flips); with
    importance sampling the block's indices are ``SamplingLaw.draw(rng, n)``.

    Sampling (``sampling``: 'uniform', the default, 'importance', or 'auto' which takes
    importance sampling when L_max > 2 mean(L_j), as for SAGA): i_k drawn with
    p_j = 1/(2n) + L_j / (2 sum L_i) and the stochastic part reweighted by 1/(n p_j); the
    paper's L (the expected smoothness of the sampling, Qian, Qu, Richtarik 2019) is then
    L_Q = max_j L_j / (n p_j) <= 2 mean(L_j), which replaces L_max in every default above.

    Compiled path (linear models, ``problem.linear_view()`` not None): w is kept as n scalars
    phi_j'(a_j . w) and the data part of grad g(w), the L2 part of g_k is exact (not
    sampled, the same as the generic path under uniform sampling); with lam1 = 0 the loop is
    lazy (O(nnz of a row) per iteration, untouched coordinates follow a fixed 2 x 2 affine
    map caught up through its tabulated powers), with lam1 > 0 or ``lazy=False`` it is the
    dense compiled recursion. Other problems take the generic path through ``batch_grad``.
    """

    step: float | None = None
    theta1: float | None = None
    theta2: float | None = None
    p: float | None = None
    sampling: str = "uniform"
    lazy: bool = True
    name: ClassVar[str] = "katyusha"
    handles_prox: ClassVar[bool] = True

    def __post_init__(self):
        super().__post_init__()
        check_choice("katyusha: sampling", self.sampling, SAMPLINGS)
        if not isinstance(self.lazy, (bool, np.bool_)):
            raise DescentlabError(f"katyusha: lazy: expected True or False, got {self.lazy!r}")
        for key in ("theta1", "theta2", "p"):
            if getattr(self, key) is not None:
                self._set(**{key: check_unit_interval(f"katyusha: {key}", getattr(self, key),
                                                      open_left=True, closed_right=key == "p")})

    def resolve(self, problem):
        self.check_problem(problem)
        law = sampling_law(self.name, problem, self.sampling)
        n, mu, Lm = problem.n, float(problem.mu), float(law.L_Q)
        if mu <= 0 and (self.theta1 is None or self.step is None):
            raise DescentlabError(
                "katyusha: the default parameters need a strongly convex problem (mu > 0), "
                "the problem reports mu = 0; add an L2 term (reg='l2' or 'elasticnet' with "
                "lam > 0; with fit_intercept=True the logistic loss has mu = 0 whatever lam, "
                "along the unpenalized intercept) or give both theta1= and step=")
        sigma = mu / Lm
        theta1 = self.theta1 if self.theta1 is not None else \
            min(math.sqrt(2.0 * sigma * n / 3.0), 0.5)
        theta2 = self.theta2 if self.theta2 is not None else 0.5
        if theta1 + theta2 > 1.0:
            raise DescentlabError(f"katyusha: theta1, theta2: expected theta1 + theta2 <= 1, "
                                  f"got {theta1:g} + {theta2:g}")
        step = self.step if self.step is not None else \
            theta2 / ((1.0 + theta2) * theta1) / Lm
        prob = self.p if self.p is not None else 1.0 / n
        return dataclasses.replace(self, step=float(step), theta1=float(theta1),
                                   theta2=float(theta2), p=float(prob), sampling=law.name)

    def init(self, problem, x0, rng):
        check_rng(self.name, rng)
        law = sampling_law(self.name, problem, self.sampling)
        if problem.linear_view() is not None:
            return KatyushaState(x=x0, z=x0, w=x0, law=law, compiled=True)
        return KatyushaState(x=x0, z=x0, w=x0, law=law)

    def _advance_compiled(self, problem, state, rng, calls):
        v, n, law = problem.linear_view(), problem.n, state.law
        y, z, w = state.x.copy(), state.z.copy(), state.w.copy()
        gw, snap, spent = state.grad_w, state.snap, 0
        if gw is None:
            gw, snap = np.empty(problem.dim, dtype=y.dtype), np.empty(n)
            vr_kernels.full_pass(*v.rows, w, snap, gw)
            spent += n
        else:
            gw, snap = gw.copy(), snap.copy()
        idx, coin, pos = state.block_idx, state.block_coin, state.pos
        need = max(1, -(-(int(calls) - spent) // 2))  # iterations at most (2 calls each)
        if idx.size - pos < need:
            parts_i, parts_c = [idx[pos:]], [coin[pos:]]
            have = idx.size - pos
            while have < need:
                parts_i.append(law.draw(rng, n))
                parts_c.append(rng.random(n))
                have += n
            idx, coin, pos = np.concatenate(parts_i), np.concatenate(parts_c), 0
        mu, th1, th2, s = float(problem.mu), self.theta1, self.theta2, self.step
        args = (s, th1, th2, mu, self.p)
        tables, its, snapshots = state.tables, 0, state.snapshots
        if self.lazy and v.lam1 == 0.0:
            if tables is None:
                kmax = 2 * n + 2
                tables = (*kernels.katyusha_tables(kmax, s, th1, th2, mu, v.lam2),
                          *kernels.katyusha_tables(kmax, s, th1, th2, mu, v.lam2f))
            while its == 0 or spent < calls:
                pos, spent, it, sn = kernels.katyusha_lazy(
                    *v.rows, y, z, w, gw, snap, idx, coin, law.weights, pos, spent, calls,
                    *args, v.lam2, v.shift, v.free, v.lam2f, *tables)
                its, snapshots = its + it, snapshots + sn
        else:
            pos, spent, its, sn = kernels.katyusha_dense(
                *v.rows, y, z, w, gw, snap, idx, coin, law.weights, pos, spent, calls, *args,
                v.lam1, v.lam2, v.shift, v.free, v.lam2f)
            snapshots += sn
        return state.after(its, spent, x=y, z=z, w=w, grad_w=gw, snap=snap, block_idx=idx,
                           block_coin=coin, pos=pos, snapshots=snapshots, tables=tables)

    def advance(self, problem, state, rng, calls):
        if state.compiled:
            return self._advance_compiled(problem, state, rng, calls)
        s, th1, th2, prob = self.step, self.theta1, self.theta2, self.p
        n, mu, prox = problem.n, float(problem.mu), problem.nonsmooth
        th3 = 1.0 - th1 - th2
        denom, s_prox = 1.0 + s * mu, s / (1.0 + s * mu)
        y, z, w, gw = state.x, state.z, state.w, state.grad_w
        idx_block, coin_block, pos = state.block_idx, state.block_coin, state.pos
        spent, it, snapshots = 0, 0, state.snapshots
        weights = None if state.law.probs is None else state.law.weights
        if gw is None:  # the full gradient at w_0 = x_0, charged to the first iterations
            gw = problem.grad(w)
            spent += n
        while it == 0 or spent < calls:
            if pos == idx_block.size:
                idx_block = state.law.draw(rng, n)
                coin_block = rng.random(n)
                pos = 0
            i = idx_block[pos:pos + 1]
            switch = coin_block[pos] < prob
            pos += 1
            x = th1 * z + th2 * w + th3 * y if th3 else th1 * z + th2 * w
            g = problem.batch_grad(x, i) - problem.batch_grad(w, i)
            g = g + gw if weights is None else weights[i[0]] * g + gw
            z_new = (z + (s * mu) * x - s * g) / denom if mu else z - s * g
            if prox:
                z_new = problem.prox(z_new, s_prox)
            y_new = x + th1 * (z_new - z)
            spent += 2
            if switch:
                w = y
                gw = problem.grad(w)
                spent += n
                snapshots += 1
            y, z = y_new, z_new
            it += 1
        return state.after(it, spent, x=y, z=z, w=w, grad_w=gw, block_idx=idx_block,
                           block_coin=coin_block, pos=pos, snapshots=snapshots)


# -------------------------------------------------------------------------- Catalyst
@dataclass(frozen=True, kw_only=True, eq=False)
class CatalystState(State):
    """The extrapolated center y_k, alpha_k, q = mu/(mu + kappa), outer steps done."""

    y: np.ndarray
    alpha: float
    q: float
    outer: int = 0
    reported: ClassVar[tuple[str, ...]] = ("q", "alpha", "outer")


@dataclass(frozen=True, kw_only=True)
class Catalyst(Method):
    """Catalyst acceleration around any ``inner`` method (a Method or a registered name)."""

    inner: Method | str = "saga"
    kappa: float | None = None
    inner_epochs: float = 1.0
    name: ClassVar[str] = "catalyst"
    handles_prox: ClassVar[bool] = True
    step_param: ClassVar[str] = "kappa"

    def __post_init__(self):
        if isinstance(self.inner, str):
            from . import get_method

            try:
                self._set(inner=get_method(self.inner))
            except DescentlabError as exc:
                raise DescentlabError(f"{self.name}: inner: {exc}") from None
        if not isinstance(self.inner, Method):
            raise DescentlabError(f"{self.name}: inner: expected a method, got {self.inner!r}")
        check_positive(f"{self.name}: kappa", self.kappa, allow_none=True)
        check_positive(f"{self.name}: inner_epochs", self.inner_epochs)

    def resolve(self, problem):
        if problem.nonsmooth and not self.inner.handles_prox:
            usable = ", ".join(m for m in proximal_methods() if m != self.name)
            raise DescentlabError(f"{self.name}: the inner method {self.inner.name} cannot handle "
                                  f"the non-smooth term; use one of {usable}")
        self.inner.resolve(problem)  # its other checks (n >= 2, batch sizes) before the run
        if self.kappa is not None:
            return self
        kappa = problem.L_max / (problem.n + 1) - problem.mu
        if kappa <= 0:
            kappa = problem.L_max / (problem.n + 1)
        return dataclasses.replace(self, kappa=float(kappa))

    def proximal_point(self, problem, center, x0, rng, calls: int, done=None,
                       rounds: int = 1) -> State:
        """The inner method's state after about ``calls`` oracle calls on
        F + kappa ||x - center||^2 / 2, started at ``x0`` (the approximate proximal point).

        With ``done(subproblem, state) -> bool``, up to ``rounds`` such budgets until it holds
        (its own cost is the caller's to count)."""
        sub = ProximalTerm(problem, self.kappa, center)
        inner = self.inner.resolve(sub)
        state = inner.advance(sub, inner.init(sub, x0, rng), rng, calls)
        for _ in range(rounds - 1):
            if done is None or done(sub, state):
                break
            state = inner.advance(sub, state, rng, calls)
        return state

    def init(self, problem, x0, rng):
        q = problem.mu / (problem.mu + self.kappa)
        return CatalystState(x=x0, y=x0.copy(), q=q, alpha=math.sqrt(q) if q > 0 else 1.0)

    def advance(self, problem, state, rng, calls):
        x, y, a, q = state.x, state.y, state.alpha, state.q
        inner_calls = max(1, int(round(self.inner_epochs * problem.n)))
        spent, iterations, outer = 0, 0, state.outer
        while spent < calls:
            inner_state = self.proximal_point(problem, y, x.copy(), rng, inner_calls)
            x_new = np.array(inner_state.x, copy=True)
            a_new = 0.5 * ((q - a * a) + math.sqrt((q - a * a) ** 2 + 4 * a * a))
            beta = a * (1 - a) / (a * a + a_new)
            y = x_new + beta * (x_new - x)
            a, x = a_new, x_new
            spent += inner_state.calls
            iterations += inner_state.iteration
            outer += 1
        return state.after(iterations, spent, x=x, y=y, alpha=a, outer=outer)


__all__ = ["FISTA", "Catalyst", "HeavyBall", "Katyusha", "Nesterov"]
