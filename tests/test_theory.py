"""Theory instruments against closed forms and independent numpy/scipy references.

* constants: quadratics (numpy eigenvalues), least squares and logistic (numpy eigenvalues of
  X^T X / n), the PL example (its PL ratio written out in numpy on a fine grid, refined by
  scipy), strongly convex quadratics (PL constant = mu, reached on the lowest eigenvector);
* the semilocal certificate on the toy network H(a, w) = a w (sigma_min(J_H) = |a| for d >= 2,
  sqrt(a^2 + ||w||^2) for d = 1, the certified values r = sigma_r = |a0|/2, the radii), its
  Hessian bound against numpy eigenvalues of the Hessian written out by hand, the flow's
  limit against scipy's ODE solver;
* rate fits on exact geometric and power sequences; bound curves against their formulas and
  against GD / Nesterov runs on quadratics; the synthetic designs' spectra and row norms.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy.integrate import solve_ivp

from descentlab.data.synthetic import (
    geometric_spectrum,
    hadamard_columns,
    spectral_design,
)
from descentlab.errors import DescentlabError
from descentlab.methods import get_method
from descentlab.problems import (
    LeastSquares,
    Logistic,
    PLExample,
    Problem,
    Quadratic,
    ScalarNetwork,
)
from descentlab.run import run
from descentlab.theory import (
    calls_to_reach,
    fit_linear_rate,
    fit_power_law,
    fit_trace_linear_rate,
    fit_trace_power_law,
    flow_radius,
    gd_convex_bound,
    gd_nonconvex_bound,
    gd_radius,
    hessian_extremes,
    hessian_norm,
    linear_bound,
    loglog_slope,
    nesterov_bound,
    pl_constant,
    pl_constant_from_trace,
    plot_with_bound,
    power_iteration,
    running_min,
    saga_bound,
    saga_rate,
    scalar_network_certificate,
    scalar_network_flow_limit,
    scalar_network_map,
    scalar_network_smoothness_bound,
    semilocal_certificate,
    sgd_nonconvex_bound,
    sgd_optimal_step,
    sigma_min,
    smoothness,
    strong_convexity,
    svrg_bound,
    svrg_factor,
)

PL_ALPHA = 0.17553098587973  # inf of f'^2/(2f) for x^2 + 3 sin^2 x (scipy, see below)


def _pl_ratio(x):
    """The seed's f(x) = x^2 + 3 sin^2 x written out: f'(x)^2 / (2 f(x))."""
    return (2 * x + 3 * np.sin(2 * x)) ** 2 / (2 * (x * x + 3 * np.sin(x) ** 2))


# ------------------------------------------------------------------------- constants
@pytest.mark.parametrize("kappa", [5.0, 300.0])
def test_quadratic_constants_exact_and_by_power_iteration(kappa):
    q = Quadratic.with_condition_number(30, kappa, seed=3)
    eig = np.linalg.eigvalsh(q.A)
    assert smoothness(q).method == "exact"
    assert smoothness(q).value == pytest.approx(eig[-1], rel=1e-12)
    assert strong_convexity(q).value == pytest.approx(eig[0], rel=1e-10)
    pts = np.random.default_rng(0).standard_normal((3, 30))
    est = smoothness(q, points=pts)
    assert est.method == "power-iteration" and est.n_points == 3
    assert est.value == pytest.approx(eig[-1], rel=1e-8)
    assert est.value <= eig[-1] * (1 + 1e-12)  # power iteration is a lower estimate
    assert strong_convexity(q, points=pts).value == pytest.approx(eig[0], rel=1e-9)
    # shifted power iteration: an upper estimate of lambda_min, slow when the small
    # eigenvalues cluster (geometric spectrum: ratio 1 - (lambda_2 - lambda_1)/(L - lambda_1))
    power = strong_convexity(q, points=pts, method="power").value
    assert power >= eig[0] * (1 - 1e-9)
    assert power == pytest.approx(eig[0], rel=1e-6 if kappa < 10 else 0.1)


def test_power_iteration_largest_magnitude_and_monotone():
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    lam = np.array([-5.0, 3.0, 2.0, 1.0, 0.5, 0.1, -0.2, 4.0])
    M = (Q * lam) @ Q.T
    res = power_iteration(lambda v: M @ v, 8, tol=1e-14, iters=5000)
    assert res.converged and res.value == pytest.approx(5.0, rel=1e-10)
    # the estimate after k steps never exceeds ||M||, and grows with k
    vals = [power_iteration(lambda v: M @ v, 8, iters=k, tol=0.0).value for k in (1, 3, 10)]
    assert vals == sorted(vals) and vals[-1] <= 5.0 + 1e-12
    assert hessian_extremes(Quadratic(M + 6 * np.eye(8), np.zeros(8)), np.zeros(8),
                            method="power") == pytest.approx((1.0, 10.0), rel=1e-6)


@pytest.mark.parametrize("cls,curv", [(LeastSquares, 1.0), (Logistic, 0.25)])
def test_linear_model_constants_against_numpy(cls, curv):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 6)) * np.array([3.0, 1, 1, 1, 0.5, 0.1])
    y = np.where(rng.random(40) < 0.5, -1.0, 1.0)
    lam = 0.03
    p = cls(X, y, reg="l2", lam=lam)
    eig = np.linalg.eigvalsh(X.T @ X / 40)
    L = smoothness(p)
    assert L.method == "exact" and L.value == pytest.approx(curv * eig[-1] + lam, rel=1e-10)
    mu = strong_convexity(p).value
    expected_mu = eig[0] + lam if cls is LeastSquares else lam
    assert mu == pytest.approx(expected_mu, rel=1e-10)
    # at theta = 0 every loss'' equals curv: the local smoothness is the global one
    assert hessian_norm(p, np.zeros(6)) == pytest.approx(curv * eig[-1] + lam, rel=1e-8)
    # locally (power iteration on points) never above the exact global value
    pts = rng.standard_normal((4, 6))
    assert smoothness(p, points=pts).value <= L.value * (1 + 1e-10)
    assert strong_convexity(p, points=pts).value >= mu * (1 - 1e-10)


class _CoshSum(Problem):
    """f(x) = sum_i cosh(x_i) with no ``hessp``: Hess f = diag(cosh x_i)."""

    name = "cosh-sum"
    dim = 4

    def value(self, x):
        return float(np.sum(np.cosh(x)))

    def grad(self, x):
        return np.sinh(x)

    @property
    def L(self):
        return math.inf


def test_hessian_vector_products_by_finite_differences():
    p = _CoshSum()
    x = np.array([0.3, -1.2, 2.0, 0.0])
    assert hessian_norm(p, x) == pytest.approx(math.cosh(2.0), rel=1e-7)
    lo, hi = hessian_extremes(p, x)
    assert (lo, hi) == pytest.approx((1.0, math.cosh(2.0)), rel=1e-7)
    est = smoothness(p, points=np.vstack([x, -2 * x]))
    assert est.value == pytest.approx(math.cosh(4.0), rel=1e-7)
    np.testing.assert_allclose(est.argext, -2 * x)


def test_l1_logistic_constants_are_those_of_the_smooth_part():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 4))
    y = np.where(rng.random(30) < 0.5, -1.0, 1.0)
    p = Logistic(X, y, reg="elasticnet", lam=0.2, l1_ratio=0.5)
    eig = np.linalg.eigvalsh(X.T @ X / 30)
    assert smoothness(p).value == pytest.approx(eig[-1] / 4 + 0.1, rel=1e-10)
    assert strong_convexity(p).value == pytest.approx(0.1, rel=1e-12)


def test_pl_example_constants_against_a_numpy_grid():
    p = PLExample()
    grid = np.linspace(-8, 8, 160001)
    est = pl_constant(p, grid)
    ratio = _pl_ratio(grid[grid != 0])
    assert est.value == pytest.approx(ratio.min(), rel=1e-12)
    assert abs(abs(est.argmin[0]) - 2.2017) < 1e-3
    # independent refinement of the infimum (scipy), and the seed's claim
    res = optimize.minimize_scalar(_pl_ratio, bounds=(2.1, 2.3), method="bounded",
                                   options={"xatol": 1e-12})
    assert res.fun == pytest.approx(PL_ALPHA, rel=1e-9)
    assert est.value == pytest.approx(res.fun, rel=1e-7) and est.value >= res.fun
    assert est.value >= 1 / 32
    # beta = max f'' = 8 at 0, min f'' = -4 at pi/2 (non-convex)
    assert smoothness(p, points=grid[::40, None]).value == pytest.approx(8.0, rel=1e-12)
    assert strong_convexity(p, points=np.array([[np.pi / 2]])).value == pytest.approx(-4.0)
    assert hessian_extremes(p, np.array([0.3])) == pytest.approx((2 + 6 * math.cos(0.6),) * 2)


def test_pl_constant_of_a_strongly_convex_quadratic_is_mu():
    """For f = (x - x*)^T A (x - x*)/2: ||A e||^2 / (e^T A e) >= lambda_min, equal on v_min."""
    q = Quadratic.with_condition_number(12, 40.0, seed=5)
    x_star, _ = q.solution()
    eig, vec = np.linalg.eigh(q.A)
    rng = np.random.default_rng(4)
    pts = np.vstack([x_star + rng.standard_normal((50, 12)), x_star + 0.7 * vec[:, 0]])
    est = pl_constant(q, pts)
    assert est.value == pytest.approx(eig[0], rel=1e-8)
    np.testing.assert_allclose(est.argmin, x_star + 0.7 * vec[:, 0])
    only_random = pl_constant(q, pts[:-1])
    assert only_random.value > eig[0] * 1.01  # random points do not reach the infimum


def test_pl_constant_from_trace_and_bad_input():
    p = PLExample(3.0)
    trace = run(p, "gd", budget_calls=60, record="linear", n_records=60)
    est = pl_constant_from_trace(trace)
    df = trace.df
    keep = df["subopt"] >= 1e-10 * df["subopt"].iloc[0]
    direct = (df["grad_norm"][keep] ** 2 / (2 * df["subopt"][keep])).min()
    assert est.value == pytest.approx(direct, rel=1e-12)
    assert est.value >= PL_ALPHA * (1 - 1e-9)
    assert est.n_used == int(keep.sum()) < est.n_points
    with pytest.raises(DescentlabError, match="f_star"):
        pl_constant(p, np.array([1.0, 2.0]), f_star=5.0)  # f - f* < 0 at x = 1 (f = 3.1)
    with pytest.raises(DescentlabError, match="points"):
        pl_constant(p, np.zeros((2, 3)))


# ------------------------------------------------------------------- semilocal PL
@pytest.mark.parametrize("d", [1, 3])
def test_sigma_min_of_the_toy_network(d):
    H, jac = scalar_network_map(d)
    rng = np.random.default_rng(d)
    for _ in range(20):
        x = rng.standard_normal(1 + d)
        a, w = x[0], x[1:]
        expected = math.hypot(a, np.linalg.norm(w)) if d == 1 else abs(a)
        assert sigma_min(jac(x)) == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(H(x), a * w)
    # the largest singular value is sqrt(a^2 + ||w||^2) in every dimension
    x = rng.standard_normal(1 + d)
    top = np.linalg.svd(jac(x), compute_uv=False)[0]
    assert top == pytest.approx(np.linalg.norm(x), rel=1e-12)
    assert sigma_min(np.ones((3, 2))) == 0.0  # d > D: J^T has a kernel


@pytest.mark.parametrize("d", [1, 2, 5])
def test_toy_network_certificate_closed_forms(d):
    y = np.zeros(d)
    y[0] = 1.0
    for a0, holds in ((3.0, True), (-2.5, True), (1.0, False)):
        p = ScalarNetwork(y, a0=a0)
        c = scalar_network_certificate(p, n_samples=200, seed=1)
        r = abs(a0) / 2
        assert c.r == r and c.rigorous
        assert c.sigma_r == pytest.approx(r, rel=1e-12)  # |a0| - r (Weyl, Lip(J) = 1)
        assert c.sigma_r_sampled == pytest.approx(r, rel=1e-9)  # the exact minimum
        assert c.sigma_r_sampled >= c.sigma_r * (1 - 1e-12)
        assert c.target == pytest.approx(a0 * a0 / 4) and c.holds is holds
        assert c.mu == pytest.approx(a0 * a0 / 4)
        assert c.gap0 == pytest.approx(0.5)  # f(x0) = ||y*||^2 / 2
        assert c.flow_radius == pytest.approx(2 / abs(a0))  # sqrt(2 f0 / mu)
        assert c.gd_radius == pytest.approx(4 / abs(a0))  # sqrt(8 f0 / mu)
        assert c.flow_inside is (a0 * a0 / 4 >= 1) and c.gd_inside is (a0 * a0 / 8 >= 1)


def test_certificate_sampled_estimate_without_a_lipschitz_constant():
    """H(x) = A x + (x . x) e1 / 2 has J = A + e1 x^T: the sampled minimum of sigma_min over
    the ball is an upper estimate of the true one (found here by a fine polar grid)."""
    A = np.array([[2.0, 0.0, 0.3], [0.0, 1.0, 0.0]])

    def H(x):
        return A @ x + 0.5 * (x @ x) * np.array([1.0, 0.0])

    def jac(x):
        return A + np.outer([1.0, 0.0], x)

    x0, r = np.zeros(3), 0.5
    c = semilocal_certificate(H, jac, x0, r, np.array([0.2, 0.1]), n_samples=400, seed=0)
    assert not c.rigorous and c.sigma_r == c.sigma_r_sampled
    rng = np.random.default_rng(0)
    u = rng.standard_normal((20000, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    fine = min(sigma_min(jac(r * v)) for v in u)
    assert c.sigma_r_sampled == pytest.approx(fine, abs=2e-3)
    assert c.sigma_r_sampled <= fine + 1e-9
    assert c.holds  # ||y*|| = 0.22 <= r sigma_r ~ 0.5 x 0.87
    lip = semilocal_certificate(H, jac, x0, r, np.array([0.2, 0.1]), jac_lipschitz=1.0)
    assert lip.rigorous and lip.sigma_r == pytest.approx(sigma_min(A) - r)
    assert lip.sigma_r <= c.sigma_r_sampled
    with pytest.raises(DescentlabError, match="y_star"):
        semilocal_certificate(H, jac, x0, r, np.ones(3))
    with pytest.raises(DescentlabError, match="radius"):
        semilocal_certificate(H, jac, x0, -1.0, np.ones(2))


def test_radii_and_smoothness_bound_of_the_toy_network():
    assert flow_radius(0.5, 2.0) == pytest.approx(math.sqrt(0.5))
    assert gd_radius(0.5, 2.0) == pytest.approx(math.sqrt(2.0)) == 2 * flow_radius(0.5, 2.0)
    assert flow_radius(1.0, 0.0) == math.inf
    rng = np.random.default_rng(7)
    y = rng.standard_normal(3)
    for a0 in (0.3, 2.0, -5.0):
        p = ScalarNetwork(y, a0=a0)
        assert scalar_network_smoothness_bound(a0, np.linalg.norm(y), abs(a0) / 2) == \
            pytest.approx(p.L, rel=1e-12)
        for rho in (0.1, abs(a0) / 2, 2 * abs(a0)):
            bound = scalar_network_smoothness_bound(a0, np.linalg.norm(y), rho)
            worst = 0.0
            for _ in range(300):
                u = rng.standard_normal(4)
                x = p.default_x0() + rho * u / np.linalg.norm(u)  # on the sphere
                a, w = x[0], x[1:]
                c = 2 * a * w - y
                Hm = np.block([[np.array([[w @ w]]), c[None, :]], [c[:, None], a * a * np.eye(3)]])
                worst = max(worst, np.abs(np.linalg.eigvalsh(Hm)).max())
            assert worst <= bound
            assert bound <= 4 * worst  # a bound, not a wild over-estimate


@pytest.mark.parametrize("a0", [0.3, 2.0, -3.0])
def test_flow_limit_closed_form_against_scipy(a0):
    y = np.array([0.6, -0.8, 0.5])
    p = ScalarNetwork(y, a0=a0)
    sol = solve_ivp(lambda t, x: -p.grad(x), (0, 400), p.default_x0(), method="DOP853",
                    rtol=1e-11, atol=1e-13)
    x_inf = scalar_network_flow_limit(a0, y)
    np.testing.assert_allclose(sol.y[:, -1], x_inf, atol=1e-7)
    assert x_inf[0] ** 2 - x_inf[1:] @ x_inf[1:] == pytest.approx(a0 * a0)
    np.testing.assert_allclose(x_inf[0] * x_inf[1:], y, rtol=1e-12)


# --------------------------------------------------------------------------- rates
def test_linear_rate_fits_on_exact_geometric_sequences():
    k = np.arange(0, 400)
    err = 3.0 * 0.93 ** k
    fit = fit_linear_rate(k, err, low=1e-9, high=1e-2)
    assert fit.rho == pytest.approx(0.93, rel=1e-12)
    assert fit.k_first == np.ceil(math.log(1e-2 / 3) / math.log(0.93))
    assert fit.rate == pytest.approx(-math.log(0.93))
    n = 50
    df = pd.DataFrame({"iteration": k, "oracle_calls": n * k, "epochs": k.astype(float),
                       "subopt": err})
    tfit = fit_trace_linear_rate(df, "subopt")
    assert tfit.rho_per_iteration == pytest.approx(0.93, rel=1e-12)
    assert tfit.rho_per_call == pytest.approx(0.93 ** (1 / n), rel=1e-12)
    assert tfit.rho_per_epoch == pytest.approx(0.93, rel=1e-12)
    assert tfit.calls_per_efold == pytest.approx(n * tfit.iterations_per_efold, rel=1e-10)
    assert tfit.err_first <= 1e-2 and tfit.err_last >= 1e-9
    with pytest.raises(DescentlabError, match="fit window"):
        fit_linear_rate(k, err, low=1e-30, high=1e-29)


def test_linear_rate_of_gd_on_a_quadratic_trace():
    """GD with step 1/L on a quadratic with eigenvalues {1/kappa, 1}: ||x - x*|| contracts by
    exactly 1 - 1/kappa per iteration (the other direction is solved in one step), i.e. per
    oracle call too since n = 1."""
    q = Quadratic.with_condition_number(2, 50.0, seed=2)
    trace = run(q, "gd", budget_calls=2000, record="linear", n_records=400)
    fit = fit_trace_linear_rate(trace, "dist_to_opt")
    assert fit.rho_per_iteration == pytest.approx(1 - 1 / 50, rel=1e-9)
    assert fit.rho_per_call == pytest.approx(fit.rho_per_iteration, rel=1e-12)


def test_power_law_fits_and_helpers():
    t = np.geomspace(1, 1e5, 200)
    err = 7.0 * t ** -0.25
    fit = fit_power_law(t, err)
    assert fit.exponent == pytest.approx(0.25, rel=1e-12)
    assert fit.constant == pytest.approx(7.0, rel=1e-10)
    np.testing.assert_allclose(fit(t), err, rtol=1e-10)
    # only the window: a sequence that changes exponent at t = 100
    err2 = np.where(t < 100, t ** -1.0, 100.0 ** 1.0 * t ** -2.0 / 100.0)
    assert fit_power_law(t, err2, t_min=200).exponent == pytest.approx(2.0, rel=1e-12)
    assert fit_power_law(t, err2, t_max=50).exponent == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_array_equal(running_min([3.0, 1.0, 2.0, np.nan, 0.5]),
                                  [3.0, 1.0, 1.0, 1.0, 0.5])
    df = pd.DataFrame({"iteration": t, "grad_norm": 2.0 * t ** -0.5})
    assert fit_trace_power_law(df, best_so_far=True).exponent == pytest.approx(0.5)
    with pytest.raises(DescentlabError, match="fit window"):
        fit_power_law(t, err, t_min=1e6)


def test_calls_to_reach_and_loglog_slope():
    calls = np.array([0.0, 100.0, 200.0, 300.0])
    err = 0.1 ** (calls / 100.0)  # exactly geometric between records
    assert calls_to_reach(calls, err, 10 ** -1.5) == pytest.approx(150.0, rel=1e-12)
    assert calls_to_reach(calls, err, 1.0) == 0.0
    assert math.isnan(calls_to_reach(calls, err, 1e-9))
    x = np.array([1.0, 10.0, 100.0])
    fit = loglog_slope(x, 3.0 * x ** 1.5)
    assert fit.slope == pytest.approx(1.5) and fit.max_residual < 1e-12
    assert loglog_slope(x, [2.0, 2.0, 2.0]).slope == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(DescentlabError, match="two distinct"):
        loglog_slope([1.0, 1.0], [2.0, 3.0])


# -------------------------------------------------------------------------- bounds
def test_bound_formulas():
    t = np.array([1.0, 10.0, 100.0])
    np.testing.assert_allclose(gd_nonconvex_bound(t, 2.0, 3.0), 2 * 2 * 3 / t)
    assert gd_nonconvex_bound([0.0], 1.0, 1.0)[0] == np.inf
    np.testing.assert_allclose(gd_convex_bound(t, 2.0, 3.0), 2 * 3 / (2 * t))
    np.testing.assert_allclose(linear_bound(t, 0.5, 2.0, 3.0), 0.75 ** t * 3)
    np.testing.assert_allclose(nesterov_bound(t, 2.0, 3.0), 2 * 2 * 3 / (t + 1) ** 2)
    # SGD: the optimal step balances the two terms; the minimum is sqrt(2 L G^2 gap0 / T)
    T, L, gap0, G = 1000.0, 2.0, 0.7, 1.3
    eta = float(sgd_optimal_step(T, L, gap0, G))
    best = float(sgd_nonconvex_bound(T, L, gap0, G, eta))
    assert best == pytest.approx(math.sqrt(2 * L * G * G * gap0 / T), rel=1e-12)
    for factor in (0.8, 1.25):
        assert float(sgd_nonconvex_bound(T, L, gap0, G, eta * factor)) > best
    assert saga_rate(100, 2.0, 0.01) == pytest.approx(1 - min(1 / 400, 0.01 / 6))
    np.testing.assert_allclose(saga_bound(t, 100, 2.0, 0.01, 1.5, 0.3),
                               saga_rate(100, 2.0, 0.01) ** t * (1.5 + 200 / 6 * 0.3))
    eta, m = 1 / 20, 400  # Johnson and Zhang: 1/(mu eta (1 - 2 L eta) m) + 2 L eta/(1 - 2 L eta)
    alpha = svrg_factor(1.0, 0.1, eta, m)
    assert alpha == pytest.approx(1 / (0.1 * eta * 0.9 * m) + 0.1 / 0.9)
    np.testing.assert_allclose(svrg_bound(t, 1.0, 0.1, eta, m, 2.0), alpha ** t * 2.0)
    assert np.isnan(svrg_bound(t, 1.0, 0.001, eta, m, 2.0)).all()  # alpha >= 1: no claim
    with pytest.raises(DescentlabError, match="mu <= L"):
        linear_bound(t, 3.0, 2.0, 1.0)


def test_bounds_hold_for_gd_and_nesterov_runs():
    q = Quadratic.with_condition_number(40, 1e4, seed=1)
    x_star, _ = q.solution()
    d0 = float(x_star @ x_star)  # x0 = 0
    L, mu = q.L, q.mu
    for method, bound in (("gd", lambda k: gd_convex_bound(k, L, d0)),
                          ("nesterov", lambda k: nesterov_bound(k, L, d0))):
        m = get_method(method, **({"variant": "convex"} if method == "nesterov" else {}))
        df = run(q, m, budget_calls=3000, record="linear", n_records=300).df
        k = df["iteration"].to_numpy()[1:]
        assert np.all(df["subopt"].to_numpy()[1:] <= bound(k))
    df = run(q, "gd", budget_calls=3000, record="linear", n_records=300).df
    k = df["iteration"].to_numpy()
    assert np.all(df["subopt"] <= linear_bound(k, mu, L, df["subopt"].iloc[0]) * (1 + 1e-12))
    # and the non-convex bound on min ||grad||^2 (it holds for any smooth f)
    g2 = np.minimum.accumulate(df["grad_norm"].to_numpy() ** 2)
    assert np.all(g2[1:] <= gd_nonconvex_bound(k[1:], L, df["subopt"].iloc[0]))


def test_plot_with_bound_draws_dashed_bound_in_the_same_colour():
    fig, ax = plt.subplots()
    line, bline = plot_with_bound(ax, [1, 2, 3], [1.0, 0.5, 0.2], [2.0, 1.0, 0.5],
                                  label="measured", color="C3")
    assert line.get_linestyle() == "-" and bline.get_linestyle() == "--"
    assert line.get_color() == bline.get_color()
    assert bline.get_label() == "bound (measured)"
    plt.close(fig)


# ----------------------------------------------------------------- synthetic designs
@pytest.mark.parametrize("n", [16, 256])
def test_spectral_design_has_the_chosen_spectrum_and_equal_rows(n):
    spec = geometric_spectrum(6, 100.0)
    np.testing.assert_allclose(spec[[0, -1]], [1.0, 0.01])
    X = spectral_design(n, spec, seed=3)
    np.testing.assert_allclose(np.linalg.eigvalsh(X.T @ X / n), np.sort(spec), rtol=1e-10,
                               atol=1e-14)
    np.testing.assert_allclose(np.sum(X * X, axis=1), spec.sum(), rtol=1e-12)
    Hc = hadamard_columns(n, [1, 2, n - 1])
    np.testing.assert_allclose(Hc.T @ Hc, n * np.eye(3))
    with pytest.raises(DescentlabError, match="power of two"):
        spectral_design(n + 2, spec)


def test_least_squares_with_spectrum_constants():
    spec = geometric_spectrum(8, 50.0)
    p = LeastSquares.with_spectrum(128, spec, lam=0.01, noise=0.2, seed=1)
    assert p.L == pytest.approx(1.0 + 0.01)
    assert p.mu == pytest.approx(0.02 + 0.01)
    assert p.L_max == pytest.approx(spec.sum() + 0.01)
    assert np.linalg.norm(p.theta_true) == pytest.approx(1.0)
    q = LeastSquares.with_spectrum(512, spec, noise=0.2, seed=1)
    np.testing.assert_allclose(q.theta_true, p.theta_true)  # same truth on a grid of n
