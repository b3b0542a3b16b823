"""Quasi-Newton and Newton-type methods: L-BFGS, OWL-QN, truncated Newton (Newton-CG), QNing.

F = g + h with g smooth, h = lam1 ||x||_1 (OWL-QN) or 0. Oracle calls: one evaluation of g
and its gradient (or of g and its derivative at a line-search trial point) costs n calls, as
a full gradient; one Hessian-vector product costs n calls too (it is two passes over the
data, like a gradient).

* ``LBFGS`` (Nocedal 1980; Liu and Nocedal 1989; Nocedal and Wright, *Numerical
  Optimization*, 2nd ed., Alg. 7.4 (two-loop recursion) and 7.5): d_k = -H_k grad g(x_k)
  with H_k the limited-memory BFGS matrix of the last m pairs s_i = x_{i+1} - x_i,
  y_i = grad g(x_{i+1}) - grad g(x_i) (pairs with s.y <= 1e-10 ||s|| ||y|| are skipped),
  H_k^0 = (s.y / y.y) I (Eq. 7.20); x_{k+1} = x_k + t_k d_k with t_k satisfying the strong
  Wolfe conditions (c1 = 1e-4, c2 = 0.9), found by :func:`wolfe_line_search` (N&W Alg. 3.5
  and 3.6, cubic interpolation), first trial t = 1 (t = 1/||grad||_2 at the first
  iteration). Smooth problems only.
* ``OWLQN`` (Andrew and Gao 2007, "Scalable training of L1-regularized log-linear
  models", Alg. 1): L-BFGS on F = g + lam1 ||x||_1 through the pseudo-gradient
  pg_j = g_j + lam1 sign(x_j) (x_j != 0), g_j +- lam1 (x_j = 0, whichever side is a
  descent direction, else 0); d = -H pg with the components that disagree in sign with
  -pg zeroed; backtracking (t <- t/2) on the projected path x(t) = pi(x + t d; xi), pi
  zeroes the coordinates that leave the orthant xi (xi_j = sign(x_j), or sign(-pg_j) at
  zero), until F(x(t)) <= F(x) + c1 pg.(x(t) - x); the memory holds smooth gradients.
  Linear models with an L1 term (reg "l1", "elasticnet"; lam1 = 0 makes it L-BFGS).
* ``NewtonCG`` (truncated / inexact Newton, Dembo, Eisenstat, Steihaug 1982; N&W Alg. 7.1;
  the line-search variant of liblinear's Newton solver, Galli and Lin 2021): solve
  H_k d = -grad g(x_k) by conjugate gradients on Hessian-vector products up to the
  relative residual eta_k = min(0.5, sqrt(||grad g(x_k)||)) (superlinear convergence,
  N&W Thm 7.2), then the strong-Wolfe line search from t = 1. Smooth linear models
  (least squares, logistic). By default CG is preconditioned by the diagonal of H,
  (X * X)^T phi''(X x) / n + lam2 (one pass over X * X per Newton step, charged n calls;
  ``precondition=False`` for plain CG): over a9a and w8a with L2 lam = 1e-4 and 1/n it
  needs 413 epochs in total to reach 1e-8, plain CG 510 (Galli and Lin's mixtures of
  this diagonal with the identity needed 518-530).
* ``QNing`` (Lin, Mairal, Harchaoui 2019, "An inexact variable metric proximal point
  algorithm for generic quasi-Newton acceleration", SIAM J. Optim., Alg. 1): L-BFGS on the
  Moreau envelope F_kappa(x) = min_z F(z) + kappa ||z - x||^2 / 2, whose gradient
  kappa (x - p(x)) needs the proximal point p(x), computed approximately by an inner method
  (Catalyst's subproblem solver, warm started, ``inner_epochs`` passes). A quasi-Newton
  trial x + d is accepted when the approximate envelope decreases by ||grad||^2 / (4 kappa),
  else x moves to the proximal point (a gradient step 1/kappa on F_kappa).

On linear models (least squares, logistic) g is evaluated through the margins z = X x: the
state keeps z, a line search along d computes q = X d once, and every trial t costs one
O(n) compiled pass over z + t q (``descentlab._compiled.quasi_newton``); the gradient is
X^T phi'(z) / n + lam2 x at the accepted point only. Other problems use ``problem.value`` /
``problem.grad`` (the generic path). A line search that cannot decrease F (at the rounding
level of F, near the optimum) resets the memory and tries the steepest direction; if that
fails too the state is ``stalled`` (``info()["stalled"]``) and ``advance`` returns at once
(no oracle calls) from then on.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from .._compiled import quasi_newton as kernels
from .._validation import check_int, check_positive
from ..errors import DescentlabError
from ..problems.linear import LinearModel
from .accelerated import Catalyst
from .base import Method, State

#: Armijo and curvature constants of the strong Wolfe conditions (N&W, Sec. 3.1)
C1, C2 = 1e-4, 0.9
#: relative rounding allowance of F in the sufficient-decrease tests
ROUNDING = 1e-13
MAX_TRIALS = 30


# ------------------------------------------------------------------------ line search
@dataclass(frozen=True)
class LineSearchResult:
    """A step t with phi(t), phi'(t), the number of evaluations, and whether it satisfies the
    strong Wolfe conditions (``ok``; else t is the best point seen, possibly 0)."""

    t: float
    f: float
    df: float
    evaluations: int
    ok: bool


def _cubic_min(a, fa, dfa, b, fb, dfb):
    """Minimizer of the cubic interpolating (a, fa, dfa), (b, fb, dfb) (N&W Eq. 3.59), or None."""
    d1 = dfa + dfb - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - dfa * dfb
    if not disc >= 0.0:
        return None
    d2 = math.copysign(math.sqrt(disc), b - a)
    denom = dfb - dfa + 2.0 * d2
    if denom == 0.0:
        return None
    t = b - (b - a) * (dfb + d2 - d1) / denom
    return t if math.isfinite(t) else None


def wolfe_line_search(phi, f0: float, df0: float, t0: float = 1.0, *, c1: float = C1,
                      c2: float = C2, max_evals: int = MAX_TRIALS,
                      rounding: float = ROUNDING) -> LineSearchResult:
    """A step satisfying the strong Wolfe conditions for phi(t) = F(x + t d), df0 < 0:

        phi(t) <= f0 + c1 t df0 (+ rounding |f0|),   |phi'(t)| <= c2 |df0|.

    Nocedal and Wright, Alg. 3.5 (bracketing, the trial doubles) and 3.6 (zoom by safeguarded
    cubic interpolation, bisection when the cubic falls outside the middle 80% of the
    bracket). ``phi(t)`` returns (phi(t), phi'(t)). ``rounding`` relaxes the sufficient
    decrease by rounding |f0| (Hager and Zhang's approximate Wolfe idea): near the optimum F
    changes below its own rounding and the exact test would reject every step; the
    curvature condition is kept exact. At most ``max_evals`` evaluations; on failure ``ok``
    is False and t is the lowest point seen with phi(t) < f0 (or 0).
    """
    slack = rounding * abs(f0)
    best = (0.0, f0, df0)

    def armijo(t, f):
        return f <= f0 + c1 * t * df0 + slack

    def record(t, f, df):
        nonlocal best
        if f < best[1]:
            best = (t, f, df)

    evals = 0
    t_prev, f_prev, df_prev = 0.0, f0, df0
    t = t0
    lo = hi = None
    while evals < max_evals:
        f, df = phi(t)
        evals += 1
        if not math.isfinite(f):  # overflow: shrink the step
            t = 0.5 * (t_prev + t)
            continue
        record(t, f, df)
        if not armijo(t, f) or (evals > 1 and f >= f_prev):
            lo, hi = (t_prev, f_prev, df_prev), (t, f, df)
            break
        if abs(df) <= -c2 * df0:
            return LineSearchResult(t, f, df, evals, True)
        if df >= 0.0:
            lo, hi = (t, f, df), (t_prev, f_prev, df_prev)
            break
        t_prev, f_prev, df_prev = t, f, df
        t = 2.0 * t
    while lo is not None and evals < max_evals:
        (a, fa, dfa), (b, fb, dfb) = lo, hi
        width = b - a
        t = _cubic_min(a, fa, dfa, b, fb, dfb)
        left, right = min(a, b), max(a, b)
        margin = 0.1 * abs(width)
        if t is None or not (left + margin <= t <= right - margin):
            t = 0.5 * (a + b)
        if t == a or t == b:
            break
        f, df = phi(t)
        evals += 1
        if not math.isfinite(f):
            hi = (t, math.inf, 0.0)
            continue
        record(t, f, df)
        if not armijo(t, f) or f >= fa:
            hi = (t, f, df)
        else:
            if abs(df) <= -c2 * df0:
                return LineSearchResult(t, f, df, evals, True)
            if df * (b - a) >= 0.0:
                hi = lo
            lo = (t, f, df)
    t, f, df = best
    return LineSearchResult(t, f, df, evals, False)


# --------------------------------------------------------------------------- memory
class LBFGSMemory:
    """The last m pairs (s_i, y_i) and the two-loop recursion (N&W Alg. 7.4).

    Mutable on purpose (it lives inside a method's state and is updated in place)."""

    def __init__(self, m: int, dim: int):
        self.m = m
        self.S = np.zeros((m, dim))
        self.Y = np.zeros((m, dim))
        self.rho = np.zeros(m)
        self.alpha = np.zeros(m)
        self.count = 0  # pairs stored (<= m)
        self.head = 0  # slot of the next pair
        self.gamma = 1.0

    def reset(self) -> None:
        self.count = self.head = 0
        self.gamma = 1.0

    def update(self, s: np.ndarray, y: np.ndarray) -> bool:
        """Store the pair when s.y > 1e-10 ||s|| ||y|| (BFGS keeps H positive definite)."""
        sy = float(s @ y)
        yy = float(y @ y)
        if not (sy > 1e-10 * math.sqrt(float(s @ s) * yy)):
            return False
        k = self.head
        self.S[k] = s
        self.Y[k] = y
        self.rho[k] = 1.0 / sy
        self.gamma = sy / yy
        self.head = (k + 1) % self.m
        self.count = min(self.count + 1, self.m)
        return True

    def direction(self, g: np.ndarray) -> np.ndarray:
        """-H g by the two-loop recursion, H^0 = gamma I (gamma = s.y / y.y of the newest)."""
        q = np.array(g, dtype=np.float64, copy=True)
        order = [(self.head - 1 - i) % self.m for i in range(self.count)]  # newest first
        S, Y, rho, alpha = self.S, self.Y, self.rho, self.alpha
        for k in order:
            alpha[k] = rho[k] * float(S[k] @ q)
            q -= alpha[k] * Y[k]
        q *= self.gamma
        for k in reversed(order):
            beta = rho[k] * float(Y[k] @ q)
            q += (alpha[k] - beta) * S[k]
        q *= -1.0
        return q


# --------------------------------------------------------------------------- oracles
class _LinearOracle:
    """g(x) = (1/n) sum_i phi(a_i . x, y_i) + lam2 ||x||^2 / 2 (0 on the intercept) through
    the margins z = X x, in float64."""

    path = "linear"

    def __init__(self, problem: LinearModel):
        self.X = problem.X
        self.Xt = problem.X.T
        self.y = np.asarray(problem.y, dtype=np.float64)
        self.code = int(problem.loss_code)
        self.n = problem.n
        self.diag = problem.regularizer.smooth_diag(problem.dim)
        self.problem = problem

    def margins(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.X @ x, dtype=np.float64)

    def at(self, x: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
        """(g(x), grad g(x)) from the margins z = X x."""
        f, r = self.value_residual(x, z)
        return f, self.gradient(x, r)

    def value_residual(self, x: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
        """(g(x), r) with r_i = phi'(z_i): one O(n) pass, no pass over the data."""
        r = np.empty(self.n)
        total = kernels.loss_and_residual(z, self.y, self.code, r)
        return total / self.n + 0.5 * float(self.diag * x @ x), r

    def gradient(self, x: np.ndarray, r: np.ndarray) -> np.ndarray:
        """grad g(x) = X^T r / n + lam2 x from the residuals r = phi'(X x)."""
        g = np.asarray(self.Xt @ r, dtype=np.float64)
        g /= self.n
        g += self.diag * x
        return g

    def hessian_weights(self, z: np.ndarray) -> np.ndarray:
        """phi''(z_i): H = X^T diag(w) X / n + diag(lam2)."""
        return kernels.curvature(z, self.y, self.code, np.empty(self.n))

    def hessp(self, w: np.ndarray, v: np.ndarray) -> np.ndarray:
        """H v = X^T (w * X v) / n + lam2 v (two passes over the data)."""
        hv = np.asarray(self.Xt @ (w * (self.X @ v)), dtype=np.float64)
        hv /= self.n
        hv += self.diag * v
        return hv

    def hessian_diagonal(self, w: np.ndarray) -> np.ndarray:
        """diag(H) = (X * X)^T w / n + lam2 (X * X built once)."""
        sq = getattr(self, "_sq", None)
        if sq is None:
            sq = self._sq = (self.X.multiply(self.X).tocsr() if sp.issparse(self.X)
                             else self.X * self.X).T
        return np.asarray(sq @ w, dtype=np.float64) / self.n + self.diag

    def ray(self, x: np.ndarray, z: np.ndarray, d: np.ndarray):
        """(q = X d, phi) with phi(t) = (g(x + t d), d/dt g(x + t d)), one O(n) pass each;
        ``phi.last`` holds (t, residuals phi'(z + t q)) of the latest trial."""
        q = np.asarray(self.X @ d, dtype=np.float64)
        diag_d = self.diag * d
        xx, xd, dd = float(self.diag * x @ x), float(diag_d @ x), float(diag_d @ d)
        y, code, inv_n = self.y, self.code, 1.0 / self.n
        r = np.empty(self.n)

        def phi(t):
            total, slope = kernels.loss_along_ray(z, q, y, code, t, r)
            phi.last = t
            return (total * inv_n + 0.5 * (xx + 2.0 * t * xd + t * t * dd),
                    slope * inv_n + xd + t * dd)

        phi.last = None
        phi.residual = r
        return q, phi


class _GenericOracle:
    """g and grad g through ``problem.smooth_value`` and ``problem.grad``."""

    path = "generic"

    def __init__(self, problem):
        self.problem = problem

    def margins(self, x):
        return None

    def at(self, x, z):
        p = self.problem
        return float(p.smooth_value(x)), np.asarray(p.grad(x), dtype=np.float64)


def _oracle(problem):
    if isinstance(problem, LinearModel):
        return _LinearOracle(problem)
    return _GenericOracle(problem)


def _search(oracle, x, z, f, g, d, t0):
    """Strong-Wolfe search along d from x.

    Returns None when d is not a descent direction, else (result, x_new, z_new, f_new,
    g_new, evaluations): the new point (x itself when no trial decreased g), and the
    evaluations spent, n oracle calls each (every trial; on the linear path also the gradient
    of a point that is not the last trial)."""
    df0 = float(g @ d)
    if not df0 < 0.0:
        return None
    if isinstance(oracle, _LinearOracle):
        q, phi = oracle.ray(x, z, d)
        res = wolfe_line_search(phi, f, df0, t0)
        if res.t == 0.0:
            return res, x, z, f, g, res.evaluations
        x_new = x + res.t * d
        z_new = z + res.t * q
        if phi.last == res.t:  # the accepted step is the last trial: its residuals are there
            f_new, g_new = res.f, oracle.gradient(x_new, phi.residual)
            return res, x_new, z_new, f_new, g_new, res.evaluations
        f_new, g_new = oracle.at(x_new, z_new)
        return res, x_new, z_new, f_new, g_new, res.evaluations + 1
    cache = {}

    def phi(t):
        xt = x + t * d
        ft, gt = oracle.at(xt, None)
        cache[t] = (xt, ft, gt)
        return ft, float(gt @ d)

    res = wolfe_line_search(phi, f, df0, t0)
    if res.t == 0.0:
        return res, x, z, f, g, res.evaluations
    x_new, f_new, g_new = cache[res.t]
    return res, x_new, None, f_new, g_new, res.evaluations


# ----------------------------------------------------------------------------- states
@dataclass(frozen=True, kw_only=True, eq=False)
class QuasiNewtonState(State):
    """x with g(x) (``f``) and grad g(x) (``g``), the margins z = X x on linear models, the
    L-BFGS memory, function evaluations so far, and whether the line search has stalled."""

    f: float
    g: np.ndarray
    z: np.ndarray | None
    memory: LBFGSMemory | None = None
    path: str = "generic"
    evaluations: int = 0
    resets: int = 0
    stalled: bool = False
    #: the evaluator of g on this problem (margins, caches), built by ``init``
    oracle: object = dataclasses.field(default=None, repr=False)
    reported: ClassVar[tuple[str, ...]] = ("path", "evaluations", "resets", "stalled")


def _check_memory(name: str, memory) -> int:
    return check_int(f"{name}: memory", memory, minimum=1)


def _init_state(oracle, problem, x0) -> QuasiNewtonState:
    x = np.asarray(x0, dtype=np.float64)
    z = oracle.margins(x)
    f, g = oracle.at(x, z)
    return QuasiNewtonState(x=x, f=f, g=g, z=z, path=oracle.path, evaluations=1,
                            calls=problem.n, oracle=oracle)


# ------------------------------------------------------------------------------ L-BFGS
@dataclass(frozen=True, kw_only=True)
class LBFGS(Method):
    """Limited-memory BFGS with a strong-Wolfe line search (see the module docstring).

    ``memory`` m (default 10, N&W's 3-20 range, scipy's L-BFGS-B uses 10). Per iteration: the
    two-loop recursion (4 m d flops), one line search whose trials cost n calls each
    (usually one trial: t = 1 is accepted). State: x, g(x), grad g(x), the margins X x on
    linear models, m pairs (s, y).
    """

    memory: int = 10
    name: ClassVar[str] = "lbfgs"

    def __post_init__(self):
        self._set(memory=_check_memory(self.name, self.memory))

    def init(self, problem, x0, rng):
        oracle = _oracle(problem)
        state = _init_state(oracle, problem, x0)
        return dataclasses.replace(state, memory=LBFGSMemory(self.memory, problem.dim))

    def advance(self, problem, state, rng, calls):
        if state.stalled:
            return state
        oracle = state.oracle
        x, z, f, g, mem = state.x, state.z, state.f, state.g, state.memory
        spent = its = evals = 0
        resets, stalled = state.resets, False
        while its == 0 or spent < calls:
            first = mem.count == 0
            d = mem.direction(g)
            t0 = 1.0 if not first else min(1.0, 1.0 / max(float(np.linalg.norm(g)), 1e-300))
            out = _search(oracle, x, z, f, g, d, t0)
            if out is not None:
                spent += problem.n * out[-1]
                evals += out[-1]
            if out is None or out[0].t == 0.0:  # no decrease along d
                if first:
                    stalled = True
                    break
                mem.reset()  # retry from the steepest direction
                resets += 1
                continue
            res, x_new, z_new, f_new, g_new, _ = out
            mem.update(x_new - x, g_new - g)
            x, z, f, g = x_new, z_new, f_new, g_new
            its += 1
            if not np.any(g):
                stalled = True  # exactly stationary
                break
        return state.after(its, spent, x=x, z=z, f=f, g=g, evaluations=state.evaluations + evals,
                           resets=resets, stalled=stalled)



# ------------------------------------------------------------------------------ OWL-QN
def _check_linear(name: str, problem, *, smooth: bool) -> None:
    """The methods built on a linear model's margins refuse other problems."""
    if not isinstance(problem, LinearModel):
        kind = "LeastSquares or Logistic" if smooth else \
            "LeastSquares or Logistic, reg='l1' or 'elasticnet'"
        other = "lbfgs" if smooth else "fista or another proximal method"
        raise DescentlabError(f"{name}: needs a linear model ({kind}), got "
                              f"{type(problem).__name__}; use {other}")


def pseudo_gradient(x: np.ndarray, g: np.ndarray, w1: np.ndarray) -> np.ndarray:
    """The minimum-norm subgradient of g + sum_j w1_j |x_j| (Andrew and Gao 2007, Eq. 4):
    g_j + w1_j sign(x_j) where x_j != 0; at x_j = 0, g_j + w1_j if it is negative,
    g_j - w1_j if it is positive, else 0."""
    pg = g + w1 * np.sign(x)
    zero = x == 0.0
    if zero.any():
        gz, wz = g[zero], w1[zero]
        pg[zero] = np.where(gz + wz < 0.0, gz + wz, np.where(gz - wz > 0.0, gz - wz, 0.0))
    return pg


@dataclass(frozen=True, kw_only=True)
class OWLQN(Method):
    """Orthant-wise limited-memory quasi-Newton for g + lam1 ||x||_1 (module docstring).

    Andrew and Gao (2007), Algorithm 1, with ``memory`` m = 10 pairs of smooth-gradient
    differences, backtracking t <- t/2 from t = 1 (t = 1/||pg||_2 when the memory is empty)
    with c1 = 1e-4 on the projected path. Per iteration: the two-loop recursion and one
    trial per backtracking step, each one evaluation (n oracle calls: X x(t) and the loss),
    the gradient at the accepted point included. State: x, g(x), grad g(x), X x, the memory.
    Linear models only (the L1 weight is the problem's lam1; an intercept is not
    penalized). Convergence: Andrew and Gao's Thm 1 (any limit point is optimal; Gong and Ye
    2015 repair a gap in its proof).
    """

    memory: int = 10
    name: ClassVar[str] = "owlqn"
    handles_prox: ClassVar[bool] = True

    def __post_init__(self):
        self._set(memory=_check_memory(self.name, self.memory))

    def resolve(self, problem):
        self.check_problem(problem)
        _check_linear(self.name, problem, smooth=False)
        return self

    def init(self, problem, x0, rng):
        state = _init_state(_oracle(problem), problem, x0)
        return dataclasses.replace(state, memory=LBFGSMemory(self.memory, problem.dim))

    def advance(self, problem, state, rng, calls):
        if state.stalled:
            return state
        oracle, mem, n = state.oracle, state.memory, problem.n
        w1 = np.full(problem.dim, problem.regularizer.lam1)
        if problem.fit_intercept:
            w1[-1] = 0.0
        penalized = w1 > 0.0
        x, z, f, g = state.x, state.z, state.f, state.g
        F = f + float(w1 @ np.abs(x))
        spent = its = evals = 0
        resets, stalled = state.resets, False
        while its == 0 or spent < calls:
            pg = pseudo_gradient(x, g, w1)
            if not np.any(pg):
                stalled = True  # exactly optimal
                break
            first = mem.count == 0
            d = mem.direction(pg)
            wrong = d * pg >= 0.0  # components that do not descend along -pg
            d[wrong & (x == 0.0)] = 0.0  # the orthant of a zero coordinate is sign(-pg)
            if not float(d @ pg) < 0.0:
                d[wrong] = 0.0  # Andrew and Gao's projection of d onto the sign of -pg
            xi = np.where(x != 0.0, np.sign(x), -np.sign(pg))
            t = 1.0 if not first else 1.0 / float(np.linalg.norm(pg))
            slack = ROUNDING * abs(F)
            accepted = None
            for _ in range(MAX_TRIALS):
                xt = x + t * d
                xt[penalized & (np.sign(xt) != xi)] = 0.0
                zt = oracle.margins(xt)
                ft, rt = oracle.value_residual(xt, zt)
                Ft = ft + float(w1 @ np.abs(xt))
                spent += n
                evals += 1
                if Ft <= F + C1 * float(pg @ (xt - x)) + slack and Ft <= F + slack:
                    accepted = (xt, zt, ft, Ft, oracle.gradient(xt, rt))
                    break
                t *= 0.5
            if accepted is None or not np.any(accepted[0] != x):
                if first:
                    stalled = True
                    break
                mem.reset()
                resets += 1
                continue
            xt, zt, ft, Ft, gt = accepted
            mem.update(xt - x, gt - g)
            x, z, f, F, g = xt, zt, ft, Ft, gt
            its += 1
        return state.after(its, spent, x=x, z=z, f=f, g=g, evaluations=state.evaluations + evals,
                           resets=resets, stalled=stalled)


# --------------------------------------------------------------------------- Newton-CG
def conjugate_gradient(hessp, g: np.ndarray, rtol: float, max_iter: int,
                       precond: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """d with ||H d + g|| <= rtol ||g|| by (preconditioned) CG from d = 0 (N&W Alg. 5.3 /
    7.1): stops at max_iter products, or at a direction of non-positive curvature (then the
    last d, or -g at the first product). Returns (d, Hessian-vector products)."""
    d = np.zeros_like(g)
    r = g.copy()  # residual H d + g
    y = r / precond if precond is not None else r
    p = -y
    ry = float(r @ y)
    target = rtol * float(np.linalg.norm(g))
    for k in range(1, max_iter + 1):
        hp = hessp(p)
        curv = float(p @ hp)
        if curv <= 0.0:
            return (-g if k == 1 else d), k
        a = ry / curv
        d += a * p
        r += a * hp
        if float(np.linalg.norm(r)) <= target:
            return d, k
        y = r / precond if precond is not None else r
        ry_new = float(r @ y)
        p = -y + (ry_new / ry) * p
        ry = ry_new
    return d, max_iter


@dataclass(frozen=True, kw_only=True)
class NewtonCG(Method):
    """Truncated Newton with a line search on smooth linear models (module docstring).

    Per Newton step: the curvature weights phi''(X x) (O(n)), CG to the relative residual
    eta_k = min(``eta_max``, sqrt(||grad g(x_k)||)) (at most ``max_cg`` products, default
    min(dim, 1000)), each Hessian-vector product n oracle calls, preconditioned by diag(H)
    (``precondition``, n calls), then the strong-Wolfe line search from t = 1 (n calls per
    trial). Local superlinear convergence (N&W Thm 7.2: eta_k -> 0), quadratic-like near
    x* since eta_k = O(||grad||^(1/2)). State: x, g(x), grad g(x), X x.
    """

    eta_max: float = 0.5
    max_cg: int | None = None
    precondition: bool = True
    name: ClassVar[str] = "newton-cg"

    def __post_init__(self):
        self._set(eta_max=check_positive(f"{self.name}: eta_max", self.eta_max))
        if self.eta_max >= 1.0:
            raise DescentlabError(f"{self.name}: eta_max: expected a number in (0, 1), got "
                                  f"{self.eta_max!r}")
        if self.max_cg is not None:
            self._set(max_cg=check_int(f"{self.name}: max_cg", self.max_cg, minimum=1))
        if not isinstance(self.precondition, bool):
            raise DescentlabError(f"{self.name}: precondition: expected True or False, got "
                                  f"{self.precondition!r}")

    def resolve(self, problem):
        self.check_problem(problem)
        _check_linear(self.name, problem, smooth=True)
        if self.max_cg is not None:
            return self
        return dataclasses.replace(self, max_cg=int(min(problem.dim, 1000)))

    def init(self, problem, x0, rng):
        return _init_state(_oracle(problem), problem, x0)

    def advance(self, problem, state, rng, calls):
        if state.stalled:
            return state
        oracle, n = state.oracle, problem.n
        x, z, f, g = state.x, state.z, state.f, state.g
        spent = its = evals = 0
        stalled = False
        while its == 0 or spent < calls:
            gnorm = float(np.linalg.norm(g))
            if gnorm == 0.0:
                stalled = True
                break
            w = oracle.hessian_weights(z)
            precond = None
            if self.precondition:  # one pass over X * X, charged as a product
                precond = oracle.hessian_diagonal(w)
                spent += n
            rtol = min(self.eta_max, math.sqrt(gnorm))
            d, products = conjugate_gradient(lambda v, w=w: oracle.hessp(w, v), g, rtol,
                                             self.max_cg, precond)
            spent += n * products
            out = _search(oracle, x, z, f, g, d, 1.0)
            if out is not None:
                spent += n * out[-1]
                evals += out[-1]
            if out is None or out[0].t == 0.0:
                stalled = True
                break
            _, x, z, f, g, _ = out
            its += 1
        return state.after(its, spent, x=x, z=z, f=f, g=g, evaluations=state.evaluations + evals,
                           stalled=stalled)


# ------------------------------------------------------------------------------- QNing
@dataclass(frozen=True, kw_only=True, eq=False)
class QNingState(State):
    """x: the approximate proximal point z_k = p(c_k) (reported, F(z_k) <= F_kappa(c_k));
    the center c_k, the envelope gradient kappa (c_k - z_k) and value
    F(z_k) + kappa ||z_k - c_k||^2 / 2, the L-BFGS memory, outer steps, rejected
    quasi-Newton trials."""

    center: np.ndarray
    g: np.ndarray
    fa: float
    memory: LBFGSMemory
    outer: int = 0
    rejected: int = 0
    reported: ClassVar[tuple[str, ...]] = ("outer", "rejected")


@dataclass(frozen=True, kw_only=True)
class QNing(Catalyst):
    """QNing: L-BFGS on the Moreau envelope with Catalyst's inexact proximal points.

    Lin, Mairal, Harchaoui (2019), Algorithm 1 with the line-search parameter eta in
    {1, 0}: from the center c_k with approximate proximal point z_k, envelope gradient
    g_k = kappa (c_k - z_k) and value F_a(c_k) = F(z_k) + kappa ||z_k - c_k||^2 / 2, the
    quasi-Newton trial c' = c_k - H_k g_k (H_k: L-BFGS with ``memory`` pairs, H = I/kappa
    when empty) is accepted when F_a(c') <= F_a(c_k) - ||g_k||^2 / (4 kappa), else
    c_{k+1} = z_k (eta = 0: the proximal-point step, a gradient step 1/kappa on F_kappa).
    Each approximate proximal point runs the inner method on
    h(z) = F(z) + kappa ||z - c||^2 / 2 (Catalyst's machinery, ``Catalyst.proximal_point``)
    warm started at z_k + kappa/(kappa + mu) (c - c_k) (how the exact proximal point of a
    quadratic moves along its flattest direction), by budgets of ``inner_epochs`` passes,
    until the relative accuracy test ||G_h(z)|| <= sqrt(kappa (mu + kappa) / 18) ||z - c||
    holds (G_h the gradient mapping; it implies h(z) - h* <= kappa ||z - c||^2 / 36 by
    strong convexity, a relative-accuracy rule of the kind QNing's analysis uses) or
    ``max_inner_rounds`` budgets are spent; each test costs n calls, and F_a one evaluation
    of F (n calls). Without the adaptive test (``max_inner_rounds=1``) this is the "one
    pass" variant of their experiments. Defaults as Catalyst: inner SAGA,
    kappa = L_max / (n + 1) - mu (L_max / (n + 1) if not positive), ``memory`` 10.
    ``iteration`` counts proximal points.
    The reported iterate is z_k.
    """

    memory: int = 10
    max_inner_rounds: int = 5
    name: ClassVar[str] = "qning"

    def __post_init__(self):
        super().__post_init__()
        self._set(memory=_check_memory(self.name, self.memory),
                  max_inner_rounds=check_int(f"{self.name}: max_inner_rounds",
                                             self.max_inner_rounds, minimum=1))

    def _envelope(self, problem, center, warm, rng, calls):
        """(z, g, F_a, calls spent) at ``center``: the inner method from ``warm``, continued
        while ||G(z)|| > sqrt(kappa (mu + kappa) / 18) ||z - center|| (G the subproblem's
        gradient mapping, each check n calls), at most ``max_inner_rounds`` budgets."""
        checks = 0
        bound = math.sqrt(self.kappa * (problem.mu + self.kappa) / 18.0)

        def done(sub, st):
            nonlocal checks
            checks += 1
            gm = sub.gradient_mapping(st.x)
            return float(np.linalg.norm(gm)) <= bound * float(np.linalg.norm(st.x - center))

        inner = self.proximal_point(problem, center, warm.copy(), rng, calls, done,
                                    self.max_inner_rounds)
        z = np.array(inner.x, dtype=np.float64, copy=True)
        r = z - center
        fa = float(problem.value(z)) + 0.5 * self.kappa * float(r @ r)
        return z, -self.kappa * r, fa, inner.calls + problem.n * (1 + checks)

    def init(self, problem, x0, rng):
        c = np.asarray(x0, dtype=np.float64)
        calls = max(1, int(round(self.inner_epochs * problem.n)))
        z, g, fa, spent = self._envelope(problem, c, c, rng, calls)
        return QNingState(x=z, center=c, g=g, fa=fa, calls=spent,
                          memory=LBFGSMemory(self.memory, problem.dim))

    def advance(self, problem, state, rng, calls):
        inner_calls = max(1, int(round(self.inner_epochs * problem.n)))
        z, c, g, fa, mem = state.x, state.center, state.g, state.fa, state.memory
        spent = its = 0
        outer, rejected = state.outer, state.rejected
        shift = self.kappa / (self.kappa + problem.mu)  # p(c') - p(c) ~ shift (c' - c)
        while its == 0 or spent < calls:
            if mem.count:
                trial = c + mem.direction(g)
                z1, g1, fa1, used = self._envelope(problem, trial, z + shift * (trial - c), rng,
                                                   inner_calls)
                spent += used
                its += 1
                if not fa1 <= fa - float(g @ g) / (4.0 * self.kappa):
                    rejected += 1
                    trial = None
            else:
                trial = None
            if trial is None:  # eta = 0: the center moves to the proximal point
                trial = z
                z1, g1, fa1, used = self._envelope(problem, trial, z + shift * (trial - c), rng,
                                                   inner_calls)
                spent += used
                its += 1
            mem.update(trial - c, g1 - g)
            c, z, g, fa = trial, z1, g1, fa1
            outer += 1
        return state.after(its, spent, x=z, center=c, g=g, fa=fa, outer=outer,
                           rejected=rejected)


__all__ = ["LBFGS", "OWLQN", "LBFGSMemory", "LineSearchResult", "NewtonCG", "QNing",
           "QuasiNewtonState", "conjugate_gradient", "pseudo_gradient", "wolfe_line_search"]
