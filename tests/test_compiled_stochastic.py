"""Compiled SGD, Adam/AdaGrad/RMSProp and L-Katyusha on linear models
(descentlab/_compiled/stochastic.py).

References: the generic path of the same method (``batch_grad`` on a wrapper problem that
hides ``linear_view``, the path tested against numpy re-implementations of the papers in
test_stochastic_generic.py), fed the same seed, and the dense compiled recursion
(``lazy=False``). Trajectories are compared at several recording points (advance called
with uneven budgets, so the pre-drawn index blocks are cut at different places).
The optimum is ``problem.solution()`` (certified by the problem tests).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import descentlab as dl
from descentlab.errors import DescentlabError
from descentlab.methods import get_method
from descentlab.problems import LeastSquares, Logistic, Problem
from descentlab.problems.proximal_term import ProximalTerm

CHUNKS = (7, 50, 13, 160)


class Generic(Problem):
    """The same objective without ``linear_view``: forces the generic path."""

    def __init__(self, base):
        self.base, self.n, self.dim, self.dtype = base, base.n, base.dim, base.dtype
        self.nonsmooth, self.convex = base.nonsmooth, True

    def value(self, x):
        return self.base.value(x)

    def grad(self, x):
        return self.base.grad(x)

    def batch_grad(self, x, idx):
        return self.base.batch_grad(x, idx)

    def prox(self, x, step):
        return self.base.prox(x, step)

    L = property(lambda self: self.base.L)
    L_max = property(lambda self: self.base.L_max)
    mu = property(lambda self: self.base.mu)


def problem(loss, sparse, reg, intercept=False, lam=0.05, n=60, d=12):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    if sparse:
        X = sp.csr_matrix(X * (rng.random((n, d)) < 0.3))
    kw = {"l1_ratio": 0.5} if reg == "elasticnet" else {}
    if loss == "logistic":
        return Logistic(X, np.sign(rng.standard_normal(n)), reg=reg, lam=lam if reg else 0.0,
                        fit_intercept=intercept, **kw)
    return LeastSquares(X, rng.standard_normal(n), reg=reg, lam=lam if reg else 0.0,
                        fit_intercept=intercept, **kw)


def trajectory(method, prob, seed=0):
    """The reported point after each advance of CHUNKS calls, and the last state."""
    m = method.resolve(prob)
    rng = np.random.default_rng(seed)
    state = m.init(prob, np.zeros(prob.dim, dtype=prob.dtype), rng)
    points = []
    for calls in CHUNKS:
        state = m.advance(prob, state, rng, calls)
        points.append(np.array(state.x, copy=True))
    return np.array(points), state


def assert_same(method_name, prob, tol=1e-10, **hp):
    """compiled (lazy) == generic == compiled dense, to ``tol`` relative to the scale."""
    lazy, state = trajectory(get_method(method_name, **hp), prob)
    assert state.info()["path"] == "compiled"
    generic, gstate = trajectory(get_method(method_name, **hp), Generic(prob))
    assert gstate.info()["path"] == "generic"
    dense, _ = trajectory(get_method(method_name, lazy=False, **hp), prob)
    scale = 1.0 + np.abs(generic).max()
    assert np.abs(generic).max() > 1e-3  # the runs moved
    assert np.abs(lazy - generic).max() <= tol * scale
    assert np.abs(dense - generic).max() <= tol * scale


CASES = [("logistic", True, "l2", False), ("logistic", False, "l1", True),
         ("square", True, "elasticnet", True), ("square", False, "l2", False),
         ("logistic", True, None, True)]
SGD_SETTINGS = [
    {}, {"batch_size": 3}, {"schedule": "inverse-sqrt"},
    {"schedule": "step-decay", "decay_every": 0.5}, {"schedule": "inverse", "step": 1.0,
                                                     "t0": 5.0},
    {"averaging": True, "average_start": 0.5},
    {"averaging": True, "schedule": "inverse-sqrt", "batch_size": 2},
    {"momentum": 0.5}, {"momentum": 0.5, "momentum_type": "nesterov", "averaging": True},
    {"sampling": "permutation", "batch_size": 4},
]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("hp", SGD_SETTINGS, ids=str)
def test_sgd_compiled_equals_generic_and_dense(case, hp):
    assert_same("sgd", problem(*case), **hp)


@pytest.mark.parametrize("case", CASES[:2] + CASES[3:], ids=str)
@pytest.mark.parametrize("name, hp", [
    ("adam", {"lr": 0.05}), ("adam", {"lr": 0.1, "schedule": "inverse-sqrt", "batch_size": 3}),
    ("adagrad", {"lr": 0.1}), ("adagrad", {"lr": 0.1, "batch_size": 3}),
    ("rmsprop", {"lr": 0.02}), ("rmsprop", {"lr": 0.05, "schedule": "step-decay",
                                            "decay_every": 0.5}),
], ids=str)
def test_adaptive_compiled_equals_generic_and_dense(case, name, hp):
    if case[2] == "l1":
        case = (*case[:2], "l2", case[3])
    assert_same(name, problem(*case), **hp)


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("hp", [{}, {"p": 0.2}], ids=str)
def test_katyusha_compiled_equals_generic_and_dense(case, hp):
    prob = problem(*case)
    if prob.mu <= 0:
        hp = {**hp, "theta1": 0.3, "step": 0.05}
    assert_same("katyusha", prob, sampling="uniform", **hp)


@pytest.mark.parametrize("case", CASES[:3], ids=str)
def test_katyusha_importance_lazy_equals_dense(case):
    prob = problem(*case)
    hp = {"theta1": 0.3, "step": 0.05} if prob.mu <= 0 else {}
    lazy, state = trajectory(get_method("katyusha", sampling="importance", **hp), prob)
    dense, _ = trajectory(get_method("katyusha", sampling="importance", lazy=False, **hp), prob)
    assert state.info()["sampling"] == "importance"
    assert np.abs(lazy - dense).max() <= 1e-10 * (1.0 + np.abs(dense).max())


def test_catalyst_subproblem_shift_is_exact():
    """Inside Catalyst's subproblem (ridge kappa, shift -kappa center, kappa on the intercept)
    the lazy loops equal the generic path."""
    base = problem("logistic", True, "l2", True)
    sub = ProximalTerm(base, 0.3, np.linspace(-1, 1, base.dim))
    assert_same("sgd", sub, schedule="inverse-sqrt", averaging=True)
    assert_same("katyusha", sub, sampling="uniform")
    assert_same("adagrad", sub, lr=0.1)


def test_lazy_loop_renormalizes_the_scale():
    """c = 1 - step lam2 = 0.5: the scale P falls below 1e-150 within 500 iterations."""
    prob = problem("square", True, "l2", lam=1.0)
    assert_same("sgd", prob, step=0.5)
    assert_same("sgd", prob, step=0.5, averaging=True)


def test_katyusha_reaches_the_certified_optimum(libsvm_logistic):
    prob = libsvm_logistic("a1a", "l2", 1e-3)
    for sampling in ("uniform", "importance"):
        trace = dl.run(prob, get_method("katyusha", sampling=sampling), tol=1e-8,
                       budget_epochs=300, seed=1)
        assert trace.meta["method"]["path"] == "compiled"
        assert trace.stop_reason == "tol"
        assert trace.final("rel_subopt") <= 1e-8


def test_katyusha_l1_reaches_the_optimum():
    """Dense compiled loop with the prox (elastic net); optimum from problem.solution()."""
    prob = problem("square", False, "elasticnet", lam=0.1, n=200, d=10)
    trace = dl.run(prob, "katyusha", tol=1e-8, budget_epochs=400, seed=2)
    assert trace.meta["method"]["path"] == "compiled"
    assert trace.final("rel_subopt") <= 1e-8


def test_sgd_and_adaptive_make_progress_compiled():
    prob = problem("logistic", True, "l2", n=300)
    x_star, f_star = prob.solution()
    f0 = prob.value(np.zeros(prob.dim))
    for name, hp in [("sgd", {"averaging": True}), ("adagrad", {"lr": 0.1})]:
        trace = dl.run(prob, get_method(name, **hp), budget_epochs=30, seed=0)
        assert trace.meta["method"]["path"] == "compiled"
        assert trace.final("value") - f_star < 0.1 * (f0 - f_star), name


def test_bad_lazy_flag():
    for name in ("sgd", "adam", "katyusha"):
        with pytest.raises(DescentlabError, match=f"{name}: lazy: expected True or False"):
            get_method(name, lazy="yes")
    with pytest.raises(DescentlabError, match="katyusha: sampling"):
        get_method("katyusha", sampling="weird")
