"""L-BFGS, OWL-QN and Newton-CG: certified optima, scipy's L-BFGS-B, Wolfe steps, L1
optimality, honest oracle counts, termination, errors, and the run / CLI / estimator paths."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from conftest import Stepper, make_design, make_targets
from scipy import optimize

import descentlab as dl
from descentlab.cli import main
from descentlab.errors import DescentlabError, NoProgressWarning
from descentlab.estimators import LogisticRegression
from descentlab.methods import LBFGS, OWLQN, NewtonCG, QNing, get_method
from descentlab.methods import quasi_newton as qn
from descentlab.problems import LeastSquares, Logistic, Quadratic
from descentlab.problems.proximal_term import ProximalTerm


def _synthetic(loss: str, reg: str | None, lam: float, *, sparse: bool, seed: int = 0,
               l1_ratio=None, fit_intercept=False, n=300, d=40):
    X = make_design(n, d, sparse=sparse, seed=seed)
    y = make_targets(n, loss=loss, seed=seed)
    cls = Logistic if loss == "logistic" else LeastSquares
    return cls(X, y, reg=reg, lam=lam, l1_ratio=l1_ratio, fit_intercept=fit_intercept)


def _final_subopt(problem, method, epochs=2000) -> tuple[float, dl.Trace]:
    trace = dl.run(problem, method, tol=1e-12, budget_epochs=epochs)
    return trace.final("rel_subopt"), trace


# ------------------------------------------------------------------ certified optima
SMOOTH_CASES = {
    "logistic-a1a-l2": lambda lib: lib("a1a", "l2", 1e-4),
    "logistic-dense-l2-intercept": lambda lib: _synthetic("logistic", "l2", 1e-3, sparse=False,
                                                          fit_intercept=True),
    "least-squares-sparse-l2": lambda lib: _synthetic("least-squares", "l2", 1e-3, sparse=True),
    "least-squares-dense": lambda lib: _synthetic("least-squares", None, 0.0, sparse=False),
}
L1_CASES = {
    "logistic-a1a-l1": lambda lib: lib("a1a", "l1", 1e-3),
    "logistic-sparse-elasticnet": lambda lib: _synthetic("logistic", "elasticnet", 1e-2,
                                                         sparse=True, l1_ratio=0.5),
    "least-squares-dense-l1-intercept": lambda lib: _synthetic(
        "least-squares", "l1", 5e-2, sparse=False, fit_intercept=True),
}


@pytest.mark.parametrize("name", ["lbfgs", "newton-cg"])
@pytest.mark.parametrize("case", sorted(SMOOTH_CASES))
def test_smooth_methods_reach_the_certified_optimum(libsvm_logistic, name, case):
    problem = SMOOTH_CASES[case](libsvm_logistic)
    subopt, trace = _final_subopt(problem, name)
    assert subopt <= 1e-10, (case, subopt)
    assert trace.stop_reason == "tol"
    assert not trace.meta["method"]["stalled"]
    assert trace.meta["method"]["path"] == "linear"


def test_plain_cg_newton_reaches_the_optimum(libsvm_logistic):
    problem = libsvm_logistic("a1a", "l2", 1e-4)
    plain, _ = _final_subopt(problem, NewtonCG(precondition=False))
    assert plain <= 1e-10


def test_hessian_diagonal_preconditioner_is_the_diagonal(libsvm_logistic):
    problem = _synthetic("logistic", "l2", 1e-2, sparse=True, fit_intercept=True, n=50, d=6)
    oracle = qn._LinearOracle(problem)
    x = np.random.default_rng(0).standard_normal(problem.dim)
    w = oracle.hessian_weights(oracle.margins(x))
    H = np.column_stack([problem.hessp(x, e) for e in np.eye(problem.dim)])
    np.testing.assert_allclose(oracle.hessian_diagonal(w), np.diag(H), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(oracle.hessp(w, x), H @ x, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", sorted(L1_CASES))
def test_owlqn_reaches_the_certified_optimum(libsvm_logistic, case):
    problem = L1_CASES[case](libsvm_logistic)
    subopt, trace = _final_subopt(problem, "owlqn", epochs=5000)
    assert subopt <= 1e-10, (case, subopt)
    assert trace.stop_reason == "tol"


def test_owlqn_without_l1_term_is_lbfgs_like(libsvm_logistic):
    """lam1 = 0: OWL-QN is L-BFGS with backtracking; it reaches the smooth optimum too."""
    subopt, _ = _final_subopt(libsvm_logistic("a1a", "l2", 1e-4), "owlqn")
    assert subopt <= 1e-10


def test_owlqn_solution_satisfies_the_l1_optimality_conditions(libsvm_logistic):
    problem = libsvm_logistic("a1a", "l1", 1e-3)
    lam1 = problem.regularizer.lam1
    trace = dl.run(problem, "owlqn", tol=1e-13, budget_epochs=5000)
    x = trace.x
    g = problem.grad(x)
    on = x != 0
    x_star, _ = problem.solution()
    # the support is the reference's, |grad_j| <= lam1 off it, grad_j = -lam1 sign(x_j) on it
    assert np.array_equal(on, x_star != 0)
    assert 0 < on.sum() < problem.dim
    assert np.all(np.abs(g[~on]) <= lam1 * (1 + 1e-6))
    assert np.max(np.abs(g[on] + lam1 * np.sign(x[on]))) <= 1e-5 * lam1
    # and the pseudo-gradient (the minimum-norm subgradient) nearly vanishes
    assert np.linalg.norm(qn.pseudo_gradient(x, g, np.full(problem.dim, lam1))) <= 1e-7


def test_float32_problem_runs_in_float64(libsvm_logistic):
    X = make_design(200, 20, sparse=True, seed=3).astype(np.float32)
    problem = Logistic(X, make_targets(200, loss="logistic", seed=3), reg="l2", lam=1e-2)
    subopt, trace = _final_subopt(problem, "lbfgs")
    assert subopt <= 1e-10
    assert trace.x.dtype == np.float64


# ----------------------------------------------------------------- scipy's L-BFGS-B
def test_lbfgs_matches_scipy_lbfgsb_with_as_few_evaluations(libsvm_logistic):
    problem = libsvm_logistic("a1a", "l2", 1e-2)
    res = optimize.minimize(lambda x: (problem.value(x), problem.grad(x)), np.zeros(problem.dim),
                            jac=True, method="L-BFGS-B",
                            options={"gtol": 1e-10, "ftol": 1e-15, "maxcor": 10,
                                     "maxiter": 10_000})
    g_scipy = np.linalg.norm(problem.grad(res.x))
    state = Stepper(LBFGS(), problem, np.zeros(problem.dim), None).state
    stepper = Stepper(LBFGS(), problem, np.zeros(problem.dim), None)
    while np.linalg.norm(stepper.state.g) > g_scipy and not stepper.state.stalled:
        state = stepper.advance(1)
    x_star, _ = problem.solution()
    # the same minimizer: ||x - x*|| <= ||grad F(x)|| / mu for both (mu = lam), and scipy's
    # point is accurate (so the two agree to that accuracy)
    mu = problem.mu
    assert g_scipy <= 1e-6
    g_ours = np.linalg.norm(problem.grad(state.x))
    assert g_ours <= g_scipy
    assert np.linalg.norm(state.x - x_star) <= g_ours / mu * (1 + 1e-6) + 1e-12
    assert np.linalg.norm(res.x - x_star) <= g_scipy / mu * (1 + 1e-6) + 1e-12
    assert np.linalg.norm(state.x - res.x) <= 2 * g_scipy / mu
    # as few function-and-gradient evaluations as scipy for the same gradient norm
    assert state.evaluations <= 1.1 * res.nfev + 2, (state.evaluations, res.nfev)
    assert state.calls == problem.n * state.evaluations


# ------------------------------------------------------------------------ line search
def _rosenbrock_along(x, d):
    def f(z):
        return 100.0 * (z[1] - z[0] ** 2) ** 2 + (1 - z[0]) ** 2

    def g(z):
        return np.array([-400 * z[0] * (z[1] - z[0] ** 2) - 2 * (1 - z[0]),
                         200 * (z[1] - z[0] ** 2)])

    return lambda t: (f(x + t * d), float(g(x + t * d) @ d)), f(x), float(g(x) @ d)


def _logistic_along(seed):
    problem = _synthetic("logistic", "l2", 1e-3, sparse=False, seed=seed, n=100, d=10)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(problem.dim)
    d = -problem.grad(x) * rng.uniform(0.01, 100)
    return (lambda t: (problem.value(x + t * d), float(problem.grad(x + t * d) @ d)),
            problem.value(x), float(problem.grad(x) @ d))


LINE_CASES = {
    "rosenbrock-steepest": lambda: _rosenbrock_along(np.array([-1.2, 1.0]),
                                                     np.array([215.6, 88.0])),
    "rosenbrock-tiny-step": lambda: _rosenbrock_along(np.array([0.3, 0.9]),
                                                      np.array([0.01, -0.02]) * 1e-3),
    "quadratic-long-step": lambda: ((lambda t: ((t - 50.0) ** 2, 2 * (t - 50.0))), 2500.0,
                                    -100.0),
    **{f"logistic-{s}": (lambda s=s: _logistic_along(s)) for s in range(4)},
}


@pytest.mark.parametrize("case", sorted(LINE_CASES))
@pytest.mark.parametrize("t0", [1.0, 1e-3, 30.0])
def test_line_search_steps_satisfy_the_strong_wolfe_conditions(case, t0):
    phi, f0, df0 = LINE_CASES[case]()
    assert df0 < 0
    res = qn.wolfe_line_search(phi, f0, df0, t0, rounding=0.0)
    assert res.ok, res
    f, df = phi(res.t)
    assert (f, df) == (res.f, res.df)
    assert res.t > 0
    assert f <= f0 + qn.C1 * res.t * df0
    assert abs(df) <= qn.C2 * abs(df0)
    assert res.evaluations <= qn.MAX_TRIALS


def test_line_search_fails_cleanly_without_a_decrease():
    """A claimed descent direction along which phi only grows: no step, finitely many trials."""
    calls = []

    def phi(t):
        calls.append(t)
        return 1.0 + t, -1.0  # the derivative lies

    res = qn.wolfe_line_search(phi, 1.0, -1.0, 1.0, rounding=0.0)
    assert not res.ok and res.t == 0.0 and res.f == 1.0
    assert res.evaluations == len(calls) <= qn.MAX_TRIALS


# ------------------------------------------------------------------- oracle counting
class CountingProximalTerm(ProximalTerm):
    """A non-linear-model problem (generic path) that counts its gradient evaluations."""

    def __init__(self, *args):
        super().__init__(*args)
        self.grads = self.values = 0

    def grad(self, x):
        self.grads += 1
        return super().grad(x)

    def smooth_value(self, x):
        self.values += 1
        return super().smooth_value(x)


def test_generic_path_counts_n_calls_per_evaluation(libsvm_logistic):
    base = libsvm_logistic("a1a", "l2", 1e-4)
    problem = CountingProximalTerm(base, 1e-3, np.zeros(base.dim))
    stepper = Stepper(LBFGS(), problem, np.zeros(base.dim), None)
    state = stepper.advance(30 * base.n)
    assert state.path == "generic"
    assert problem.grads == problem.values == state.evaluations
    assert state.calls == base.n * problem.grads
    assert state.iteration >= 20


@pytest.fixture
def kernel_counter(monkeypatch):
    counts = {"ray": 0, "residual": 0, "hessp": 0}
    for key, name in (("ray", "loss_along_ray"), ("residual", "loss_and_residual")):
        original = getattr(qn.kernels, name)

        def counted(*args, _original=original, _key=key):
            counts[_key] += 1
            return _original(*args)

        monkeypatch.setattr(qn.kernels, name, counted)
    hessp = qn._LinearOracle.hessp

    def counted_hessp(self, w, v):
        counts["hessp"] += 1
        return hessp(self, w, v)

    monkeypatch.setattr(qn._LinearOracle, "hessp", counted_hessp)
    return counts


@pytest.mark.parametrize("method", [LBFGS(), NewtonCG(), OWLQN()])
def test_linear_path_counts_n_calls_per_evaluation_and_product(libsvm_logistic, kernel_counter,
                                                               method):
    problem = libsvm_logistic("a1a", "l1" if method.name == "owlqn" else "l2", 1e-4)
    n = problem.n
    stepper = Stepper(method, problem, np.zeros(problem.dim), None)
    state = stepper.advance(40 * n)
    c = kernel_counter
    # Newton-CG: one diagonal preconditioner per Newton step (n calls)
    precond = state.iteration if method.name == "newton-cg" else 0
    if method.name == "owlqn":  # every trial point: margins, loss and residuals
        assert c["ray"] == 0 and state.calls == n * c["residual"]
    else:  # the start, every trial along a ray, every Hessian-vector product
        lower = n * (1 + c["ray"] + c["hessp"] + precond)
        assert lower <= state.calls <= lower + n * (c["residual"] - 1)
    assert state.calls >= 40 * n
    assert state.evaluations == state.calls // n - c["hessp"] - precond
    if method.name == "newton-cg":
        assert c["hessp"] > 0


# ------------------------------------------------------------------------------ QNing
QNING_CASES = {
    "logistic-a1a-l2": lambda lib: lib("a1a", "l2", 1e-3),
    "logistic-a1a-l1": lambda lib: lib("a1a", "l1", 1e-3),
    "least-squares-sparse-l2": lambda lib: _synthetic("least-squares", "l2", 1e-3, sparse=True),
    "logistic-sparse-elasticnet": L1_CASES["logistic-sparse-elasticnet"],
}


@pytest.mark.parametrize("case", sorted(QNING_CASES))
def test_qning_reaches_the_certified_optimum(libsvm_logistic, case):
    problem = QNING_CASES[case](libsvm_logistic)
    subopt, trace = _final_subopt(problem, "qning", epochs=3000)
    assert subopt <= 1e-10, (case, subopt)
    assert trace.meta["method"]["inner"].startswith("saga")


def test_qning_with_an_svrg_inner_method(libsvm_logistic):
    subopt, _ = _final_subopt(libsvm_logistic("a1a", "l2", 1e-3), QNing(inner="svrg"))
    assert subopt <= 1e-10


class CountingLogistic(Logistic):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.values = 0

    def value(self, x):
        self.values += 1
        return super().value(x)


def test_qning_counts_inner_calls_and_envelope_values(monkeypatch):
    problem = CountingLogistic(make_design(200, 10, sparse=True, seed=1),
                               make_targets(200, loss="logistic", seed=1), reg="l2", lam=1e-2)
    inner_calls = []
    original = QNing.proximal_point

    def counted(self, *args, **kwargs):
        state = original(self, *args, **kwargs)
        inner_calls.append(state.calls)
        return state

    monkeypatch.setattr(QNing, "proximal_point", counted)
    stepper = Stepper(QNing(max_inner_rounds=1), problem, np.zeros(problem.dim),
                      np.random.default_rng(0))
    state = stepper.advance(50 * problem.n)
    assert problem.values == len(inner_calls) == state.iteration + 1
    assert state.calls == sum(inner_calls) + problem.n * problem.values
    assert state.outer >= 5


# --------------------------------------------------------------------------- stalling
class LyingGradient(Quadratic):
    """grad returns the opposite of the gradient: no line search can succeed."""

    def grad(self, x):
        return -super().grad(x)


def test_a_failing_line_search_stalls_instead_of_looping():
    problem = LyingGradient(np.diag([1.0, 4.0]), np.array([1.0, 1.0]))
    stepper = Stepper(LBFGS(), problem, np.zeros(2), None)
    state = stepper.advance(1000)
    assert state.stalled and state.iteration == 0
    assert 0 < state.calls <= 1 + qn.MAX_TRIALS
    assert stepper.advance(1000) is state  # no more work once stalled
    with pytest.warns(NoProgressWarning, match="no progress"):
        trace = dl.run(problem, LBFGS(), budget_calls=500, reference=False)
    assert trace.meta["method"]["stalled"] is True
    assert trace.meta["no_progress"] == "no_decrease"


def test_lbfgs_started_at_the_optimum_stops_gracefully(libsvm_logistic):
    problem = libsvm_logistic("a1a", "l2", 1e-4)
    x_star, f_star = problem.solution()
    stepper = Stepper(LBFGS(), problem, np.array(x_star), None)
    for _ in range(20):
        state = stepper.advance(problem.n)
    assert problem.value(state.x) <= f_star * (1 + 1e-13)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("method", "problem", "fragment"), [
    (LBFGS(), lambda: _synthetic("logistic", "l1", 1e-3, sparse=False), "non-smooth"),
    (NewtonCG(), lambda: _synthetic("logistic", "l1", 1e-3, sparse=False), "non-smooth"),
    (NewtonCG(), lambda: Quadratic.with_condition_number(5, 10.0), "needs a linear model"),
    (OWLQN(), lambda: Quadratic.with_condition_number(5, 10.0), "needs a linear model"),
    (QNing(inner="sag"), lambda: _synthetic("logistic", "l1", 1e-3, sparse=False),
     "qning: the inner method sag cannot handle"),
])
def test_non_applicable_problems_are_refused_in_resolve(method, problem, fragment):
    with pytest.raises(DescentlabError, match=fragment):
        dl.run(problem(), method, budget_epochs=1)


@pytest.mark.parametrize(("name", "params", "fragment"), [
    ("lbfgs", {"memory": 0}, "lbfgs: memory"),
    ("owlqn", {"memory": 2.5}, "owlqn: memory"),
    ("newton-cg", {"eta_max": 1.5}, "newton-cg: eta_max"),
    ("newton-cg", {"eta_max": -1}, "newton-cg: eta_max"),
    ("newton-cg", {"max_cg": 0}, "newton-cg: max_cg"),
    ("newton-cg", {"precondition": "yes"}, "newton-cg: precondition"),
    ("qning", {"memory": 0}, "qning: memory"),
    ("qning", {"max_inner_rounds": 0}, "qning: max_inner_rounds"),
    ("qning", {"inner": "nope"}, "qning: inner"),
    ("qning", {"kappa": -1.0}, "qning: kappa"),
])
def test_bad_hyperparameters_are_named(name, params, fragment):
    with pytest.raises(DescentlabError, match=fragment):
        get_method(name, **params)


def test_aliases():
    assert isinstance(get_method("tron"), NewtonCG)
    assert isinstance(get_method("L-BFGS"), LBFGS)
    assert isinstance(get_method("owl-qn"), OWLQN)


# ----------------------------------------------------------------- CLI and estimators
@pytest.mark.parametrize(("reg", "method"), [("l2", "newton-cg"), ("l1", "owlqn")])
def test_solve_command(reg, method):
    result = CliRunner().invoke(main, [
        "solve", "--problem", "logistic", "--data", "a1a", "--reg", reg, "--lam", "1e-3",
        "--method", method, "--tol", "1e-10", "--epochs", "2000"])
    assert result.exit_code == 0, result.output
    line = next(s for s in result.output.splitlines() if "relative suboptimality" in s)
    assert float(line.split("│")[2]) <= 1e-10


def test_solve_command_refuses_lbfgs_on_l1_before_reading_data():
    result = CliRunner().invoke(main, [
        "solve", "--problem", "logistic", "--data", "no-such-file", "--reg", "l1",
        "--method", "lbfgs"])
    assert result.exit_code == 2
    assert "non-smooth" in result.output


@pytest.mark.parametrize("method", ["lbfgs", "newton-cg"])
def test_estimator_matches_sklearn(method):
    from sklearn.linear_model import LogisticRegression as SkLogistic

    X = sp.csr_matrix(make_design(400, 15, sparse=True, seed=5))
    y = make_targets(400, loss="logistic", seed=5)
    ours = LogisticRegression(C=0.5, method=method, tol=1e-10, max_iter=500).fit(X, y)
    ref = SkLogistic(C=0.5, tol=1e-12, max_iter=10_000).fit(X, y)
    assert ours.trace_.meta["stop_reason"] == "tol"
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-6)
    assert math.isclose(ours.intercept_[0], ref.intercept_[0], abs_tol=1e-6)
