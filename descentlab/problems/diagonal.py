"""Diagonal linear networks (seed 000, "Idea 3"; Woodworth et al. 2020, Pesme et al. 2021).

A linear predictor x . theta whose weights are a two-layer "diagonal" network,

    theta = u * u - v * v      (elementwise),   z = (u, v) in R^(2d),

trained on the square loss of a regression sample (x_i, y_i), i < n:

    F(z) = (1/n) sum_i (x_i . theta(z) - y_i)^2 / 2,
    grad_u F = 2 u * g,  grad_v F = -2 v * g,   g = X^T (X theta - y) / n.

The problem is over z, so every descentlab method (GD, SGD, ...) runs on it; ``theta(z)``
reads the linear predictor. ``batch_grad(z, idx)`` is the same formula on the rows idx.
The usual initialisation is u = v = alpha 1, so theta(0) = 0 whatever alpha (``alpha`` sets
``default_x0``).

**Implicit bias** (Woodworth et al. 2020, Thm 1). On an underdetermined regression (n < d,
X of rank n) the gradient flow from u = v = alpha 1 converges to the interpolator that
minimizes Q_alpha(theta) = alpha^2 sum_i q(theta_i / alpha^2), q(s) = 2 - sqrt(4 + s^2) +
s arcsinh(s/2): along the flow u = alpha exp(-2 int g), v = alpha exp(2 int g), hence
theta = 2 alpha^2 sinh(X^T nu) for some nu in R^n, the optimality condition of that
problem. alpha -> 0: Q_alpha ~ ||theta||_1 log(1/alpha^2) (the sparse, "rich" regime: the
minimum-L1 interpolator); alpha -> infinity: Q_alpha ~ ||theta||_2^2 / (4 alpha^2) (the
"kernel" regime: the minimum-L2 interpolator). References computed independently here:

* ``min_l1_interpolator``: min ||theta||_1 s.t. X theta = y, a linear program in
  (theta+, theta-) >= 0 solved by scipy's HiGHS;
* ``min_l2_interpolator``: the pseudo-inverse solution X^+ y (``numpy.linalg.lstsq``);
* ``implicit_bias_interpolator(X, y, alpha)``: theta = 2 alpha^2 sinh(X^T nu) with nu the
  minimizer of the convex dual 2 alpha^2 sum_i cosh((X^T nu)_i) - y . nu (Newton's method),
  the exact limit of the flow for every alpha.

Pesme, Pillaud-Vivien and Flammarion (2021): stochastic gradients shrink the product u * v
further than full gradients (each step multiplies u_i v_i by 1 - 4 step^2 g_i^2), i.e. SGD
behaves like the flow from a smaller effective alpha, closer to the sparse solution.

**Constants.** F is not convex and not globally smooth; ``L`` and ``L_max`` are estimates
of the largest Hessian eigenvalue on the path from the initialisation to the sparse
solution: 2 ||g0||_inf + 4 lambda_max(X^T X / n) (2 alpha^2 + ||theta_L1||_inf) (the
curvature at u = v = alpha 1 plus the Gauss-Newton curvature at the balanced point of the
minimum-L1 interpolator), and the same with max_i ||x_i||^2 and max_i ||x_i y_i||_inf.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from .._validation import check_dense_xy, check_indices, check_int, check_positive
from ..errors import DescentlabError, SolutionError
from .base import Problem


# ------------------------------------------------------------------------ references
def min_l1_interpolator(X, y) -> np.ndarray:
    """argmin ||theta||_1 s.t. X theta = y, by the LP min 1.(p + q), X (p - q) = y, p, q >= 0
    (scipy.optimize.linprog, HiGHS). Raises ``SolutionError`` if y is not in the range of X."""
    X, y = check_dense_xy(X, y)
    d = X.shape[1]
    res = optimize.linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y,
                           bounds=(0, None), method="highs")
    if res.status != 0:
        raise SolutionError(f"min_l1_interpolator: the linear program failed ({res.message}); "
                            "is y in the range of X (n <= d, X of full row rank)?")
    return res.x[:d] - res.x[d:]


def min_l2_interpolator(X, y) -> np.ndarray:
    """The minimum-norm least-squares solution X^+ y (an interpolator when X has rank n)."""
    X, y = check_dense_xy(X, y)
    return np.linalg.lstsq(X, y, rcond=None)[0]


def implicit_bias_interpolator(X, y, alpha: float, *, tol: float = 1e-10,
                               max_iter: int = 500) -> np.ndarray:
    """The limit of the gradient flow from u = v = alpha 1 (Woodworth et al. 2020):
    theta = 2 alpha^2 sinh(X^T nu), nu = argmin 2 alpha^2 sum (cosh(X^T nu) - 1) - y . nu.

    Damped Newton on the dual (gradient X theta - y, Hessian X diag(2 alpha^2 cosh) X^T)
    until ||X theta - y||_inf <= tol (1 + ||y||_inf)."""
    X, y = check_dense_xy(X, y)
    alpha = check_positive("alpha", alpha)
    c = 2.0 * alpha * alpha
    nu = np.zeros(X.shape[0])

    def dual(v):
        s = X.T @ v
        if np.max(np.abs(s)) > 700:
            return math.inf
        # cosh(s) - 1 = 2 sinh(s/2)^2, accurate for small s (large alpha: tiny nu)
        return 2.0 * c * float(np.sum(np.sinh(0.5 * s) ** 2)) - float(y @ v)

    phi = dual(nu)
    for _ in range(max_iter):
        s = X.T @ nu
        theta = c * np.sinh(s)
        r = X @ theta - y
        if np.max(np.abs(r)) <= tol * (1.0 + np.max(np.abs(y))):
            return theta
        H = (X * (c * np.cosh(s))) @ X.T
        try:
            step = np.linalg.solve(H, r)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, r, rcond=None)[0]
        t = 1.0
        if float(r @ step) <= 1e-12 * (1.0 + abs(phi)):
            # the decrease is below the rounding of the dual: take the full Newton step
            nu = nu - step
            phi = dual(nu)
            continue
        while True:
            cand = nu - t * step
            phi_c = dual(cand)
            if phi_c <= phi - 0.25 * t * float(r @ step) or t < 1e-12:
                break
            t *= 0.5
        nu, phi = cand, phi_c
    raise SolutionError(f"implicit_bias_interpolator: Newton did not converge in {max_iter} "
                        f"iterations (alpha = {alpha:g})")


def sparse_regression(n: int, d: int, k: int, rng: np.random.Generator, *,
                      noise: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, theta*): x_i ~ N(0, I_d), theta* with k non-zeros equal to +-1 at random
    places (drawn in this order: X, the support, the signs), y = X theta* (+ N(0, noise^2))."""
    n = check_int("n", n, minimum=1)
    d = check_int("d", d, minimum=1)
    k = check_int("k", k, minimum=1)
    if k > d:
        raise DescentlabError(f"k: expected at most d = {d} non-zeros, got {k}")
    noise = check_positive("noise", noise, strict=False)
    X = rng.standard_normal((n, d))
    theta = np.zeros(d)
    support = rng.choice(d, size=k, replace=False)
    theta[support] = np.where(rng.standard_normal(k) >= 0, 1.0, -1.0)
    y = X @ theta
    if noise:
        y = y + noise * rng.standard_normal(n)
    return X, y, theta


# ---------------------------------------------------------------------------- problem
class DiagonalNetwork(Problem):
    """F(u, v) = (1/n) sum_i (x_i . (u*u - v*v) - y_i)^2 / 2 over z = (u, v) in R^(2d)."""

    name = "diagonal-network"
    convex = False

    def __init__(self, X, y, alpha: float = 1.0):
        X, y = check_dense_xy(X, y)
        self.X, self.y = X, y
        self.n, self.d = X.shape
        self.dim = 2 * self.d
        self.alpha = check_positive("alpha", alpha)

    # ---------------------------------------------------------------- parameters
    def split(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(u, v) views of z."""
        return z[:self.d], z[self.d:]

    def theta(self, z: np.ndarray) -> np.ndarray:
        """The linear predictor u * u - v * v."""
        u, v = self.split(np.asarray(z, dtype=np.float64))
        return u * u - v * v

    def default_x0(self) -> np.ndarray:
        """u = v = alpha 1 (theta = 0)."""
        return np.full(self.dim, self.alpha)

    # ------------------------------------------------------------------- oracles
    def value(self, z):
        r = self.X @ self.theta(z) - self.y
        return 0.5 * float(r @ r) / self.n

    def _grad_from(self, z, X, r) -> np.ndarray:
        u, v = self.split(z)
        g = X.T @ r / r.shape[0]
        return np.concatenate([2.0 * u * g, -2.0 * v * g])

    def grad(self, z):
        return self._grad_from(z, self.X, self.X @ self.theta(z) - self.y)

    def batch_grad(self, z, idx):
        idx = check_indices(idx, self.n)
        Xb = self.X[idx]
        return self._grad_from(z, Xb, Xb @ self.theta(z) - self.y[idx])

    # ----------------------------------------------------------------- constants
    def _constants(self) -> tuple[float, float]:
        cached = getattr(self, "_const_cache", None)
        if cached is None:
            lam = float(np.linalg.eigvalsh(self.X.T @ self.X / self.n)[-1]) \
                if self.d <= self.n else float(np.linalg.eigvalsh(self.X @ self.X.T)[-1]) / self.n
            g0 = np.abs(self.X.T @ self.y) / self.n
            row = float(np.max(np.sum(self.X * self.X, axis=1)))
            g0_max = float(np.max(np.abs(self.X * self.y[:, None])))
            try:
                top = float(np.max(np.abs(min_l1_interpolator(self.X, self.y))))
            except SolutionError:
                top = float(np.max(np.abs(min_l2_interpolator(self.X, self.y))))
            a2 = 2.0 * self.alpha**2
            cached = self._const_cache = (2.0 * float(np.max(g0)) + 4.0 * lam * (a2 + top),
                                          2.0 * g0_max + 4.0 * row * (a2 + top))
        return cached

    @property
    def L(self):
        return self._constants()[0]

    @property
    def L_max(self):
        return self._constants()[1]

    def _solve(self):
        """F* = 0 when X has full row rank (interpolation), else half the least-squares
        residual; the minimizers form a continuum (x* = None)."""
        theta = min_l2_interpolator(self.X, self.y)
        r = self.X @ theta - self.y
        return None, 0.5 * float(r @ r) / self.n

    def describe(self):
        return {**super().describe(), "features": int(self.d), "alpha": self.alpha}


__all__ = ["DiagonalNetwork", "implicit_bias_interpolator", "min_l1_interpolator",
           "min_l2_interpolator", "sparse_regression"]
