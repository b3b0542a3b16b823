"""Constants of the theory: smoothness, strong convexity and the PL constant.

Definitions (seed 004, "Gradient descent" and "The Polyak-Lojasiewicz condition"; seed
003, "Geometric conditions"):

* f is **beta-smooth** (L-smooth) when ||grad f(w) - grad f(u)|| <= beta ||w - u||; for a
  twice differentiable f this is sup_x ||Hess f(x)||_2 <= beta (the spectral norm, i.e.
  the largest |eigenvalue|; seed 004's lemma states the one-sided Hess f <= beta I, which
  is what the descent lemma uses).
* f is **mu-strongly convex** when Hess f(x) >= mu I everywhere.
* f satisfies the **PL inequality** with constant alpha (mu in seed 003) when
  ||grad f(u)||^2 >= 2 alpha (f(u) - f*) for all u.

What is computed, and how:

* ``smoothness``: exact for the linear models (least squares: lambda_max(X^T X / n) + lam2;
  logistic: lambda_max(X^T X / n) / 4 + lam2, the supremum of the Hessian norm, attained at
  theta = 0 where every sigmoid derivative equals 1/4) and for ``Quadratic``
  (lambda_max(A)); otherwise the largest ||Hess f(x)|| over the given points, each found by
  **power iteration on Hessian-vector products** (``problem.hessp`` when the problem has it,
  central differences of ``grad`` otherwise). Power iteration returns ||H v_k|| for unit
  v_k, a non-decreasing lower estimate of ||H|| (||H v||^2 = <v, H^2 v> <= ||H^2 v|| by
  Cauchy-Schwarz), converging at the rate |lambda_2 / lambda_1|^k; so a smoothness
  "estimate" on points is a lower estimate of the global constant.
* ``strong_convexity``: exact for least squares (lambda_min(X^T X / n) + lam2), logistic
  (lam2, the infimum: the sigmoid derivative tends to 0 along rays) and ``Quadratic``;
  otherwise the smallest Hessian eigenvalue over the points (the Hessian assembled from
  Hessian-vector products in small dimension, power iteration on s I - H with s = ||H||
  beyond); negative values certify non-convexity.
* ``pl_constant``: the smallest ratio ||grad f(x)||^2 / (2 (f(x) - f*)) over a sample of
  points or over the records of a trajectory (``pl_constant_from_trace``). Points with
  f(x) - f* below ``min_gap`` are skipped: there the ratio is 0/0 up to rounding (F is
  computed with a relative error ~1e-16, so a gap below ~1e-12 of the scale of F carries
  no digits).

A minimum over sampled points is an *upper* estimate of the infimum over the whole space
(the true PL constant can only be smaller); the experiments state which estimate they use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import DescentlabError
from ..problems.base import Problem
from ..problems.linear import LeastSquares, LinearModel
from ..problems.toy import Quadratic

_DENSE_LIMIT = 2000
#: up to this dimension ``hessian_extremes`` builds the Hessian explicitly
DENSE_HESSIAN_DIM = 200


# ------------------------------------------------------------ Hessian-vector products
def hessian_vector_product(problem: Problem) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """(x, v) -> Hess f(x) v: ``problem.hessp`` or central differences of ``problem.grad``.

    The difference step is h = 1e-6 max(1, ||x||) / ||v||, whose truncation error
    O(h^2 ||D^3 f||) and rounding error O(eps ||grad|| / h) are both ~1e-10 relative.
    """
    hessp = getattr(problem, "hessp", None)
    if callable(hessp):
        return lambda x, v: np.asarray(hessp(x, v), dtype=np.float64)

    def fd(x, v):
        nv = float(np.linalg.norm(v))
        if nv == 0:
            return np.zeros_like(v, dtype=np.float64)
        h = 1e-6 * max(1.0, float(np.linalg.norm(x))) / nv
        return (problem.grad(x + h * v) - problem.grad(x - h * v)) / (2.0 * h)

    return fd


@dataclass(frozen=True)
class PowerIteration:
    """Result of ``power_iteration``: the estimate, its unit vector and convergence."""

    value: float
    vector: np.ndarray
    iterations: int
    converged: bool


def power_iteration(matvec: Callable[[np.ndarray], np.ndarray], dim: int, *,
                    iters: int = 1000, tol: float = 1e-10, seed: int = 0,
                    v0: np.ndarray | None = None) -> PowerIteration:
    """Largest |eigenvalue| of a symmetric operator by power iteration.

    v_{k+1} = M v_k / ||M v_k||; the estimate is ||M v_k|| (a non-decreasing lower estimate
    of ||M||_2 for symmetric M). Stops when it changes by less than ``tol`` (relative).
    """
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(dim) if v0 is None else np.array(v0, dtype=np.float64)
    nv = float(np.linalg.norm(v))
    if nv == 0 or not np.isfinite(nv):
        raise DescentlabError("v0: expected a finite non-zero starting vector")
    v /= nv
    est = 0.0
    for k in range(1, iters + 1):
        w = np.asarray(matvec(v), dtype=np.float64)
        nw = float(np.linalg.norm(w))
        if not np.isfinite(nw):
            raise DescentlabError("power iteration: the operator returned non-finite values")
        if nw == 0.0:
            return PowerIteration(0.0, v, k, True)
        if abs(nw - est) <= tol * nw:
            return PowerIteration(nw, w / nw, k, True)
        est, v = nw, w / nw
    return PowerIteration(est, v, iters, False)


def hessian_norm(problem: Problem, x, *, iters: int = 1000, tol: float = 1e-10,
                 seed: int = 0) -> float:
    """||Hess f(x)||_2, the local smoothness at x, by power iteration."""
    x = np.asarray(x, dtype=np.float64)
    hv = hessian_vector_product(problem)
    if x.size == 1:
        return float(abs(hv(x, np.ones(1))[0]))
    return power_iteration(lambda v: hv(x, v), x.size, iters=iters, tol=tol, seed=seed).value


def hessian_matrix(problem: Problem, x) -> np.ndarray:
    """Hess f(x) built column by column from ``dim`` Hessian-vector products, symmetrized."""
    x = np.asarray(x, dtype=np.float64)
    hv = hessian_vector_product(problem)
    eye = np.eye(x.size)
    Hm = np.column_stack([hv(x, e) for e in eye])
    return 0.5 * (Hm + Hm.T)


def hessian_extremes(problem: Problem, x, *, method: str = "auto", iters: int = 5000,
                     tol: float = 1e-13, seed: int = 0) -> tuple[float, float]:
    """(lambda_min, lambda_max) of Hess f(x).

    ``method="power"``: power iteration on H and on s I - H with s = ||H||_2 (s I - H is
    positive semi-definite up to the accuracy of s, with largest eigenvalue s - lambda_min;
    lambda_max is read the same way from s I + H when the dominant eigenvalue is negative).
    Its convergence factor (s - lambda_2)/(s - lambda_min) is close to 1 when the small
    eigenvalues cluster, so ``method="dense"`` (the Hessian from ``dim`` Hessian-vector
    products, then ``eigvalsh``) is used by ``"auto"`` up to dimension ``DENSE_HESSIAN_DIM``.
    """
    x = np.asarray(x, dtype=np.float64)
    hv = hessian_vector_product(problem)
    if method not in ("auto", "power", "dense"):
        raise DescentlabError(f"method: expected 'auto', 'power' or 'dense', got {method!r}")
    if x.size == 1:
        h = float(hv(x, np.ones(1))[0])
        return h, h
    if method == "dense" or (method == "auto" and x.size <= DENSE_HESSIAN_DIM):
        eig = np.linalg.eigvalsh(hessian_matrix(problem, x))
        return float(eig[0]), float(eig[-1])
    first = power_iteration(lambda v: hv(x, v), x.size, iters=iters, tol=tol, seed=seed)
    s = first.value
    if s == 0.0:
        return 0.0, 0.0
    rayleigh = float(first.vector @ hv(x, first.vector))
    if rayleigh >= 0:  # the dominant eigenvalue is lambda_max = s
        other = power_iteration(lambda v: s * v - hv(x, v), x.size, iters=iters, tol=tol,
                                seed=seed + 1)
        return s - other.value, s
    other = power_iteration(lambda v: s * v + hv(x, v), x.size, iters=iters, tol=tol,
                            seed=seed + 1)
    return -s, other.value - s


# ------------------------------------------------------------------------ constants
@dataclass(frozen=True)
class ConstantEstimate:
    """A constant of the theory and how it was obtained.

    ``method`` is "exact" (closed form / eigen-decomposition) or "power-iteration" (extreme
    over ``n_points`` points, ``argext`` the point where it is reached).
    """

    value: float
    method: str
    n_points: int = 0
    argext: np.ndarray | None = None

    def __float__(self) -> float:
        return float(self.value)


def _gram_extremes(problem: LinearModel) -> tuple[float, float]:
    """(lambda_max, lambda_min) of X^T X / n, computed here (not read from the problem)."""
    X = problem.X
    n, d = X.shape
    if d <= _DENSE_LIMIT:
        G = X.T @ X
        G = G.toarray() if sp.issparse(G) else np.asarray(G, dtype=np.float64)
        eig = sla.eigvalsh(G.astype(np.float64) / n)
        lam_min = float(eig[0]) if d <= n else 0.0
        return float(eig[-1]), max(lam_min, 0.0)
    op = spla.LinearOperator((d, d), matvec=lambda v: X.T @ (X @ v) / n, dtype=np.float64)
    lam_max = float(spla.eigsh(op, k=1, which="LA", return_eigenvectors=False)[0])
    lam_min = 0.0 if d > n else float(spla.eigsh(op, k=1, which="SA",
                                                 return_eigenvectors=False)[0])
    return lam_max, max(lam_min, 0.0)


def _points(problem: Problem, points) -> np.ndarray:
    if points is None:
        pts = np.atleast_2d(problem.default_x0())
    else:
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim == 1:
            pts = pts.reshape(-1, 1) if problem.dim == 1 else pts[None, :]
    if pts.ndim != 2 or pts.shape[1] != problem.dim or pts.shape[0] == 0:
        raise DescentlabError(f"points: expected an array of shape (count, {problem.dim}), "
                              f"got shape {np.shape(points)}")
    return pts


def _exact_kind(problem: Problem) -> str | None:
    if isinstance(problem, Quadratic):
        return "quadratic"
    if isinstance(problem, LinearModel):  # L and mu of the smooth part g (+ lam2)
        return "linear"
    return None


def smoothness(problem: Problem, points=None, *, exact: bool | None = None,
               iters: int = 1000, tol: float = 1e-10, seed: int = 0) -> ConstantEstimate:
    """The smoothness constant L (see the module docstring).

    ``exact=None`` uses the closed form when the problem has one (linear models, quadratics)
    and ``points`` is None; otherwise the largest Hessian norm over ``points`` (default: the
    problem's starting point) by power iteration.
    """
    kind = _exact_kind(problem)
    use_exact = (kind is not None and points is None) if exact is None else exact
    if use_exact:
        if kind == "quadratic":
            return ConstantEstimate(float(np.linalg.eigvalsh(problem.A)[-1]), "exact")
        if kind == "linear":
            lam_max, _ = _gram_extremes(problem)
            lam2 = problem.regularizer.lam2
            return ConstantEstimate(problem.curvature_max * lam_max + lam2, "exact")
        raise DescentlabError(f"exact: {type(problem).__name__} has no closed-form smoothness; "
                              "pass points= (power iteration)")
    pts = _points(problem, points)
    vals = [hessian_norm(problem, p, iters=iters, tol=tol, seed=seed) for p in pts]
    i = int(np.argmax(vals))
    return ConstantEstimate(float(vals[i]), "power-iteration", len(pts), pts[i].copy())


def strong_convexity(problem: Problem, points=None, *, exact: bool | None = None,
                     method: str = "auto", iters: int = 5000, tol: float = 1e-13,
                     seed: int = 0) -> ConstantEstimate:
    """The strong convexity constant mu (see the module docstring); it may be negative when
    estimated on points of a non-convex problem (smallest Hessian eigenvalue)."""
    kind = _exact_kind(problem)
    use_exact = (kind is not None and points is None) if exact is None else exact
    if use_exact:
        if kind == "quadratic":
            return ConstantEstimate(float(np.linalg.eigvalsh(problem.A)[0]), "exact")
        if kind == "linear":
            lam2 = problem.regularizer.lam2
            if isinstance(problem, LeastSquares):
                return ConstantEstimate(_gram_extremes(problem)[1] + lam2, "exact")
            return ConstantEstimate(lam2, "exact")  # inf of the sigmoid derivative is 0
        raise DescentlabError(f"exact: {type(problem).__name__} has no closed-form strong "
                              "convexity; pass points= (power iteration)")
    pts = _points(problem, points)
    vals = [hessian_extremes(problem, p, method=method, iters=iters, tol=tol, seed=seed)[0]
            for p in pts]
    i = int(np.argmin(vals))
    return ConstantEstimate(float(vals[i]), "power-iteration", len(pts), pts[i].copy())


# ---------------------------------------------------------------------- PL constant
@dataclass(frozen=True)
class PLEstimate:
    """Smallest ||grad f||^2 / (2 (f - f*)) over the points used.

    ``argmin`` is the point (or trajectory record index) where it is reached, ``n_used`` the
    number of points with f - f* >= min_gap out of ``n_points``.
    """

    value: float
    argmin: np.ndarray | int | None
    n_points: int
    n_used: int
    min_gap: float

    def __float__(self) -> float:
        return float(self.value)


def pl_ratio(grad_sq, gap) -> np.ndarray:
    """||grad f||^2 / (2 (f - f*)) elementwise (inf where the gap is 0 and grad is not)."""
    grad_sq = np.asarray(grad_sq, dtype=np.float64)
    gap = np.asarray(gap, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return grad_sq / (2.0 * gap)


def pl_constant(problem: Problem, points, *, f_star: float | None = None,
                min_gap: float | None = None) -> PLEstimate:
    """Smallest PL ratio over ``points`` (an array of shape (count, dim), or a 1-D array of
    scalars for one-dimensional problems).

    ``f_star`` defaults to ``problem.solution()[1]``; ``min_gap`` (default 1e-12 times the
    largest gap seen, and at least 1e-300) excludes points at the optimum up to rounding.
    """
    pts = _points(problem, points)
    if f_star is None:
        f_star = problem.solution()[1]
    gaps = np.array([problem.value(p) for p in pts], dtype=np.float64) - f_star
    grads = np.array([float(np.sum(np.square(problem.grad(p)))) for p in pts])
    if np.any(gaps < -1e-12 * max(1.0, abs(f_star))):
        j = int(np.argmin(gaps))
        raise DescentlabError(f"f_star: f(x) - f* = {gaps[j]:.3g} < 0 at point {j}; f* is not "
                              "the minimum value")
    finite = np.isfinite(gaps)
    scale = float(np.max(gaps[finite])) if finite.any() else 0.0
    floor = max(1e-12 * scale, 1e-300) if min_gap is None else float(min_gap)
    used = finite & (gaps >= floor)
    if not used.any():
        raise DescentlabError(f"points: no point with f - f* >= {floor:.3g} (all at the optimum)")
    ratio = np.where(used, pl_ratio(grads, np.where(used, gaps, 1.0)), np.inf)
    i = int(np.argmin(ratio))
    return PLEstimate(float(ratio[i]), pts[i].copy(), len(pts), int(used.sum()), floor)


def pl_constant_from_trace(trace, *, min_gap: float | None = None,
                           column: str = "subopt") -> PLEstimate:
    """Smallest PL ratio grad_norm^2 / (2 subopt) over the records of a Trace.

    ``grad_norm`` is the gradient(-mapping) norm recorded by ``descentlab.run``; ``min_gap``
    defaults to 1e-10 times the first gap (records closer to the optimum are rounding).
    ``argmin`` is the row index of the record where the minimum is reached.
    """
    df = getattr(trace, "df", trace)
    for c in (column, "grad_norm"):
        if c not in df.columns:
            raise DescentlabError(f"trace: no column {c!r} (needs a run with a known f*)")
    gap = df[column].to_numpy(dtype=np.float64)
    g = df["grad_norm"].to_numpy(dtype=np.float64)
    floor = max(1e-10 * float(gap[0]), 1e-300) if min_gap is None else float(min_gap)
    used = np.isfinite(gap) & np.isfinite(g) & (gap >= floor)
    if not used.any():
        raise DescentlabError(f"trace: no record with {column} >= {floor:.3g}")
    ratio = np.where(used, pl_ratio(g * g, np.where(used, gap, 1.0)), np.inf)
    i = int(np.argmin(ratio))
    return PLEstimate(float(ratio[i]), i, len(gap), int(used.sum()), floor)


__all__ = ["DENSE_HESSIAN_DIM", "ConstantEstimate", "PLEstimate", "PowerIteration",
           "hessian_extremes", "hessian_matrix", "hessian_norm", "hessian_vector_product",
           "pl_constant", "pl_constant_from_trace", "pl_ratio", "power_iteration",
           "smoothness", "strong_convexity"]
