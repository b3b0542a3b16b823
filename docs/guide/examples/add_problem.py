"""Adding a problem: ridge-penalized Huber regression.

This file is the worked example of the user guide ("Adding a problem"); the test suite runs it
(tests/test_docs.py), so every line below works with the current code.
"""

import numpy as np
from scipy import optimize

import descentlab as dl
from descentlab.problems import Problem


class HuberRegression(Problem):
    """F(x) = (1/n) sum_i h(a_i . x - b_i) + lam ||x||^2 / 2 with the Huber function
    h(r) = r^2/2 for |r| <= delta, delta (|r| - delta/2) beyond.

    h'' <= 1, so f_i is (||a_i||^2 + lam)-smooth: L = ||A||_2^2 / n + lam,
    L_max = max_i ||a_i||^2 + lam, and F is lam-strongly convex (mu = lam).
    """

    name = "huber"

    def __init__(self, A, b, *, delta=1.0, lam=1e-2):
        self.A = np.asarray(A, dtype=np.float64)
        self.b = np.asarray(b, dtype=np.float64)
        self.n, self.dim = self.A.shape           # n components; a full gradient is n calls
        self.delta, self.lam = float(delta), float(lam)

    # --- the oracles ----------------------------------------------------------------
    def _h(self, r):
        small = np.abs(r) <= self.delta
        return np.where(small, 0.5 * r * r, self.delta * (np.abs(r) - 0.5 * self.delta))

    def _dh(self, r):
        return np.clip(r, -self.delta, self.delta)

    def value(self, x):
        return float(self._h(self.A @ x - self.b).mean() + 0.5 * self.lam * x @ x)

    def grad(self, x):
        return self.A.T @ self._dh(self.A @ x - self.b) / self.n + self.lam * x

    def batch_grad(self, x, idx):
        """Mean of grad f_i over ``idx`` (may repeat): what the stochastic methods call."""
        A = self.A[idx]
        return A.T @ self._dh(A @ x - self.b[idx]) / len(idx) + self.lam * x

    # --- the constants of the theory ------------------------------------------------
    @property
    def L(self):
        return float(np.linalg.norm(self.A, 2) ** 2 / self.n + self.lam)

    @property
    def L_max(self):
        return float(np.max(np.einsum("ij,ij->i", self.A, self.A)) + self.lam)

    @property
    def mu(self):
        return self.lam

    # --- the certified optimum: an independent solver, to far below the runs' tolerance ---
    def _solve(self):
        res = optimize.minimize(self.value, np.zeros(self.dim), jac=self.grad, method="L-BFGS-B",
                                options={"gtol": 1e-13, "ftol": 0.0, "maxiter": 10_000})
        x = res.x
        for _ in range(5):  # polish with exact Newton steps (h'' is 0 or 1)
            r = self.A @ x - self.b
            w = (np.abs(r) <= self.delta).astype(float)
            H = (self.A.T * w) @ self.A / self.n + self.lam * np.eye(self.dim)
            x = x - np.linalg.solve(H, self.grad(x))
        assert np.linalg.norm(self.grad(x)) <= 1e-10
        return x, self.value(x)


rng = np.random.default_rng(0)
A = rng.standard_normal((500, 20))
b = A @ rng.standard_normal(20) + rng.standard_t(df=2, size=500)  # heavy-tailed noise
problem = HuberRegression(A, b, delta=1.0, lam=1e-2)

# The gradient against finite differences, the component gradients against the full one.
x = rng.standard_normal(20)
assert optimize.check_grad(problem.value, problem.grad, x) <= 1e-5 * np.linalg.norm(
    problem.grad(x))
assert np.allclose(problem.batch_grad(x, np.arange(problem.n)), problem.grad(x), atol=1e-12)

# Every registered method now runs on it, measured against the certified optimum.
print(problem.L, problem.L_max, problem.mu)
for name in ("gd", "nesterov", "saga", "svrg"):
    trace = dl.run(problem, name, tol=1e-10, budget_epochs=3000, seed=0)
    print(f"{name:9s} {trace.final('oracle_calls'):>9d} calls, "
          f"rel. subopt {trace.final('rel_subopt'):.1e}")
    assert trace.final("rel_subopt") <= 1e-10
