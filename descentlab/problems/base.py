"""The problem interface shared by every objective of descentlab.

A problem is a composite objective over R^dim,

    F(theta) = g(theta) + h(theta),   g(theta) = (1/n) sum_i f_i(theta),

with g smooth (gradient ``grad``, component gradients through ``batch_grad``) and h a
"simple" convex term handled by its proximal operator ``prox`` (h = 0 for smooth
problems, in which case ``prox`` is the identity). The constants follow the seeds
(000, 004): ``L`` is the smoothness of g, ``L_max`` the largest smoothness of one f_i,
``mu`` the strong convexity of F (0 when there is none).

Cost is counted in oracle calls: one call is one component gradient grad f_i; a full
gradient costs ``n`` calls (DESIGN.md, "Contracts").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from .._validation import check_vector
from ..errors import DescentlabError


class Problem(ABC):
    """Base class: see the module docstring for the conventions."""

    #: short name used in traces and reports
    name: str = "problem"
    #: number of components f_i; a full gradient costs ``n`` oracle calls
    n: int = 1
    #: dimension of the parameter space
    dim: int
    #: floating point type of the iterates
    dtype: np.dtype = np.dtype(np.float64)
    #: whether F has a non-smooth part handled by ``prox``
    nonsmooth: bool = False
    #: whether the problem is convex (the theory instruments read this)
    convex: bool = True

    # ------------------------------------------------------------------ oracles
    @abstractmethod
    def value(self, x: np.ndarray) -> float:
        """F(x), the full objective (smooth plus non-smooth part)."""

    def smooth_value(self, x: np.ndarray) -> float:
        """g(x), the smooth part of the objective."""
        return self.value(x)

    @abstractmethod
    def grad(self, x: np.ndarray) -> np.ndarray:
        """grad g(x), the gradient of the smooth part (costs ``n`` oracle calls)."""

    def batch_grad(self, x: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Mean of the component gradients grad f_i(x) over the indices ``idx``.

        ``idx`` may repeat indices (sampling with replacement); the cost is ``len(idx)``
        oracle calls. Problems with a single component (n = 1) return ``grad(x)``.
        """
        if self.n == 1:
            return self.grad(x)
        raise NotImplementedError(f"{type(self).__name__} has no component gradients")

    def prox(self, x: np.ndarray, step: float) -> np.ndarray:
        """prox_{step h}(x) = argmin_z h(z) + ||z - x||^2 / (2 step); identity when h = 0."""
        return x

    # --------------------------------------------------------------- constants
    @property
    @abstractmethod
    def L(self) -> float:
        """Smoothness constant of the smooth part g."""

    @property
    def L_max(self) -> float:
        """Largest smoothness constant of one component f_i (equals ``L`` when n = 1)."""
        return self.L

    @property
    def mu(self) -> float:
        """Strong convexity constant of F (0 when F is not strongly convex)."""
        return 0.0

    # ------------------------------------------------------------ derived tools
    def gradient_mapping(self, x: np.ndarray, step: float | None = None) -> np.ndarray:
        """G_t(x) = (x - prox_{t h}(x - t grad g(x))) / t with t = 1/L by default.

        It equals grad F(x) for smooth problems and vanishes exactly at the minimizers of
        composite convex ones, so its norm is the optimality measure used everywhere.
        """
        g = self.grad(x)
        if not self.nonsmooth:
            return g
        t = 1.0 / self.L if step is None else step
        return (x - self.prox(x - t * g, t)) / t

    def component_smoothness(self) -> np.ndarray | None:
        """L_i of every f_i when known (linear models: importance sampling uses them)."""
        return None

    def linear_view(self):
        """The arrays of a linear model (``LinearView``) for the compiled loops, else None."""
        return None

    def check_duality_gap(self) -> None:
        """Raise ``DescentlabError`` unless ``duality_gap`` is defined on this problem."""
        raise DescentlabError(f"gap_tol: {type(self).__name__} has no duality gap (the linear "
                              "models with a penalty have one); use tol or grad_tol")

    def duality_gap(self, x: np.ndarray) -> float:
        """P(x) - D(theta(x)) >= F(x) - F*: a certificate (linear models with a penalty)."""
        self.check_duality_gap()
        raise NotImplementedError

    def default_x0(self) -> np.ndarray:
        """The starting point used when a run gives none (the origin unless overridden)."""
        return np.zeros(self.dim, dtype=self.dtype)

    def check_point(self, x, name: str = "x0") -> np.ndarray:
        """Validate a user-given point of the parameter space and return a fresh copy."""
        return check_vector(name, x, self.dim, dtype=self.dtype)

    def solution(self) -> tuple[np.ndarray | None, float]:
        """(x*, F*) from an independent high-accuracy solver, computed once and cached.

        ``x*`` is None when the minimizers form a continuum (e.g. ``ScalarNetwork``).
        Raises ``NotImplementedError`` for problems without a reference optimum.
        """
        cached = getattr(self, "_solution_cache", None)
        if cached is None:
            x_star, f_star = self._solve()
            if x_star is not None:
                x_star = np.asarray(x_star, dtype=np.float64)
                x_star.setflags(write=False)
            cached = (x_star, float(f_star))
            self._solution_cache = cached
        return cached

    def _solve(self) -> tuple[np.ndarray | None, float]:
        raise NotImplementedError(f"{type(self).__name__} has no reference solution")

    def describe(self) -> dict[str, Any]:
        """Plain-data description stored in trace metadata."""
        return {"problem": self.name, "n": int(self.n), "dim": int(self.dim),
                "dtype": str(np.dtype(self.dtype))}

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v}" for k, v in self.describe().items() if k != "problem")
        return f"{type(self).__name__}({items})"
