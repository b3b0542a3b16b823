"""Diagonal linear networks: gradients, interpolator references, GD/SGD and the experiment."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import descentlab
from descentlab.errors import DescentlabError
from descentlab.experiments.diagonal_nets import DiagonalNets
from descentlab.methods import GD
from descentlab.problems import DiagonalNetwork
from descentlab.problems.diagonal import (
    implicit_bias_interpolator,
    min_l1_interpolator,
    min_l2_interpolator,
    sparse_regression,
)


@pytest.fixture(scope="module")
def small():
    X, y, theta = sparse_regression(6, 10, 2, np.random.default_rng(0))
    return DiagonalNetwork(X, y, alpha=0.5), theta


def test_gradient_by_finite_differences(small, fd_grad):
    problem, _ = small
    z = np.random.default_rng(1).standard_normal(problem.dim)
    np.testing.assert_allclose(problem.grad(z), fd_grad(problem.value, z), rtol=1e-6,
                               atol=1e-8)
    idx = np.array([0, 3, 3, 5])

    def batch_value(w):
        r = problem.X[idx] @ problem.theta(w) - problem.y[idx]
        return 0.5 * float(np.mean(r * r))

    np.testing.assert_allclose(problem.batch_grad(z, idx), fd_grad(batch_value, z),
                               rtol=1e-6, atol=1e-8)
    # theta(0) = 0 at the default initialisation, for every alpha
    np.testing.assert_array_equal(problem.theta(problem.default_x0()), 0.0)


def test_interpolators_on_hand_solved_cases():
    # t1 + 2 t2 = 2: min |t1| + |t2| is (0, 1); the pseudo-inverse gives (2, 4)/5
    X, y = np.array([[1.0, 2.0]]), np.array([2.0])
    np.testing.assert_allclose(min_l1_interpolator(X, y), [0.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(min_l2_interpolator(X, y), [0.4, 0.8], atol=1e-12)
    # t1 + t2 = 1, t2 + t3 = 1: solutions (1 - s, s, 1 - s), L1 norm 2|1 - s| + |s|, min at s = 1
    X, y = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]), np.array([1.0, 1.0])
    np.testing.assert_allclose(min_l1_interpolator(X, y), [0.0, 1.0, 0.0], atol=1e-9)
    # min-L2: minimize 2 (1 - s)^2 + s^2 -> s = 2/3
    np.testing.assert_allclose(min_l2_interpolator(X, y), [1 / 3, 2 / 3, 1 / 3], atol=1e-12)


def test_implicit_bias_interpolator_is_the_limit_of_the_flow():
    # independent reference: integrate the gradient flow of F(u, v) with scipy
    X, y = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]), np.array([1.0, 0.5])
    for alpha in (0.3, 2.0):
        problem = DiagonalNetwork(X, y, alpha)
        sol = solve_ivp(lambda _t, z, p=problem: -p.grad(z), (0, 400.0), problem.default_x0(),
                        rtol=1e-11, atol=1e-13, method="LSODA")
        theta_flow = problem.theta(sol.y[:, -1])
        ref = implicit_bias_interpolator(X, y, alpha)
        np.testing.assert_allclose(X @ ref, y, atol=1e-9)
        np.testing.assert_allclose(theta_flow, ref, atol=1e-6)
    # and its two limits
    X, y, _ = sparse_regression(10, 25, 2, np.random.default_rng(3))
    l1, l2 = min_l1_interpolator(X, y), min_l2_interpolator(X, y)
    small, large = implicit_bias_interpolator(X, y, 1e-4), implicit_bias_interpolator(X, y, 30.0)
    assert np.linalg.norm(small - l1) < 0.01 * np.linalg.norm(l1)
    assert np.linalg.norm(large - l2) < 1e-4 * np.linalg.norm(l2)


def test_gd_step_shrinks_uv_by_the_stated_factor(small):
    # u+ v+ = u v (1 - 4 step^2 g^2): the mechanism of the effective alpha (Pesme et al.)
    problem, _ = small
    z = problem.default_x0() + 0.1 * np.random.default_rng(2).standard_normal(problem.dim)
    step = 0.05
    u, v = problem.split(z)
    g = problem.X.T @ (problem.X @ problem.theta(z) - problem.y) / problem.n
    u1, v1 = problem.split(z - step * problem.grad(z))
    np.testing.assert_allclose(u1 * v1, u * v * (1 - 4 * step**2 * g**2), rtol=1e-12)


def test_generic_methods_run_on_it(small):
    problem, _ = small
    assert problem.solution() == (None, pytest.approx(0.0, abs=1e-20))
    trace = descentlab.run(problem, "gd", budget_epochs=3000, n_records=20)
    assert trace.final("value") < 1e-6 * trace.df["value"].iloc[0]
    trace = descentlab.run(problem, GD(step=0.5 / problem.L), budget_epochs=10)
    assert trace.final("value") < trace.df["value"].iloc[0]
    trace = descentlab.run(problem, "sgd", budget_epochs=50, seed=1)
    assert trace.final("value") < trace.df["value"].iloc[0]


def test_bad_input():
    with pytest.raises(DescentlabError, match="alpha"):
        DiagonalNetwork(np.ones((2, 3)), np.ones(2), alpha=0.0)
    with pytest.raises(DescentlabError, match="y: expected length"):
        DiagonalNetwork(np.ones((2, 3)), np.ones(3))
    with pytest.raises(DescentlabError, match="k: expected at most"):
        sparse_regression(3, 4, 5, np.random.default_rng(0))
    with pytest.raises(DescentlabError, match="idx"):
        DiagonalNetwork(np.ones((2, 3)), np.ones(2)).batch_grad(np.ones(6), np.array([2]))


def _passes(cfg) -> None:
    exp = DiagonalNets()
    results = exp.run(cfg)
    claims = exp.check(results, cfg)
    assert len(claims) == 8
    assert all(c.passed for c in claims), [c.to_dict() for c in claims]
    assert set(exp.plot(results, cfg)) == {"alpha_sweep", "trajectories", "sgd_vs_gd"}


def test_small_grid_passes():
    """The quick preset with 6 of its 9 alphas (small_alpha and large_alpha among them) and
    half of the SGD-vs-GD run (3 s instead of 5.6 s): the same 8 claims, with the same
    margins (GD 0.409 vs SGD 0.349 from the sparse solution, 0.351 with the quick preset)."""
    _passes(DiagonalNets().config("quick", alphas=(1e-4, 1e-3, 0.03, 0.3, 3.0, 10.0),
                                  compare_iterations=30000, sgd_repeats=2))


@pytest.mark.paper
def test_quick_preset_passes():
    _passes(DiagonalNets().config("quick"))
