"""The lazy experiment: the linearized model, the quick preset's claims, claims with teeth."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from descentlab.cli import main
from descentlab.errors import DescentlabError
from descentlab.experiments.lazy import (
    Lazy,
    linear_flow_displacement,
    linearized_grad,
    linearized_objective,
    make_problem,
)
from descentlab.particles import FixedSample, ParticleBatch, velocity
from descentlab.problems.twolayer import TwoLayerProblem, forward
from descentlab.problems.twolayer import jacobian as network_jacobian

TASK = {"alpha": 3.0, "seed": 1, "n": 12, "d": 2, "m": 10, "m0": 2, "b_scale": 1.0,
        "T": 2.0, "steps": 100, "n_records": 10, "activation": "softplus"}


def model(theta, X, m):
    """H(theta)_i = (1/m) sum_j a_j softplus(b_j . x_i), theta = (a, vec b)."""
    return forward(theta[:m], theta[m:].reshape(m, -1), X, activation="softplus")


def jacobian(theta, X, m):
    return network_jacobian(theta[:m], theta[m:].reshape(m, -1), X, activation="softplus")


def objective(theta, X, y, m, alpha):
    """f_alpha(theta) = (1/n) sum_i (alpha H_i - y_i)^2 / (2 alpha^2)."""
    return TwoLayerProblem(X, y, m, activation="softplus", alpha=alpha, x0=theta).value(theta)


def mean_field_velocity(theta, X, y, m, alpha):
    """m grad f_alpha, the particle engine's vector field, flattened like theta."""
    batch = ParticleBatch((m,), theta[None, :m], theta[None, m:].reshape(1, m, -1), alpha,
                          "softplus")
    va, vb, _ = velocity(batch, FixedSample(X, y))
    return np.concatenate([va[0], vb[0].ravel()])


@pytest.fixture(scope="module")
def small():
    X, y, a0, b0 = make_problem(TASK)
    theta0 = np.concatenate([a0, b0.ravel()])
    return X, y, theta0, TASK["m"]


@pytest.fixture(scope="module")
def quick_run():
    exp = Lazy()
    config = exp.config("quick")
    return exp, config, exp.run(config)


def test_centered_init_and_jacobian_matches_finite_differences(small, fd_grad):
    X, y, theta0, m = small
    h0 = model(theta0, X, m)
    assert np.max(np.abs(h0)) < 1e-14  # pairs (a, b), (-a, b): H(x0) = 0
    J0 = jacobian(theta0, X, m)
    rng = np.random.default_rng(0)
    for x in (theta0, theta0 + 0.3 * rng.standard_normal(theta0.shape)):
        J = jacobian(x, X, m)
        for i in range(X.shape[0]):
            fd = fd_grad(lambda t, i=i: model(t, X, m)[i], x)
            np.testing.assert_allclose(J[i], fd, atol=1e-8)
    assert J0.shape == (X.shape[0], theta0.size)


@pytest.mark.parametrize("alpha", [1.0, 10.0])
def test_linearized_gradient_matches_fd_and_true_gradient_at_x0(small, alpha, fd_grad):
    X, y, theta0, m = small
    J0, h0 = jacobian(theta0, X, m), model(theta0, X, m)
    rng = np.random.default_rng(1)
    x = theta0 + 0.2 * rng.standard_normal(theta0.shape)
    # gradient of the quadratic fbar_alpha = finite differences of fbar_alpha
    fd = fd_grad(lambda t: linearized_objective(t, theta0, J0, h0, y, alpha), x)
    np.testing.assert_allclose(linearized_grad(x, theta0, J0, h0, y, alpha), fd, atol=1e-8)
    # at x0 the linearized model has the same value and gradient as f_alpha
    g0 = linearized_grad(theta0, theta0, J0, h0, y, alpha)
    assert linearized_objective(theta0, theta0, J0, h0, y, alpha) == pytest.approx(
        objective(theta0, X, y, m, alpha), rel=1e-14)
    np.testing.assert_allclose(g0, fd_grad(lambda t: objective(t, X, y, m, alpha), theta0),
                               atol=1e-8)
    # and the flow's velocity is m grad f_alpha, the gradient of TwoLayerProblem
    v0 = mean_field_velocity(theta0, X, y, m, alpha)
    np.testing.assert_allclose(v0 / m, g0, atol=1e-14)
    prob = TwoLayerProblem(X, y, m, activation="softplus", alpha=alpha, x0=theta0)
    v = mean_field_velocity(x, X, y, m, alpha)
    np.testing.assert_allclose(v / m, prob.grad(x), atol=1e-14)
    np.testing.assert_allclose(prob.grad(x), fd_grad(lambda t: objective(t, X, y, m, alpha), x),
                               atol=1e-8)


def test_closed_form_linear_flow_solves_its_ode(small):
    X, y, theta0, m = small
    J0, n = jacobian(theta0, X, m), X.shape[0]
    t, h = 0.7, 1e-5
    u = linear_flow_displacement(J0, y, m, [t - h, t, t + h])
    du = (u[2] - u[0]) / (2 * h)
    np.testing.assert_allclose(du, -(m / n) * J0.T @ (J0 @ u[1] - y), atol=1e-7)
    assert np.all(linear_flow_displacement(J0, y, m, 0.0) == 0.0)


def test_run_task_linear_part_is_alpha_free_and_close_to_the_exact_flow():
    exp = Lazy()
    a = exp.run_task({**TASK, "alpha": 2.0})
    b = exp.run_task({**TASK, "alpha": 20.0})
    np.testing.assert_allclose(a["u_norm"], b["u_norm"], rtol=1e-12)
    # Euler with dt = 0.02 against the exact linear flow: first order in dt
    assert np.allclose(a["u_norm"], a["u_flow_norm"], rtol=2e-2)
    assert b["sup_disp"].iloc[0] < a["sup_disp"].iloc[0] / 5


def test_run_task_refuses_an_unstable_step():
    with pytest.raises(DescentlabError, match="steps"):
        Lazy().run_task({**TASK, "T": 2000.0, "steps": 10})


def test_quick_preset_passes(quick_run):
    exp, config, results = quick_run
    claims = exp.check(results, config)
    assert len(claims) == 3 * len(config.seeds)
    assert all(c.passed for c in claims), [c for c in claims if not c.passed]
    summ = exp.summary(results)
    assert list(summ["alpha"]) == sorted(config.alphas)


def _claim(claims, prefix):
    (c,) = [c for c in claims if c.name.startswith(prefix)]
    return c


def test_teeth_displacement_that_does_not_shrink_like_one_over_alpha(quick_run):
    exp, config, results = quick_run
    bad = results.copy()
    bad["sup_disp"] = bad["sup_disp"] * np.sqrt(bad["alpha"])  # ~ alpha^-1/2
    claims = exp.check(bad, config)
    assert not _claim(claims, "displacement ~ 1/alpha").passed
    assert not _claim(claims, "alpha x displacement").passed
    assert _claim(claims, "gap to linearized").passed


@pytest.mark.parametrize("power", [1.0, -1.0])
def test_teeth_gap_of_the_wrong_order(quick_run, power):
    exp, config, results = quick_run
    bad = results.copy()
    bad["sup_gap"] = bad["sup_gap"] * bad["alpha"] ** power  # ~ 1/alpha or 1/alpha^3
    claims = exp.check(bad, config)
    assert not _claim(claims, "gap to linearized").passed
    assert _claim(claims, "displacement ~ 1/alpha").passed


def test_plot_and_cli(quick_run, tmp_path, monkeypatch):
    exp, config, results = quick_run
    figs = exp.plot(results, config)
    assert set(figs) == {"scaling", "trajectories"}
    monkeypatch.setenv("DESCENTLAB_PLUGINS", "descentlab.experiments.lazy")
    out = tmp_path / "lazy"
    result = CliRunner().invoke(main, ["reproduce", "lazy", "--backend", "serial", "--out",
                                       str(out), "--set", "alphas=1,4,16,64",
                                       "--set", "steps=1000"])
    assert result.exit_code == 0, result.output
    checks = json.loads((out / "checks.json").read_text())
    assert checks["passed"] is True and len(checks["claims"]) == 3
