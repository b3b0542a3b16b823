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
"""

from __future__ import annotations

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
