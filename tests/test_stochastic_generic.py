"""Stochastic methods on the generic path (descentlab/methods: sgd, adaptive, STORM and
SpiderBoost of variance_reduced, Katyusha of accelerated).

References are independent of descentlab: component gradients are re-written in numpy
from the least-squares definition, index sequences are re-drawn from
``np.random.default_rng(seed)`` in the documented order (blocks of
``rng.integers(0, n, size=b * ceil(n / b))``, or ``rng.permutation(n)`` epochs; Katyusha:
``rng.integers(0, n, size=n)`` then ``rng.random(n)`` per block of n iterations), update
rules are written from the papers' pseudo-code, reference optima come from
``problem.solution()`` (Cholesky / Newton, certified by the problem tests).

Statistical tests use fixed seeds; each states its confidence: a coordinate of a mean of
N i.i.d. draws lies within 5 standard errors of its expectation with probability about
1 - 6e-7 (normal approximation), so a d = 10 check fails by chance with probability < 1e-5.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from conftest import Stepper

import descentlab
from descentlab import DescentlabError
from descentlab.methods import SGD, STORM, AdaGrad, Adam, Katyusha, RMSProp, SpiderBoost
from descentlab.methods.sampling import expected_smoothness
from descentlab.problems import LeastSquares, Logistic, PLExample, Problem

# ---------------------------------------------------------------------------------------
# problems and numpy references


def ridge(n=200, d=10, lam=1e-2, seed=3, reg="l2") -> LeastSquares:
    """Planted linear model y = X w + standard normal noise, ridge (or l1) penalty."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    return LeastSquares(X, y, reg=reg, lam=lam)


def ls_batch_grad(problem: LeastSquares, lam2: float):
    """Mean of grad f_i(x) = x_i (x_i . x - y_i) + lam2 x over the indices idx (numpy)."""
    X, y = np.array(problem.X), np.array(problem.y)

    def g(x, idx):
        idx = np.asarray(idx)
        r = X[idx] @ x - y[idx]
        return X[idx].T @ r / idx.size + lam2 * x

    return g


def ls_full_grad(problem: LeastSquares, lam2: float):
    g = ls_batch_grad(problem, lam2)
    return lambda x: g(x, np.arange(problem.n))


def replacement_stream(seed: int, n: int, b: int, blocks: int = 8) -> np.ndarray:
    """The documented with-replacement index stream: blocks of b * ceil(n / b) draws."""
    rng = np.random.default_rng(seed)
    size = b * math.ceil(n / b)
    return np.concatenate([rng.integers(0, n, size=size) for _ in range(blocks)])


def permutation_stream(seed: int, n: int, epochs: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.permutation(n) for _ in range(epochs)])


def one_by_one(method, problem, x0, count, seed=0):
    """States after each of ``count`` iterations (``advance(state, 1)`` = one iteration)."""
    run = Stepper(method, problem, x0.copy(), np.random.default_rng(seed))
    out = []
    for k in range(1, count + 1):
        state = run.advance(1)
        assert state.iteration == k
        out.append(state.x.copy())
    return state, out


def assert_same_iterates(got, expected, rtol=1e-11):
    assert len(got) == len(expected)
    for k, (a, b) in enumerate(zip(got, expected, strict=True), start=1):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-13, err_msg=f"iterate {k}")


def start(d, seed=5):
    return np.random.default_rng(seed).standard_normal(d)


@pytest.fixture(scope="module")
def small():
    return ridge(n=30, d=5, lam=0.1, seed=8)


@pytest.fixture(scope="module")
def ls():
    problem = ridge()
    problem.solution()
    return problem


@pytest.fixture(scope="module")
def a1a():
    problem = Logistic.from_libsvm("a1a", reg="l2", lam=1e-2)
    problem.solution()
    return problem


@pytest.fixture(scope="module")
def mushrooms():
    problem = Logistic.from_libsvm("mushrooms", reg="l2", lam=1e-2)
    problem.solution()
    return problem


# ---------------------------------------------------------------------------------------
# unbiasedness of the estimators (statistical, fixed seeds)


def z_scores(draws: np.ndarray, expected: np.ndarray) -> np.ndarray:
    se = draws.std(axis=0, ddof=1) / math.sqrt(draws.shape[0])
    assert np.all(se > 0), "the estimator has no randomness"
    return (draws.mean(axis=0) - expected) / se


@pytest.mark.parametrize("sampling", ["with-replacement", "permutation"])
@pytest.mark.parametrize("batch_size", [1, 8])
def test_sgd_gradient_estimator_is_unbiased(ls, sampling, batch_size):
    """g = (x0 - x1) / step after one SGD step, over 3000 seeds: mean within 5 s.e. of
    grad F(x0) in every coordinate."""
    x0, step, N = start(ls.dim), 0.01, 3000
    method = SGD(step=step, batch_size=batch_size, sampling=sampling)
    draws = np.empty((N, ls.dim))
    for s in range(N):
        state = Stepper(method, ls, x0.copy(), np.random.default_rng(s)).advance(1)
        assert state.calls == batch_size
        draws[s] = (x0 - state.x) / step
    grad = ls_full_grad(ls, 1e-2)(x0)
    assert np.max(np.abs(z_scores(draws, grad))) < 5
    # the test has power: it rejects the mean of a sampler that sees half of the data
    half = ls_batch_grad(ls, 1e-2)(x0, np.arange(ls.n // 2))
    assert np.max(np.abs(z_scores(draws, half))) > 5


def test_spiderboost_estimator_is_unbiased_at_its_first_stochastic_step(ls):
    """x1 = x0 - s grad F(x0) (full gradient), then v1 = (x1 - x2)/s must satisfy
    E v1 = grad F(x1) (SARAH/SPIDER: v1 = g_S(x1) - g_S(x0) + grad F(x0))."""
    x0, step, N = start(ls.dim), 0.02, 3000
    grad = ls_full_grad(ls, 1e-2)
    x1_expected = x0 - step * grad(x0)
    method = SpiderBoost(step=step, batch_size=2, q=50)
    draws = np.empty((N, ls.dim))
    for s in range(N):
        run = Stepper(method, ls, x0.copy(), np.random.default_rng(s))
        state = run.advance(1)  # k = 0: the full gradient, n calls
        assert state.calls == ls.n
        x1 = state.x.copy()
        np.testing.assert_allclose(x1, x1_expected, rtol=1e-12)
        state = run.advance(1)
        assert state.calls == ls.n + 2 * 2
        draws[s] = (x1 - state.x) / step
    assert np.max(np.abs(z_scores(draws, grad(x1_expected)))) < 5


def test_storm_estimator_is_unbiased_at_its_first_steps(ls):
    """d_1 = g_1(x_1) is unbiased, and the recursion keeps the error a martingale:
    Z = (d_2 - grad F(x_2)) - (1 - a_2)(d_1 - grad F(x_1)) has mean zero, since the batch
    of step 2 is drawn after x_2, d_1 and a_2 are fixed (Cutkosky and Orabona 2019)."""
    x0, N = start(ls.dim), 3000
    grad = ls_full_grad(ls, 1e-2)
    g0 = grad(x0)
    method = STORM(k=0.3, w=1.0, c=10.0, batch_size=2)
    first, second = np.empty((N, ls.dim)), np.empty((N, ls.dim))
    for s in range(N):
        run = Stepper(method, ls, x0.copy(), np.random.default_rng(s))
        state = run.advance(1)
        d1, a2, x2 = state.d.copy(), state.a, state.x.copy()
        state = run.advance(1)
        assert state.calls == 2 + 2 * 2
        first[s] = d1
        second[s] = (state.d - grad(x2)) - (1 - a2) * (d1 - g0)
    assert np.max(np.abs(z_scores(first, g0))) < 5
    assert np.max(np.abs(z_scores(second, np.zeros(ls.dim)))) < 5


# ---------------------------------------------------------------------------------------
# update rules against numpy recursions with replayed indices


@pytest.mark.parametrize("momentum_type", ["heavy-ball", "nesterov"])
def test_sgd_momentum_update_rule(small, momentum_type):
    n, b, step, m, T = small.n, 3, 0.04, 0.6, 25  # 25 * 3 > 30: crosses a block boundary
    g = ls_batch_grad(small, 0.1)
    stream = replacement_stream(seed=0, n=n, b=b)
    x0 = start(small.dim)
    x_prev, x, expected = x0.copy(), x0.copy(), []
    for t in range(T):
        idx = stream[t * b:(t + 1) * b]
        if momentum_type == "heavy-ball":
            x_new = x - step * g(x, idx) + m * (x - x_prev)
        else:
            yk = x + m * (x - x_prev)
            x_new = yk - step * g(yk, idx)
        x_prev, x = x, x_new
        expected.append(x)
    method = SGD(step=step, batch_size=b, momentum=m, momentum_type=momentum_type)
    state, got = one_by_one(method, small, x0, T)
    assert_same_iterates(got, expected)
    assert state.calls == T * b


def test_sgd_permutation_sampling_with_step_decay(small):
    """Batches of 7 cut from consecutive permutations (straddling epochs), step halved
    every half epoch (epochs counted in oracle calls / n before the iteration)."""
    n, b, step, T = small.n, 7, 0.05, 20  # 140 indices: 4.7 epochs
    g = ls_batch_grad(small, 0.1)
    stream = permutation_stream(seed=0, n=n, epochs=5)
    x0 = start(small.dim)
    x, expected = x0.copy(), []
    for t in range(T):
        s = step * 0.5 ** math.floor((t * b / n) / 0.5)
        x = x - s * g(x, stream[t * b:(t + 1) * b])
        expected.append(x)
    method = SGD(step=step, batch_size=b, sampling="permutation", schedule="step-decay",
                 decay_every=0.5)
    assert_same_iterates(one_by_one(method, small, x0, T)[1], expected)


@pytest.mark.parametrize(("schedule", "rule"), [
    ("inverse", lambda c, t: c / (t + 7.0)),
    ("inverse-sqrt", lambda c, t: c / math.sqrt(t + 1.0)),
])
def test_sgd_decreasing_schedules_and_averaging(small, schedule, rule):
    """Steps c/(t + t0) and c/sqrt(t + 1); state.x is the average of x_t over the
    iterations that end after ``average_start`` epochs (here: t >= 5 with b = 3, n = 30)."""
    n, b, c, T = small.n, 3, 0.3, 30
    g = ls_batch_grad(small, 0.1)
    stream = replacement_stream(seed=0, n=n, b=b)
    x0 = start(small.dim)
    x, iterates = x0.copy(), []
    for t in range(T):
        x = x - rule(c, t) * g(x, stream[t * b:(t + 1) * b])
        iterates.append(x)
    method = SGD(step=c, t0=7.0, schedule=schedule, batch_size=b, averaging=True,
                 average_start=0.5)
    run = Stepper(method, small, x0.copy(), np.random.default_rng(0))
    for t in range(T):
        state = run.advance(1)
        averaged = iterates[5:t + 1]  # iteration t ends with (t + 1) * 3 calls > 15
        expected = np.mean(averaged, axis=0) if averaged else iterates[t]
        np.testing.assert_allclose(state.x, expected, rtol=1e-11, err_msg=f"t = {t}")
    np.testing.assert_allclose(state.x_last, iterates[-1], rtol=1e-11)


def test_proximal_sgd_update_rule():
    problem = ridge(n=30, d=5, lam=0.2, seed=8, reg="l1")
    n, b, step, T = problem.n, 2, 0.05, 20
    g = ls_batch_grad(problem, 0.0)
    stream = replacement_stream(seed=0, n=n, b=b)
    x0 = start(problem.dim)
    x, expected = x0.copy(), []
    for t in range(T):
        u = x - step * g(x, stream[t * b:(t + 1) * b])
        x = np.sign(u) * np.maximum(np.abs(u) - step * 0.2, 0.0)
        expected.append(x)
    got = one_by_one(SGD(step=step, batch_size=b), problem, x0, T)[1]
    assert_same_iterates(got, expected)
    assert sum(np.count_nonzero(x == 0.0) for x in got) > 0  # the prox produced zeros


def test_adam_update_rule_with_bias_correction(small):
    """Kingma and Ba (2014), Algorithm 1."""
    n, b, T = small.n, 4, 30
    alpha, b1, b2, eps = 0.05, 0.8, 0.99, 1e-6
    g = ls_batch_grad(small, 0.1)
    stream = replacement_stream(seed=0, n=n, b=b)
    x = start(small.dim)
    x0 = x.copy()
    m, v, expected = np.zeros_like(x), np.zeros_like(x), []
    for t in range(1, T + 1):
        gt = g(x, stream[(t - 1) * b:t * b])
        m = b1 * m + (1 - b1) * gt
        v = b2 * v + (1 - b2) * gt ** 2
        x = x - alpha * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        expected.append(x)
    method = Adam(lr=alpha, beta1=b1, beta2=b2, eps=eps, batch_size=b)
    assert_same_iterates(one_by_one(method, small, x0, T)[1], expected)


def test_adagrad_update_rule(small):
    """Duchi, Hazan, Singer (2011), diagonal version."""
    n, b, T, lr, eps = small.n, 2, 30, 0.3, 1e-10
    g = ls_batch_grad(small, 0.1)
    stream = replacement_stream(seed=0, n=n, b=b)
    x = start(small.dim)
    x0 = x.copy()
    G, expected = np.zeros_like(x), []
    for t in range(T):
        gt = g(x, stream[t * b:(t + 1) * b])
        G = G + gt ** 2
        x = x - lr * gt / (np.sqrt(G) + eps)
        expected.append(x)
    assert_same_iterates(one_by_one(AdaGrad(lr=lr, batch_size=b), small, x0, T)[1], expected)


@pytest.mark.parametrize("schedule", ["constant", "step-decay"])
def test_rmsprop_update_rule(small, schedule):
    """Tieleman and Hinton (2012): mean square with decay rho, step lr / (sqrt(v) + eps)."""
    n, b, T, lr, rho, eps = small.n, 5, 30, 0.02, 0.8, 1e-8
    g = ls_batch_grad(small, 0.1)
    stream = replacement_stream(seed=0, n=n, b=b)
    x = start(small.dim)
    x0 = x.copy()
    v, expected = np.zeros_like(x), []
    for t in range(T):
        lr_t = lr * 0.5 ** math.floor(t * b / n / 2.0) if schedule == "step-decay" else lr
        gt = g(x, stream[t * b:(t + 1) * b])
        v = rho * v + (1 - rho) * gt ** 2
        x = x - lr_t * gt / (np.sqrt(v) + eps)
        expected.append(x)
    method = RMSProp(lr=lr, rho=rho, eps=eps, batch_size=b, schedule=schedule,
                     decay_every=2.0)
    assert_same_iterates(one_by_one(method, small, x0, T)[1], expected)


def test_storm_update_rule_uses_the_same_batch_at_both_points(small):
    """Algorithm 1 of Cutkosky and Orabona (2019), in the paper's order."""
    n, b, T, k, w, c = small.n, 2, 25, 0.5, 0.5, 2.0
    g = ls_batch_grad(small, 0.1)
    stream = replacement_stream(seed=0, n=n, b=b)
    batch = [stream[t * b:(t + 1) * b] for t in range(T + 1)]
    x = start(small.dim)
    x0 = x.copy()
    d = g(x, batch[0])
    sum_sq = float(d @ d)
    expected, a_values = [], []
    for t in range(T):
        eta = k / (w + sum_sq) ** (1 / 3)
        x_new = x - eta * d
        a = c * eta ** 2
        assert a < 1  # the paper's regime: the clipping min(1, .) is inactive
        g_new = g(x_new, batch[t + 1])
        d = g_new + (1 - a) * (d - g(x, batch[t + 1]))
        sum_sq += float(g_new @ g_new)
        x = x_new
        expected.append(x)
        a_values.append(a)
    state, got = one_by_one(STORM(k=k, w=w, c=c, batch_size=b), small, x0, T)
    assert_same_iterates(got, expected)
    assert state.a == pytest.approx(a_values[-1], rel=1e-12)
    assert state.calls == b + 2 * b * (T - 1)


@pytest.mark.parametrize("reg", ["l2", "l1"])
def test_spiderboost_update_rule(reg):
    """Wang et al. (2019), Algorithms 1 (SpiderBoost) and 2 (Prox-SpiderBoost)."""
    problem = ridge(n=30, d=5, lam=0.1, seed=8, reg=reg)
    lam2, lam1 = (0.1, 0.0) if reg == "l2" else (0.0, 0.1)
    n, b, q, step, T = problem.n, 3, 4, 0.05, 25
    g = ls_batch_grad(problem, lam2)
    stream = replacement_stream(seed=0, n=n, b=b)
    x = start(problem.dim)
    x0, x_prev, v, j, expected, calls = x.copy(), None, None, 0, [], 0
    for t in range(T):
        if t % q == 0:
            v = g(x, np.arange(n))
            calls += n
        else:
            idx = stream[j * b:(j + 1) * b]
            j += 1
            v = g(x, idx) - g(x_prev, idx) + v
            calls += 2 * b
        u = x - step * v
        x_prev, x = x, np.sign(u) * np.maximum(np.abs(u) - step * lam1, 0.0)
        expected.append(x)
    state, got = one_by_one(SpiderBoost(step=step, batch_size=b, q=q), problem, x0, T)
    assert_same_iterates(got, expected)
    assert state.calls == calls


@pytest.mark.parametrize("reg", ["l2", "elasticnet"])
def test_katyusha_update_rule(reg):
    """L-Katyusha (Kovalev, Horvath, Richtarik 2020, Algorithm 2) with the coin flips and
    indices replayed; with an l1 part the z-step is followed by the prox."""
    lam, ratio = 0.2, (None if reg == "l2" else 0.5)
    X = np.random.default_rng(4).standard_normal((20, 5))
    y = np.random.default_rng(5).standard_normal(20)
    problem = LeastSquares(X, y, reg=reg, lam=lam, l1_ratio=ratio)
    lam2, lam1 = (lam, 0.0) if reg == "l2" else (lam / 2, lam / 2)
    n, T, p = problem.n, 70, 0.2
    gb = ls_batch_grad(problem, lam2)
    full = ls_full_grad(problem, lam2)
    mu, Lmax = problem.mu, float(np.max(np.sum(X * X, axis=1))) + lam2
    assert problem.L_max == pytest.approx(Lmax, rel=1e-12)
    sigma = mu / Lmax
    th1, th2 = min(math.sqrt(2 * sigma * n / 3), 0.5), 0.5
    eta = th2 / ((1 + th2) * th1)
    rng = np.random.default_rng(0)
    x0 = start(problem.dim)
    yk, zk, wk = x0.copy(), x0.copy(), x0.copy()
    gw, calls, expected = full(wk), n, []
    for t in range(T):
        if t % n == 0:
            idx, coins = rng.integers(0, n, size=n), rng.random(n)
        i = idx[t % n:t % n + 1]
        xk = th1 * zk + th2 * wk + (1 - th1 - th2) * yk
        gk = gb(xk, i) - gb(wk, i) + gw
        z_new = (eta * sigma * xk + zk - (eta / Lmax) * gk) / (1 + eta * sigma)
        tau = (eta / Lmax) / (1 + eta * sigma)
        z_new = np.sign(z_new) * np.maximum(np.abs(z_new) - tau * lam1, 0.0)
        y_new = xk + th1 * (z_new - zk)
        calls += 2
        if coins[t % n] < p:
            wk, gw = yk, full(yk)
            calls += n
        yk, zk = y_new, z_new
        expected.append(yk)
    state, got = one_by_one(Katyusha(p=p), problem, x0, T)
    resolved = Katyusha(p=p).resolve(problem)
    assert resolved.theta1 == pytest.approx(th1, rel=1e-12)
    assert resolved.step == pytest.approx(eta / Lmax, rel=1e-12)
    assert_same_iterates(got, expected, rtol=1e-10)
    assert state.calls == calls
    assert state.snapshots >= 5  # the coin flips did switch w


def test_katyusha_default_parameters(a1a):
    """sigma = mu / L_max, theta1 = min(sqrt(2 sigma n / 3), 1/2), theta2 = 1/2, p = 1/n."""
    resolved = Katyusha().resolve(a1a)
    Lmax = 0.25 * float(np.max(a1a.X.multiply(a1a.X).sum(axis=1))) + 1e-2
    sigma = 1e-2 / Lmax
    th1 = min(math.sqrt(2 * sigma * a1a.n / 3), 0.5)
    assert resolved.theta1 == pytest.approx(th1, rel=1e-12)
    assert resolved.theta2 == 0.5
    assert resolved.p == pytest.approx(1 / a1a.n, rel=1e-12)
    assert resolved.step == pytest.approx(0.5 / (1.5 * th1) / Lmax, rel=1e-12)
    # small n sigma (logistic: mu = lam): theta1 = sqrt(2 sigma n / 3) < 1/2
    X = np.random.default_rng(2).standard_normal((30, 4))
    y = np.where(np.arange(30) % 2 == 0, 1.0, -1.0)
    small_n = Logistic(X, y, reg="l2", lam=1e-3)
    st = Katyusha().resolve(small_n)
    sig = 1e-3 / (0.25 * float(np.max(np.sum(X * X, axis=1))) + 1e-3)
    assert st.theta1 == pytest.approx(math.sqrt(2 * sig * 30 / 3), rel=1e-12)
    assert st.theta1 < 0.5


def test_default_steps(ls):
    """SGD: 1/(2 Lb), Lb = L_max/b + (1 - 1/b) L (L, L_max from numpy); times (1 - m) with
    momentum; inverse: c = 2/mu, first step 1/(2 Lb). SpiderBoost: 1/(2 L_max), |S| = q =
    ceil(sqrt n)."""
    X = ls.X
    L = float(np.linalg.eigvalsh(X.T @ X / ls.n)[-1]) + 1e-2
    Lmax = float(np.max(np.sum(X * X, axis=1))) + 1e-2
    mu = float(np.linalg.eigvalsh(X.T @ X / ls.n)[0]) + 1e-2
    Lb = Lmax / 8 + (1 - 1 / 8) * L
    assert expected_smoothness(ls, 8) == pytest.approx(Lb, rel=1e-10)
    assert SGD().resolve(ls).step == pytest.approx(0.5 / Lmax, rel=1e-10)
    st = SGD(batch_size=8, momentum=0.5).resolve(ls)
    assert st.step == pytest.approx(0.5 * 0.5 / Lb, rel=1e-10)
    st = SGD(schedule="inverse", batch_size=8).resolve(ls)
    assert st.step == pytest.approx(2 / mu, rel=1e-10)
    assert st.step / st.t0 == pytest.approx(0.5 / Lb, rel=1e-10)
    st = SpiderBoost().resolve(ls)
    assert st.step == pytest.approx(0.5 / Lmax, rel=1e-10)
    assert st.batch_size == st.q == 15  # ceil(sqrt(200))


# ---------------------------------------------------------------------------------------
# advance: oracle-call accounting against a counting problem, chunking invariance


class Counting(Problem):
    """Delegates to a problem and counts component gradients: len(idx) per batch_grad,
    n per grad."""

    def __init__(self, inner):
        self.inner, self.count = inner, 0
        self.n, self.dim, self.dtype = inner.n, inner.dim, inner.dtype
        self.nonsmooth = inner.nonsmooth

    def value(self, x):
        return self.inner.value(x)

    def grad(self, x):
        self.count += self.n
        return self.inner.grad(x)

    def batch_grad(self, x, idx):
        self.count += len(idx)
        return self.inner.batch_grad(x, idx)

    def prox(self, x, step):
        return self.inner.prox(x, step)

    @property
    def L(self):
        return self.inner.L

    @property
    def L_max(self):
        return self.inner.L_max

    @property
    def mu(self):
        return self.inner.mu


@pytest.mark.parametrize("method", [
    SGD(batch_size=3), SGD(momentum=0.5, momentum_type="nesterov", averaging=True),
    Adam(batch_size=2), AdaGrad(), RMSProp(batch_size=4), STORM(batch_size=3),
    SpiderBoost(), Katyusha(p=0.1),
], ids=str)
def test_calls_are_counted_and_advance_spends_about_the_request(small, method):
    problem = Counting(small)
    run = Stepper(method, problem, small.default_x0(), np.random.default_rng(1))
    state = run.state
    assert problem.count == state.calls == 0
    for request in (1, 7, 30, 45):
        before, iteration = state.calls, state.iteration
        state = run.advance(request)
        assert state.calls == problem.count
        assert state.iteration > iteration
        spent = state.calls - before
        # at least the request, and the last iteration was needed to reach it
        assert spent >= request
        assert spent - request < 2 * small.n + 2 * 6


@pytest.mark.parametrize("method", [
    SGD(batch_size=4, averaging=True, sampling="permutation", momentum=0.3),
    Adam(batch_size=3, schedule="step-decay", decay_every=1.0), STORM(batch_size=2),
    SpiderBoost(batch_size=3, q=5), Katyusha(p=0.2),
], ids=str)
def test_iterates_do_not_depend_on_how_advance_is_called(small, method):
    x0 = start(small.dim)
    a = Stepper(method, small, x0.copy(), np.random.default_rng(3)).advance(400)
    run = Stepper(method, small, x0.copy(), np.random.default_rng(3))
    b = run.state
    while b.calls < a.calls:
        b = run.advance(1)
    assert (b.iteration, b.calls) == (a.iteration, a.calls)
    np.testing.assert_array_equal(a.x, b.x)


# ---------------------------------------------------------------------------------------
# convergence on small strongly convex problems (reference optimum: problem.solution())

# Bounds by rate class, with a margin of at least 2 over the measured value (seed 0):
TIGHT = 1e-8  # variance reduction: linear rates
LOOSE = 1e-3  # O(1/t): SGD with decreasing steps or averaging, Adam with step decay
ADAPTIVE = 3e-3  # RMSProp with step decay: coordinate-wise noise on top of O(1/t)
SLOW = 3e-2  # O(1/sqrt t) AdaGrad, O(t^(-1/3)) steps of STORM: noise floors still high

CONVERGENCE = [
    # (method, budget in epochs, bound on the final relative suboptimality)
    (SGD(averaging=True, average_start=10.0), 150, LOOSE),
    (SGD(momentum=0.5, averaging=True, average_start=10.0), 150, LOOSE),
    (SGD(schedule="inverse"), 150, LOOSE),
    # random reshuffling has a much smaller noise term than sampling with replacement
    (SGD(schedule="step-decay", decay_every=5.0, sampling="permutation"), 80, LOOSE),
    (SGD(momentum=0.5, momentum_type="nesterov", schedule="step-decay", decay_every=10.0,
         sampling="permutation"), 150, LOOSE),
    (Adam(lr=3e-2, batch_size=4, schedule="step-decay", decay_every=15.0), 150, LOOSE),
    (RMSProp(lr=1e-2, batch_size=4, schedule="step-decay", decay_every=20.0), 150, ADAPTIVE),
    (AdaGrad(lr=0.2, batch_size=16), 150, SLOW),
    (STORM(k=0.2, batch_size=16), 150, SLOW),
]


@pytest.mark.parametrize(("method", "epochs", "bound"), CONVERGENCE, ids=str)
def test_convergence_on_ridge_least_squares(ls, method, epochs, bound):
    trace = descentlab.run(ls, method, budget_epochs=epochs, seed=0)
    assert trace.final("rel_subopt") <= bound
    assert trace.final("rel_subopt") >= -1e-12  # the reference optimum is below


# a1a (n = 1605, d = 119, kappa = L_max / mu ~ 350): batches of 16 to 64 keep it fast
CONVERGENCE_A1A = [
    (SGD(batch_size=16, averaging=True, average_start=5.0), 60, LOOSE),
    (SGD(batch_size=16, schedule="step-decay", decay_every=5.0, sampling="permutation"), 60,
     LOOSE),
    (SGD(batch_size=16, momentum=0.5, momentum_type="nesterov", schedule="step-decay",
         decay_every=8.0), 80, LOOSE),
    (Adam(lr=1e-2, batch_size=16, schedule="step-decay", decay_every=10.0), 80, LOOSE),
    (RMSProp(lr=1e-2, batch_size=64, schedule="step-decay", decay_every=10.0), 80, ADAPTIVE),
    (AdaGrad(lr=0.2, batch_size=64), 80, SLOW),
    (STORM(k=0.5, batch_size=64), 80, SLOW),
]


@pytest.mark.parametrize(("method", "epochs", "bound"), CONVERGENCE_A1A, ids=str)
def test_convergence_on_l2_logistic_a1a(a1a, method, epochs, bound):
    trace = descentlab.run(a1a, method, budget_epochs=epochs, seed=0)
    assert trace.final("rel_subopt") <= bound
    assert trace.final("rel_subopt") >= -1e-12


@pytest.mark.parametrize(("method", "epochs", "bound"), [
    (SGD(batch_size=16, averaging=True, average_start=5.0), 60, LOOSE),
    (Adam(lr=1e-2, batch_size=16, schedule="step-decay", decay_every=10.0), 80, LOOSE),
], ids=str)
def test_convergence_on_l2_logistic_mushrooms(mushrooms, method, epochs, bound):
    trace = descentlab.run(mushrooms, method, budget_epochs=epochs, seed=0)
    assert 0 <= trace.final("rel_subopt") <= bound


@pytest.mark.parametrize("method", [SpiderBoost(), Katyusha()], ids=str)
@pytest.mark.parametrize("problem_name", ["ls", "a1a", "mushrooms"])
def test_variance_reduction_reaches_1e8(request, method, problem_name):
    problem = request.getfixturevalue(problem_name)
    trace = descentlab.run(problem, method, tol=TIGHT, budget_epochs=400, seed=0)
    assert trace.stop_reason == "tol"
    assert 0 <= trace.final("rel_subopt") <= TIGHT
    # and independently of the Trace: F(x) at the end vs the reference optimum
    x_star, f_star = problem.solution()
    assert trace.final("value") - f_star <= TIGHT * abs(f_star)


def test_sgd_constant_step_stalls_at_a_noise_floor_that_averaging_removes(ls):
    """Gower et al. (2019), Thm 3.1: the last iterate of constant-step SGD stays in a noise
    ball; the Polyak-Ruppert average of the same run gets much closer."""
    last = descentlab.run(ls, SGD(), budget_epochs=80, seed=0).final("rel_subopt")
    avg = descentlab.run(ls, SGD(averaging=True, average_start=10.0), budget_epochs=80,
                         seed=0).final("rel_subopt")
    assert last > 1e-2
    assert avg < 0.05 * last


def test_proximal_variance_reduction_on_lasso():
    """Prox-SpiderBoost and L-Katyusha with a prox z-step reach the elastic-net optimum."""
    problem = LeastSquares(*_planted(100, 8), reg="elasticnet", lam=0.1, l1_ratio=0.5)
    x_star, _ = problem.solution()
    assert np.any(x_star == 0)
    for method in (SpiderBoost(), Katyusha()):
        trace = descentlab.run(problem, method, tol=TIGHT, budget_epochs=500, seed=0)
        assert trace.stop_reason == "tol", str(method)


def _planted(n, d, seed=9):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = np.where(np.arange(d) % 2 == 0, rng.standard_normal(d), 0.0)
    return X, X @ w + 0.3 * rng.standard_normal(n)


# ---------------------------------------------------------------------------------------
# float32, non-convex PL example


@pytest.mark.parametrize("method", [
    SGD(batch_size=8), SGD(momentum=0.5, averaging=True), Adam(lr=1e-2, batch_size=8),
    AdaGrad(lr=0.1), RMSProp(lr=1e-2), STORM(k=0.5), SpiderBoost(), Katyusha(),
], ids=str)
def test_float32_problems_give_float32_iterates(a1a, method):
    p32 = Logistic(a1a.X.astype(np.float32), a1a.y, reg="l2", lam=1e-2)
    assert p32.dtype == np.float32
    x0 = p32.default_x0()
    state = Stepper(method, p32, x0.copy(), np.random.default_rng(0)).advance(2 * p32.n)
    assert state.x.dtype == np.float32
    for field in dataclasses.fields(state):  # the vectors kept between iterations
        value = getattr(state, field.name)
        if isinstance(value, np.ndarray) and value.shape == x0.shape:
            assert value.dtype == np.float32, field.name
    assert p32.value(state.x) < p32.value(x0) - 0.1


def test_sgd_inverse_sqrt_reduces_the_gradient_norm_on_the_pl_example():
    """F(x) = x^2 + 3 sin^2 x from x0 = 3 (non-convex, seed 004): steps 1/(2 L sqrt(t+1))."""
    problem = PLExample()
    trace = descentlab.run(problem, SGD(schedule="inverse-sqrt"), budget_calls=1000, seed=0)
    g = trace.df["grad_norm"].to_numpy()
    assert g[0] == pytest.approx(abs(6 + 3 * math.sin(6)), rel=1e-12)
    assert g[-1] <= 1e-8 * g[0]
    # steps <= 1/(2L) < 1/L: the descent lemma makes F non-increasing (n = 1: no noise)
    assert np.all(np.diff(trace.df["value"].to_numpy()) <= 0)
    assert trace.final("value") <= 1e-12


# ---------------------------------------------------------------------------------------
# bad hyperparameters


@pytest.mark.parametrize(("build", "match"), [
    (lambda: SGD(batch_size=0), "batch_size"),
    (lambda: SGD(step=-1), "step"),
    (lambda: SGD(step=0.0), "step"),
    (lambda: SGD(schedule="nope"), "schedule"),
    (lambda: SGD(sampling="nope"), "sampling"),
    (lambda: SGD(momentum_type="nope"), "momentum_type"),
    (lambda: SGD(momentum=1.0), "momentum"),
    (lambda: SGD(decay_factor=0.0), "decay_factor"),
    (lambda: SGD(decay_every=-2.0), "decay_every"),
    (lambda: SGD(averaging="yes"), "averaging"),
    (lambda: Adam(lr=-1e-3), "lr"),
    (lambda: Adam(beta1=1.0), "beta1"),
    (lambda: Adam(schedule="inverse"), "schedule"),
    (lambda: AdaGrad(eps=0.0), "eps"),
    (lambda: RMSProp(rho=1.5), "rho"),
    (lambda: STORM(k=0.0), "k"),
    (lambda: SpiderBoost(batch_size=0), "batch_size"),
    (lambda: SpiderBoost(q=0), "q"),
    (lambda: Katyusha(theta1=1.2), "theta1"),
    (lambda: Katyusha(p=0.0), "p"),
])
def test_bad_hyperparameters_raise_naming_the_argument(build, match):
    with pytest.raises(DescentlabError, match=match):
        build()


@pytest.mark.parametrize("cls", [SGD, Adam, AdaGrad, RMSProp, STORM, SpiderBoost],
                         ids=lambda c: c.name)
def test_batch_size_larger_than_n_raises_at_resolve(small, cls):
    method = cls(batch_size=small.n + 1)  # n is unknown before the problem
    with pytest.raises(DescentlabError, match=rf"batch_size.*n = {small.n}"):
        method.resolve(small)
    cls(batch_size=small.n).resolve(small)


def test_problem_dependent_errors(small):
    rng = np.random.default_rng(0)
    lasso = ridge(n=30, d=5, lam=0.1, seed=8, reg="l1")  # non-smooth, mu = data part > 0
    no_mu = LeastSquares(np.random.default_rng(1).standard_normal((5, 8)), np.ones(5))
    assert no_mu.mu == 0
    for cls in (Adam, AdaGrad, RMSProp, STORM):
        with pytest.raises(DescentlabError, match="non-smooth"):
            cls().resolve(lasso)
    with pytest.raises(DescentlabError, match="mu > 0"):
        Katyusha().resolve(no_mu)
    with pytest.raises(DescentlabError, match="mu > 0"):
        SGD(schedule="inverse").resolve(no_mu)
    with pytest.raises(DescentlabError, match="rng"):
        SGD().resolve(small).init(small, small.default_x0(), None)
    with pytest.raises(DescentlabError, match="theta1"):
        Katyusha(theta1=0.6, theta2=0.5).resolve(small)
    # explicit parameters lift the strong-convexity requirement
    Stepper(Katyusha(theta1=0.3, step=0.01), no_mu, no_mu.default_x0(), rng)
    Stepper(SGD(schedule="inverse", step=1.0), no_mu, no_mu.default_x0(), rng)


def test_trace_metadata_holds_the_resolved_scalar_hyperparameters(small):
    trace = descentlab.run(small, SGD(batch_size=2, schedule="inverse"), budget_epochs=2)
    meta = trace.meta["method"]
    assert meta["name"] == "sgd"
    assert meta["batch_size"] == 2 and meta["schedule"] == "inverse"
    assert isinstance(meta["step"], float) and isinstance(meta["t0"], float)
    assert "rng" not in meta and "sampler" not in meta
