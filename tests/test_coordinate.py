"""Coordinate descent and proximal Newton (descentlab.methods.coordinate) against certified
optima, scikit-learn's solvers, and their own rules (working sets, Anderson, seeds, costs)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import Stepper, make_design, make_targets
from sklearn.linear_model import ElasticNet, Lasso
from sklearn.linear_model import LogisticRegression as SkLogistic

from descentlab import estimators
from descentlab.errors import DescentlabError
from descentlab.methods import CD, ProxNewton, get_method
from descentlab.problems import LeastSquares, Logistic
from descentlab.problems.toy import Quadratic
from descentlab.run import Stop, relative_subopt, run

LOSSES = {"logistic": Logistic, "least-squares": LeastSquares}
REGS = (("l1", 0.02, None), ("l2", 0.01, None), ("elasticnet", 0.03, 0.5))
METHODS = (CD(), CD(order="random"), CD(ws=False, anderson=False), ProxNewton())


def _problem(loss, reg, lam, ratio, *, sparse, n=150, d=25, seed=0, intercept=False):
    X = make_design(n, d, sparse=sparse, seed=seed)
    y = make_targets(n, loss=loss, seed=seed)
    return LOSSES[loss](X, y, reg=reg, lam=lam, l1_ratio=ratio, fit_intercept=intercept)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: str(m))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("loss", list(LOSSES))
def test_reaches_the_certified_optimum(method, sparse, loss):
    for reg, lam, ratio in REGS:
        problem = _problem(loss, reg, lam, ratio, sparse=sparse)
        _, f_star = problem.solution()
        trace = run(problem, method, Stop(tol=1e-10, epochs=3000), seed=1)
        assert trace.stop_reason == "tol", (reg, trace.stop_reason)
        assert relative_subopt(problem.value(trace.x), f_star) <= 1e-10
        # the counts are non-decreasing integers and the run spent something
        calls = trace.df["oracle_calls"].to_numpy()
        assert np.all(np.diff(calls) > 0) and calls[-1] >= problem.n


@pytest.mark.parametrize("method", [CD(), ProxNewton()], ids=str)
@pytest.mark.parametrize("loss", list(LOSSES))
def test_unpenalized_intercept(method, loss):
    problem = _problem(loss, "l1", 0.02, None, sparse=True, intercept=True)
    problem.y[:] = problem.y + (1.5 if loss == "least-squares" else 0.0)
    x_star, f_star = problem.solution()
    trace = run(problem, method, Stop(tol=1e-10, epochs=3000))
    assert relative_subopt(problem.value(trace.x), f_star) <= 1e-10
    assert trace.x[-1] == pytest.approx(x_star[-1], abs=1e-5)


@pytest.mark.parametrize("method", ["cd", "prox-newton"])
def test_matches_sklearn_lasso_and_elastic_net(method):
    X = make_design(120, 20, sparse=False, seed=3)
    y = make_targets(120, loss="least-squares", seed=3)
    for alpha, ratio in ((0.05, None), (0.05, 0.4)):
        # scikit-learn: ||y - Xw||^2 / (2n) + alpha r ||w||_1 + alpha (1 - r) ||w||^2 / 2
        sk = (Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100_000)
              if ratio is None else
              ElasticNet(alpha=alpha, l1_ratio=ratio, fit_intercept=False, tol=1e-14,
                         max_iter=100_000)).fit(X, y)
        problem = LeastSquares(X, y, reg="l1" if ratio is None else "elasticnet", lam=alpha,
                               l1_ratio=ratio)
        trace = run(problem, method, Stop(grad_tol=1e-13, epochs=5000), reference=False)
        np.testing.assert_allclose(trace.x, sk.coef_, atol=1e-8)
        assert problem.value(trace.x) <= problem.value(sk.coef_) + 1e-13


@pytest.mark.parametrize("method", ["cd", "prox-newton"])
def test_matches_liblinear_l1_logistic(libsvm_logistic, method):
    problem = libsvm_logistic("a1a", "l1", 1e-3)
    n = problem.n
    # liblinear: C sum_i log(1 + exp(-y_i x_i . w)) + ||w||_1, divided by C n: lam = 1/(C n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = SkLogistic(l1_ratio=1.0, C=1.0 / (1e-3 * n), solver="liblinear",
                        fit_intercept=False, tol=1e-12, max_iter=100_000)
        sk.fit(problem.X, problem.y)
    trace = run(problem, method, Stop(tol=1e-11, epochs=20_000))
    assert problem.value(trace.x) <= problem.value(sk.coef_.ravel()) + 1e-9
    assert relative_subopt(problem.value(sk.coef_.ravel()), trace.meta["f_star"]) < 1e-6
    # (a1a's one-hot columns are collinear, rank 98 of 119: the L1 minimizer is not unique,
    # so the objective is compared, not the coefficients)


def test_working_set_keeps_the_support_of_the_solution():
    problem = _problem("logistic", "l1", 0.04, None, sparse=True, n=200, d=60, seed=5)
    x_star, f_star = problem.solution()
    support = np.flatnonzero(x_star)
    assert 0 < support.size < 20  # a sparse solution, so the working set is a real subset
    stepper = Stepper(CD(ws=True), problem, np.zeros(problem.dim), np.random.default_rng(0))
    sizes = []
    while relative_subopt(problem.value(stepper.state.x), f_star) > 1e-12:
        state = stepper.advance(problem.n)
        if state.ws is not None:
            sizes.append(state.ws.size)
            # once the iterate is close, every coordinate of the support is in the set
            if relative_subopt(problem.value(state.x), f_star) < 1e-6:
                assert set(support) <= set(state.ws.tolist())
        assert state.iteration < 5000
    assert min(sizes) < problem.dim and max(sizes) < problem.dim
    np.testing.assert_array_equal(np.flatnonzero(stepper.state.x), support)


def test_anderson_never_raises_the_objective():
    problem = _problem("logistic", "l2", 1e-3, None, sparse=False, n=200, d=40, seed=2)
    stepper = Stepper(CD(anderson=True), problem, np.zeros(problem.dim),
                      np.random.default_rng(0))
    values = [problem.value(stepper.state.x)]
    for _ in range(60):  # one epoch per advance: CD epochs and accepted steps only go down
        values.append(problem.value(stepper.advance(problem.n).x))
    assert np.all(np.diff(values) <= 1e-14 * abs(values[0]))
    assert stepper.state.extrapolations > 0  # the extrapolation was used, and accepted
    # rejection: at the optimum no extrapolation can lower F, so x and z stay as they are
    x_star, _ = problem.solution()
    view = problem.linear_view()
    x, z = x_star.copy(), problem.X @ x_star
    rng = np.random.default_rng(1)
    past_x = x_star + 1e-3 * rng.standard_normal((6, problem.dim))
    past_z = past_x @ problem.X.T
    assert CD._extrapolate(view, x, z, np.arange(problem.dim), past_x, past_z) == 0
    np.testing.assert_array_equal(x, x_star)


def test_anderson_extrapolation_is_the_documented_combination():
    """x_acc = sum_k c_k x_k, c = argmin ||U^T c|| subject to sum c = 1 (U: the K
    differences), applied to x and z when it lowers F; computed here from the KKT system."""
    problem = _problem("least-squares", "l2", 1e-2, None, sparse=False, n=60, d=8, seed=4)
    x_star, _ = problem.solution()
    view = problem.linear_view()
    rng = np.random.default_rng(0)
    M = 0.95 * np.linalg.qr(rng.standard_normal((8, 8)))[0] @ np.diag(np.linspace(0.2, 1, 8))
    past = [x_star + rng.standard_normal(8)]
    for _ in range(5):  # a linear fixed-point sequence towards x*: 6 iterates, K = 5
        past.append(x_star + M @ (past[-1] - x_star))
    past_x = np.array(past)
    U = np.diff(past_x, axis=0)
    kkt = np.block([[2 * U @ U.T, np.ones((5, 1))], [np.ones((1, 5)), np.zeros((1, 1))]])
    c = np.linalg.solve(kkt, np.r_[np.zeros(5), 1.0])[:5]
    expected = c @ past_x[1:]
    x = past_x[-1].copy()
    z = problem.X @ x
    assert problem.value(expected) < problem.value(x)
    assert CD._extrapolate(view, x, z, np.arange(8), past_x, past_x @ problem.X.T) == 1
    np.testing.assert_allclose(x, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(z, problem.X @ expected, rtol=1e-9, atol=1e-12)


def test_random_order_is_reproducible_by_seed():
    problem = _problem("logistic", "elasticnet", 0.03, 0.5, sparse=True)
    a = run(problem, CD(order="random"), Stop(epochs=5), seed=3).x
    b = run(problem, CD(order="random"), Stop(epochs=5), seed=3).x
    c = run(problem, CD(order="random"), Stop(epochs=5), seed=4).x
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_one_epoch_over_every_coordinate_is_n_calls(sparse):
    problem = _problem("logistic", "l2", 0.01, None, sparse=sparse)
    stepper = Stepper(CD(ws=False, anderson=False), problem, np.zeros(problem.dim), None)
    state = stepper.advance(1)  # at least one iteration: one epoch
    assert (state.iteration, state.calls) == (1, problem.n)
    state = stepper.advance(3 * problem.n)
    assert (state.iteration, state.calls) == (4, 4 * problem.n)
    # a working set of S coordinates costs n nnz(X_:S) / nnz(X)
    pn = Stepper(ProxNewton(ws=False, max_cd_epochs=1), problem, np.zeros(problem.dim), None)
    # full gradient + 1 inner epoch + X d + 1 line-search trial (t = 1): 4 passes over X
    state = pn.advance(1)
    assert state.last_step == 1.0 and state.calls == 4 * problem.n


def test_csc_arrays_are_the_columns_of_X():
    for sparse in (False, True):
        problem = _problem("least-squares", "l2", 0.1, None, sparse=sparse, intercept=True)
        indptr, indices, data, sq = problem.csc_arrays()
        X = problem.X.toarray() if sparse else problem.X
        C = sp.csc_matrix((data, indices, indptr), shape=X.shape).toarray()
        np.testing.assert_array_equal(C, X)
        np.testing.assert_allclose(sq, (X * X).sum(axis=0), rtol=1e-14)
        assert problem.csc_arrays()[0] is indptr  # built once


def test_estimators_and_catalyst_run_the_coordinate_methods():
    X = make_design(150, 12, sparse=True, seed=6)
    y = make_targets(150, loss="logistic", seed=6)
    for method in ("cd", "prox-newton"):
        clf = estimators.LogisticRegression(C=1.0, l1_ratio=1.0, method=method, tol=1e-10,
                                            max_iter=2000).fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sk = SkLogistic(C=1.0, l1_ratio=1.0, solver="saga", tol=1e-12,
                            max_iter=100_000).fit(X, y)
        np.testing.assert_allclose(clf.coef_, sk.coef_, atol=1e-5)
        np.testing.assert_allclose(clf.intercept_, sk.intercept_, atol=1e-5)
    problem = _problem("logistic", "l1", 0.02, None, sparse=True)
    _, f_star = problem.solution()
    trace = run(problem, get_method("catalyst", inner="cd"), Stop(tol=1e-8, epochs=2000))
    assert relative_subopt(problem.value(trace.x), f_star) <= 1e-8


def test_bad_input_is_one_clear_error():
    with pytest.raises(DescentlabError, match=r"cd: order: expected one of 'cyclic', 'random'"):
        CD(order="zigzag")
    with pytest.raises(DescentlabError, match="cd: ws: expected True or False, got 'yes'"):
        CD(ws="yes")
    with pytest.raises(DescentlabError, match="cd: anderson_k: expected an integer >= 2"):
        CD(anderson_k=1)
    with pytest.raises(DescentlabError, match="prox-newton: max_cd_epochs: expected an int"):
        ProxNewton(max_cd_epochs=0)
    with pytest.raises(DescentlabError, match="prox-newton: anderson_k: expected 0 .off. or an"):
        ProxNewton(anderson_k=1)
    assert ProxNewton(anderson_k=0).anderson_k == 0
    quadratic = Quadratic(np.eye(2), np.ones(2))
    for method in ("cd", "prox-newton"):
        with pytest.raises(DescentlabError, match=rf"{method}: expected a linear model"):
            run(quadratic, method, Stop(epochs=1))
    assert dataclasses.replace(CD(), ws=True).ws is True


@pytest.mark.parametrize("lam", [None, 1e-4], ids=["1/n", "1e-4"])
def test_prox_newton_converges_with_every_coordinate_in_the_working_set(libsvm_logistic, lam):
    """L2 (no working sets): the inner tolerance follows the current gradient and the inner CD
    is extrapolated; before, it stayed at the first gradient's, every Newton step was one CD
    epoch and a1a stalled near 5e-5 (1/n) and 5e-4 (1e-4) after 3000 epochs."""
    problem = libsvm_logistic("a1a", "l2", 1.0 / 1605 if lam is None else lam)
    _, f_star = problem.solution()
    trace = run(problem, ProxNewton(), Stop(tol=1e-10, epochs=2500))
    assert trace.stop_reason == "tol"
    assert relative_subopt(problem.value(trace.x), f_star) <= 1e-10
    assert trace.meta["method"]["outer"] > 1  # a new reference score per Newton step


def test_prox_newton_does_not_retry_a_failed_line_search_forever(libsvm_logistic):
    """With one trial per line search the full Newton step fails now and then; a proximal CD
    epoch then moves x (before, the same direction was recomputed and failed again: a1a L1
    stopped at 2.5e-4 after 3000 epochs)."""
    problem = libsvm_logistic("a1a", "l1", 1e-3)
    _, f_star = problem.solution()
    trace = run(problem, ProxNewton(max_backtrack=1), Stop(tol=1e-10, epochs=2000))
    assert trace.stop_reason == "tol"
    assert relative_subopt(problem.value(trace.x), f_star) <= 1e-10
    assert trace.meta["method"]["fallbacks"] > 0
    values = trace.df["value"].to_numpy()
    assert np.all(np.diff(values) <= 1e-14 * abs(values[0]))  # F never rises


def test_logistic_hessian_weights_have_no_cancellation():
    """h = phi''(z) = s (1 - s) for margins down to -700 (misclassified with a large margin, as
    on news20's unnormalized counts): 1 - s was 0 below -37, h now keeps its relative digits."""
    from descentlab._compiled import coordinate as kernels

    z = np.array([-700.0, -300.0, -40.0, -5.0, 0.0, 5.0, 40.0, 700.0])
    y = np.ones_like(z)
    r, h = np.empty_like(z), np.empty_like(z)
    kernels.derivatives(y, 1, z, r, h)
    t = np.abs(z)
    np.testing.assert_allclose(h, np.exp(-t) / (1.0 + np.exp(-t)) ** 2, rtol=1e-13)
    assert np.all(h > 0)
