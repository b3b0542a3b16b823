"""Variance-reduced methods: optimum reached, lazy == dense, linear rates, unbiasedness."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import Stepper

import descentlab as dl
from descentlab.errors import DescentlabError
from descentlab.methods import LSVRG, SAG, SAGA, SARAH, SVRG, Catalyst, get_method
from descentlab.problems import LeastSquares, Logistic

SMOOTH_METHODS = ("saga", "sag", "svrg", "lsvrg", "sarah", "catalyst")
PROX_METHODS = ("saga", "svrg", "lsvrg", "catalyst")


@pytest.fixture(scope="module")
def a1a_l2():
    return Logistic.from_libsvm("a1a", reg="l2", lam=1e-2)


@pytest.fixture(scope="module")
def mushrooms_l2():
    return Logistic.from_libsvm("mushrooms", reg="l2", lam=1e-2)


@pytest.fixture(scope="module")
def ridge():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 15))
    y = X @ rng.standard_normal(15) + 0.1 * rng.standard_normal(300)
    return LeastSquares(X, y, reg="l2", lam=0.1)


@pytest.mark.parametrize("name", SMOOTH_METHODS)
@pytest.mark.parametrize("problem_name", ["a1a_l2", "mushrooms_l2", "ridge"])
def test_reaches_the_reference_optimum(name, problem_name, request):
    problem = request.getfixturevalue(problem_name)
    trace = dl.run(problem, name, tol=1e-8, budget_epochs=300, seed=1)
    assert trace.stop_reason == "tol", (name, problem_name, trace.final("rel_subopt"))
    assert trace.final("rel_subopt") <= 1e-8


def test_generic_path_reaches_the_optimum(ridge):
    """A problem that is not a LinearModel goes through batch_grad (wrapped least squares)."""

    class Wrapped(dl.problems.Problem):
        def __init__(self, base):
            self.base, self.n, self.dim = base, base.n, base.dim

        def value(self, x):
            return self.base.value(x)

        def grad(self, x):
            return self.base.grad(x)

        def batch_grad(self, x, idx):
            return self.base.batch_grad(x, idx)

        L = property(lambda self: self.base.L)
        L_max = property(lambda self: self.base.L_max)
        mu = property(lambda self: self.base.mu)

    problem = Wrapped(ridge)
    _, f_star = ridge.solution()
    for name in ("saga", "sag", "svrg", "lsvrg", "sarah"):
        trace = dl.run(problem, name, tol=1e-8, budget_epochs=300, f_star=f_star)
        assert trace.meta["method"]["path"] == "generic"
        assert trace.final("rel_subopt") <= 1e-8, name


@pytest.fixture(scope="module")
def mushrooms_l1(libsvm_logistic):
    """L1-logistic on mushrooms (parsed once) and FISTA's run to 1e-10 (run once)."""
    problem = libsvm_logistic("mushrooms", "l1", 1e-3)
    return problem, dl.run(problem, "fista", tol=1e-10, budget_epochs=20000)


@pytest.mark.parametrize("name", ["saga", "svrg", "lsvrg", "catalyst"])
def test_prox_methods_find_the_l1_solution(name, mushrooms_l1):
    problem, fista = mushrooms_l1
    x_star, _ = problem.solution()
    trace = dl.run(problem, name, tol=1e-9, budget_epochs=2000, seed=0)
    assert trace.final("rel_subopt") <= 1e-9
    assert fista.final("rel_subopt") <= 1e-9
    assert problem.value(trace.x) == trace.final("value")  # the final iterate of the run
    # the support of the method's iterate equals the reference's (and FISTA's)
    support = np.flatnonzero(trace.x)
    np.testing.assert_array_equal(support, np.flatnonzero(x_star))


REGS = [("l2", None), ("l1", None), ("elasticnet", 0.5)]
LAZY_CASES = [(cls, reg, ratio) for cls in (SAGA, SAG, SVRG, LSVRG, SARAH)
              for reg, ratio in REGS if reg == "l2" or cls.handles_prox]


@pytest.mark.parametrize(("cls", "reg", "l1_ratio"), LAZY_CASES)
@pytest.mark.parametrize("loss", [Logistic, LeastSquares])
def test_lazy_updates_equal_the_dense_recursion(cls, reg, l1_ratio, loss):
    problem = loss.from_libsvm("a1a", reg=reg, lam=1e-3, l1_ratio=l1_ratio)
    xs = []
    for lazy in (True, False):
        state = Stepper(cls(lazy=lazy), problem, problem.default_x0(),
                        np.random.default_rng(7)).advance(2 * problem.n)
        xs.append(state.x.copy())
    assert np.abs(xs[0]).max() > 1e-3  # the iterates moved
    np.testing.assert_allclose(xs[0], xs[1], rtol=0, atol=1e-12 * max(1, np.abs(xs[1]).max()))


def _fitted_rate(trace, column="dist_to_opt", low=1e-10, high=1e-2):
    df = trace.df
    err = (df[column] / df[column].iloc[0]) ** 2
    mask = (err > low) & (err < high)
    return np.exp(np.polyfit(df["iteration"][mask], np.log(err[mask]), 1)[0])


def test_saga_and_svrg_rates_are_no_worse_than_theory():
    rng = np.random.default_rng(3)
    n, d = 400, 10
    X = rng.standard_normal((n, d))
    problem = LeastSquares(X, X @ rng.standard_normal(d), reg="l2", lam=1.0)
    kappa = problem.L_max / problem.mu
    # SAGA (Defazio et al. 2014, Thm 1): E||x_k - x*||^2 <= (1 - min(1/(4n), mu/(3 L_max)))^k C
    saga = dl.run(problem, "saga", budget_epochs=60, record="linear", n_records=300)
    rho_saga = 1 - min(1 / (4 * n), problem.mu / (3 * problem.L_max))
    assert _fitted_rate(saga) <= rho_saga
    # SVRG (Johnson & Zhang 2013): per outer loop of m inner steps, with step 0.1/L,
    # alpha = 1/(mu eta (1 - 2 L eta) m) + 2 L eta / (1 - 2 L eta) on F - F*
    m = 2 * n
    eta = 0.1 / problem.L_max
    alpha = 1 / (problem.mu * eta * (1 - 2 * problem.L_max * eta) * m) + \
        2 * problem.L_max * eta / (1 - 2 * problem.L_max * eta)
    assert alpha < 1, kappa
    svrg = dl.run(problem, SVRG(epoch_length=m), budget_epochs=60, record="linear",
                  n_records=300)
    per_iteration = _fitted_rate(svrg, column="subopt") ** 0.5  # subopt is already F - F*
    per_outer = per_iteration ** m
    assert per_outer <= alpha


class FixedSample:
    """The sampling law ``law`` (its weights), except that every draw is j."""

    def __init__(self, law, j):
        self.law, self.j = law, j

    def draw(self, rng, k):
        return np.full(k, self.j, dtype=np.int64)

    def __getattr__(self, name):
        return getattr(self.law, name)


def _one_step_displacements(cls, problem, sample_stream):
    """(x, full gradient, array of (x - x_after_one_step) / step for each drawn sample)."""
    rng = np.random.default_rng(11)
    run = Stepper(cls(), problem, 0.3 * rng.standard_normal(problem.dim), rng)
    state = run.advance(problem.n // 2)  # memory / snapshot away from x, every coordinate
    arrays = {f.name: getattr(state, f.name) for f in dataclasses.fields(state)  # current
              if isinstance(getattr(state, f.name), np.ndarray)}
    no_snapshot = {"to_go": 10**9} if hasattr(state, "to_go") else {}
    out = []
    for j in sample_stream:  # the same state each time (the loops update arrays in place)
        fresh = dataclasses.replace(state, law=FixedSample(state.law, j), **no_snapshot,
                                    **{k: v.copy() for k, v in arrays.items()})
        out.append((state.x - run.method.advance(problem, fresh, rng, 1).x) / run.method.step)
    return state.x, problem.grad(state.x), np.array(out)


@pytest.mark.parametrize("cls", [SAGA, SVRG, LSVRG])
def test_estimators_are_unbiased_exactly(cls, a1a_l2):
    """E_j[v_j] over uniform j is the average over all j: it must equal grad F(x)."""
    problem = a1a_l2
    x, full, draws = _one_step_displacements(cls, problem, range(problem.n))
    np.testing.assert_allclose(draws.mean(axis=0), full, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cls", [SAGA, SVRG])
def test_estimators_are_unbiased_statistically(cls, a1a_l2):
    """4000 uniform draws (seed 5): along 5 fixed random directions the mean displacement
    is within 4.5 standard errors of the gradient (false-failure chance below 4e-5)."""
    problem = a1a_l2
    stream = np.random.default_rng(5).integers(0, problem.n, size=4000)
    x, full, draws = _one_step_displacements(cls, problem, stream)
    directions = np.random.default_rng(6).standard_normal((5, problem.dim))
    proj = draws @ directions.T
    se = proj.std(axis=0, ddof=1) / np.sqrt(len(proj))
    z = np.abs(proj.mean(axis=0) - directions @ full) / se
    assert z.max() < 4.5, z


def test_float32_runs(a1a_l2):
    problem = Logistic(a1a_l2.X.astype(np.float32), a1a_l2.y, reg="l2", lam=1e-2)
    for name in ("saga", "svrg", "sag"):
        state = Stepper(get_method(name), problem, problem.default_x0(),
                        np.random.default_rng(0)).advance(20 * problem.n)
        assert state.x.dtype == np.float32
        _, f_star = a1a_l2.solution()
        assert (problem.value(state.x) - f_star) / f_star < 1e-5


def test_bad_hyperparameters_raise_clear_errors(a1a_l2):
    with pytest.raises(DescentlabError, match="step"):
        SAGA(step=-1.0)
    with pytest.raises(DescentlabError, match="epoch_length"):
        SVRG(epoch_length=0).resolve(a1a_l2)
    with pytest.raises(DescentlabError, match="p"):
        LSVRG(p=2.0)
    with pytest.raises(DescentlabError, match="unknown method"):
        Catalyst(inner="nope")
    l1 = Logistic.from_libsvm("a1a", reg="l1", lam=1e-3)
    with pytest.raises(DescentlabError, match="non-smooth"):
        dl.run(l1, "sag", budget_epochs=1)
    with pytest.raises(DescentlabError, match="non-smooth"):
        dl.run(l1, Catalyst(inner="sarah"), budget_epochs=1)


@pytest.fixture(scope="module")
def uneven_rows():
    """Logistic regression whose row norms span two orders of magnitude (L_max >> mean L_i)."""
    rng = np.random.default_rng(4)
    n, d = 400, 12
    X = rng.standard_normal((n, d)) * np.exp(rng.normal(0, 1.2, size=(n, 1)))
    y = np.where(X @ rng.standard_normal(d) + rng.standard_normal(n) > 0, 1.0, -1.0)
    return Logistic(X, y, reg="l2", lam=0.5)


@pytest.mark.parametrize("cls", [SAGA, SVRG, LSVRG])
def test_importance_sampling_is_chosen_reaches_the_optimum_and_is_lazy_exact(cls, uneven_rows):
    problem = uneven_rows
    assert cls().resolve(problem).sampling == "importance"
    state = Stepper(cls(), problem, problem.default_x0(), np.random.default_rng(0)).state
    assert state.info()["sampling"] == "importance"
    # L_Q = max_j L_j / (n p_j) <= 2 mean(L_j), far below L_max here
    assert state.law.L_Q <= 2 * (0.25 * problem.row_sq_norms() + 0.5).mean() + 1e-12
    assert state.law.L_Q < problem.L_max / 3
    trace = dl.run(problem, cls(), tol=1e-8, budget_epochs=400, seed=2)
    assert trace.final("rel_subopt") <= 1e-8
    xs = []
    for lazy in (True, False):
        st = Stepper(cls(lazy=lazy), problem, problem.default_x0(),
                     np.random.default_rng(9)).advance(2 * problem.n)
        xs.append(st.x.copy())
    np.testing.assert_allclose(xs[0], xs[1], rtol=0, atol=1e-12 * np.abs(xs[1]).max())


@pytest.mark.parametrize("cls", [SAGA, SVRG])
def test_importance_sampled_estimators_are_unbiased(cls, uneven_rows):
    """sum_j p_j v_j = grad F(x) exactly, for the probabilities the method draws from."""
    problem = uneven_rows
    probs = cls().resolve(problem).law(problem).probs
    x, full, draws = _one_step_displacements(cls, problem, range(problem.n))
    np.testing.assert_allclose(probs @ draws, full, rtol=0, atol=1e-12)


def test_alias_table_encodes_the_probabilities_exactly():
    from descentlab.methods.sampling import SamplingLaw

    rng = np.random.default_rng(0)
    p = rng.random(60) ** 4
    p /= p.sum()
    law = SamplingLaw(p.size, 1.0, p)
    prob, alias = law.table
    implied = prob / p.size
    np.add.at(implied, alias, (1 - prob) / p.size)
    np.testing.assert_allclose(implied, p, rtol=0, atol=1e-15)
    draws = law.draw(np.random.default_rng(1), 400_000)
    freq = np.bincount(draws, minlength=p.size) / draws.size
    se = np.sqrt(p * (1 - p) / draws.size)
    assert np.all(np.abs(freq - p) < 5 * se + 1e-12)
