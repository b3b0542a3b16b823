"""The particle engine (descentlab.particles): steps, reductions, flows, layout, pictures.

Independent references: a direct transcription of the published update, the NumPy
gradients of ``TwoLayerProblem`` (and ``descentlab.run``), networks trained alone, the
two reductions of the engine against each other, the closed-form population velocity of
one network, and scipy's solve_ivp for the flows.
"""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from descentlab import DescentlabError, DivergenceError, run
from descentlab.data.teacher import Teacher, TeacherStudentData
from descentlab.methods import GD
from descentlab.particles.batch import ParticleBatch, seeded
from descentlab.particles.engine import (
    Dynamics,
    EarlyStop,
    evaluate,
    published_sgd,
    snapshot,
    train,
    velocity,
)
from descentlab.particles.flow import gradient_flow, polar_flow
from descentlab.particles.plotting import animate, particle_positions
from descentlab.particles.samples import FixedSample, FreshSamples, PopulationRisk
from descentlab.problems.twolayer import TwoLayerProblem
from descentlab.theory.kernels import population_velocity


def _teacher(m0=3, d=4, seed=0):
    return Teacher.draw(m0, d, np.random.default_rng(seed))


def _published_transcription(A, B, batches, lr):
    """The issue's formulas, f(x) = sum_j A_j relu(B_j . x), written out directly."""
    m = A.size
    for X, Y in batches:
        H = np.maximum(X @ B.T, 0.0)                        # (n, m)
        R = H @ A - Y                                        # f - y
        A = A - (lr / m) * (H * R[:, None]).mean(axis=0)     # mean over the batch
        B = B - m * lr * np.einsum("i,ij,ik->jk", R, (H > 0) * A, X)  # SUM, updated A
    return A, B


def test_published_step_matches_a_direct_transcription():
    d, bs, lr, steps, widths = 4, 7, 0.03, 5, (1, 3, 6)
    teacher = _teacher(d=d)
    batch = ParticleBatch.init(widths, d, lambda s, r: seeded(5, s, r))
    res = train(batch, FreshSamples(teacher, [seeded(6)], bs), published_sgd(lr, bs), steps)
    rng = seeded(6)
    batches = []
    for _ in range(steps):
        X = rng.standard_normal((bs, d))
        batches.append((X, teacher(X)))
    for r, m in enumerate(widths):
        a0, b0 = batch.network(0, r)
        A, B = _published_transcription(a0 / m, b0, batches, lr)
        a1, b1 = res.batch.network(0, r)
        np.testing.assert_allclose(a1 / m, A, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(b1, B, rtol=1e-13, atol=1e-15)
    # the sequential order matters: the simultaneous update is a different step
    other = train(batch, FreshSamples(teacher, [seeded(6)], bs),
                  Dynamics(lr, lr_b_scale=bs, order="simultaneous"), steps)
    assert not np.allclose(other.batch.b, res.batch.b, rtol=1e-10, atol=0)


def test_fresh_batches_are_the_generator_stream_whatever_the_chunk():
    teacher = _teacher()
    ref = seeded(1)
    for chunk in (1, 3, 10):
        data = FreshSamples(teacher, [seeded(1)], 5, chunk=chunk)
        rng = seeded(1)
        for _ in range(7):
            X, y = data.next()
            expect = rng.standard_normal((5, 4))
            assert np.array_equal(X[0], expect)
            assert np.array_equal(y[0], teacher(expect))
    assert ref.standard_normal() == seeded(1).standard_normal()
    two = FreshSamples([teacher, _teacher(seed=1)], [seeded(1), seeded(2)], 5)
    X, _ = two.next()
    assert np.array_equal(X[1], seeded(2).standard_normal((5, 4)))


def test_a_network_in_a_batch_equals_the_network_trained_alone():
    d, widths, teacher = 3, (2, 5, 9), _teacher(d=3)
    def init(s, r):
        return seeded(11, s, widths[r])
    batch = ParticleBatch.init(widths, d, init)
    dyn = published_sgd(0.02, 20)
    res = train(batch, FreshSamples(teacher, [seeded(2)], 20), dyn, 300)
    for r, m in enumerate(widths):
        alone = ParticleBatch.init((m,), d, lambda s, _r, m=m: seeded(11, s, m))
        one = train(alone, FreshSamples(teacher, [seeded(2)], 20), dyn, 300)
        a, b = res.batch.network(0, r)
        # the same arithmetic in the same order: equal up to BLAS kernel choices
        np.testing.assert_allclose(one.batch.a[0], a, rtol=0, atol=1e-12)
        np.testing.assert_allclose(one.batch.b[0], b, rtol=0, atol=1e-12)
    # stacked streams (two repetitions with their own teachers) equal separate runs
    t2 = _teacher(d=3, seed=7)
    stacked = ParticleBatch.init(widths, d, init, streams=2)
    both = train(stacked, FreshSamples([teacher, t2], [seeded(2), seeded(3)], 20), dyn, 100)
    for s, (t, rng) in enumerate([(teacher, seeded(2)), (t2, seeded(3))]):
        single = ParticleBatch(widths, stacked.a[s:s + 1], stacked.b[s:s + 1])
        sep = train(single, FreshSamples(t, [rng], 20), dyn, 100)
        np.testing.assert_allclose(both.batch.a[s], sep.batch.a[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(both.batch.b[s], sep.batch.b[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "softplus"])
@pytest.mark.parametrize("loss", ["square", "logistic"])
def test_velocity_matches_the_problem_gradient(activation, loss):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 3))
    y = rng.standard_normal(30)
    if loss == "logistic":
        y = np.where(y >= 0, 1.0, -1.0)
    batch = ParticleBatch.init((1, 4, 7), 3, lambda s, r: seeded(4, s, r), alpha=2.0,
                               activation=activation)
    va, vb, risk = velocity(batch, FixedSample(X, y, loss=loss))
    for r, m in enumerate(batch.widths):
        a, b = batch.network(0, r)
        p = TwoLayerProblem(X, y, m, activation=activation, loss=loss, alpha=2.0,
                            x0=np.concatenate([a, b.ravel()]))
        g = m * p.grad(p.default_x0())
        lo, hi = batch.starts[r], batch.starts[r + 1]
        np.testing.assert_allclose(va[0, lo:hi], g[:m], rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(vb[0, lo:hi].ravel(), g[m:], rtol=1e-11, atol=1e-14)
        assert risk[0, r] == pytest.approx(4.0 * p.value(p.default_x0()), rel=1e-12)


@pytest.mark.parametrize("activation", ["relu", "softplus"])
@pytest.mark.parametrize("loss", ["square", "logistic", "exponential"])
@pytest.mark.parametrize("order", ["simultaneous", "sequential"])
def test_the_two_reductions_compute_the_same_steps(activation, loss, order):
    """Sums over samples in one compiled pass or as BLAS products: the same dynamics (up to
    rounding), with decay and per-layer rates, on a fixed sample and on minibatches."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((13, 3))
    y = np.where(rng.standard_normal(13) >= 0, 1.0, -1.0)
    batch = ParticleBatch.init((2, 5), 3, lambda s, r: seeded(4, s, r), streams=2, alpha=1.5,
                               activation=activation)
    dyn = Dynamics(0.1, lr_a_scale=0.5, lr_b_scale=2.0, order=order, weight_decay=0.3)
    for batch_size in (None, 4):
        runs = [train(batch, FixedSample(X, y, loss=loss, batch_size=batch_size,
                                         rng=seeded(3) if batch_size else None), dyn, 30,
                      reduction=reduction).batch for reduction in ("compiled", "blas")]
        np.testing.assert_allclose(runs[0].a, runs[1].a, rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(runs[0].b, runs[1].b, rtol=1e-11, atol=1e-13)
        assert np.abs(runs[0].b - batch.b).max() > 1e-3


def test_gradient_descent_matches_descentlab_run():
    rng = np.random.default_rng(5)
    teacher = _teacher(d=3, seed=5)
    X, y = TeacherStudentData(teacher).sample(50, rng)
    batch = ParticleBatch.init((8,), 3, lambda s, r: seeded(9))
    res = train(batch, FixedSample(X, y), Dynamics(0.3), 40)
    p = TwoLayerProblem(X, y, 8, x0=np.concatenate([batch.a[0], batch.b[0].ravel()]))
    trace_x = run(p, GD(step=p.mean_field_step(0.3)), budget_calls=40 * p.n, n_records=2)
    theta = p.default_x0()
    for _ in range(40):
        theta = theta - p.mean_field_step(0.3) * p.grad(theta)
    np.testing.assert_allclose(res.batch.a[0], theta[:8], rtol=1e-11)
    np.testing.assert_allclose(res.batch.b[0].ravel(), theta[8:], rtol=1e-11)
    assert trace_x.df["value"].iloc[-1] == pytest.approx(p.value(theta), rel=1e-12)


def test_single_precision_products_stay_close_to_double():
    teacher, d = _teacher(m0=3, d=30), 30
    batch = ParticleBatch.init((4, 12), d, lambda s, r: seeded(1, r))
    runs = {}
    for dtype in ("float64", "float32"):
        data = FreshSamples(teacher, [seeded(2)], 50)
        runs[dtype] = train(batch, data, published_sgd(0.005, 50), 300, matmul_dtype=dtype)
        assert runs[dtype].batch.b.dtype == np.float64  # the particles stay in float64
    gap = np.abs(runs["float32"].batch.b - runs["float64"].batch.b).max()
    moved = np.abs(runs["float64"].batch.b - batch.b).max()
    assert 0 < gap < 1e-4 * moved


def test_per_layer_learning_rates():
    teacher, d = _teacher(), 4
    batch = ParticleBatch.init((3, 5), d, lambda s, r: seeded(1, r))
    out_only = train(batch, FreshSamples(teacher, [seeded(2)], 10),
                     Dynamics(0.1, lr_b_scale=0.0), 20).batch
    assert np.array_equal(out_only.b, batch.b) and not np.array_equal(out_only.a, batch.a)
    in_only = train(batch, FreshSamples(teacher, [seeded(2)], 10),
                    Dynamics(0.1, lr_a_scale=0.0), 20).batch
    assert np.array_equal(in_only.a, batch.a) and not np.array_equal(in_only.b, batch.b)
    # a frozen input layer on a fixed sample keeps its features: both reductions agree
    X, y = TeacherStudentData(teacher).sample(40, seeded(5))
    frozen = [train(batch, FixedSample(X, y), Dynamics(0.1, lr_b_scale=0.0), 20,
                    reduction=reduction).batch for reduction in ("compiled", "blas")]
    assert all(np.array_equal(f.b, batch.b) for f in frozen)
    np.testing.assert_allclose(frozen[0].a, frozen[1].a, rtol=1e-12)


def test_population_velocity_of_a_batch_matches_each_network():
    teacher = _teacher(d=3, seed=2)
    batch = ParticleBatch.init((1, 4, 6), 3, lambda s, r: seeded(8, r), alpha=1.5)
    va, vb, risk = velocity(batch, PopulationRisk(teacher))
    for r in range(3):
        a, b = batch.network(0, r)
        ra, rb, rr = population_velocity(a, b, teacher, alpha=1.5)
        lo, hi = batch.starts[r], batch.starts[r + 1]
        np.testing.assert_allclose(va[0, lo:hi], ra, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(vb[0, lo:hi], rb, rtol=1e-12, atol=1e-14)
        assert risk[0, r] == pytest.approx(rr * 1.5**2, rel=1e-12)


def test_polar_flow_gives_the_cartesian_trajectory():
    """Eq. (4.1): for a 2-homogeneous model the polar flow is the same trajectory."""
    teacher = _teacher(m0=2, d=3, seed=4)
    batch = ParticleBatch.init((3, 5), 3, lambda s, r: seeded(2, r))  # balanced start
    data = PopulationRisk(teacher)
    times = np.linspace(0, 3.0, 7)
    cart = gradient_flow(batch, data, 3.0, t_eval=times, rtol=1e-12, atol=1e-13)
    polar = polar_flow(batch, data, 3.0, t_eval=times, rtol=1e-12, atol=1e-13)
    assert np.max(np.abs(cart.a - polar.a)) < 1e-8
    assert np.max(np.abs(cart.b - polar.b)) < 1e-8
    assert np.max(np.abs(cart.b[-1] - cart.b[0])) > 0.1  # the particles did move
    assert np.all(np.diff(cart.risk[:, 0], axis=0) < 0)  # a gradient flow: risk decreases
    # an unbalanced particle (|a| > |b|) reaches b = 0 in finite time: no silent stall
    unbalanced = ParticleBatch.init((3, 5), 3, lambda s, r: seeded(2, r), b_init="gaussian",
                                    a_init="gaussian")
    with pytest.raises(DescentlabError, match="^max_evals:"):
        gradient_flow(unbalanced, data, 3.0, rtol=1e-8, atol=1e-9, max_evals=3000)
    with pytest.raises(DescentlabError, match="^activation:"):
        polar_flow(ParticleBatch.init((2,), 3, lambda s, r: seeded(1), activation="softplus"),
                   FixedSample(np.ones((3, 3)), np.ones(3)), 1.0)


def test_small_steps_converge_to_the_flow_at_first_order():
    teacher = _teacher(m0=2, d=3, seed=4)
    batch = ParticleBatch.init((4,), 3, lambda s, r: seeded(3))
    data = PopulationRisk(teacher)
    exact = gradient_flow(batch, data, 1.0, rtol=1e-12, atol=1e-13)
    errors, polar_gaps = [], []
    for dt in (0.02, 0.01):
        euler = gradient_flow(batch, data, 1.0, method="euler", dt=dt)
        errors.append(np.max(np.abs(euler.b[-1] - exact.b[-1])))
        pol = polar_flow(batch, data, 1.0, method="euler", dt=dt)
        polar_gaps.append(np.max(np.abs(pol.b[-1] - euler.b[-1])))
    assert errors[1] / errors[0] == pytest.approx(0.5, rel=0.1)       # O(dt)
    assert polar_gaps[1] / polar_gaps[0] == pytest.approx(0.5, rel=0.2)


def test_two_seeds_at_large_width_give_close_risk_curves():
    """Mean-field limit (Theorem 1): with many particles the risk curve no longer depends
    on the initial draw; with few it does. Six seeds per width, full-batch GD; the spread
    of R(t) across seeds shrinks like 1/sqrt(m) (a factor 10 from m = 20 to 2000)."""
    teacher = _teacher(m0=3, d=3, seed=1)
    X, y = TeacherStudentData(teacher).sample(300, np.random.default_rng(0))
    data = FixedSample(X, y)
    steps = np.arange(0, 101, 5)
    spread, gap = {}, {}
    for m in (20, 2000):
        batch = ParticleBatch.init((m,) * 6, 3, lambda s, r: seeded(100 + r))  # six seeds
        with threadpool_limits(limits=1):
            res = train(batch, data, Dynamics(0.2), 100, record_at=steps)
        curves = res.loss[:, 0, :]  # (T, 6): the training risk, exactly, at the records
        assert np.all(curves[-1] < 0.01 * curves[0])  # every network learns
        scale = curves[0].mean()
        spread[m] = np.max(curves.std(axis=1, ddof=1)) / scale
        gap[m] = np.max(np.ptp(curves, axis=1)) / scale  # worst pair of seeds
    assert gap[2000] < 0.06 < gap[20]
    assert spread[2000] < spread[20] / 4


def test_divergence_names_the_step_size():
    batch = ParticleBatch.init((3,), 4, lambda s, r: seeded(1))
    with pytest.raises(DivergenceError, match="'lr'"):
        train(batch, FreshSamples(_teacher(), [seeded(2)], 10), Dynamics(1e6), 50,
              record_at=[50])


def test_records_and_snapshots():
    batch = ParticleBatch.init((2, 3), 4, lambda s, r: seeded(1, r))
    data = FreshSamples(_teacher(), [seeded(2)], 10)
    test = data.test_set(50, [seeded(3)])
    res = train(batch, data, Dynamics(0.1), 20, record_at=[0, 5, 20],
                observe=lambda b: {**snapshot(b), "risk": evaluate(b, test)[0]})
    assert list(res.record_steps) == [0, 5, 20]
    assert res.records["risk"].shape == (3, 1, 2) and np.isnan(res.loss[0]).all()
    assert np.array_equal(res.records["a"][0], batch.a)
    assert np.array_equal(res.records["b"][-1], res.batch.b)
    np.testing.assert_allclose(res.record_time[:, 0, 0], [0.0, 0.5, 2.0])
    h = res.batch.predict(test.X)
    np.testing.assert_allclose(res.records["risk"][-1, 0],
                               0.5 * np.mean((h[0] - test.y[0][:, None]) ** 2, axis=0),
                               rtol=1e-12)


def test_langevin_noise_and_weight_decay():
    """With tau > 0 a step adds sqrt(2 gamma tau) N(0, I) per coordinate, drawn for a then
    b from ``rng``; the weight decay multiplies by 1 - gamma lam (a flat loss isolates both:
    all-zero targets and output weights give a zero gradient)."""
    X = np.random.default_rng(0).standard_normal((20, 3))
    batch = ParticleBatch((4,), np.zeros((1, 4)), np.ones((1, 4, 3)))
    gamma, tau, lam = 0.1, 0.5, 2.0
    res = train(batch, FixedSample(X, np.zeros(20)), Dynamics(gamma, temperature=tau,
                                                             weight_decay=lam), 1,
                rng=seeded(9))
    noise = seeded(9)
    sd = np.sqrt(2 * gamma * tau)
    np.testing.assert_allclose(res.batch.a, sd * noise.standard_normal((1, 4)), rtol=1e-14)
    np.testing.assert_allclose(res.batch.b, (1 - gamma * lam) + sd * noise.standard_normal(
        (1, 4, 3)), rtol=1e-14)
    # a schedule tau_k and the confinement lam_k = kappa tau_k
    dyn = Dynamics(gamma, temperature=lambda k: 1.0 / (k + 1), kappa=3.0)
    assert dyn.temperature_at(1) == (0.5, 1.5)


@pytest.mark.parametrize("reduction", ["blas", "gram"])
def test_early_stop_lets_finished_streams_leave_the_batch(reduction):
    """A stream whose networks stopped keeps its particles; the others go on exactly as if
    they had been trained alone (the batch shrinks, the arithmetic of a stream does not),
    with b X^T recomputed each step or updated through the Gram matrix."""
    teacher = _teacher(d=3)
    X = np.stack([TeacherStudentData(teacher).sample(30, seeded(s))[0] for s in range(3)])
    y = np.stack([teacher(x) for x in X])
    y[1] *= 1e-3  # stream 1 starts almost fitted: it stops first
    batch = ParticleBatch.init((4,), 3, lambda s, r: seeded(6, s), streams=3)
    dyn = Dynamics(0.5, schedule="curvature")
    res = train(batch, FixedSample(X, y), dyn, 400, stop=EarlyStop(rtol=1e-2, max_time=50.0),
                reduction=reduction)
    stop = res.stopped_at[:, 0]
    assert stop[1] < stop[0] < stop[2] == 400  # stream 2 runs to the last step
    assert np.all(res.stop_loss[:2, 0] <= 1e-2 * res.loss[0, :2, 0])
    for s in range(3):
        alone = train(batch.streams([s]), FixedSample(X[s], y[s]), dyn, int(stop[s]),
                      reduction=reduction)
        np.testing.assert_array_equal(alone.batch.a[0], res.batch.a[s])
        np.testing.assert_array_equal(alone.batch.b[0], res.batch.b[s])
        assert alone.time[0, 0] == res.time[s, 0]
    # the time budget stops the others
    short = train(batch, FixedSample(X, y), dyn, 400, stop=EarlyStop(max_time=1.0),
                  reduction=reduction)
    assert np.all(short.time >= 1.0) and np.all(short.stopped_at < 400)


def test_gram_update_is_gradient_descent_in_the_span_of_the_inputs():
    """b - b(0) in the span of the x_i: the Gram update is the same dynamics as b X^T
    recomputed (up to rounding), with inputs in dimension 40 > n = 12."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((12, 40)) / 6, rng.standard_normal(12)
    batch = ParticleBatch.init((3, 6), 40, lambda s, r: seeded(2, r), alpha=6.0)
    for order in ("simultaneous", "sequential"):
        dyn = Dynamics(0.3, lr_b_scale=2.0, order=order)
        runs = [train(batch, FixedSample(X, y), dyn, 50, record_at=10, reduction=reduction)
                for reduction in ("blas", "gram")]
        np.testing.assert_allclose(runs[0].batch.b, runs[1].batch.b, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(runs[0].loss, runs[1].loss, rtol=1e-11)
        assert np.all(runs[0].loss[-1] < 0.8 * runs[0].loss[0])  # they learn


def test_particle_positions_and_animation(tmp_path):
    a = np.array([1.0, -2.0, 0.0])
    b = np.array([[1.0, 0.0], [0.0, 3.0], [1.0, 1.0]])
    pos = particle_positions(a, b)
    np.testing.assert_allclose(pos[0], [np.tanh(0.5), 0.0])
    np.testing.assert_allclose(pos[1], [0.0, np.tanh(3.0)])
    assert np.all(pos[2] == 0.0)
    rng = np.random.default_rng(0)
    frames_a = [rng.standard_normal((5, m)) for m in (3, 40)]
    frames_b = [rng.standard_normal((5, m, 2)) for m in (3, 40)]
    path = animate(frames_a, frames_b, [0, 1, 2, 3, 4], tmp_path / "flow.gif",
                   teacher=_teacher(d=2), titles=["m = 3", "m = 40"])
    from PIL import Image

    with Image.open(path) as im:
        assert im.n_frames == 5
    assert path.stat().st_size < 3e6


@pytest.mark.parametrize("call, argument", [
    (lambda: ParticleBatch((2, 3), np.zeros((1, 4)), np.zeros((1, 4, 2))), "a"),
    (lambda: ParticleBatch((2,), np.zeros((1, 2)), np.zeros((2, 2, 2))), "b"),
    (lambda: ParticleBatch((), np.zeros((1, 0)), np.zeros((1, 0, 2))), "widths"),
    (lambda: Dynamics(0.0), "lr"),
    (lambda: Dynamics(0.1, order="jacobi"), "order"),
    (lambda: Dynamics(0.1, schedule="cosine"), "schedule"),
    (lambda: Dynamics(0.1, temperature=-1.0), "temperature"),
    (lambda: EarlyStop(rtol=0.0), "rtol"),
    (lambda: published_sgd(0.1, 0), "batch_size"),
    (lambda: FreshSamples(_teacher(), [0], 10), "rngs"),
    (lambda: FixedSample(np.ones((3, 2)), np.ones(4)), "X, y"),
    (lambda: train(ParticleBatch.init((2,), 3, lambda s, r: seeded(1)),
                   FixedSample(np.ones((3, 2)), np.ones(3)), Dynamics(0.1), 5), "data"),
    (lambda: train(ParticleBatch.init((2,), 2, lambda s, r: seeded(1)),
                   FixedSample(np.ones((3, 2)), np.ones(3), loss="softmin"), Dynamics(0.1), 5,
                   reduction="compiled"), "reduction"),
    (lambda: train(ParticleBatch.init((2,), 2, lambda s, r: seeded(1)),
                   FixedSample(np.ones((3, 2)), np.ones(3), loss="logistic"),
                   Dynamics(0.1, schedule="curvature"), 5), "schedule"),
    (lambda: train(ParticleBatch.init((2,), 4, lambda s, r: seeded(1)),
                   FreshSamples(_teacher(), [seeded(2)], 10), Dynamics(0.1), 5,
                   stop=EarlyStop(rtol=0.1)), "stop"),
    (lambda: train(ParticleBatch.init((2,), 4, lambda s, r: seeded(1)),
                   FreshSamples(_teacher(), [seeded(2)], 10), Dynamics(0.1, temperature=0.1),
                   5), "rng"),
    (lambda: train(ParticleBatch.init((2,), 2, lambda s, r: seeded(1)),
                   FixedSample(np.ones((3, 2)), np.ones(3)), Dynamics(0.1, weight_decay=0.1),
                   5, reduction="gram"), "reduction"),
    (lambda: train(ParticleBatch.init((2,), 4, lambda s, r: seeded(1)),
                   PopulationRisk(_teacher()), published_sgd(0.1, 5), 5), "order"),
    (lambda: train(ParticleBatch.init((2,), 4, lambda s, r: seeded(1)),
                   PopulationRisk(_teacher()), Dynamics(0.1), 5, record_at=[9]),
     "record_at"),
    (lambda: gradient_flow(ParticleBatch.init((2,), 4, lambda s, r: seeded(1)),
                           PopulationRisk(_teacher()), 1.0, method="rk4"), "method"),
    (lambda: seeded(-1), "seed"),
    (lambda: train(ParticleBatch.init((2,), 4, lambda s, r: seeded(1)),
                   PopulationRisk(_teacher()), Dynamics(0.1), 5, matmul_dtype="float16"),
     "matmul_dtype"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(DescentlabError, match=rf"^{argument}:"):
        call()
