"""Variance-reduced methods: SAG, SAGA, SVRG, loopless SVRG, SARAH, and Catalyst.

F = g + h, g = (1/n) sum_i f_i with f_i L_max-smooth, F mu-strongly convex, h handled by
its prox. One sample j is drawn uniformly per iteration; costs are oracle calls (component
gradients evaluated).

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
* Catalyst (Lin, Mairal, Harchaoui 2015; 2018): wraps any method; outer step k minimizes
  h_k(x) = F(x) + kappa ||x - y_{k-1}||^2/2 approximately (``inner_epochs`` passes of the
  inner method, warm-started at x_{k-1}), then y_k = x_k + beta_k (x_k - x_{k-1}) with
  alpha_k^2 = (1 - alpha_k) alpha_{k-1}^2 + q alpha_k, q = mu/(mu + kappa),
  beta_k = alpha_{k-1}(1 - alpha_{k-1})/(alpha_{k-1}^2 + alpha_k). Default kappa =
  L_max/(n + 1) - mu (or L_max/(n+1) when that is not positive): accelerated
  O((n + sqrt(n L_max/mu)) log 1/eps) up to log factors for SAGA/SVRG inner methods.

Sampling (SAGA, SVRG, loopless SVRG). ``sampling="uniform"`` draws j uniformly;
``"importance"`` draws j with p_j = 1/(2n) + L_j / (2 sum_i L_i) (half uniform, half
proportional to the component smoothness L_j, Schmidt et al. 2015) and reweights the
stochastic part by 1/(n p_j); the analyses then hold with L_max replaced by
L_Q = max_j L_j / (n p_j) <= 2 mean(L_j) (Xiao and Zhang 2014, Prox-SVRG, Sec. 3), which
matters when a few rows are much longer than the others (news20: L_max = 96407 against a
mean of 121). ``"auto"`` (default) takes importance sampling when L_max > 2 mean(L_j)
on a linear model, uniform otherwise.

On linear models (least squares, logistic) the first five run compiled loops with one
scalar per sample and lazy sparse updates (``descentlab.methods._linear_kernels``); on other
problems they go through the generic path built on ``batch_grad`` (memory of gradient
vectors for SAG/SAGA). ``lazy=False`` runs the dense reference recursion instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .._validation import check_choice, check_int, check_positive
from ..errors import DescentlabError
from ..problems.base import Problem
from ..problems.linear import LinearModel
from ..problems.proximal_term import ProximalTerm
from . import _linear_kernels as K
from ._sampling import alias_draw, alias_table
from .base import Method, State


# ------------------------------------------------------------------ linear view
@dataclass(eq=False)
class LinearView:
    """The arrays of a linear model that the compiled loops read."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    y: np.ndarray
    kind: int
    n: int
    d: int
    lam1: float
    lam2: float
    shift: np.ndarray = field(repr=False)
    #: index of the unpenalized intercept coordinate (-1: none) and its ridge weight
    free: int = -1
    lam2f: float = 0.0


def linear_view(problem: Problem) -> LinearView | None:
    """A LinearView of ``problem`` (a LinearModel, or a Catalyst subproblem of one), else None."""
    kappa, center = 0.0, None
    base = problem
    if isinstance(problem, ProximalTerm):
        base, kappa, center = problem.base, problem.kappa, problem.center
    if not isinstance(base, LinearModel):
        return None
    arrays = base.csr_arrays()
    kind = base._kernel_kind
    shift = np.zeros(base.dim) if center is None else -kappa * center.astype(np.float64)
    r = base.regularizer
    free = base.dim - 1 if base.fit_intercept else -1
    return LinearView(*arrays, base.y, kind, base.n, base.dim, r.lam1, r.lam2 + kappa, shift,
                      free, kappa)


def component_smoothness(problem: Problem) -> np.ndarray | None:
    """L_i of every component f_i of a linear model (or a Catalyst subproblem of one)."""
    base, extra = problem, 0.0
    if isinstance(problem, ProximalTerm):
        base, extra = problem.base, problem.kappa
    if not isinstance(base, LinearModel):
        return None
    return base.curvature_max * base.row_sq_norms() + base.regularizer.lam2 + extra


SAMPLINGS = ("auto", "uniform", "importance")


def _draw(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return rng.integers(0, n, size=k, dtype=np.int64)


class _VRMethod(Method):
    """Shared checks and state of the variance-reduced methods."""

    handles_prox: ClassVar[bool] = True

    def _common(self, problem, x0, rng, default_step: float) -> tuple[State, LinearView | None]:
        self._check_problem(problem)
        if problem.n < 2:
            raise DescentlabError(f"{self.name}: needs a finite sum with n >= 2 components, "
                                  f"the problem has n = {problem.n}")
        view = linear_view(problem)
        probs, L_eff = self._sampling_law(problem)
        step = self.step if self.step is not None else default_step(L_eff)
        state = State(problem, x0, params={"step": float(step), "rng": rng,
                                           "path": "compiled" if view else "generic",
                                           "sampling": "uniform" if probs is None
                                           else "importance", "L_Q": L_eff})
        state.params["probs"] = probs
        state.params["weights"] = np.ones(problem.n) if probs is None \
            else 1.0 / (problem.n * probs)
        if probs is not None:
            state.params["alias"] = alias_table(probs)
        if view is not None:
            state.params.update(view=view, last=np.zeros(problem.dim, dtype=np.int64))
        return state, view

    def _sampling_law(self, problem) -> tuple[np.ndarray | None, float]:
        """(probabilities or None for uniform, L_Q = max_j L_j / (n p_j))."""
        sampling = getattr(self, "sampling", "uniform")
        L_i = component_smoothness(problem)
        if sampling == "importance" and L_i is None:
            raise DescentlabError(f"{self.name}: sampling='importance' needs the component "
                                  "smoothness constants, known for linear models only")
        if L_i is None or sampling == "uniform" or \
                (sampling == "auto" and L_i.max() <= 2.0 * L_i.mean()):
            return None, problem.L_max
        n = problem.n
        probs = 0.5 / n + 0.5 * L_i / L_i.sum()
        return probs, float(np.max(L_i / (n * probs)))

    def _draw(self, state, k: int) -> np.ndarray:
        probs = state.params["probs"]
        if probs is None:
            return _draw(state.params["rng"], state.problem.n, k)
        return alias_draw(state.params["rng"], *state.params["alias"], k)

    def _init_memory(self, problem, x0, rng, default_step) -> State:
        """State of SAG/SAGA: the memory of every component gradient at x0 (n calls)."""
        state, view = self._common(problem, x0, rng, default_step)
        if view is not None:
            alpha, gbar = np.empty(problem.n), np.empty(problem.dim)
            K.full_pass(view.indptr, view.indices, view.data, view.y, view.kind, state.x,
                        alpha, gbar)
            state.params.update(alpha=alpha, gbar=gbar)
        else:
            table = np.stack([problem.batch_grad(state.x, np.array([i]))
                              for i in range(problem.n)])
            state.params.update(table=table, gmean=table.mean(axis=0))
        state.calls = problem.n
        return state


# ------------------------------------------------------------------------- SAGA
@dataclass(eq=False)
class SAGA(_VRMethod):
    """SAGA with prox (L1, elastic net); default step 1/(3 L_max)."""

    step: float | None = None
    lazy: bool = True
    sampling: str = "auto"
    name: ClassVar[str] = "saga"

    def __post_init__(self):
        super().__post_init__()
        check_choice("saga: sampling", self.sampling, SAMPLINGS)

    def init(self, problem, x0, rng):
        return self._init_memory(problem, x0, rng, lambda L_Q: 1.0 / (3.0 * L_Q))

    def advance(self, state, calls):
        p, prm = state.problem, state.params
        k = max(1, int(calls))
        samples = self._draw(state, k)
        step, weights = prm["step"], prm["weights"]
        if "view" in prm:
            v, x = prm["view"], state.x
            if self.lazy and v.lam1 == 0.0:
                K.saga_loop_smooth(v.indptr, v.indices, v.data, v.y, v.kind, x, prm["alpha"],
                                   prm["gbar"], v.shift, prm["last"], samples, weights,
                                   state.iteration, step, v.lam2, False, v.free, v.lam2f)
            else:
                K.saga_loop(v.indptr, v.indices, v.data, v.y, v.kind, x, prm["alpha"],
                            prm["gbar"], v.shift, prm["last"], samples, weights,
                            state.iteration, step, v.lam1, v.lam2, not self.lazy, v.free,
                            v.lam2f)
                K.catch_up(x, prm["last"], state.iteration + k, prm["gbar"], v.shift, step,
                           v.lam1, v.lam2, v.free, v.lam2f)
        else:
            x, table, gmean = state.x, prm["table"], prm["gmean"]
            for j in samples:
                g = p.batch_grad(x, np.array([j]))
                diff = g - table[j]
                x = p.prox(x - step * (weights[j] * diff + gmean), step)
                gmean += diff / p.n
                table[j] = g
            state.x = x
        state.iteration += k
        state.calls += k
        return state


# -------------------------------------------------------------------------- SAG
@dataclass(eq=False)
class SAG(_VRMethod):
    """SAG (smooth problems); default step 1/(16 L_max), memory initialized at x0."""

    step: float | None = None
    lazy: bool = True
    name: ClassVar[str] = "sag"
    handles_prox: ClassVar[bool] = False

    def init(self, problem, x0, rng):
        return self._init_memory(problem, x0, rng, lambda L_Q: 1.0 / (16.0 * L_Q))

    def advance(self, state, calls):
        p, prm = state.problem, state.params
        k = max(1, int(calls))
        samples = _draw(prm["rng"], p.n, k)
        step = prm["step"]
        if "view" in prm:
            v, x = prm["view"], state.x
            if self.lazy:
                K.saga_loop_smooth(v.indptr, v.indices, v.data, v.y, v.kind, x, prm["alpha"],
                                   prm["gbar"], v.shift, prm["last"], samples, prm["weights"],
                                   state.iteration, step, v.lam2, True, v.free, v.lam2f)
            else:
                K.sag_loop(v.indptr, v.indices, v.data, v.y, v.kind, x, prm["alpha"],
                           prm["gbar"], v.shift, prm["last"], samples, state.iteration, step,
                           v.lam2, True, v.free, v.lam2f)
                K.catch_up(x, prm["last"], state.iteration + k, prm["gbar"], v.shift, step,
                           0.0, v.lam2, v.free, v.lam2f)
        else:
            x, table, gmean = state.x, prm["table"], prm["gmean"]
            for j in samples:
                g = p.batch_grad(x, np.array([j]))
                gmean += (g - table[j]) / p.n
                table[j] = g
                x = x - step * gmean
            state.x = x
        state.iteration += k
        state.calls += k
        return state


# ------------------------------------------------------------------------- SVRG
@dataclass(eq=False)
class SVRG(_VRMethod):
    """SVRG with snapshots every ``epoch_length`` iterations (default 2n), last iterate.

    Oracle calls: n per snapshot; 1 per inner iteration on linear models (grad f_j(w) is kept
    as the scalar phi_j'(a_j . w)), 2 on the generic path (it is recomputed).
    """

    step: float | None = None
    epoch_length: int | None = None
    lazy: bool = True
    sampling: str = "auto"
    name: ClassVar[str] = "svrg"

    def __post_init__(self):
        super().__post_init__()
        check_choice(f"{self.name}: sampling", self.sampling, SAMPLINGS)

    @staticmethod
    def _default_step(L_Q: float) -> float:
        return 1.0 / (10.0 * L_Q)

    def _gap(self, state) -> int:
        return state.params["epoch_length"]

    def init(self, problem, x0, rng):
        state, _ = self._common(problem, x0, rng, self._default_step)
        m = 2 * problem.n if self.epoch_length is None else self.epoch_length
        m = check_int(f"{self.name}: epoch_length", m, minimum=1)
        state.params["epoch_length"] = m
        self._snapshot(state)
        state.params["to_go"] = self._gap(state)
        return state

    def _snapshot(self, state) -> None:
        p, prm = state.problem, state.params
        if "view" in prm:
            v = prm["view"]
            snap, mu = prm.setdefault("snap", np.empty(p.n)), prm.setdefault("mu", np.empty(p.dim))
            K.full_pass(v.indptr, v.indices, v.data, v.y, v.kind, state.x, snap, mu)
        else:
            prm["w"], prm["mu"] = state.x.copy(), p.grad(state.x)
        prm["snapshots"] = prm.get("snapshots", 0) + 1
        state.calls += p.n

    def advance(self, state, calls):
        p, prm = state.problem, state.params
        step, spent = prm["step"], 0
        while spent < calls:
            k = max(1, min(prm["to_go"], int(calls) - spent))
            samples, weights = self._draw(state, k), prm["weights"]
            if "view" in prm:
                v, x = prm["view"], state.x
                if self.lazy and v.lam1 == 0.0:
                    K.svrg_loop_smooth(v.indptr, v.indices, v.data, v.y, v.kind, x, prm["snap"],
                                       prm["mu"], v.shift, prm["last"], samples, weights,
                                       state.iteration, step, v.lam2, v.free, v.lam2f)
                else:
                    K.svrg_loop(v.indptr, v.indices, v.data, v.y, v.kind, x, prm["snap"],
                                prm["mu"], v.shift, prm["last"], samples, weights,
                                state.iteration, step, v.lam1, v.lam2, not self.lazy, v.free,
                                v.lam2f)
                    K.catch_up(x, prm["last"], state.iteration + k, prm["mu"], v.shift, step,
                               v.lam1, v.lam2, v.free, v.lam2f)
                cost = k
            else:
                x, w, mu = state.x, prm["w"], prm["mu"]
                for j in samples:
                    idx = np.array([j])
                    g = weights[j] * (p.batch_grad(x, idx) - p.batch_grad(w, idx)) + mu
                    x = p.prox(x - step * g, step)
                state.x = x
                cost = 2 * k
            state.iteration += k
            state.calls += cost
            spent += cost
            prm["to_go"] -= k
            if prm["to_go"] <= 0:
                self._snapshot(state)
                spent += p.n
                prm["to_go"] = self._gap(state)
        return state


@dataclass(eq=False)
class LSVRG(SVRG):
    """Loopless SVRG: the snapshot is refreshed with probability ``p`` (default 1/n) per
    iteration; default step 1/(6 L_max)."""

    step: float | None = None
    p: float | None = None
    lazy: bool = True
    sampling: str = "auto"
    epoch_length: int | None = None
    name: ClassVar[str] = "lsvrg"

    def __post_init__(self):
        super().__post_init__()
        if self.p is not None:
            check_positive("lsvrg: p", self.p)
            if self.p > 1:
                raise DescentlabError(f"lsvrg: p: expected a probability in (0, 1], got {self.p}")

    @staticmethod
    def _default_step(L_Q: float) -> float:
        return 1.0 / (6.0 * L_Q)

    def _gap(self, state) -> int:
        prob = self.p if self.p is not None else 1.0 / state.problem.n
        return int(state.params["rng"].geometric(prob))


# ------------------------------------------------------------------------ SARAH
@dataclass(eq=False)
class SARAH(_VRMethod):
    """SARAH (smooth problems): recursive gradient estimator restarted every ``epoch_length``
    iterations (default 2n) from the last iterate; default step 1/(2 L_max).
    Oracle calls: n per restart, 2 per inner iteration."""

    step: float | None = None
    epoch_length: int | None = None
    lazy: bool = True
    name: ClassVar[str] = "sarah"
    handles_prox: ClassVar[bool] = False

    def init(self, problem, x0, rng):
        state, _ = self._common(problem, x0, rng, lambda L_Q: 1.0 / (2.0 * L_Q))
        m = 2 * problem.n if self.epoch_length is None else self.epoch_length
        m = check_int("sarah: epoch_length", m, minimum=1)
        state.params["epoch_length"] = m
        self._restart(state)
        return state

    def _restart(self, state) -> None:
        """v_0 = grad g(w) at w = x (n calls), then the first step x_1 = w - step v_0."""
        p, prm = state.problem, state.params
        step = prm["step"]
        if "view" in prm:
            v = prm["view"]
            scal, g = np.empty(p.n), np.empty(p.dim)
            K.full_pass(v.indptr, v.indices, v.data, v.y, v.kind, state.x, scal, g)
            g += v.lam2 * state.x + v.shift
            if v.free >= 0:
                g[v.free] += (v.lam2f - v.lam2) * state.x[v.free]
            prm["v"] = g
            prm["last"][:] = state.iteration
        else:
            prm["v"] = p.grad(state.x)
        prm["x_prev"] = state.x.copy()
        state.x = state.x - step * prm["v"]
        state.calls += p.n
        state.iteration += 1
        prm["to_go"] = prm["epoch_length"] - 1

    def advance(self, state, calls):
        p, prm = state.problem, state.params
        step, spent = prm["step"], 0
        while spent < calls:
            if prm["to_go"] <= 0:
                self._restart(state)
                spent += p.n
                continue
            k = max(1, min(prm["to_go"], (int(calls) - spent + 1) // 2))
            samples = _draw(prm["rng"], p.n, k)
            if "view" in prm:
                v, x = prm["view"], state.x
                K.sarah_loop(v.indptr, v.indices, v.data, v.y, v.kind, x, prm["v"], v.shift,
                             prm["last"], samples, state.iteration, step, v.lam2,
                             not self.lazy, v.free, v.lam2f)
                K.sarah_catch_up(x, prm["v"], prm["last"], state.iteration + k, step, v.lam2,
                                 v.free, v.lam2f)
            else:
                x, x_prev, vec = state.x, prm["x_prev"], prm["v"]
                for j in samples:
                    idx = np.array([j])
                    vec = p.batch_grad(x, idx) - p.batch_grad(x_prev, idx) + vec
                    x_prev, x = x, x - step * vec
                state.x, prm["x_prev"], prm["v"] = x, x_prev, vec
            state.iteration += k
            state.calls += 2 * k
            spent += 2 * k
            prm["to_go"] -= k
        return state


# --------------------------------------------------------------------- Catalyst
@dataclass(eq=False)
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

            self.inner = get_method(self.inner)
        if not isinstance(self.inner, Method):
            raise DescentlabError(f"catalyst: inner: expected a method, got {self.inner!r}")
        check_positive("catalyst: kappa", self.kappa, allow_none=True)
        check_positive("catalyst: inner_epochs", self.inner_epochs)

    def init(self, problem, x0, rng):
        if problem.nonsmooth and not self.inner.handles_prox:
            raise DescentlabError(f"catalyst: the inner method {self.inner.name} cannot handle "
                                  "the non-smooth term; use saga, svrg or ista")
        mu, L_max, n = problem.mu, problem.L_max, problem.n
        kappa = self.kappa
        if kappa is None:
            kappa = L_max / (n + 1) - mu
            if kappa <= 0:
                kappa = L_max / (n + 1)
        q = mu / (mu + kappa)
        params = {"kappa": float(kappa), "q": q, "alpha": math.sqrt(q) if q > 0 else 1.0,
                  "inner": self.inner.name, "y": x0.copy(), "rng": rng, "outer": 0}
        return State(problem, x0, params=params)

    def advance(self, state, calls):
        p, prm = state.problem, state.params
        spent = 0
        while spent < calls:
            sub = ProximalTerm(p, prm["kappa"], prm["y"])
            inner_state = self.inner.init(sub, state.x.copy(), prm["rng"])
            inner_state = self.inner.advance(inner_state,
                                             max(1, int(round(self.inner_epochs * p.n))))
            x_new = np.array(inner_state.x, copy=True)
            a, q = prm["alpha"], prm["q"]
            a_new = 0.5 * ((q - a * a) + math.sqrt((q - a * a) ** 2 + 4 * a * a))
            beta = a * (1 - a) / (a * a + a_new)
            prm["y"] = x_new + beta * (x_new - state.x)
            prm["alpha"] = a_new
            state.x = x_new
            state.calls += inner_state.calls
            spent += inner_state.calls
            state.iteration += inner_state.iteration
            prm["outer"] += 1
        return state


__all__ = ["SAG", "SAGA", "SARAH", "SVRG", "Catalyst", "LSVRG", "LinearView", "linear_view"]
