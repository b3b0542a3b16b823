"""Adding a method: gradient descent with the Barzilai-Borwein step.

This file is the worked example of the user guide ("Adding a method"); the test suite runs it
(tests/test_docs.py), so every line below works with the current code.
"""

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

import descentlab as dl
from descentlab.methods import METHODS, Method, State, iterations_for
from descentlab.problems import Quadratic


# 1. The state: what the method carries from one call of ``advance`` to the next. It is a
#    frozen dataclass; ``x``, ``iteration`` and ``calls`` come from ``State``.
@dataclass(frozen=True, kw_only=True, eq=False)
class BBState(State):
    x_prev: np.ndarray | None = None
    g_prev: np.ndarray | None = None
    last_step: float = 0.0
    reported: ClassVar[tuple[str, ...]] = ("last_step",)  # recorded in the Trace metadata


# 2. The method: a frozen, keyword-only dataclass whose fields are the hyperparameters.
#    ``None`` means "the default the theory gives", filled in by ``resolve``.
@dataclass(frozen=True, kw_only=True)
class BarzilaiBorwein(Method):
    """Gradient descent with the Barzilai-Borwein step (Barzilai and Borwein 1988, BB1).

    Update: x+ = x - s_k grad F(x), s_k = <dx, dx> / <dx, dg> with dx = x - x_prev and
    dg = grad F(x) - grad F(x_prev); the first step is ``step`` (default 1/L). On a strongly
    convex quadratic it converges R-linearly (Raydan 1993), often much faster than GD with
    step 1/L, although F is not monotone along the iterates.

    State: the previous point and gradient. Cost: one full gradient (n oracle calls) per
    iteration.
    """

    step: float | None = None
    name: ClassVar[str] = "bb"

    def resolve(self, problem):
        self.check_problem(problem)  # refuses problems with a non-smooth term
        if self.step is not None:
            return self
        return dataclasses.replace(self, step=1.0 / problem.L)

    def init(self, problem, x0, rng):
        return BBState(x=x0, last_step=self.step)

    def advance(self, problem, state, rng, calls):
        x, x_prev, g_prev, s = state.x, state.x_prev, state.g_prev, state.last_step
        k = iterations_for(calls, problem.n)  # whole iterations of n oracle calls each
        for _ in range(k):
            g = problem.grad(x)
            if x_prev is not None:
                dx, dg = x - x_prev, g - g_prev
                curvature = float(dx @ dg)
                if curvature > 0:
                    s = float(dx @ dx) / curvature
            x_prev, g_prev = x, g
            x = x - s * g
        return state.after(k, k * problem.n, x=x, x_prev=x_prev, g_prev=g_prev, last_step=s)


# 3. Register it. Inside the package: add the class to its family's module
#    (descentlab/methods/gradient.py) and to the tuple that builds METHODS in
#    descentlab/methods/__init__.py. From your own code, add it to the registry:
METHODS[BarzilaiBorwein.name] = BarzilaiBorwein

# 4. Run it like any other method: by class or by name, with the one run loop.
problem = Quadratic.with_condition_number(100, kappa=1e3, seed=0)
bb = dl.run(problem, "bb", tol=1e-10, budget_epochs=2000)
gd = dl.run(problem, dl.get_method("gd"), tol=1e-10, budget_epochs=50_000)
print(bb.df[["iteration", "oracle_calls", "rel_subopt"]].tail(3))
print(f"BB: {bb.final('oracle_calls')} oracle calls, GD: {gd.final('oracle_calls')}")

# The checks the test suite relies on: BB reaches the closed-form optimum of the quadratic
# (x* = A^-1 b) to 1e-10 relative suboptimality, in fewer gradients than GD needs.
x_star = np.linalg.solve(problem.A, problem.b)
assert bb.final("rel_subopt") <= 1e-10
assert np.linalg.norm(bb.x - x_star) <= 1e-4 * np.linalg.norm(x_star)
assert bb.final("oracle_calls") < gd.final("oracle_calls") / 5
