"""Small problems from the seeds, with closed-form constants and optima.

* ``Quadratic``: F(x) = x^T A x / 2 - b^T x with A symmetric positive definite;
  ``Quadratic.with_condition_number(dim, kappa, seed)`` draws A = Q diag(lambda) Q^T with
  eigenvalues geometrically spaced in [1/kappa, 1] (both ends included) and a random
  rotation Q, so L = 1 and mu = 1/kappa exactly.
* ``PLExample``: F(x) = x^2 + 3 sin^2 x (seed 004, "The Polyak-Lojasiewicz condition"),
  non-convex (F'' = 2 + 6 cos 2x takes negative values) but PL with constant 1/32.
* ``ScalarNetwork``: the toy network of seed 003, F(a, w) = ||a w - y*||^2 / 2 with
  a in R, w in R^d, started at (a0, 0). Its smoothness is not global: ``L`` is the
  largest Hessian eigenvalue over the certified ball B((a0, 0), |a0|/2) of seed 003.
* ``CosineWells``: F(x) = (1/d) sum_j (1 - cos x_j)^2, smooth with L = 4/d exactly (F'' per
  coordinate is (2 + 2c - 4c^2)/d, c = cos x_j, in [-4/d, 2.25/d]), non-convex, with a
  degenerate (quartic) minimum F* = 0 at 0 (seed 004's smooth non-convex case).
* ``DiagonalQuadratic``: F(x) = sum_i lam_i (x_i - x*_i)^2 / 2. A ``Quadratic`` with a
  diagonal A, written around its minimizer so that F - F* is computed without the
  cancellation of x^T A x / 2 - b^T x (the ``rates`` experiment follows 1/t gaps to 1e-15).
* ``RobustRegression``: F(x) = (1/n) sum_i rho(a_i . x - y_i) with the Geman-McClure
  rho(r) = r^2 / (2 (1 + r^2)): rho'' = (1 - 3 r^2)/(1 + r^2)^3 in [-1/4, 1], so F is smooth
  (L <= lambda_max(A^T A / n)) and non-convex, and |rho'| <= 3 sqrt(3)/16 bounds every
  stochastic gradient (seed 004's SGD setting).
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_int, check_positive
from ..errors import DescentlabError
from .base import Problem


class Quadratic(Problem):
    """F(x) = x^T A x / 2 - b^T x (a single component: n = 1)."""

    name = "quadratic"

    def __init__(self, A, b):
        A = np.asarray(A, dtype=np.float64)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise DescentlabError(f"A: expected a square matrix, got shape {A.shape}")
        if not np.all(np.isfinite(A)) or not np.allclose(A, A.T, rtol=1e-12, atol=1e-14):
            raise DescentlabError("A: expected a finite symmetric matrix")
        eig = np.linalg.eigvalsh(A)
        if eig[0] <= 0:
            raise DescentlabError(f"A: expected a positive definite matrix, smallest "
                                  f"eigenvalue is {eig[0]:.3g}")
        self.A = A
        self.dim = A.shape[0]
        b = np.asarray(b, dtype=np.float64).ravel()
        if b.shape != (self.dim,) or not np.all(np.isfinite(b)):
            raise DescentlabError(f"b: expected a finite vector of length {self.dim}")
        self.b = b
        self.eigenvalues = eig
        self.n = 1

    @classmethod
    def with_condition_number(cls, dim: int, kappa: float, seed: int = 0) -> Quadratic:
        """Random quadratic with L = 1, mu = 1/kappa and optimum x* ~ N(0, I/dim)."""
        dim = check_int("dim", dim, minimum=2)
        kappa = check_positive("kappa", kappa)
        if kappa < 1:
            raise DescentlabError(f"kappa: expected a condition number >= 1, got {kappa}")
        rng = np.random.default_rng(seed)
        Q, R = np.linalg.qr(rng.standard_normal((dim, dim)))
        Q *= np.sign(np.diag(R))
        lam = np.geomspace(1.0 / kappa, 1.0, dim)
        A = (Q * lam) @ Q.T
        A = 0.5 * (A + A.T)
        x_star = rng.standard_normal(dim) / np.sqrt(dim)
        problem = cls(A, A @ x_star)
        problem.kappa = kappa
        return problem

    def value(self, x):
        return float(0.5 * x @ (self.A @ x) - self.b @ x)

    def grad(self, x):
        return self.A @ x - self.b

    def hessp(self, x, v):
        return self.A @ v

    @property
    def L(self):
        return float(self.eigenvalues[-1])

    @property
    def mu(self):
        return float(self.eigenvalues[0])

    def _solve(self):
        x = np.linalg.solve(self.A, self.b)
        return x, self.value(x)

    def describe(self):
        return {**super().describe(), "kappa": self.L / self.mu}


class PLExample(Problem):
    """F(x) = x^2 + 3 sin^2 x on R: non-convex, PL with constant 1/32 (seed 004)."""

    name = "pl-example"
    dim = 1
    n = 1
    convex = False
    #: the PL constant stated by seed 004 (``mu`` stays 0: F is not strongly convex)
    pl_constant_claimed = 1.0 / 32.0

    def __init__(self, x0: float = 3.0):
        self.x0 = float(x0)

    def value(self, x):
        x = float(x[0])
        return x * x + 3.0 * np.sin(x) ** 2

    def grad(self, x):
        return np.array([2.0 * x[0] + 3.0 * np.sin(2.0 * x[0])])

    def hessp(self, x, v):
        return (2.0 + 6.0 * np.cos(2.0 * x[0])) * np.asarray(v, dtype=np.float64)

    @property
    def L(self):
        return 8.0  # max of F''(x) = 2 + 6 cos 2x

    def default_x0(self):
        return np.array([self.x0])

    def _solve(self):
        return np.zeros(1), 0.0


class ScalarNetwork(Problem):
    """F(a, w) = ||a w - y*||^2 / 2 with x = (a, w) in R^(1+d), started at (a0, 0) (seed 003)."""

    name = "scalar-network"
    n = 1
    convex = False

    def __init__(self, y_star, a0: float = 2.0):
        y = np.atleast_1d(np.asarray(y_star, dtype=np.float64)).ravel()
        if y.size == 0 or not np.all(np.isfinite(y)):
            raise DescentlabError("y_star: expected a non-empty finite vector")
        a0 = float(a0)
        if not np.isfinite(a0) or a0 == 0:
            raise DescentlabError(f"a0: expected a finite non-zero number, got {a0}")
        self.y_star, self.a0 = y, a0
        self.dim = 1 + y.size

    def residual(self, x):
        return x[0] * x[1:] - self.y_star

    def value(self, x):
        r = self.residual(x)
        return 0.5 * float(r @ r)

    def grad(self, x):
        r = self.residual(x)
        return np.concatenate([[x[1:] @ r], x[0] * r])

    def hessp(self, x, v):
        a, w = x[0], x[1:]
        c = 2.0 * a * w - self.y_star
        return np.concatenate([[(w @ w) * v[0] + c @ v[1:]], c * v[0] + a * a * v[1:]])

    def default_x0(self):
        x0 = np.zeros(self.dim)
        x0[0] = self.a0
        return x0

    @property
    def radius(self) -> float:
        """r = |a0| / 2, the radius of the certified ball of seed 003."""
        return abs(self.a0) / 2.0

    @property
    def L(self):
        """Upper bound of the largest Hessian eigenvalue over B((a0, 0), |a0|/2).

        The Hessian [[||w||^2, c^T], [c, a^2 I]] with c = 2 a w - y* has largest eigenvalue
        (s + a^2)/2 + sqrt(((a^2 - s)/2)^2 + ||c||^2), increasing in s = ||w||^2, a^2 and ||c||;
        on the ball s <= a0^2/4, a^2 <= 9 a0^2/4 and ||c|| <= 3 a0^2/2 + ||y*||.
        """
        a0sq = self.a0 ** 2
        s, asq = a0sq / 4.0, 9.0 * a0sq / 4.0
        c = 1.5 * a0sq + float(np.linalg.norm(self.y_star))
        return (s + asq) / 2.0 + float(np.hypot((asq - s) / 2.0, c))

    def _solve(self):
        return None, 0.0  # the minimizers {a w = y*} form a continuum

    def describe(self):
        return {**super().describe(), "a0": self.a0,
                "y_star_norm": float(np.linalg.norm(self.y_star))}


class CosineWells(Problem):
    """f(x) = (1/d) sum_j (1 - cos x_j)^2: smooth (L = 4/d), non-convex, quartic minimum at 0."""

    name = "cosine-wells"
    convex = False

    def __init__(self, dim: int, x0):
        self.dim = int(dim)
        self.x0 = np.asarray(x0, dtype=np.float64)

    def value(self, x):
        return float(np.sum((1.0 - np.cos(x)) ** 2) / self.dim)

    def grad(self, x):
        return 2.0 * (1.0 - np.cos(x)) * np.sin(x) / self.dim

    def hessp(self, x, v):
        c = np.cos(x)
        return (2.0 + 2.0 * c - 4.0 * c * c) / self.dim * v

    @property
    def L(self):
        return 4.0 / self.dim

    def default_x0(self):
        return self.x0.copy()

    def _solve(self):
        return np.zeros(self.dim), 0.0


class DiagonalQuadratic(Problem):
    """f(x) = sum_i lam_i (x_i - x*_i)^2 / 2 (one component)."""

    name = "diagonal-quadratic"

    def __init__(self, lam, x_star):
        self.lam = np.asarray(lam, dtype=np.float64)
        self.x_star = np.asarray(x_star, dtype=np.float64)
        self.dim = self.lam.size

    def value(self, x):
        e = x - self.x_star
        return 0.5 * float(np.sum(self.lam * e * e))

    def grad(self, x):
        return self.lam * (x - self.x_star)

    def hessp(self, x, v):
        return self.lam * v

    @property
    def L(self):
        return float(self.lam.max())

    @property
    def mu(self):
        return float(self.lam.min())

    def _solve(self):
        return self.x_star.copy(), 0.0


class RobustRegression(Problem):
    """f(x) = (1/n) sum_i rho(a_i . x - y_i), rho(r) = r^2 / (2 (1 + r^2)) (Geman-McClure)."""

    name = "robust-regression"
    convex = False
    #: sup |rho'| = 3 sqrt(3) / 16 (at r^2 = 1/3) and sup |rho''| = 1 (at r = 0)
    RHO1_MAX = 3.0 * math.sqrt(3.0) / 16.0
    RHO2_MAX = 1.0

    def __init__(self, A, y):
        self.A = np.asarray(A, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        self.n, self.dim = self.A.shape

    @staticmethod
    def _rho(r):
        return 0.5 * r * r / (1.0 + r * r)

    @staticmethod
    def _drho(r):
        return r / (1.0 + r * r) ** 2

    @staticmethod
    def _d2rho(r):
        return (1.0 - 3.0 * r * r) / (1.0 + r * r) ** 3

    def value(self, x):
        return float(np.mean(self._rho(self.A @ x - self.y)))

    def grad(self, x):
        return self.A.T @ self._drho(self.A @ x - self.y) / self.n

    def batch_grad(self, x, idx):
        Ab = self.A[idx]
        return Ab.T @ self._drho(Ab @ x - self.y[idx]) / len(idx)

    def hessp(self, x, v):
        w = self._d2rho(self.A @ x - self.y)
        return self.A.T @ (w * (self.A @ v)) / self.n

    @property
    def L(self):
        """RHO2_MAX * lambda_max(A^T A / n): a global bound of the Hessian norm."""
        return self.RHO2_MAX * float(np.linalg.eigvalsh(self.A.T @ self.A / self.n)[-1])

    @property
    def L_max(self):
        return self.RHO2_MAX * float(np.max(np.sum(self.A * self.A, axis=1)))

    @property
    def G(self):
        """Bound on every stochastic gradient ||rho'(r_i) a_i||."""
        return self.RHO1_MAX * float(np.sqrt(np.max(np.sum(self.A * self.A, axis=1))))
