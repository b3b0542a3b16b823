"""A user's own method for a study: gradient descent with Armijo backtracking.

Used by ``vr_logistic.toml`` as ``my_methods:ArmijoGD`` (this folder is searched for it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from descentlab.methods import Method, State


@dataclass(frozen=True, kw_only=True)
class ArmijoState(State):
    """The current trial step (it grows by ``grow`` after an accepted step)."""

    trial: float = 1.0


@dataclass(frozen=True, kw_only=True)
class ArmijoGD(Method):
    """x+ = x - t grad F(x), t halved until F(x+) <= F(x) - t ||grad F(x)||^2 / 2 (Armijo).

    Starts each iteration at ``grow`` times the last accepted step (initially ``step``,
    default 1/L). One iteration costs n oracle calls (the gradient); the function values of
    the backtracking are counted as n calls each as well.
    """

    step: float | None = None
    grow: float = 2.0
    name: ClassVar[str] = "armijo-gd"

    def resolve(self, problem):
        self.check_problem(problem)
        return self if self.step is not None else \
            dataclasses.replace(self, step=1.0 / problem.L)

    def init(self, problem, x0, rng):
        return ArmijoState(x=x0, trial=self.step)

    def advance(self, problem, state, rng, calls):
        x, t, spent, k = state.x, state.trial, 0, 0
        n = problem.n
        while spent < calls or k == 0:
            g = problem.grad(x)
            fx, gg = problem.value(x), float(g @ g)
            spent += n
            while True:
                x_new = x - t * g
                spent += n
                if problem.value(x_new) <= fx - 0.5 * t * gg or t < 1e-12:
                    break
                t *= 0.5
            x, t, k = x_new, t * self.grow, k + 1
        return state.after(k, spent, x=np.asarray(x), trial=t)
