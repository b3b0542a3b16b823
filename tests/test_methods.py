"""Methods: update rules against hand-written numpy recursions, documented rates on a
worst-case quadratic, convergence to the reference optimum on real data (a9a, mushrooms).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import logistic_objective, make_design, make_targets

import descentlab
from descentlab.methods import FISTA, get_method
from descentlab.problems import LeastSquares, Logistic, Quadratic

# ---------------------------------------------------------------------------------------
# small problems and their gradients / prox written in numpy


def quadratic(kappa: float = 50.0, dim: int = 6) -> Quadratic:
    return Quadratic.with_condition_number(dim, kappa, seed=1)


def quad_grad(problem: Quadratic):
    A, b = problem.A.copy(), problem.b.copy()
    return lambda x: A @ x - b


def least_squares(n, d, reg=None, lam=0.0, l1_ratio=None) -> LeastSquares:
    X = make_design(n, d, sparse=False, seed=11)
    return LeastSquares(X, make_targets(n, loss="least-squares", seed=11), reg=reg, lam=lam,
                        l1_ratio=l1_ratio)


def least_squares_grad(problem: LeastSquares, lam2: float = 0.0):
    X, y, n = problem.X.copy(), problem.y.copy(), problem.n
    return lambda x: X.T @ (X @ x - y) / n + lam2 * x


def logistic_grad(X, y, lam2: float = 0.0):
    Xd = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    return lambda x: Xd.T @ (-y / (1.0 + np.exp(y * (Xd @ x)))) / Xd.shape[0] + lam2 * x


def soft_threshold(u, tau):
    return np.sign(u) * np.maximum(np.abs(u) - tau, 0.0)


def largest_eig(M) -> float:
    return float(np.linalg.eigvalsh(M)[-1])


def start(dim: int, seed: int = 21) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(dim)


def iterates(method, problem, x0, count: int) -> list[np.ndarray]:
    """x_1..x_count of ``method``, one ``advance`` (n oracle calls) per iteration."""
    method, rng = method.resolve(problem), np.random.default_rng(0)
    state = method.init(problem, x0.copy(), rng)
    out = []
    for k in range(1, count + 1):
        state = method.advance(problem, state, rng, problem.n)
        assert state.iteration == k
        assert state.calls == k * problem.n
        out.append(state.x.copy())
    return out


def assert_same_iterates(got, expected):
    assert len(got) == len(expected)
    for k, (a, b) in enumerate(zip(got, expected, strict=True), start=1):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"iterate {k}")


# ---------------------------------------------------------------------------------------
# update rules


@pytest.mark.parametrize("step", [None, 0.7])
def test_gd_update_rule(step):
    problem = quadratic()
    grad = quad_grad(problem)
    s = 1.0 / largest_eig(problem.A) if step is None else step
    x, expected = start(problem.dim), []
    x0 = x.copy()
    for _ in range(8):
        x = x - s * grad(x)
        expected.append(x)
    assert_same_iterates(iterates(get_method("gd", step=step), problem, x0, 8), expected)


def _heavy_ball_reference(grad, x0, step, momentum, count):
    x_prev, x, out = x0.copy(), x0.copy(), []
    for _ in range(count):
        x, x_prev = x - step * grad(x) + momentum * (x - x_prev), x
        out.append(x)
    return out


def test_heavy_ball_update_rule_with_given_hyperparameters():
    problem = quadratic()
    x0 = start(problem.dim)
    method = get_method("heavy-ball", step=0.8, momentum=0.6)
    expected = _heavy_ball_reference(quad_grad(problem), x0, 0.8, 0.6, 8)
    assert_same_iterates(iterates(method, problem, x0, 8), expected)


def test_heavy_ball_default_is_polyak_tuning_when_strongly_convex():
    problem = quadratic(kappa=50.0)
    L, mu = np.linalg.eigvalsh(problem.A)[[-1, 0]]
    step = 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    kappa = L / mu
    momentum = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    x0 = start(problem.dim)
    method = get_method("hb")  # alias
    resolved = method.resolve(problem)
    assert resolved.step == pytest.approx(step, rel=1e-10)
    assert resolved.momentum == pytest.approx(momentum, rel=1e-10)
    expected = _heavy_ball_reference(quad_grad(problem), x0, step, momentum, 8)
    assert_same_iterates(iterates(method, problem, x0, 8), expected)


def test_heavy_ball_default_without_strong_convexity():
    problem = least_squares(5, 8)  # d > n: mu = 0
    X = problem.X
    L = largest_eig(X.T @ X / problem.n)
    x0 = start(problem.dim)
    resolved = get_method("heavy-ball").resolve(problem)
    assert resolved.momentum == 0.5
    assert resolved.step == pytest.approx(0.5 / L, rel=1e-10)
    expected = _heavy_ball_reference(least_squares_grad(problem), x0, 0.5 / L, 0.5, 8)
    assert_same_iterates(iterates(get_method("heavy-ball"), problem, x0, 8), expected)


def test_heavy_ball_default_on_rank_deficient_least_squares():
    """Convex, not strongly convex (repeated column): the mu = 0 tuning must be used.

    With Polyak's strongly convex tuning computed from a rounding-level mu, the momentum
    is ~1 - 1e-8 and the step ~4/L: F grows instead of decreasing.
    """
    A = make_design(50, 6, sparse=False, seed=2)
    X = np.column_stack([A, A[:, 0]])
    problem = LeastSquares(X, make_targets(50, loss="least-squares", seed=2))
    L = largest_eig(X.T @ X / 50)
    resolved = get_method("heavy-ball").resolve(problem)
    assert resolved.momentum == 0.5
    assert resolved.step == pytest.approx(0.5 / L, rel=1e-10)
    trace = descentlab.run(problem, "heavy-ball", budget_epochs=300)
    values = trace.df["value"].to_numpy()
    assert values[-1] < values[0]
    assert np.all(values <= values[0] * (1 + 1e-12))


def _nesterov_reference(grad, x0, step, count, beta=None):
    """y = x_{k-1} + beta_k (x_{k-1} - x_{k-2}), x_k = y - step grad(y), x_{-1} = x_0,
    beta_k = (k - 1) / (k + 2) for the convex variant (k = 1, 2, ...)."""
    x_prev, x, out = x0.copy(), x0.copy(), []
    for k in range(1, count + 1):
        b = (k - 1) / (k + 2) if beta is None else beta
        y = x + b * (x - x_prev)
        x, x_prev = y - step * grad(y), x
        out.append(x)
    return out


def test_nesterov_convex_update_rule():
    problem = least_squares(5, 8)
    L = largest_eig(problem.X.T @ problem.X / problem.n)
    x0 = start(problem.dim)
    expected = _nesterov_reference(least_squares_grad(problem), x0, 1.0 / L, 10)
    method = get_method("nesterov")  # mu = 0: 'auto' picks the convex variant
    assert method.resolve(problem).variant == "convex"
    assert_same_iterates(iterates(method, problem, x0, 10), expected)


def test_nesterov_strongly_convex_update_rule():
    problem = quadratic(kappa=50.0)
    L, mu = np.linalg.eigvalsh(problem.A)[[-1, 0]]
    beta = (np.sqrt(L / mu) - 1) / (np.sqrt(L / mu) + 1)
    x0 = start(problem.dim)
    method = get_method("agd")  # alias; mu > 0: 'auto' picks the strongly convex variant
    resolved = method.resolve(problem)
    assert resolved.variant == "strongly-convex"
    assert resolved.momentum == pytest.approx(beta, rel=1e-10)
    expected = _nesterov_reference(quad_grad(problem), x0, 1.0 / L, 10, beta=beta)
    assert_same_iterates(iterates(method, problem, x0, 10), expected)
    # the convex variant can be forced on a strongly convex problem
    expected = _nesterov_reference(quad_grad(problem), x0, 0.5, 10)
    assert_same_iterates(iterates(get_method("nesterov", variant="convex", step=0.5),
                                  problem, x0, 10), expected)


@pytest.mark.parametrize(("name", "kwargs", "reg"), [
    ("nesterov", {}, None),
    ("heavy-ball", {}, None),
    ("fista", {"restart": None}, "l1"),
])
def test_advance_in_chunks_matches_single_iterations(name, kwargs, reg):
    """Momentum schedules depend on the iteration count, which must carry over calls."""
    problem = least_squares(5, 8, reg=reg, lam=0.05 if reg else 0.0)
    x0 = start(problem.dim)
    single = iterates(get_method(name, **kwargs), problem, x0, 7)[-1]
    method = get_method(name, **kwargs).resolve(problem)
    state = method.init(problem, x0.copy(), None)
    state = method.advance(problem, state, None, 3 * problem.n)
    state = method.advance(problem, state, None, 2 * problem.n + 1)  # rounds up: 3 iterations
    state = method.advance(problem, state, None, 1)  # at least one iteration
    assert state.iteration == 7 and state.calls == 7 * problem.n
    np.testing.assert_allclose(state.x, single, rtol=1e-12)


PROX_PROBLEMS = ["least-squares-l1", "logistic-elasticnet-csr"]


def prox_problem(kind: str):
    """(problem, numpy gradient of the smooth part, lam1, L)."""
    if kind == "least-squares-l1":
        problem = least_squares(40, 10, reg="l1", lam=0.1)
        X = problem.X
        return problem, least_squares_grad(problem), 0.1, largest_eig(X.T @ X / 40)
    X = make_design(40, 10, sparse=True, seed=12)
    y = make_targets(40, loss="logistic", seed=12)
    problem = Logistic(X, y, reg="elasticnet", lam=0.1, l1_ratio=0.7)
    Xd = X.toarray()
    L = 0.25 * largest_eig(Xd.T @ Xd / 40) + 0.1 * 0.3
    return problem, logistic_grad(X, y, lam2=0.1 * 0.3), 0.1 * 0.7, L


@pytest.mark.parametrize("kind", PROX_PROBLEMS)
def test_ista_update_rule(kind):
    problem, grad, lam1, L = prox_problem(kind)
    x0 = start(problem.dim)
    x, expected = x0.copy(), []
    for _ in range(8):
        x = soft_threshold(x - grad(x) / L, lam1 / L)
        expected.append(x)
    assert_same_iterates(iterates(get_method("prox-grad"), problem, x0, 8), expected)


def _fista_reference(grad, x0, step, lam1, count, restart=None, value=None):
    """Beck-Teboulle FISTA with O'Donoghue-Candes adaptive restart."""
    x, y, t, out = x0.copy(), x0.copy(), 1.0, []
    f_prev = value(x0) if restart == "function" else None
    for _ in range(count):
        x_new = soft_threshold(y - step * grad(y), step * lam1)
        if restart == "gradient":
            reset = (y - x_new) @ (x_new - x) > 0
        elif restart == "function":
            f_new = value(x_new)
            reset, f_prev = f_new > f_prev, f_new
        else:
            reset = False
        if reset:
            t, y = 1.0, x_new
        else:
            t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2
            y = x_new + (t - 1) / t_new * (x_new - x)
            t = t_new
        x = x_new
        out.append(x)
    return out


@pytest.mark.parametrize("restart", [None, "gradient", "function"])
@pytest.mark.parametrize("kind", PROX_PROBLEMS)
def test_fista_update_rule(kind, restart):
    problem, grad, lam1, L = prox_problem(kind)
    x0 = 3.0 * start(problem.dim)
    expected = _fista_reference(grad, x0, 1.0 / L, lam1, 25, restart=restart,
                                value=problem.value)
    method = get_method("fista", restart=restart)
    assert_same_iterates(iterates(method, problem, x0, 25), expected)
    if restart is not None:  # the restart branch is exercised, not only the plain one
        method = method.resolve(problem)
        state = method.advance(problem, method.init(problem, x0.copy(), None), None,
                               25 * problem.n)
        assert state.restarts >= 1


def test_fista_restart_none_accepts_the_string_none():
    problem, grad, lam1, L = prox_problem("least-squares-l1")
    x0 = start(problem.dim)
    expected = _fista_reference(grad, x0, 1.0 / L, lam1, 10)
    assert_same_iterates(iterates(get_method("fista", restart="none"), problem, x0, 10),
                         expected)


# ---------------------------------------------------------------------------------------
# documented rates on Nesterov's worst-case quadratic (L = 1, x0 = 0)


def worst_case_quadratic(dim: int = 100, mu: float = 0.0) -> Quadratic:
    """f(x) = (L - mu)/8 (x^T T x - 2 x_1) + mu/2 ||x||^2 with T tridiag(-1, 2, -1), L = 1."""
    T = 2 * np.eye(dim) - np.eye(dim, k=1) - np.eye(dim, k=-1)
    A = (1 - mu) / 4 * T + (mu if mu > 0 else 1e-9) * np.eye(dim)
    b = np.zeros(dim)
    b[0] = (1 - mu) / 4
    return Quadratic(A, b)


def _values(method, problem, count):
    return [problem.value(x) for x in iterates(method, problem, np.zeros(problem.dim), count)]


def test_gd_and_accelerated_rates_on_worst_case_quadratic():
    problem = worst_case_quadratic()
    A, b = problem.A, problem.b
    x_star = np.linalg.solve(A, b)
    f_star = float(0.5 * x_star @ A @ x_star - b @ x_star)
    L, R2 = largest_eig(A), float(x_star @ x_star)
    k = np.arange(1, 301)
    gd = np.array(_values(get_method("gd"), problem, 300)) - f_star
    assert np.all(gd <= L * R2 / (2 * k) * (1 + 1e-9))
    for method in (get_method("nesterov", variant="convex"), get_method("fista", restart=None)):
        gap = np.array(_values(method, problem, 300)) - f_star
        assert np.all(gap <= 2 * L * R2 / (k + 1) ** 2 * (1 + 1e-9)), method.name
        # and acceleration is real: far below GD after 300 iterations
        assert gap[-1] < 0.1 * gd[-1]


def test_strongly_convex_rates_on_worst_case_quadratic():
    mu = 1e-2
    problem = worst_case_quadratic(mu=mu)
    A, b = problem.A, problem.b
    eig = np.linalg.eigvalsh(A)
    L, mu = eig[-1], eig[0]
    x_star = np.linalg.solve(A, b)
    f_star = float(0.5 * x_star @ A @ x_star - b @ x_star)
    f0 = 0.0
    k = np.arange(1, 201)
    gd = np.array(_values(get_method("gd"), problem, 200)) - f_star
    assert np.all(gd <= (1 - mu / L) ** k * (f0 - f_star) * (1 + 1e-9))
    agd = np.array(_values(get_method("nesterov"), problem, 200)) - f_star
    bound = (1 - np.sqrt(mu / L)) ** k * (f0 - f_star + mu * x_star @ x_star / 2)
    assert np.all(agd <= bound * (1 + 1e-9))


# ---------------------------------------------------------------------------------------
# convergence on small strongly convex problems


def test_heavy_ball_converges_on_ill_conditioned_quadratic():
    problem = quadratic(kappa=100.0, dim=20)
    x_star = np.linalg.solve(problem.A, problem.b)
    f_star = float(-0.5 * problem.b @ x_star)
    trace = descentlab.run(problem, "heavy-ball", tol=1e-9, budget_epochs=2000,
                           f_star=f_star)
    assert trace.stop_reason == "tol"
    assert trace.final("rel_subopt") <= 1e-9
    # Polyak's tuning: rate (sqrt kappa - 1)/(sqrt kappa + 1) ~ 0.82, far fewer than GD's
    # kappa log(1/tol) ~ 2000 iterations
    assert trace.final("iteration") <= 300


def test_ista_converges_on_strongly_convex_lasso():
    from sklearn.linear_model import Lasso

    problem = least_squares(60, 10, reg="l1", lam=0.05)
    X, y = problem.X, problem.y
    w = Lasso(alpha=0.05, fit_intercept=False, tol=1e-14, max_iter=100000).fit(X, y).coef_
    f_ref = 0.5 * np.mean((X @ w - y) ** 2) + 0.05 * np.abs(w).sum()
    trace = descentlab.run(problem, "ista", tol=1e-9, budget_epochs=5000, f_star=f_ref)
    assert trace.stop_reason == "tol"
    assert trace.final("rel_subopt") <= 1e-9


# ---------------------------------------------------------------------------------------
# convergence on real data


@pytest.mark.parametrize(("method", "name", "lam", "epochs"), [
    ("gd", "a9a", 1e-2, 3000),
    ("gd", "mushrooms", 1e-2, 5000),
    ("nesterov", "a9a", 1e-4, 3000),
    ("nesterov", "mushrooms", 1e-3, 3000),
])
def test_smooth_methods_reach_1e9_on_l2_logistic(libsvm_logistic, sklearn_logistic, method,
                                                 name, lam, epochs):
    problem = libsvm_logistic(name, "l2", lam)
    trace = descentlab.run(problem, method, tol=1e-9, budget_epochs=epochs)
    assert trace.stop_reason == "tol"
    assert trace.final("rel_subopt") <= 1e-9
    # independently: the final value is within 1e-9 of scikit-learn's optimum
    w = sklearn_logistic(name, "l2", lam)
    f_ref = logistic_objective(problem.X, problem.y, w, lam2=lam)
    assert trace.final("value") <= f_ref * (1 + 1e-9)
    assert trace.final("value") >= f_ref * (1 - 1e-9)
    df = trace.df
    assert (df["oracle_calls"] == df["iteration"] * problem.n).all()


@pytest.mark.parametrize(("name", "lam"), [("a9a", 1e-4), ("mushrooms", 1e-3)])
def test_fista_reaches_1e9_on_l1_logistic_with_reference_support(libsvm_logistic,
                                                                  sklearn_logistic, name,
                                                                  lam):
    problem = libsvm_logistic(name, "l1", lam)
    x_star, _ = problem.solution()
    trace = descentlab.run(problem, FISTA(), tol=1e-9, budget_epochs=5000)
    assert trace.stop_reason == "tol"
    assert trace.final("rel_subopt") <= 1e-9
    x = trace.x  # the final iterate
    assert problem.value(x) == trace.final("value")
    np.testing.assert_array_equal(x != 0, x_star != 0)
    np.testing.assert_array_equal(np.sign(x), np.sign(x_star))
    w = sklearn_logistic(name, "l1", lam)
    f_ref = logistic_objective(problem.X, problem.y, w, lam1=lam)
    assert logistic_objective(problem.X, problem.y, x, lam1=lam) <= f_ref * (1 + 1e-9)
