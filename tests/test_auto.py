"""method="auto": which method it picks, and that the pick converges to the certified optimum
(through run, the estimators and the CLI)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

import descentlab as dl
from descentlab.cli import main
from descentlab.errors import DescentlabError
from descentlab.estimators import LogisticRegression
from descentlab.methods import auto
from descentlab.problems import LeastSquares, Logistic, Quadratic


def _logistic(d: int, reg, lam=1e-3, sparse=False, seed=0, n=60, density=0.2):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng) if sparse \
        else rng.standard_normal((n, d))
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return Logistic(X, y, reg=reg, lam=lam if reg else 0.0,
                    l1_ratio=0.5 if reg == "elasticnet" else None)


@pytest.mark.parametrize(("reg", "d", "density", "expected"), [
    ("l2", 8, 1.0, "newton-cg"),
    (None, 8, 1.0, "lbfgs"),
    ("l1", 8, 1.0, "owlqn"),
    ("elasticnet", 8, 1.0, "owlqn"),
    ("l1", 200, 0.1, "owlqn"),
    ("l1", 200, 0.01, "prox-newton"),
    ("elasticnet", 200, 0.01, "prox-newton"),
    ("l2", auto.NEWTON_MAX_DIM + 1, 0.001, "lbfgs"),
])
def test_the_rule_on_linear_models(reg, d, density, expected):
    p = _logistic(d, reg, sparse=density < 1, density=density, n=400)
    assert auto.choose(p).name == expected


def test_the_rule_elsewhere():
    assert auto.choose(Quadratic.with_condition_number(5, 10.0, seed=0)).name == "lbfgs"

    class Composite:  # any non-linear problem with a non-smooth term (choose reads only this)
        nonsmooth = True

    fista = auto.choose(Composite())
    assert (fista.name, fista.restart) == ("fista", "gradient")


@pytest.mark.parametrize("reg", ["l2", "l1", "elasticnet", None])
def test_auto_reaches_the_certified_optimum(reg):
    p = _logistic(8, reg, lam=1e-2, n=200, seed=3)  # random labels: not separable
    trace = dl.run(p, "auto", tol=1e-10)
    assert trace.meta["method"]["name"] == auto.choose(p).name
    assert trace.df["rel_subopt"].iloc[-1] <= 1e-10


def test_auto_on_least_squares_matches_the_normal_equations():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((100, 6)), rng.standard_normal(100)
    p = LeastSquares(X, y, reg="l2", lam=0.1)
    x = dl.run(p, "auto", tol=1e-12).x
    ref = np.linalg.solve(X.T @ X / 100 + 0.1 * np.eye(6), X.T @ y / 100)
    # rel. subopt 1e-12 bounds ||x - x*||^2 <= 2e-12 |F*| / mu: x to ~1e-6
    assert p.value(x) - p.value(ref) <= 1e-12 * abs(p.value(ref))
    np.testing.assert_allclose(x, ref, atol=1e-5)


def test_estimator_auto_and_its_errors():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((150, 4))
    y = (X @ [1.0, -2.0, 0.5, 0.0] + rng.standard_normal(150) > 0).astype(int)
    import sklearn.linear_model as sk

    ours = LogisticRegression(C=0.5, tol=1e-10).fit(X, y)
    ref = sk.LogisticRegression(C=0.5, tol=1e-12, solver="newton-cholesky").fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)
    with pytest.raises(DescentlabError, match="method_params: method='auto' takes no"):
        LogisticRegression(method_params={"step": 1.0}).fit(X, y)
    with pytest.raises(DescentlabError, match="resolve it on a problem first"):
        auto.Auto().init(None, None, None)


def test_solve_method_auto_from_the_cli():
    result = CliRunner().invoke(main, ["solve", "--problem", "logistic", "--data", "a1a",
                                       "--reg", "l1", "--lam", "1e-3", "--method", "auto",
                                       "--tol", "1e-8"])
    assert result.exit_code == 0, result.output
    assert "owlqn" in result.output


def test_auto_on_sparse_l1_runs_prox_newton_to_the_certified_optimum():
    p = _logistic(200, "l1", lam=1e-3, sparse=True, density=0.02, n=400, seed=6)
    trace = dl.run(p, "auto", tol=1e-10)
    assert trace.meta["method"]["name"] == "prox-newton"
    assert trace.df["rel_subopt"].iloc[-1] <= 1e-10
