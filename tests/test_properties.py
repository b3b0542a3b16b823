"""Property-based tests (hypothesis) of the building blocks that a random input can break.

* proximal operators: firm non-expansiveness, the optimality condition, the variational
  definition, and the compiled lazy catch-up (t soft-thresholded affine steps at once);
* the compiled lazy SAGA and SVRG against plain dense numpy loops of the same algorithms
  with the same sample sequence, on random small sparse problems;
* the logistic loss and its derivative at extreme margins (|z| up to 1e300), in numpy and
  in the compiled kernels, against np.logaddexp and scipy.special.expit.

Every test runs ``EXAMPLES`` random cases (50; ``DESCENTLAB_PROPERTY_EXAMPLES=2000`` for a
thorough run) with no deadline (a busy machine must not fail them).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import expit, logsumexp, softmax

from descentlab._compiled import variance_reduced as K
from descentlab._compiled.linear import dloss
from descentlab._compiled.losses import LossCode
from descentlab._compiled.particles import objectives
from descentlab.methods import SAGA, SVRG
from descentlab.methods.sampling import SamplingLaw
from descentlab.problems import LeastSquares, Logistic
from descentlab.problems.regularizers import Regularizer

EXAMPLES = int(os.environ.get("DESCENTLAB_PROPERTY_EXAMPLES", "50"))
PROPERTY = settings(deadline=None, max_examples=EXAMPLES, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow])
EPS = np.finfo(np.float64).eps


def finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def positive(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Log-uniform-ish positive floats in [lo, hi] (exponent drawn uniformly)."""
    return st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10.0 ** e)


# ------------------------------------------------------------------ proximal operators
@st.composite
def prox_cases(draw):
    """(regularizer with an L1 part, step, x, z) with x, z of the same dimension."""
    reg = draw(st.sampled_from(["l1", "elasticnet"]))
    ratio = draw(finite(0.01, 1.0)) if reg == "elasticnet" else None
    r = Regularizer(reg, draw(positive(1e-6, 10.0)), ratio, intercept=draw(st.booleans()))
    d = draw(st.integers(1 + r.intercept, 12))
    vec = st.lists(finite(-1e3, 1e3), min_size=d, max_size=d).map(np.array)
    return r, draw(positive(1e-6, 10.0)), draw(vec), draw(vec)


def _soft_error(x: np.ndarray, t: float) -> np.ndarray:
    """Rounding bound of one soft threshold at t, per coordinate."""
    return 4 * EPS * (np.abs(x) + t)


@PROPERTY
@given(prox_cases())
def test_prox_is_firmly_nonexpansive(case):
    """||p(x) - p(z)||^2 <= <p(x) - p(z), x - z> (coordinate by coordinate for |.|_1)."""
    r, step, x, z = case
    dp = r.prox(x, step) - r.prox(z, step)
    slack = (_soft_error(x, step * r.lam1) + _soft_error(z, step * r.lam1)) * np.abs(dp)
    assert np.all(dp * dp <= dp * (x - z) + slack)
    assert np.linalg.norm(dp) <= np.linalg.norm(x - z) * (1 + 4 * EPS) + 1e-300


@PROPERTY
@given(prox_cases())
def test_prox_satisfies_its_optimality_condition(case):
    """(x - p) / step is in lam1 d||p||_1 on the penalized coordinates; the intercept is
    left as it is; and p minimizes lam1 ||.||_1 + ||. - x||^2 / (2 step) (checked at z)."""
    r, step, x, z = case
    t = step * r.lam1
    p = r.prox(x, step)
    w, xw = r.penalized(p), r.penalized(x)
    bound = _soft_error(xw, t)
    on = w != 0
    assert np.all(np.abs(xw[on] - w[on] - t * np.sign(w[on])) <= bound[on])
    assert np.all(np.abs(xw[~on]) <= t + bound[~on])
    if r.intercept:
        assert p[-1] == x[-1]

    def objective(u):
        return r.nonsmooth_value(u) + float((u - x) @ (u - x)) / (2 * step)

    scale = r.lam1 * np.abs(x).sum() + float(x @ x) / step + objective(z)
    assert objective(p) <= objective(z) + 16 * EPS * x.size * scale


@PROPERTY
@given(prox_cases())
def test_prox_without_l1_part_is_the_identity(case):
    _, step, x, _ = case
    assert Regularizer("l2", 0.5).prox(x, step) is x
    assert Regularizer(None).prox(x, step) is x


@PROPERTY
@given(x=finite(-1e3, 1e3), b=finite(-10.0, 10.0), omc=finite(0.0, 1.5),
       tau=st.one_of(st.just(0.0), positive(1e-8, 10.0)), t=st.integers(0, 400))
def test_lazy_steps_equal_the_iterated_soft_threshold(x, b, omc, tau, t):
    """``lazy_steps`` (the O(1) catch-up of the lazy loops) = t iterations of
    x <- S_tau(c x + b), c = 1 - omc (c <= 0 included: it then iterates)."""
    c = 1.0 - omc
    ref = x
    for _ in range(t):
        ref = K.soft(c * ref + b, tau)
    got = K.lazy_steps(x, t, c, b, tau)
    # the closed form sums a geometric series instead of iterating: rounding of a few eps
    # per step, on the scale of the iterates (bounded by |x| + t (|b| + tau))
    scale = abs(x) + min(t, 1.0 / max(omc, 1e-300)) * (abs(b) + tau)
    assert abs(got - ref) <= 1e-12 * t * scale + 1e-300


# ------------------------------------------------- lazy SAGA / SVRG vs a dense loop
@st.composite
def linear_cases(draw):
    """A small sparse linear model (every row with at least one entry), a step and a
    sample sequence."""
    loss = draw(st.sampled_from([LeastSquares, Logistic]))
    n, d = draw(st.integers(2, 7)), draw(st.integers(1, 6))
    mask = np.array(draw(st.lists(st.booleans(), min_size=n * d, max_size=n * d)))
    mask = mask.reshape(n, d)
    mask[np.arange(n), draw(st.lists(st.integers(0, d - 1), min_size=n, max_size=n))] = True
    nonzero = st.one_of(finite(-3.0, -0.01), finite(0.01, 3.0))
    values = np.array(draw(st.lists(nonzero, min_size=n * d, max_size=n * d)))
    X = sp.csr_matrix(np.where(mask, values.reshape(n, d), 0.0))
    if loss is Logistic:
        y = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
        y[0], y[1] = -1.0, 1.0
    else:
        y = np.array(draw(st.lists(finite(-3.0, 3.0), min_size=n, max_size=n)))
    reg = draw(st.sampled_from(["l2", "l1", "elasticnet"]))
    problem = loss(X, y, reg=reg, lam=draw(positive(1e-4, 1.0)),
                   l1_ratio=draw(finite(0.0, 1.0)) if reg == "elasticnet" else None,
                   fit_intercept=draw(st.booleans()))
    step = draw(finite(0.05, 1.0)) / problem.L_max
    samples = np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=40)),
                       dtype=np.int64)
    x0 = np.array(draw(st.lists(finite(-2.0, 2.0), min_size=problem.dim,
                                max_size=problem.dim)))
    return problem, step, samples, x0


def _component_grads(problem, x: np.ndarray) -> np.ndarray:
    """(n, dim) dense matrix of the data parts phi_i'(a_i . x) a_i (no regularizer)."""
    A = problem.X.toarray()
    return problem._dloss(A @ x, problem.y)[:, None] * A


def _dense_step(problem, x: np.ndarray, direction: np.ndarray, step: float) -> np.ndarray:
    """prox_{step h}(x - step (direction + lam2 x)), the ridge part off the intercept."""
    ridge = problem.regularizer.add_smooth_grad(np.zeros_like(x), x)
    return problem.prox(x - step * (direction + ridge), step)


def _dense_saga(problem, x0, step, samples, weights) -> np.ndarray:
    """SAGA as written (Defazio et al. 2014): memory of every component gradient."""
    x = x0.copy()
    table = _component_grads(problem, x)
    for j in samples:
        g = _component_grads(problem, x)[j]
        x = _dense_step(problem, x, weights[j] * (g - table[j]) + table.mean(axis=0), step)
        table[j] = g
    return x


def _dense_svrg(problem, x0, step, samples, weights, epoch_length) -> np.ndarray:
    """SVRG as written (Johnson and Zhang 2013), a new snapshot every epoch_length steps."""
    x = x0.copy()
    for start in range(0, len(samples), epoch_length):
        snap = _component_grads(problem, x)
        mu = snap.mean(axis=0)
        for j in samples[start:start + epoch_length]:
            g = _component_grads(problem, x)[j]
            x = _dense_step(problem, x, weights[j] * (g - snap[j]) + mu, step)
    return x


def _compiled(method, problem, x0, samples) -> tuple[np.ndarray, np.ndarray]:
    """The method's iterate after len(samples) iterations drawing exactly ``samples``
    (uniform draws replaced, importance-sampling draws too), and its sampling weights."""
    queue = list(samples)

    def draw(_law, _rng, k) -> np.ndarray:
        taken, queue[:] = queue[:k], queue[k:]
        return np.array(taken, dtype=np.int64)

    rng = np.random.default_rng(0)
    method = method.resolve(problem)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SamplingLaw, "draw", draw)
        state = method.init(problem, x0.copy(), rng)
        while state.iteration < len(samples):  # SVRG counts its snapshots in the calls
            state = method.advance(problem, state, rng, len(samples) - state.iteration)
    assert not queue and state.iteration == len(samples)
    assert state.info()["path"] == "compiled"
    return state.x, state.law.weights


def _assert_same_iterate(lazy: np.ndarray, dense: np.ndarray, x0: np.ndarray) -> None:
    assert np.all(np.isfinite(lazy))
    scale = max(1.0, np.abs(x0).max(), np.abs(dense).max())
    np.testing.assert_allclose(lazy, dense, rtol=0, atol=1e-10 * scale)


@PROPERTY
@given(linear_cases(), st.sampled_from(["uniform", "importance"]))
def test_lazy_saga_equals_the_dense_loop(case, sampling):
    problem, step, samples, x0 = case
    lazy, weights = _compiled(SAGA(step=step, sampling=sampling), problem, x0, samples)
    _assert_same_iterate(lazy, _dense_saga(problem, x0, step, samples, weights), x0)


@PROPERTY
@given(linear_cases(), st.sampled_from(["uniform", "importance"]), st.integers(1, 12))
def test_lazy_svrg_equals_the_dense_loop(case, sampling, epoch_length):
    problem, step, samples, x0 = case
    method = SVRG(step=step, sampling=sampling, epoch_length=epoch_length)
    lazy, weights = _compiled(method, problem, x0, samples)
    dense = _dense_svrg(problem, x0, step, samples, weights, epoch_length)
    _assert_same_iterate(lazy, dense, x0)


# ----------------------------------------------------- the logistic loss at extremes
margins = st.one_of(finite(-1e300, 1e300), finite(-800.0, 800.0), finite(-40.0, 40.0))


def _reference_loss(m: np.ndarray) -> np.ndarray:
    """log(1 + exp(-m)) = max(-m, 0) + log1p(exp(-|m|)), never overflowing."""
    return np.maximum(-m, 0.0) + np.log1p(np.exp(-np.abs(m)))


@PROPERTY
@given(st.lists(margins, min_size=2, max_size=20), st.data())
def test_logistic_loss_and_gradient_at_extreme_margins(z, data):
    """Value, gradient, component gradients (compiled CSR path) and Hessian products of
    Logistic with margins z_i = X_i theta up to 1e300: finite, no floating-point warning,
    equal to the stable references."""
    z = np.array(z)
    n = z.size
    y = np.array(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
    y[0], y[1] = -1.0, 1.0
    m = y * z
    theta = np.array([1.0])
    dense = Logistic(z[:, None], y)
    sparse = Logistic(sp.csr_matrix(z[:, None]), y)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = dense.value(theta)
        grad = dense.grad(theta)
        hess = dense.hessp(theta, np.array([1.0]))
        idx = np.arange(n)
        batch_dense, batch_sparse = dense.batch_grad(theta, idx), sparse.batch_grad(theta, idx)
    ref_value = np.mean(_reference_loss(m))
    ref_grad = np.mean(-y * expit(-m) * z)  # z = X (one feature), and d/dz = -y expit(-y z)
    assert np.isfinite(value) and np.isfinite(grad).all() and np.isfinite(hess).all()
    assert value == pytest.approx(ref_value, rel=1e-12, abs=1e-300)
    assert value == pytest.approx(np.mean(np.logaddexp(0.0, -m)), rel=1e-12, abs=1e-300)
    scale = np.mean(np.abs(expit(-m) * z))
    assert abs(grad[0] - ref_grad) <= 1e-12 * scale + 1e-300
    assert abs(batch_dense[0] - ref_grad) <= 1e-12 * scale + 1e-300
    assert abs(batch_sparse[0] - ref_grad) <= 1e-12 * scale + 1e-300
    assert hess[0] >= 0.0


@PROPERTY
@given(margins, st.sampled_from([-1.0, 1.0]))
def test_compiled_logistic_derivative_matches_expit(z, y):
    """The numba ``dloss`` (every compiled loop uses it) = -y expit(-y z), to rounding."""
    got = dloss(z, y, int(LossCode.LOGISTIC))
    ref = -y * expit(-y * z)
    assert math.isfinite(got)
    assert abs(got - ref) <= 4 * EPS * abs(ref) + 1e-300


@PROPERTY
@given(st.lists(margins, min_size=1, max_size=12), st.sampled_from(["logistic", "softmin"]))
def test_margin_objectives_at_extreme_margins(u, loss):
    """The compiled objectives of margin GD (implicit bias) with margins u_i = y_i F_i up to
    1e300: L and dL/dF finite and equal to logaddexp / expit / logsumexp references."""
    u = np.array(u)
    n = u.size
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    F = (y * u)[None, None, :]  # y F = u
    D, Lv, Mg = np.empty_like(F), np.empty((1, 1)), np.empty((1, 1))
    objectives(y[None], F, int(LossCode[loss.upper()]), D, Lv, Mg)
    assert np.isfinite(Lv).all() and np.isfinite(D).all() and Mg[0, 0] == u.min()
    if loss == "logistic":
        ref_l = np.mean(np.logaddexp(0.0, -u))
        ref_d = -y * expit(-u) / n
        ref_scale = np.mean(np.abs(_reference_loss(u)))
    else:  # soft-min: log((1/n) sum exp(-u)), dL/dF_i = -y_i softmax_i(-u)
        ref_l = logsumexp(-u) - math.log(n)
        ref_d = -y * softmax(-u)
        ref_scale = np.abs(u).max() + math.log(n)
    assert abs(Lv[0, 0] - ref_l) <= 1e-12 * ref_scale + 1e-300
    np.testing.assert_allclose(D[0, 0], ref_d, rtol=1e-12, atol=1e-300)
