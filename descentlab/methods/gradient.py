"""Gradient descent and the proximal gradient method (ISTA).

Each iteration uses one full gradient (n oracle calls). Notation: F = g + h with g
L-smooth and mu-strongly convex (mu >= 0), h handled by its prox.

* ``GD``          x+ = x - s grad g(x),  s = 1/L.  Rates (seed 004): min ||grad||^2 <=
  2 L (F0 - F*) / t (smooth), F - F* <= L ||x0 - x*||^2 / (2t) (convex),
  F - F* <= (1 - mu/L)^t (F0 - F*) (strongly convex or PL with constant mu).
* ``ProximalGradient`` (ISTA)  x+ = prox_{s h}(x - s grad g(x)),  s = 1/L; same rates as GD
  (Beck and Teboulle 2009; Karimi, Nutini, Schmidt 2016 for the proximal-PL case).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from .base import Method, State, iterations_for


@dataclass(frozen=True, kw_only=True)
class ProximalGradient(Method):
    """ISTA: x+ = prox_{step h}(x - step grad g(x)); default step 1/L."""

    step: float | None = None
    name: ClassVar[str] = "ista"
    handles_prox: ClassVar[bool] = True

    def resolve(self, problem):
        self.check_problem(problem)
        return self if self.step is not None else dataclasses.replace(self, step=1.0 / problem.L)

    def init(self, problem, x0, rng):
        return State(x=x0)

    def advance(self, problem, state, rng, calls):
        x, s = state.x, self.step
        k = iterations_for(calls, problem.n)
        for _ in range(k):
            x = problem.prox(x - s * problem.grad(x), s)
        return state.after(k, k * problem.n, x=x)


@dataclass(frozen=True, kw_only=True)
class GD(ProximalGradient):
    """Gradient descent x+ = x - step grad F(x); default step 1/L.

    The proximal-gradient iteration on a smooth problem (its prox is the identity)."""

    name: ClassVar[str] = "gd"
    handles_prox: ClassVar[bool] = False


__all__ = ["GD", "ProximalGradient"]
