"""Full-gradient methods: gradient descent, heavy ball, Nesterov, ISTA and FISTA.

Each iteration uses one full gradient (n oracle calls). Notation: F = g + h with g
L-smooth and mu-strongly convex (mu >= 0), h handled by its prox, kappa = L / mu.

* ``GD``          x+ = x - s grad g(x),  s = 1/L.  Rates (seed 004): min ||grad||^2 <=
  2 L (F0 - F*) / t (smooth), F - F* <= L ||x0 - x*||^2 / (2t) (convex),
  F - F* <= (1 - mu/L)^t (F0 - F*) (strongly convex or PL with constant mu).
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
* ``ProximalGradient`` (ISTA)  x+ = prox_{s h}(x - s grad g(x)),  s = 1/L; same rates as GD
  (Beck and Teboulle 2009; Karimi, Nutini, Schmidt 2016 for the proximal-PL case).
* ``FISTA``       x_k = prox_{s h}(y_k - s grad g(y_k)), t_{k+1} = (1 + sqrt(1 + 4 t_k^2))/2,
  y_{k+1} = x_k + ((t_k - 1)/t_{k+1}) (x_k - x_{k-1})  (Beck and Teboulle 2009):
  F(x_k) - F* <= 2 L ||x0 - x*||^2 / (k+1)^2. Optional adaptive restart (O'Donoghue and
  Candes 2015): 'gradient' resets t when (y_k - x_k) . (x_k - x_{k-1}) > 0, 'function'
  when F(x_k) > F(x_{k-1}).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from .._validation import check_choice
from ..errors import DescentlabError
from .base import Method, State, iterations_for


def _default_step(method: Method, problem) -> float:
    step = getattr(method, "step", None)
    return 1.0 / problem.L if step is None else step


def _check_momentum(name: str, value: float | None) -> None:
    if value is not None and not (0.0 <= value < 1.0):
        raise DescentlabError(f"{name}: expected a momentum in [0, 1), got {value!r}")


@dataclass(eq=False)
class HeavyBall(Method):
    """Polyak's heavy ball x+ = x - step grad F(x) + momentum (x - x-)."""

    step: float | None = None
    momentum: float | None = None
    name: ClassVar[str] = "heavy-ball"

    def __post_init__(self):
        super().__post_init__()
        _check_momentum("heavy-ball: momentum", self.momentum)

    def init(self, problem, x0, rng):
        self._check_problem(problem)
        L, mu = problem.L, problem.mu
        if mu > 0:
            step = 4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2
            b = ((math.sqrt(L) - math.sqrt(mu)) / (math.sqrt(L) + math.sqrt(mu))) ** 2
        else:
            b = 0.5
            step = (1.0 - b) / L
        step = self.step if self.step is not None else step
        b = self.momentum if self.momentum is not None else b
        return State(problem, x0, params={"step": step, "momentum": b, "x_prev": x0.copy()})

    def advance(self, state, calls):
        p, x, prm = state.problem, state.x, state.params
        s, b, x_prev = prm["step"], prm["momentum"], prm["x_prev"]
        k = iterations_for(calls, p.n)
        for _ in range(k):
            x, x_prev = x - s * p.grad(x) + b * (x - x_prev), x
        state.x, prm["x_prev"] = x, x_prev
        state.iteration += k
        state.calls += k * p.n
        return state


@dataclass(eq=False)
class Nesterov(Method):
    """Nesterov's accelerated gradient; variant 'convex', 'strongly-convex' or 'auto'.

    'auto' takes the strongly convex variant when the problem reports mu > 0.
    """

    step: float | None = None
    variant: str = "auto"
    name: ClassVar[str] = "nesterov"

    def __post_init__(self):
        super().__post_init__()
        check_choice("nesterov: variant", self.variant, ("auto", "convex", "strongly-convex"))

    def init(self, problem, x0, rng):
        self._check_problem(problem)
        variant = self.variant
        if variant == "auto":
            variant = "strongly-convex" if problem.mu > 0 else "convex"
        if variant == "strongly-convex":
            if problem.mu <= 0:
                raise DescentlabError("nesterov: variant='strongly-convex' needs mu > 0, "
                                      "the problem reports mu = 0")
            sk = math.sqrt(problem.L / problem.mu)
            beta = (sk - 1.0) / (sk + 1.0)
        else:
            beta = None
        return State(problem, x0, params={"step": _default_step(self, problem),
                                          "variant": variant, "momentum": beta,
                                          "x_prev": x0.copy()})

    def advance(self, state, calls):
        p, x, prm = state.problem, state.x, state.params
        s, beta, x_prev = prm["step"], prm["momentum"], prm["x_prev"]
        k = iterations_for(calls, p.n)
        for i in range(state.iteration + 1, state.iteration + k + 1):
            b = (i - 1.0) / (i + 2.0) if beta is None else beta
            y = x + b * (x - x_prev)
            x, x_prev = y - s * p.grad(y), x
        state.x, prm["x_prev"] = x, x_prev
        state.iteration += k
        state.calls += k * p.n
        return state


@dataclass(eq=False)
class ProximalGradient(Method):
    """ISTA: x+ = prox_{step h}(x - step grad g(x)); default step 1/L."""

    step: float | None = None
    name: ClassVar[str] = "ista"
    handles_prox: ClassVar[bool] = True

    def init(self, problem, x0, rng):
        self._check_problem(problem)
        return State(problem, x0, params={"step": _default_step(self, problem)})

    def advance(self, state, calls):
        p, x, s = state.problem, state.x, state.params["step"]
        k = iterations_for(calls, p.n)
        for _ in range(k):
            x = p.prox(x - s * p.grad(x), s)
        state.x = x
        state.iteration += k
        state.calls += k * p.n
        return state


@dataclass(eq=False)
class GD(ProximalGradient):
    """Gradient descent x+ = x - step grad F(x); default step 1/L.

    The proximal-gradient iteration on a smooth problem (its prox is the identity)."""

    step: float | None = None
    name: ClassVar[str] = "gd"
    handles_prox: ClassVar[bool] = False


@dataclass(eq=False)
class FISTA(Method):
    """FISTA with optional adaptive restart (None, 'gradient' or 'function')."""

    step: float | None = None
    restart: str | None = "gradient"
    name: ClassVar[str] = "fista"
    handles_prox: ClassVar[bool] = True

    def __post_init__(self):
        super().__post_init__()
        if self.restart in ("none", "None", ""):
            self.restart = None
        check_choice("fista: restart", self.restart, (None, "gradient", "function"))

    def init(self, problem, x0, rng):
        params = {"step": _default_step(self, problem), "restart": self.restart,
                  "t": 1.0, "y": x0.copy(), "restarts": 0,
                  "f_prev": problem.value(x0) if self.restart == "function" else None}
        return State(problem, x0, params=params)

    def advance(self, state, calls):
        p, x, prm = state.problem, state.x, state.params
        s, t, y, restart = prm["step"], prm["t"], prm["y"], prm["restart"]
        k = iterations_for(calls, p.n)
        for _ in range(k):
            x_new = p.prox(y - s * p.grad(y), s)
            restarted = False
            if restart == "gradient":
                restarted = float((y - x_new) @ (x_new - x)) > 0.0
            elif restart == "function":
                f_new = p.value(x_new)
                restarted, prm["f_prev"] = f_new > prm["f_prev"], f_new
            if restarted:
                t, y = 1.0, x_new
                prm["restarts"] += 1
            else:
                t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
                y = x_new + ((t - 1.0) / t_new) * (x_new - x)
                t = t_new
            x = x_new
        state.x, prm["t"], prm["y"] = x, t, y
        state.iteration += k
        state.calls += k * p.n
        return state


__all__ = ["FISTA", "GD", "HeavyBall", "Nesterov", "ProximalGradient"]
