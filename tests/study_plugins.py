"""A user's plugin method and problem for the study tests ("study_plugins:Class")."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from descentlab.methods import Method, State, iterations_for
from descentlab.problems import Problem


@dataclass(frozen=True, kw_only=True)
class HalfStepGD(Method):
    """x+ = x - step grad F(x), default step 1/(2L) (a GD variant)."""

    step: float | None = None
    name: ClassVar[str] = "half-gd"

    def resolve(self, problem):
        self.check_problem(problem)
        return self if self.step is not None else \
            dataclasses.replace(self, step=0.5 / problem.L)

    def init(self, problem, x0, rng):
        return State(x=x0)

    def advance(self, problem, state, rng, calls):
        k = iterations_for(calls, problem.n)
        x = state.x
        for _ in range(k):
            x = x - self.step * problem.grad(x)
        return state.after(k, k * problem.n, x=x)


class Diagonal(Problem):
    """F(x) = 1 + sum_i d_i (x_i - 1)^2 / 2 with d = geomspace(1/kappa, 1, dim); F* = 1."""

    name = "diagonal"
    n = 1
    solves = 0  # counts the certified solutions computed (the F* cache test)

    def __init__(self, dim: int = 5, kappa: float = 10.0):
        self.dim = int(dim)
        self.d = np.geomspace(1.0 / kappa, 1.0, self.dim)

    def value(self, x):
        return float(0.5 * np.sum(self.d * (x - 1.0) ** 2)) + 1.0

    def grad(self, x):
        return self.d * (x - 1.0)

    @property
    def L(self):
        return float(self.d.max())

    @property
    def mu(self):
        return float(self.d.min())

    def _solve(self):
        type(self).solves += 1
        return np.ones(self.dim), 1.0


@dataclass(frozen=True, kw_only=True)
class SlowGD(HalfStepGD):
    """HalfStepGD that sleeps ``pause`` seconds per advance (to kill a sweep mid-way)."""

    pause: float = 0.05
    name: ClassVar[str] = "slow-gd"

    def advance(self, problem, state, rng, calls):
        time.sleep(self.pause)
        return super().advance(problem, state, rng, calls)
