"""Shared fixtures: finite differences, small random data, cached LIBSVM problems.

The LIBSVM problems and the scikit-learn reference fits are session-scoped and cached
by their arguments, so a dataset is parsed and a reference optimum is computed once per
test session however many tests use it.
"""
# ruff: noqa: E402 (the thread variables below must be set before numpy is imported)

from __future__ import annotations

import os

#: One thread per BLAS / OpenMP / numba pool for the whole session, set before numpy is
#: imported (the pools read these at load time) and inherited by every subprocess a test
#: spawns (CLI runs, loky and Dask workers). On a 2-core machine shared with another job,
#: multithreaded OpenBLAS spins for cores it does not get: a (1000x256)(256x16) product is
#: ~10-30x slower than single-threaded, and the suite took 13.6 min instead of ~4.
SINGLE_THREAD_ENV = {name: "1" for name in (
    "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")}
os.environ.update(SINGLE_THREAD_ENV)

import tempfile

#: A fresh on-disk cache (``descentlab.cache``) per test session, inherited by subprocesses:
#: tests never read results cached by an earlier session or write into the user's home.
os.environ["DESCENTLAB_CACHE"] = tempfile.mkdtemp(prefix="descentlab-cache-")

import functools

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from descentlab.problems import Logistic

threadpool_limits(limits=1)  # in case a plugin loaded numpy before this file


def _central_differences(f, x, h=1e-6):
    """Gradient of the scalar function ``f`` at ``x`` by central differences."""
    x = np.asarray(x, dtype=np.float64)
    g = np.empty_like(x)
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        g[j] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _jacobian_differences(F, x, h=1e-6):
    """Jacobian of ``F`` at ``x`` by central differences (column j is dF/dx_j)."""
    x = np.asarray(x, dtype=np.float64)
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        cols.append((np.asarray(F(x + e)) - np.asarray(F(x - e))) / (2 * h))
    return np.column_stack(cols)


@pytest.fixture(scope="session")
def fd_grad():
    """``fd_grad(f, x, h=1e-6)``: central-difference gradient of a scalar function."""
    return _central_differences


@pytest.fixture(scope="session")
def fd_jacobian():
    """``fd_jacobian(F, x, h=1e-6)``: central-difference Jacobian of a vector function."""
    return _jacobian_differences


class Stepper:
    """A method resolved on a problem and advanced by hand, as ``descentlab.run`` does:
    ``Stepper(method, problem, x0, rng).advance(calls)`` returns the new state."""

    def __init__(self, method, problem, x0, rng):
        self.problem, self.rng = problem, rng
        self.method = method.resolve(problem)
        self.state = self.method.init(problem, x0, rng)

    def advance(self, calls):
        self.state = self.method.advance(self.problem, self.state, self.rng, calls)
        return self.state


def make_design(n: int, d: int, *, sparse: bool, seed: int) -> np.ndarray | sp.csr_matrix:
    """A random n x d design: dense Gaussian, or CSR with about 40% non-zeros."""
    rng = np.random.default_rng(seed)
    if not sparse:
        return rng.standard_normal((n, d))
    X = sp.random(n, d, density=0.4, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    return sp.csr_matrix(X)


def make_targets(n: int, *, loss: str, seed: int) -> np.ndarray:
    """Regression targets (least squares) or labels in {-1, +1} with both classes present."""
    rng = np.random.default_rng(seed + 1)
    if loss == "least-squares":
        return rng.standard_normal(n)
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    y[0], y[1] = -1.0, 1.0
    return y


@pytest.fixture(scope="session")
def libsvm_logistic():
    """``libsvm_logistic(name, reg, lam)``: a cached ``Logistic.from_libsvm`` problem.

    Cached per session so that ``solution()`` (itself cached on the instance) runs once.
    """

    @functools.cache
    def build(name: str, reg: str | None, lam: float) -> Logistic:
        return Logistic.from_libsvm(name, reg=reg, lam=lam)

    return build


def logistic_objective(X, y, w, lam2: float = 0.0, lam1: float = 0.0) -> float:
    """Reference objective mean log(1 + exp(-y Xw)) + lam2 ||w||^2 / 2 + lam1 ||w||_1."""
    z = y * (X @ w)
    return float(np.mean(np.logaddexp(0.0, -z)) + 0.5 * lam2 * w @ w + lam1 * np.abs(w).sum())


def int32_csr(X: sp.csr_matrix) -> sp.csr_matrix:
    """The same CSR matrix with 32-bit indices (liblinear/saga refuse 64-bit ones)."""
    return sp.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
                         shape=X.shape)


@pytest.fixture(scope="session")
def sklearn_logistic():
    """``sklearn_logistic(name, penalty, lam)``: scikit-learn's coefficients, cached.

    Same objective as ``Logistic(reg=penalty, lam=lam)``: scikit-learn minimizes
    C sum_i loss_i + Omega(w) with C = 1 / (lam n), i.e. n C times our objective.
    """
    from sklearn.linear_model import LogisticRegression

    @functools.cache
    def fit(name: str, penalty: str, lam: float) -> np.ndarray:
        problem = Logistic.from_libsvm(name)
        C = 1.0 / (lam * problem.n)
        if penalty == "l2":
            clf = LogisticRegression(C=C, l1_ratio=0.0, fit_intercept=False, tol=1e-12,
                                     max_iter=10000, solver="newton-cg")
        else:
            solver = "liblinear" if name == "mushrooms" else "saga"
            clf = LogisticRegression(C=C, l1_ratio=1.0, fit_intercept=False, tol=1e-10,
                                     max_iter=100000, solver=solver)
        clf.fit(int32_csr(problem.X), problem.y)
        return clf.coef_.ravel().copy()

    return fit
