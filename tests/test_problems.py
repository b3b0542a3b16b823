"""Problems: oracles against finite differences, constants against numpy eigenvalues,
reference optima against closed forms and scikit-learn.

Every reference here is computed independently of descentlab: objectives are re-written
in numpy from their documented definitions, gradients are central finite differences of
those (or of ``smooth_value``), constants are numpy eigenvalues of X^T X / n.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import logistic_objective, make_design, make_targets
from sklearn.linear_model import ElasticNet, Lasso

from descentlab.problems import LeastSquares, Logistic, PLExample, Quadratic, ScalarNetwork

# ---------------------------------------------------------------------------------------
# independent definitions of the losses and regularizers (module docstrings of
# descentlab/problems/linear.py and regularizers.py)

LOSSES = {
    "least-squares": lambda z, y: 0.5 * (z - y) ** 2,
    "logistic": lambda z, y: np.logaddexp(0.0, -y * z),
}
CLASSES = {"least-squares": LeastSquares, "logistic": Logistic}

#: (reg, lam, l1_ratio, lam1, lam2): lam1 ||x||_1 is the non-smooth part, lam2 ||x||^2 / 2
#: the smooth one, written out by hand from the regularizers' definitions
REGS = [
    pytest.param(None, 0.0, None, 0.0, 0.0, id="noreg"),
    pytest.param("l2", 0.3, None, 0.0, 0.3, id="l2"),
    pytest.param("l1", 0.2, None, 0.2, 0.0, id="l1"),
    pytest.param("elasticnet", 0.5, 0.4, 0.5 * 0.4, 0.5 * 0.6, id="elasticnet"),
]
STORAGE = ["dense", "csr", "a1a"]


def build(loss: str, storage: str, reg, lam, l1_ratio, n: int = 30, d: int = 7):
    """(problem, dense X, y) for a loss on small random data or on a1a."""
    cls = CLASSES[loss]
    if storage == "a1a":
        problem = cls.from_libsvm("a1a", reg=reg, lam=lam, l1_ratio=l1_ratio)
        assert sp.issparse(problem.X)
        return problem, problem.X.toarray(), np.asarray(problem.y, dtype=np.float64)
    X = make_design(n, d, sparse=storage == "csr", seed=n * d)
    y = make_targets(n, loss=loss, seed=n * d)
    problem = cls(X, y, reg=reg, lam=lam, l1_ratio=l1_ratio)
    Xd = X.toarray() if sp.issparse(X) else X
    return problem, Xd, y


def random_point(dim: int, seed: int = 0, scale: float = 0.5) -> np.ndarray:
    return scale * np.random.default_rng(seed).standard_normal(dim)


# ---------------------------------------------------------------------------------------
# linear models: values and gradients


@pytest.mark.parametrize("storage", STORAGE)
@pytest.mark.parametrize("loss", ["least-squares", "logistic"])
@pytest.mark.parametrize(("reg", "lam", "l1_ratio", "lam1", "lam2"), REGS)
def test_value_matches_definition(loss, storage, reg, lam, l1_ratio, lam1, lam2):
    problem, X, y = build(loss, storage, reg, lam, l1_ratio)
    x = random_point(problem.dim, seed=1)
    smooth = np.mean(LOSSES[loss](X @ x, y)) + 0.5 * lam2 * x @ x
    assert problem.smooth_value(x) == pytest.approx(smooth, rel=1e-12)
    assert problem.value(x) == pytest.approx(smooth + lam1 * np.abs(x).sum(), rel=1e-12)
    assert problem.nonsmooth == (lam1 > 0)


@pytest.mark.parametrize("storage", STORAGE)
@pytest.mark.parametrize("loss", ["least-squares", "logistic"])
@pytest.mark.parametrize(("reg", "lam", "l1_ratio", "lam1", "lam2"), REGS)
def test_grad_matches_finite_differences(fd_grad, loss, storage, reg, lam, l1_ratio, lam1,
                                         lam2):
    """grad is the gradient of the smooth part (of ``value`` when there is no l1 term)."""
    problem, _, _ = build(loss, storage, reg, lam, l1_ratio)
    x = random_point(problem.dim, seed=2)
    reference = fd_grad(problem.smooth_value, x)
    np.testing.assert_allclose(problem.grad(x), reference, rtol=1e-6, atol=1e-8)
    if lam1 == 0:
        np.testing.assert_allclose(problem.grad(x), fd_grad(problem.value, x),
                                   rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("storage", STORAGE)
@pytest.mark.parametrize("loss", ["least-squares", "logistic"])
@pytest.mark.parametrize(("reg", "lam", "l1_ratio", "lam1", "lam2"), REGS)
def test_batch_grad_is_mean_of_component_gradients(fd_grad, loss, storage, reg, lam,
                                                   l1_ratio, lam1, lam2):
    problem, X, y = build(loss, storage, reg, lam, l1_ratio)
    x = random_point(problem.dim, seed=3)
    rng = np.random.default_rng(4)
    idx = rng.integers(0, problem.n, size=9)
    idx = np.concatenate([idx, idx[:3], [idx[0]]])  # repeated indices count repeatedly

    def batch_objective(w):
        return np.mean(LOSSES[loss](X[idx] @ w, y[idx])) + 0.5 * lam2 * w @ w

    g = problem.batch_grad(x, idx)
    assert g.shape == (problem.dim,)
    np.testing.assert_allclose(g, fd_grad(batch_objective, x), rtol=1e-6, atol=1e-8)
    per_sample = np.mean([problem.batch_grad(x, np.array([i])) for i in idx], axis=0)
    np.testing.assert_allclose(g, per_sample, rtol=1e-12, atol=1e-14)
    full = problem.batch_grad(x, np.arange(problem.n))
    np.testing.assert_allclose(full, problem.grad(x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("loss", ["least-squares", "logistic"])
@pytest.mark.parametrize(("reg", "lam", "l1_ratio", "lam1", "lam2"), REGS)
def test_hessp_matches_finite_differences_of_grad(fd_jacobian, loss, storage, reg, lam,
                                                  l1_ratio, lam1, lam2):
    problem, _, _ = build(loss, storage, reg, lam, l1_ratio)
    x = random_point(problem.dim, seed=5)
    H = fd_jacobian(problem.grad, x)
    for v in np.random.default_rng(6).standard_normal((3, problem.dim)):
        np.testing.assert_allclose(problem.hessp(x, v), H @ v, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("reg", "lam", "l1_ratio", "lam1", "lam2"), REGS)
def test_prox_is_soft_thresholding(reg, lam, l1_ratio, lam1, lam2):
    problem, _, _ = build("least-squares", "dense", reg, lam, l1_ratio)
    x = np.array([-2.0, -0.05, 0.0, 0.03, 0.5, 1.0, -0.7])
    t = 0.25
    expected = np.sign(x) * np.maximum(np.abs(x) - t * lam1, 0.0)
    np.testing.assert_array_equal(problem.prox(x, t), expected)


@pytest.mark.parametrize("margin", [50.0, 1e4, 1e8])
def test_logistic_does_not_overflow_for_large_margins(margin):
    """loss(m) = log(1 + e^-m) tends to 0 as m -> +inf and to |m| as m -> -inf."""
    X = np.array([[1.0], [1.0], [-1.0], [-1.0]])
    y = np.array([1.0, -1.0, 1.0, -1.0])
    problem = Logistic(X, y)
    theta = np.array([margin])  # margins y_i x_i theta = +m, -m, -m, +m
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise",
                                                divide="raise"):
        warnings.simplefilter("error")
        value = problem.value(theta)
        grad = problem.grad(theta)
        hv = problem.hessp(theta, np.ones(1))
        bg = problem.batch_grad(theta, np.array([1]))
    # losses (0, m, m, 0) up to e^-m: the mean is m / 2
    assert value == pytest.approx(margin / 2, rel=1e-12)
    # d loss_i / d theta = -y_i x_i sigma(-margin_i) -> (0, 1, 1, 0): the mean is 1/2
    np.testing.assert_allclose(grad, [0.5], rtol=1e-12)
    np.testing.assert_allclose(bg, [1.0], rtol=1e-12)
    # loss'' = sigma(m) sigma(-m) -> 0
    assert np.isfinite(hv).all() and 0.0 <= hv[0] <= 1e-12


# ---------------------------------------------------------------------------------------
# linear models: constants


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("shape", [(30, 7), (5, 7)], ids=["tall", "wide"])
@pytest.mark.parametrize("loss", ["least-squares", "logistic"])
@pytest.mark.parametrize(("reg", "lam", "l1_ratio", "lam1", "lam2"), REGS)
def test_constants_match_numpy_eigenvalues(loss, shape, storage, reg, lam, l1_ratio, lam1,
                                           lam2):
    n, d = shape
    problem, X, _ = build(loss, storage, reg, lam, l1_ratio, n=n, d=d)
    sigma = 1.0 if loss == "least-squares" else 0.25  # sup of loss''
    eig = np.linalg.eigvalsh(X.T @ X / n)
    assert problem.L == pytest.approx(sigma * eig[-1] + lam2, rel=1e-10)
    assert problem.L_max == pytest.approx(sigma * np.max(np.sum(X * X, axis=1)) + lam2,
                                          rel=1e-12)
    if loss == "least-squares":
        lam_min = eig[0] if n >= d else 0.0  # X^T X is singular when d > n
        assert problem.mu == pytest.approx(lam_min + lam2, rel=1e-8, abs=1e-12)
    else:  # inf loss'' = 0: only the ridge term is strongly convex
        assert problem.mu == pytest.approx(lam2, abs=1e-15)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_rank_deficient_least_squares_is_not_strongly_convex(storage, seed):
    """A tall design with a repeated column: X^T X / n is exactly singular, so mu = 0.

    ``mu > 0`` switches the methods to their strongly convex tunings (heavy ball's
    Polyak parameters, Nesterov's constant momentum), so rounding noise in the smallest
    eigenvalue must not be reported as strong convexity.
    """
    A = make_design(50, 6, sparse=storage == "csr", seed=seed)
    X = sp.hstack([A, A[:, [0]]], format="csr") if storage == "csr" \
        else np.column_stack([A, A[:, 0]])
    problem = LeastSquares(X, make_targets(50, loss="least-squares", seed=seed))
    Xd = X.toarray() if storage == "csr" else X
    assert np.linalg.matrix_rank(Xd) == 6  # 7 columns: singular X^T X
    assert problem.mu == 0.0


@pytest.mark.parametrize("loss", ["least-squares", "logistic"])
def test_hessian_spectrum_lies_between_mu_and_L(fd_jacobian, loss):
    """At random points the (finite-difference) Hessian of g has eigenvalues in [mu, L]."""
    problem, _, _ = build(loss, "dense", "l2", 0.1, None)
    for seed in range(3):
        x = random_point(problem.dim, seed=seed, scale=1.0)
        H = fd_jacobian(problem.grad, x)
        eig = np.linalg.eigvalsh(0.5 * (H + H.T))
        assert eig[-1] <= problem.L * (1 + 1e-6)
        assert eig[0] >= problem.mu * (1 - 1e-6)


# ---------------------------------------------------------------------------------------
# reference optima of the linear models


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("shape", [(30, 7), (5, 7)], ids=["tall", "wide"])
def test_ridge_solution_is_the_normal_equations_solution(storage, shape):
    n, d = shape
    lam = 0.05
    problem, X, y = build("least-squares", storage, "l2", lam, None, n=n, d=d)
    x_star, f_star = problem.solution()
    expected = np.linalg.solve(X.T @ X / n + lam * np.eye(d), X.T @ y / n)
    np.testing.assert_allclose(x_star, expected, rtol=1e-10, atol=1e-12)
    r = X @ expected - y
    assert f_star == pytest.approx(0.5 * r @ r / n + 0.5 * lam * expected @ expected,
                                   rel=1e-12)


def test_unregularized_least_squares_solution_is_lstsq():
    problem, X, y = build("least-squares", "dense", None, 0.0, None, n=30, d=7)
    x_star, _ = problem.solution()
    np.testing.assert_allclose(x_star, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10)


@pytest.mark.filterwarnings("ignore:.*reference solution certified only:RuntimeWarning")
@pytest.mark.parametrize(("reg", "l1_ratio"), [("l1", None), ("elasticnet", 0.6)])
def test_least_squares_composite_solution_matches_sklearn(reg, l1_ratio):
    """Lasso / ElasticNet minimize exactly (1/2n)||Xw - y||^2 + alpha Omega(w)."""
    lam = 0.05
    problem, X, y = build("least-squares", "dense", reg, lam, l1_ratio, n=40, d=10)
    x_star, f_star = problem.solution()
    if reg == "l1":
        model = Lasso(alpha=lam, fit_intercept=False, tol=1e-14, max_iter=100000)
    else:
        model = ElasticNet(alpha=lam, l1_ratio=l1_ratio, fit_intercept=False, tol=1e-14,
                           max_iter=100000)
    w = model.fit(X, y).coef_
    np.testing.assert_allclose(x_star, w, atol=1e-8)
    np.testing.assert_array_equal(x_star != 0, np.abs(w) > 1e-10)
    r = X @ w - y
    f_sklearn = 0.5 * r @ r / X.shape[0] + lam * (
        np.abs(w).sum() if reg == "l1"
        else l1_ratio * np.abs(w).sum() + 0.5 * (1 - l1_ratio) * w @ w)
    assert f_star <= f_sklearn * (1 + 1e-12)
    assert f_star == pytest.approx(f_sklearn, rel=1e-12)


def _composite_objective_parts(loss, X, y, x, lam2):
    """(F smooth part value, its gradient) of a linear model, written in numpy."""
    z = X @ x
    if loss == "least-squares":
        d = z - y
    else:
        d = -y / (1.0 + np.exp(y * z))
    return X.T @ d / X.shape[0] + lam2 * x


@pytest.mark.parametrize("storage", ["dense", "a1a"])
@pytest.mark.parametrize("loss", ["least-squares", "logistic"])
@pytest.mark.parametrize(("reg", "l1_ratio"), [("l1", None), ("elasticnet", 0.5)])
def test_composite_solution_is_certified(loss, storage, reg, l1_ratio):
    """solution() promises a gradient-mapping norm <= SOLUTION_TOL = 1e-10 at x*.

    The gradient mapping (x - prox_{t lam1 |.|_1}(x - t grad g(x))) / t, t = 1/L, is
    re-computed here in numpy; it vanishes exactly at the minimizers.
    """
    lam = 0.05 if storage == "dense" else 1e-2
    n, d = (40, 10)
    problem, X, y = build(loss, storage, reg, lam, l1_ratio, n=n, d=d)
    lam1 = lam if reg == "l1" else lam * l1_ratio
    lam2 = 0.0 if reg == "l1" else lam * (1 - l1_ratio)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # asserted on below instead
        x_star, f_star = problem.solution()
    t = 1.0 / problem.L
    u = x_star - t * _composite_objective_parts(loss, X, y, x_star, lam2)
    mapping = (x_star - np.sign(u) * np.maximum(np.abs(u) - t * lam1, 0.0)) / t
    assert np.linalg.norm(mapping) <= 1e-10


def _rel_gap(ours: float, theirs: float) -> float:
    return (theirs - ours) / abs(theirs)


@pytest.mark.parametrize(("name", "lam"), [("a9a", 1e-4), ("mushrooms", 1e-3)])
def test_logistic_l2_solution_matches_sklearn(libsvm_logistic, sklearn_logistic, name, lam):
    problem = libsvm_logistic(name, "l2", lam)
    x_star, f_star = problem.solution()
    X, y = problem.X, problem.y
    w = sklearn_logistic(name, "l2", lam)
    f_ours = logistic_objective(X, y, x_star, lam2=lam)
    f_sklearn = logistic_objective(X, y, w, lam2=lam)
    assert f_star == pytest.approx(f_ours, rel=1e-14)
    # ours is at least as good as scikit-learn's, and the two agree to 1e-9
    assert f_ours <= f_sklearn + 1e-14 * abs(f_sklearn)
    assert _rel_gap(f_ours, f_sklearn) <= 1e-9
    # the gradient (re-computed in numpy) vanishes at x*
    grad = X.T @ (-y / (1.0 + np.exp(y * (X @ x_star)))) / problem.n + lam * x_star
    assert np.linalg.norm(grad) <= 1e-10
    np.testing.assert_allclose(x_star, w, atol=1e-5)  # strongly convex: unique minimizer


def _l1_gradient_mapping(X, y, x, lam1, t):
    """(x - prox_{t lam1 |.|_1}(x - t grad g(x))) / t, written in numpy."""
    g = X.T @ (-y / (1.0 + np.exp(y * (X @ x)))) / X.shape[0]
    u = x - t * g
    return (x - np.sign(u) * np.maximum(np.abs(u) - t * lam1, 0.0)) / t, g


@pytest.mark.parametrize(("name", "lam"), [("a9a", 1e-4), ("mushrooms", 1e-3)])
def test_logistic_l1_solution_matches_sklearn(libsvm_logistic, sklearn_logistic, name, lam):
    """The l1 optimum: same objective as scikit-learn, same sign pattern.

    On one-hot data (a9a, mushrooms) the l1 minimizer need not be unique (columns are
    collinear), but every minimizer has the same margins X x*, hence the same gradient
    g = grad g(x*), and is supported inside E = {j : |g_j| = lam} with sign -sign(g_j).
    """
    problem = libsvm_logistic(name, "l1", lam)
    x_star, f_star = problem.solution()
    X, y = problem.X, problem.y
    w = sklearn_logistic(name, "l1", lam)
    f_ours = logistic_objective(X, y, x_star, lam1=lam)
    f_sklearn = logistic_objective(X, y, w, lam1=lam)
    assert f_star == pytest.approx(f_ours, rel=1e-14)
    assert f_ours <= f_sklearn + 1e-14 * abs(f_sklearn)
    assert _rel_gap(f_ours, f_sklearn) <= 1e-6
    G, g = _l1_gradient_mapping(X, y, x_star, lam, 1.0 / problem.L)
    assert np.linalg.norm(G) <= 1e-10
    equicorrelated = np.abs(g) >= lam * (1 - 1e-6)
    for coef in (x_star, w):
        support = np.abs(coef) > 1e-8
        assert np.all(equicorrelated[support])
        np.testing.assert_array_equal(np.sign(coef[support]), -np.sign(g[support]))
    # the large coefficients of each are non-zero in the other (margins agree closely)
    big = np.abs(x_star) > 0.05 * np.abs(x_star).max()
    assert np.all(np.abs(w[big]) > 0)
    np.testing.assert_allclose(X @ x_star, X @ w, atol=1e-3 * np.abs(X @ x_star).max())
    if name == "mushrooms":  # here the minimizer is unique: same support and coefficients
        np.testing.assert_array_equal(x_star != 0, np.abs(w) > 1e-8)
        np.testing.assert_allclose(x_star, w, atol=1e-5)


# ---------------------------------------------------------------------------------------
# toy problems


@pytest.mark.parametrize("kappa", [1.0, 10.0, 1e4])
@pytest.mark.parametrize("dim", [2, 12])
def test_quadratic_with_condition_number(fd_grad, dim, kappa):
    problem = Quadratic.with_condition_number(dim, kappa, seed=3)
    A, b = problem.A, problem.b
    np.testing.assert_allclose(A, A.T, atol=1e-15)
    eig = np.linalg.eigvalsh(A)
    np.testing.assert_allclose(eig, np.geomspace(1.0 / kappa, 1.0, dim), rtol=1e-10)
    assert problem.L == pytest.approx(1.0, rel=1e-12)
    assert problem.mu == pytest.approx(1.0 / kappa, rel=1e-10)
    x_star, f_star = problem.solution()
    expected = np.linalg.solve(A, b)
    np.testing.assert_allclose(x_star, expected, rtol=1e-10, atol=1e-12)
    assert f_star == pytest.approx(-0.5 * b @ expected, rel=1e-10)
    x = random_point(dim, seed=7)
    assert problem.value(x) == pytest.approx(0.5 * x @ A @ x - b @ x, rel=1e-12)
    np.testing.assert_allclose(problem.grad(x), fd_grad(problem.value, x), rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(problem.batch_grad(x, np.array([0, 0])), A @ x - b,
                               rtol=1e-12)


def test_pl_example(fd_grad):
    problem = PLExample()
    f = lambda t: t * t + 3.0 * np.sin(t) ** 2  # noqa: E731 - the seed's definition
    for t in np.linspace(-6.0, 6.0, 25):
        x = np.array([t])
        assert problem.value(x) == pytest.approx(f(t), rel=1e-12, abs=1e-15)
        np.testing.assert_allclose(problem.grad(x), fd_grad(problem.value, x), rtol=1e-7,
                                   atol=1e-8)
        h = 1e-4
        second = (f(t + h) - 2 * f(t) + f(t - h)) / h**2
        np.testing.assert_allclose(problem.hessp(x, np.ones(1)), [second], rtol=1e-5,
                                   atol=1e-5)
    # L = 8 is the max of f'' (sampled finely, by second differences)
    t = np.linspace(-4.0, 4.0, 80001)
    h = 1e-4
    second = (f(t + h) - 2 * f(t) + f(t - h)) / h**2
    assert second.max() <= problem.L + 1e-5
    assert second.max() >= problem.L - 1e-5
    # non-convex (f'' < 0 somewhere) yet PL with constant 1/32: |f'|^2 / 2 >= (f - f*) / 32
    assert second.min() < 0
    fprime = 2 * t + 3 * np.sin(2 * t)
    assert np.all(0.5 * fprime**2 >= (f(t) - 0.0) / 32 - 1e-15)
    x_star, f_star = problem.solution()
    assert f_star == f(0.0) == 0.0 and x_star.tolist() == [0.0]


def _points_in_ball(center, radius, count, seed):
    """Points uniform in the ball, half of them on its boundary sphere."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((count, center.size))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    r = radius * rng.random(count) ** (1.0 / center.size)
    r[: count // 2] = radius
    return center + r[:, None] * u


@pytest.mark.parametrize("a0", [2.0, -1.5, 0.4])
def test_scalar_network(fd_grad, fd_jacobian, a0):
    rng = np.random.default_rng(8)
    y_star = rng.standard_normal(4)
    problem = ScalarNetwork(y_star, a0=a0)
    assert problem.dim == 5
    x0 = problem.default_x0()
    np.testing.assert_array_equal(x0, np.concatenate([[a0], np.zeros(4)]))
    assert problem.radius == pytest.approx(abs(a0) / 2)

    def f(x):
        r = x[0] * x[1:] - y_star
        return 0.5 * r @ r

    largest = 0.0
    for x in _points_in_ball(x0, problem.radius, 60, seed=9):
        assert problem.value(x) == pytest.approx(f(x), rel=1e-12)
        np.testing.assert_allclose(problem.grad(x), fd_grad(f, x), rtol=1e-6, atol=1e-8)
        H = fd_jacobian(problem.grad, x)
        for v in rng.standard_normal((2, problem.dim)):
            np.testing.assert_allclose(problem.hessp(x, v), H @ v, rtol=1e-6, atol=1e-7)
        largest = max(largest, np.linalg.eigvalsh(0.5 * (H + H.T))[-1])
    assert largest <= problem.L
    # and L is a bound, not a wild over-estimate (it is reached in the worst case)
    assert problem.L <= 10 * largest
    assert problem.value(np.concatenate([[2.0], y_star / 2.0])) == pytest.approx(0.0, abs=1e-15)
