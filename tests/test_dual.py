"""Duality gaps of the linear models, gap stopping, SDCA / prox-SDCA and MISO.

References: the certified optimum ``solution()`` (scipy, independent of the dual), weak and
strong duality (D <= F* everywhere, D(alpha*) = F*), scikit-learn's optimum, scipy's scalar
minimizer for the 1D dual step.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from scipy.optimize import minimize_scalar
from scipy.special import expit, xlogy

import descentlab as dl
from descentlab.cli import main
from descentlab.errors import DescentlabError
from descentlab.methods import MISO, SDCA, get_method
from descentlab.problems import LeastSquares, Logistic, Quadratic
from descentlab.run import Stop
from tests.conftest import make_design, make_targets

REGS = [("l2", 0.05, None), ("l1", 0.02, None), ("elasticnet", 0.05, 0.5)]
LOSSES = {"logistic": Logistic, "least-squares": LeastSquares}


def _problem(loss, reg, lam, r, *, intercept=False, sparse=False, n=80, d=10, seed=0):
    X = make_design(n, d, sparse=sparse, seed=seed)
    y = make_targets(n, loss=loss, seed=seed)
    return LOSSES[loss](X, y, reg=reg, lam=lam, l1_ratio=r, fit_intercept=intercept)


def _random_dual(problem, rng):
    """A random point of the dual domain (no intercept, lam2 > 0: no other constraint)."""
    if problem.loss_name == "logistic":
        return problem.y * rng.random(problem.n)
    return rng.standard_normal(problem.n)


# ------------------------------------------------------------------------ duality gap
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(("reg", "lam", "r"), REGS)
@pytest.mark.parametrize("intercept", [False, True])
def test_gap_vanishes_at_the_optimum_and_bounds_the_suboptimality(loss, reg, lam, r,
                                                                  intercept):
    p = _problem(loss, reg, lam, r, intercept=intercept, sparse=intercept)
    x_star, f_star = p.solution()
    assert abs(p.duality_gap(x_star)) <= 1e-9 * max(1.0, abs(f_star))
    # strong duality at alpha* = dual_point(x*), weak duality everywhere else
    assert p.dual_value(p.dual_point(x_star)) == pytest.approx(f_star, rel=1e-9, abs=1e-12)
    rng = np.random.default_rng(1)
    for scale in (1e-3, 1e-1, 1.0, 10.0):
        x = x_star + scale * rng.standard_normal(p.dim)
        alpha = p.dual_point(x)
        dual = p.dual_value(alpha)
        assert np.isfinite(dual) and dual <= f_star + 1e-12
        gap = p.duality_gap(x)
        assert gap == pytest.approx(p.value(x) - dual, rel=1e-12, abs=1e-14)
        assert gap >= p.value(x) - f_star - 1e-12 >= 0.0
        # the feasibility the dual point was made to have
        v = p.X.T @ alpha / p.n
        if intercept:
            assert abs(v[-1]) <= 1e-12 * max(1.0, np.abs(alpha).mean())
        if p.regularizer.lam2 == 0.0:
            assert np.abs(p.regularizer.penalized(v)).max() <= p.regularizer.lam1 * (1 + 1e-12)
        if loss == "logistic":
            assert np.all((p.y * alpha >= 0) & (p.y * alpha <= 1))


@pytest.mark.parametrize("loss", LOSSES)
def test_dual_value_is_the_fenchel_dual(loss):
    """Closed-form conjugates: D <= F* at random dual points; D is maximal at alpha*."""
    p = _problem(loss, "elasticnet", 0.05, 0.3)
    x_star, f_star = p.solution()
    alpha_star = p.dual_point(x_star)
    rng = np.random.default_rng(2)
    for _ in range(20):
        assert p.dual_value(_random_dual(p, rng)) <= f_star + 1e-12
    for _ in range(20):  # small feasible moves from alpha* never increase D
        a = alpha_star + 1e-4 * rng.standard_normal(p.n)
        if loss == "logistic":
            a = p.y * np.clip(p.y * a, 0.0, 1.0)
        assert p.dual_value(a) <= f_star + 1e-13
    # the conjugate of one sample, against a numerical sup_z (-a z - phi(z))
    i = 3
    a = alpha_star[i]
    phi = (lambda z: np.logaddexp(0, -p.y[i] * z)) if loss == "logistic" else \
        (lambda z: 0.5 * (z - p.y[i]) ** 2)
    sup = -minimize_scalar(lambda z: a * z + phi(z), bounds=(-60, 60), method="bounded",
                           options={"xatol": 1e-12}).fun
    b = p.y[i] * a
    closed = -(xlogy(b, b) + xlogy(1 - b, 1 - b)) if loss == "logistic" else \
        a * p.y[i] - a * a / 2
    assert -sup == pytest.approx(closed, abs=1e-9)  # -phi*(-a) = inf_z (a z + phi(z))


def test_dual_value_is_minus_infinity_outside_the_domain():
    p = _problem("logistic", "l1", 0.02, None)
    assert p.dual_value(2.0 * p.y) == -np.inf  # b = 2 outside [0, 1]
    big = p.y * 1.0  # ||X^T alpha / n||_inf far above lam1
    assert p.dual_value(big) == -np.inf


def test_gap_needs_a_penalty_and_a_linear_model():
    p = _problem("logistic", None, 0.0, None)
    with pytest.raises(DescentlabError, match="gap_tol: the duality gap needs a penalty"):
        p.duality_gap(np.zeros(p.dim))
    with pytest.raises(DescentlabError, match="gap_tol"):
        dl.run(p, "gd", gap_tol=1e-6)
    q = Quadratic.with_condition_number(5, kappa=10, seed=0)
    with pytest.raises(DescentlabError, match="gap_tol: Quadratic has no duality gap"):
        dl.run(q, "gd", gap_tol=1e-6)


# ---------------------------------------------------------------------- gap stopping
@pytest.mark.parametrize(("reg", "method"), [("l2", "saga"), ("l1", "fista")])
def test_gap_stopping_stops_at_the_first_record_below_tol(reg, method):
    p = _problem("logistic", reg, 0.02, None, sparse=True, n=200, d=20)
    tol = 1e-7
    trace = dl.run(p, method, gap_tol=tol, record="epochs", budget_epochs=5000)
    df = trace.df
    assert trace.stop_reason == "tol" and trace.meta["gap_tol"] == tol
    assert df["rel_gap"].iloc[-1] <= tol
    assert (df["rel_gap"].iloc[:-1] > tol).all()
    assert np.allclose(df["rel_gap"], df["gap"] / df["value"].abs())
    # the certificate: the true suboptimality is below the gap
    assert (df["subopt"] <= df["gap"] + 1e-13).all()
    assert df["subopt"].iloc[-1] <= tol * abs(df["value"].iloc[-1])


def test_gap_tol_is_checked():
    with pytest.raises(DescentlabError, match="gap_tol: expected"):
        Stop(gap_tol=-1.0)
    p = _problem("logistic", "l2", 0.05, None)
    with pytest.raises(DescentlabError, match="gap_tol"):
        dl.run(p, "gd", Stop(epochs=3), gap_tol=1e-3)
    assert Stop(gap_tol=1e-3).budget(10) == 10 * 100 * 100  # an accuracy rule: 10^4 epochs


# ------------------------------------------------------------------------ SDCA, MISO
def test_logistic_dual_step_is_the_exact_1d_maximizer():
    from descentlab._compiled.dual import logistic_dual_step

    rng = np.random.default_rng(3)
    cases = [(rng.random(), 10 * rng.standard_normal(), 10.0 ** rng.uniform(-3, 4))
             for _ in range(30)]
    cases += [(0.0, 30.0, 1e-3), (1.0, -30.0, 1e4), (0.5, 0.0, 0.0), (0.0, -40.0, 5.0)]
    for b0, c, q in cases:
        def neg(b, b0=b0, c=c, q=q):
            return xlogy(b, b) + xlogy(1 - b, 1 - b) + c * b + 0.5 * q * (b - b0) ** 2

        logit_b0 = np.log(b0) - np.log1p(-b0) if 0 < b0 < 1 else -np.inf
        b, t = logistic_dual_step(b0, c, q, logit_b0)
        assert expit(t) == pytest.approx(b, rel=1e-15)  # t is the logit of b
        # without the warm start (t0 unknown): the same maximizer
        assert logistic_dual_step(b0, c, q, np.nan)[0] == pytest.approx(b, rel=1e-12,
                                                                        abs=1e-15)
        ref = minimize_scalar(neg, bounds=(0.0, 1.0), method="bounded",
                              options={"xatol": 1e-14}).x
        assert 0.0 <= b <= 1.0
        assert neg(b) <= neg(ref) + 1e-13


@pytest.mark.parametrize("method", ["sdca", "miso"])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(("reg", "r"), [("l2", None), ("elasticnet", 0.5)])
@pytest.mark.parametrize("sparse", [False, True])
def test_dual_methods_reach_the_certified_optimum(method, loss, reg, r, sparse):
    p = _problem(loss, reg, 0.05, r, sparse=sparse, n=150, d=12)
    trace = dl.run(p, method, tol=1e-10, budget_epochs=3000)
    assert trace.stop_reason == "tol"
    assert trace.final("rel_subopt") <= 1e-10
    info = trace.meta["method"]
    assert info["path"] == "compiled"
    assert 0.0 <= trace.final("subopt") <= info["duality_gap"] + 1e-14


@pytest.mark.parametrize("method", ["sdca", "miso"])
def test_dual_methods_match_sklearn_on_a1a(method, libsvm_logistic, sklearn_logistic):
    lam = 1e-3
    p = libsvm_logistic("a1a", "l2", lam)
    trace = dl.run(p, method, tol=1e-10, budget_epochs=3000)
    w_sk = sklearn_logistic("a1a", "l2", lam)
    assert trace.final("rel_subopt") <= 1e-10
    assert np.linalg.norm(trace.x - w_sk) <= 1e-4 * np.linalg.norm(w_sk)


@pytest.mark.parametrize("method", [SDCA(), MISO(), SDCA(sampling="uniform"),
                                    MISO(sampling="permutation")])
def test_certificate_bounds_the_suboptimality_along_the_run(method):
    p = _problem("logistic", "l2", 0.05, None, sparse=True, n=120, d=15)
    _, f_star = p.solution()
    m = method.resolve(p)
    rng = np.random.default_rng(0)
    state = m.init(p, np.zeros(p.dim), rng)
    assert state.calls == 0
    gaps = []
    for _ in range(30):
        state = m.advance(p, state, rng, 37)
        gap = state.duality_gap()
        assert gap >= p.value(state.x) - f_star - 1e-14
        assert state.dual_value() <= f_star + 1e-14
        gaps.append(gap)
    assert state.calls == 30 * 37 and state.iteration == 30 * 37  # one call per step
    assert gaps[-1] < 1e-3 * gaps[0]
    # the state's x is the primal point of its alpha
    v = p.X.T @  state.dual_variables() / p.n
    assert np.allclose(state.x, v / p.regularizer.lam2, rtol=1e-10, atol=1e-13)


def test_warm_start_costs_one_pass():
    p = _problem("least-squares", "l2", 0.05, None)
    x_star, _ = p.solution()
    state = SDCA().resolve(p).init(p, x_star.copy(), np.random.default_rng(0))
    assert state.calls == p.n
    assert np.allclose(state.x, x_star, atol=1e-10)  # x* is the primal map of alpha*
    assert state.duality_gap() <= 1e-12


@pytest.mark.parametrize("sampling", ["blocks", "permutation"])
def test_every_sample_is_visited_once_per_epoch(sampling):
    p = _problem("least-squares", "l2", 0.05, None, n=50)
    m = SDCA(sampling=sampling).resolve(p)
    state = m.init(p, np.zeros(p.dim), np.random.default_rng(1))
    one = m.advance(p, state, np.random.default_rng(2), p.n)
    assert np.all(one.dual_variables() != 0.0)  # from alpha = 0: each sample moved once
    samples, order, pos = m._samples(state, np.random.default_rng(0), 3 * p.n, p.n)
    for e in range(3):
        assert np.array_equal(np.sort(samples[e * p.n:(e + 1) * p.n]), np.arange(p.n))


def test_miso_default_mixing():
    p = _problem("logistic", "l2", 0.05, None, n=80)
    delta = MISO().resolve(p).delta
    expected = min(1.0, p.n * 0.05 / (2 * (p.L_max - 0.05)))
    assert delta == pytest.approx(expected) and delta < 1.0
    with pytest.raises(DescentlabError, match="miso: delta: expected a positive"):
        MISO(delta=0.0)
    with pytest.raises(DescentlabError, match="miso: delta"):
        MISO(delta=1.5)
    with pytest.raises(DescentlabError, match="sdca: sampling"):
        SDCA(sampling="cyclic")


@pytest.mark.parametrize("method", ["sdca", "miso"])
def test_dual_methods_refuse_what_they_cannot_solve(method):
    with pytest.raises(DescentlabError, match="intercept"):
        dl.run(_problem("logistic", "l2", 0.05, None, intercept=True), method)
    with pytest.raises(DescentlabError, match="strongly convex penalty.*pure L1"):
        dl.run(_problem("logistic", "l1", 0.05, None), method)
    with pytest.raises(DescentlabError, match="strongly convex penalty"):
        dl.run(_problem("least-squares", None, 0.0, None), method)
    with pytest.raises(DescentlabError, match="needs a linear model"):
        dl.run(Quadratic.with_condition_number(5, kappa=10, seed=0), method)


def test_sdca_inside_catalyst():
    """The subproblems' shift (kappa ||x - c||^2 / 2) is part of the primal map."""
    p = _problem("logistic", "l2", 1e-3, None, sparse=True, n=150, d=12)
    trace = dl.run(p, get_method("catalyst", inner="sdca"), tol=1e-9, budget_epochs=3000)
    assert trace.final("rel_subopt") <= 1e-9


# -------------------------------------------------------------- estimators and CLI
def test_estimator_stopping_on_the_gap(sklearn_logistic):
    from descentlab.data import load_svmlight, resolve_dataset
    from descentlab.estimators import LogisticRegression

    X, y = load_svmlight(resolve_dataset("a1a"))
    lam = 1e-3
    est = LogisticRegression(C=1.0 / (lam * X.shape[0]), fit_intercept=False, method="sdca",
                             stopping="gap", tol=1e-9, max_iter=2000).fit(X, y)
    df = est.trace_.df
    assert est.trace_.meta["stop_rule"] == "rel_gap <= tol"
    assert df["rel_gap"].iloc[-1] <= 1e-9 < df["rel_gap"].iloc[-2]
    w_sk = sklearn_logistic("a1a", "l2", lam)
    assert np.linalg.norm(est.coef_.ravel() - w_sk) <= 1e-4 * np.linalg.norm(w_sk)
    with pytest.raises(DescentlabError, match="stopping: expected 'gradient' or 'gap'"):
        LogisticRegression(stopping="dual").fit(X[:50], y[:50])
    with pytest.raises(DescentlabError, match="stopping: 'gap' needs a penalty"):
        LogisticRegression(C=np.inf, stopping="gap").fit(X[:50], y[:50])
    with pytest.raises(DescentlabError, match="sdca: the unpenalized intercept"):
        LogisticRegression(method="sdca").fit(X[:50], y[:50])


def test_ridge_estimator_with_gap_stopping_and_intercept():
    from sklearn.linear_model import Ridge as SkRidge

    from descentlab.estimators import Ridge

    X = make_design(120, 6, sparse=False, seed=4)
    y = X @ np.arange(1.0, 7.0) + 3.0 + make_targets(120, loss="least-squares", seed=4)
    est = Ridge(alpha=2.0, stopping="gap", tol=1e-12, max_iter=5000).fit(X, y)
    ref = SkRidge(alpha=2.0).fit(X, y)
    assert np.allclose(est.coef_, ref.coef_, rtol=1e-5)
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-5)


def test_cli_solve_gap_tol(tmp_path):
    out = tmp_path / "t.parquet"
    result = CliRunner().invoke(main, [
        "solve", "--problem", "logistic", "--data", "a1a", "--reg", "l2", "--lam", "1e-3",
        "--method", "sdca", "--gap-tol", "1e-9", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "relative duality gap" in result.output
    trace = dl.Trace.read_parquet(out)
    assert trace.stop_reason == "tol" and trace.final("rel_gap") <= 1e-9
    assert trace.final("rel_subopt") <= 1.01e-9
    bad = CliRunner().invoke(main, ["solve", "--problem", "logistic", "--data", "a1a",
                                    "--reg", "none", "--method", "gd", "--gap-tol", "1e-6"])
    assert bad.exit_code == 2 and "--gap-tol" in bad.output
    bad = CliRunner().invoke(main, ["solve", "--problem", "logistic", "--data", "a1a",
                                    "--method", "sdca", "--gap-tol", "-1"])
    assert bad.exit_code == 2 and "--gap-tol" in bad.output


def test_float32_and_dense_sparse_agree():
    X = make_design(100, 8, sparse=True, seed=5)
    y = make_targets(100, loss="logistic", seed=5)
    p64 = Logistic(X, y, reg="l2", lam=0.02)
    p_dense = Logistic(X.toarray(), y, reg="l2", lam=0.02)
    p32 = Logistic(sp.csr_matrix(X, dtype=np.float32), y.astype(np.float32), reg="l2", lam=0.02)
    xs = [dl.run(p, "sdca", budget_epochs=40, seed=1).x for p in (p64, p_dense, p32)]
    assert np.allclose(xs[0], xs[1], rtol=1e-12, atol=1e-14)
    assert np.allclose(xs[0], xs[2], rtol=1e-5, atol=1e-6)
