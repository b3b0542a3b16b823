"""The two-layer model (descentlab.problems.twolayer), the teacher data (descentlab.data.teacher)
and the closed forms of descentlab.theory.kernels: gradients, closed forms, init, input.

Independent references: central finite differences, explicit sums over the particles,
Monte Carlo estimates with their standard errors, and the Hessian at a zero-residual
point (where it equals the Gauss-Newton matrix) for the smoothness estimate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from descentlab import DescentlabError, run
from descentlab.data.teacher import Teacher, TeacherStudentData, add_bias
from descentlab.methods import GD, SGD
from descentlab.problems.twolayer import (
    TwoLayerProblem,
    forward,
    get_loss,
    init_particles,
    jacobian,
    velocity,
)
from descentlab.theory.kernels import (
    population_risk,
    population_velocity,
    relu_gaussian_kernel,
    relu_gaussian_kernel_grad,
)


def _sample(n=40, d=3, seed=0, loss="square"):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    if loss == "logistic":
        y = np.where(y >= 0, 1.0, -1.0)
    return X, y


@pytest.mark.parametrize("activation", ["relu", "softplus"])
@pytest.mark.parametrize("loss", ["square", "logistic"])
@pytest.mark.parametrize("alpha", [1.0, 7.0])
@pytest.mark.parametrize("bias", [False, True])
def test_gradient_matches_finite_differences(activation, loss, alpha, bias, fd_grad):
    X, y = _sample(loss=loss)
    if bias:
        X = add_bias(X)
    p = TwoLayerProblem(X, y, 6, activation=activation, loss=loss, alpha=alpha, init_seed=3,
                        a_init="gaussian", b_init="gaussian")
    theta = p.default_x0() + 0.1 * np.random.default_rng(1).standard_normal(p.dim)
    g = p.grad(theta)
    ref = fd_grad(p.value, theta, h=1e-6)
    assert np.max(np.abs(g - ref)) <= 1e-8 * max(1.0, np.max(np.abs(ref)))
    # the particle velocities are m times the Euclidean gradient (Eq. 3.4)
    a, b = p.unpack(theta)
    va, vb, G = velocity(a, b, X, y, alpha=alpha, activation=activation, loss=loss)
    np.testing.assert_allclose(np.concatenate([va, vb.ravel()]), p.m * g, rtol=1e-12,
                               atol=1e-15)
    assert G == pytest.approx(p.value(theta), rel=1e-14)
    np.testing.assert_allclose(jacobian(a, b, X, alpha=alpha, activation=activation).T
                               @ p.loss.grad(y, p.predict(theta)) / alpha**2, g, rtol=1e-10,
                               atol=1e-14)


@pytest.mark.parametrize("loss", ["square", "logistic", "exponential", "softmin"])
def test_loss_gradients_match_finite_differences(loss, fd_grad):
    rng = np.random.default_rng(2)
    f, y = rng.standard_normal(9), np.where(rng.standard_normal(9) >= 0, 1.0, -1.0)
    lo = get_loss(loss)
    np.testing.assert_allclose(lo.grad(y, f), fd_grad(lambda v: lo.value(y, v), f), atol=1e-9)
    if loss == "softmin":  # log((1/n) sum exp(-u)), evaluated without overflow
        assert lo.value(y, f) == pytest.approx(np.log(np.mean(np.exp(-y * f))), rel=1e-13)
        assert np.isfinite(lo.value(y, 1e4 * f))


def test_forward_is_the_average_of_the_particles():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(5), rng.standard_normal((5, 3))
    X = rng.standard_normal((7, 3))
    direct = [2.5 / 5 * sum(a[j] * max(b[j] @ x, 0.0) for j in range(5)) for x in X]
    np.testing.assert_allclose(forward(a, b, X, alpha=2.5), direct, rtol=1e-13)
    soft = [sum(a[j] * math.log1p(math.exp(b[j] @ x)) for j in range(5)) / 5 for x in X]
    np.testing.assert_allclose(forward(a, b, X, activation="softplus"), soft, rtol=1e-13)


def test_batch_grad_is_the_mean_of_component_gradients(fd_grad):
    X, y = _sample(n=30)
    p = TwoLayerProblem(X, y, 4, init_seed=1)
    theta = p.default_x0()
    idx = np.array([3, 3, 17, 0, 29])  # repeats count twice
    sub = TwoLayerProblem(X[idx], y[idx], 4, x0=theta)
    np.testing.assert_allclose(p.batch_grad(theta, idx), fd_grad(sub.value, theta),
                               atol=1e-8)
    np.testing.assert_allclose(p.batch_grad(theta, np.arange(30)), p.grad(theta), rtol=1e-12)


def test_lazy_scaling_divides_the_objective_by_alpha_squared():
    X, y = _sample()
    theta = TwoLayerProblem(X, y, 6).default_x0()
    for alpha in (1.0, 10.0):
        p = TwoLayerProblem(X, y, 6, alpha=alpha, x0=theta)
        h = alpha * forward(*p.unpack(theta), X)
        assert p.value(theta) == pytest.approx(np.mean((h - y) ** 2) / 2 / alpha**2, rel=1e-13)


def test_lazy_regime_moves_the_particles_by_order_one_over_alpha():
    """Seed 000: with h = alpha/m sum ... and the loss / alpha^2, the fit takes the same
    time for every alpha and the parameters move by O(1/alpha) (Chizat, Oyallon, Bach)."""
    X, y = _sample(n=30, d=3, seed=4)
    moves, gains = [], []
    for alpha in (100.0, 1000.0):
        p = TwoLayerProblem(X, y, 40, alpha=alpha, symmetric=True, init_seed=2)
        x0 = p.default_x0()
        assert abs(p.value(x0) - np.mean(y**2) / 2 / alpha**2) < 1e-12  # h = 0 at init
        trace = run(p, GD(step=p.mean_field_step(0.5)), budget_calls=300 * p.n, n_records=3)
        theta = x0
        for _ in range(300):
            theta = theta - p.mean_field_step(0.5) * p.grad(theta)
        gains.append(trace.df["value"].iloc[-1] / trace.df["value"].iloc[0])
        moves.append(np.linalg.norm(theta - x0) / np.linalg.norm(x0))
    assert gains[0] == pytest.approx(gains[1], rel=0.05)  # same decrease of the risk
    assert gains[0] < 0.5
    assert moves[1] / moves[0] == pytest.approx(0.1, rel=0.15)  # displacement ~ 1/alpha


def test_smoothness_estimate_is_the_hessian_norm_at_a_zero_residual_point():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((25, 2))
    a, b = init_particles(3, 2, rng)
    y = forward(a, b, X, activation="softplus")  # the student fits y exactly at x0
    p = TwoLayerProblem(X, y, 3, activation="softplus", x0=np.concatenate([a, b.ravel()]))
    x0 = p.default_x0()
    h = 1e-5
    H = np.column_stack([(p.grad(x0 + h * e) - p.grad(x0 - h * e)) / (2 * h)
                         for e in np.eye(p.dim)])
    assert p.L == pytest.approx(np.linalg.eigvalsh((H + H.T) / 2)[-1], rel=1e-6)
    assert p.L <= p.L_max


def test_generic_methods_run_on_the_flattened_parameters():
    teacher = Teacher.draw(2, 3, np.random.default_rng(0))
    X, y = TeacherStudentData(teacher).sample(200, np.random.default_rng(1))
    p = TwoLayerProblem(X, y, 20, init_seed=0)
    gd = run(p, GD(step=p.mean_field_step(0.5)), budget_epochs=300, n_records=5)
    assert gd.df["value"].iloc[-1] < 0.05 * gd.df["value"].iloc[0]
    sgd = run(p, SGD(step=p.mean_field_step(0.05), batch_size=10), budget_epochs=30, seed=1)
    assert sgd.df["value"].iloc[-1] < 0.5 * sgd.df["value"].iloc[0]


def test_relu_gaussian_kernel_matches_monte_carlo():
    rng = np.random.default_rng(0)
    U, V = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    V[0] = -2 * U[0]  # opposite directions: E = 0
    x = rng.standard_normal((400_000, 4))
    hu, hv = np.maximum(x @ U.T, 0), np.maximum(x @ V.T, 0)
    prod = hu[:, :, None] * hv[:, None, :]
    mc, se = prod.mean(0), prod.std(0) / math.sqrt(x.shape[0])
    K = relu_gaussian_kernel(U, V)
    assert np.all(np.abs(K - mc) <= 5 * se + 1e-12)
    assert K[0, 0] == 0.0
    assert relu_gaussian_kernel(U[:1], U[:1])[0, 0] == pytest.approx(U[0] @ U[0] / 2)


def test_relu_gaussian_kernel_gradient_matches_finite_differences(fd_jacobian):
    rng = np.random.default_rng(1)
    u, V = rng.standard_normal(3), rng.standard_normal((4, 3))
    G = relu_gaussian_kernel_grad(u[None], V)[0]  # (4, 3)
    J = fd_jacobian(lambda w: relu_gaussian_kernel(w[None], V)[0], u)  # (4, 3)
    np.testing.assert_allclose(G, J, atol=1e-8)
    assert np.all(relu_gaussian_kernel_grad(np.zeros((1, 3)), V) == 0.0)


def test_population_risk_and_velocity(fd_grad):
    rng = np.random.default_rng(2)
    teacher = Teacher.draw(3, 4, rng)
    a, b = init_particles(5, 4, rng)
    # Monte Carlo estimate of the risk, within 5 standard errors
    X, y = TeacherStudentData(teacher).sample(400_000, rng)
    sq = 0.5 * (forward(a, b, X) - y) ** 2
    assert abs(population_risk(a, b, teacher) - sq.mean()) <= 5 * sq.std() / math.sqrt(sq.size)
    # the velocity is m times the gradient of the closed form, for any alpha
    for alpha in (1.0, 3.0):
        def G(theta, alpha=alpha):
            return population_risk(theta[:5], theta[5:].reshape(5, 4), teacher,
                                   alpha=alpha) / alpha**2
        va, vb, risk = population_velocity(a, b, teacher, alpha=alpha)
        theta = np.concatenate([a, b.ravel()])
        np.testing.assert_allclose(np.concatenate([va, vb.ravel()]) / 5, fd_grad(G, theta),
                                   atol=1e-9)
        assert risk == pytest.approx(G(theta), rel=1e-14)
    # the teacher itself has zero risk
    assert population_risk(teacher.a * 3, teacher.b, teacher) < 1e-14


def test_teacher_and_data_model():
    rng = np.random.default_rng(3)
    teacher = Teacher.draw(10, 20, rng)
    np.testing.assert_allclose(np.linalg.norm(teacher.b, axis=1), 1.0, rtol=1e-14)
    assert set(np.unique(teacher.a)) <= {-1.0, 1.0}
    X, y = TeacherStudentData(teacher).sample(50, rng)
    np.testing.assert_allclose(y, [sum(teacher.a[k] * max(teacher.b[k] @ x, 0.0)
                                       for k in range(10)) for x in X], rtol=1e-12)
    again = Teacher.draw(10, 20, np.random.default_rng(3))
    assert np.array_equal(again.b, teacher.b) and np.array_equal(again.a, teacher.a)
    biased = TeacherStudentData(Teacher.draw(2, 4, rng), bias=True)
    Xb, _ = biased.sample(5, rng)
    assert Xb.shape == (5, 4) and np.all(Xb[:, -1] == 1.0) and biased.d == 3
    _, labels = TeacherStudentData(teacher, labels="sign").sample(100, rng)
    assert set(np.unique(labels)) == {-1.0, 1.0}


def test_initialisations():
    rng = np.random.default_rng(4)
    a, b = init_particles(1000, 5, rng, b_scale=2.0, a_scale=0.5)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 2.0, rtol=1e-14)
    assert set(np.unique(a)) == {-0.5, 0.5}
    assert abs(np.mean(a > 0) - 0.5) < 0.06
    a, b = init_particles(20_000, 5, rng, b_init="gaussian", b_scale=2.0, a_init="gaussian",
                          a_scale=3.0)
    assert np.mean(np.sum(b**2, axis=1)) == pytest.approx(4.0, rel=0.03)
    assert np.std(a) == pytest.approx(3.0, rel=0.03)
    a, b = init_particles(6, 3, rng, symmetric=True)
    assert np.array_equal(a[:3], -a[3:]) and np.array_equal(b[:3], b[3:])
    assert np.max(np.abs(forward(a, b, rng.standard_normal((10, 3))))) < 1e-15


@pytest.mark.parametrize("call, argument", [
    (lambda: TwoLayerProblem(np.ones((4, 2)), np.ones(4), 3, activation="tanh"), "activation"),
    (lambda: TwoLayerProblem(np.ones((4, 2)), np.ones(4), 3, loss="hinge"), "loss"),
    (lambda: TwoLayerProblem(np.ones((4, 2)), np.ones(4), 3, loss="softmin"), "loss"),
    (lambda: TwoLayerProblem(np.ones((4, 2)), np.array([1, 0, 1, -1.0]), 3, loss="logistic"),
     "y"),
    (lambda: TwoLayerProblem(np.ones((4, 2)), np.ones(3), 3), "y"),
    (lambda: TwoLayerProblem(np.ones(4), np.ones(4), 3), "X"),
    (lambda: TwoLayerProblem(np.full((4, 2), np.nan), np.ones(4), 3), "X"),
    (lambda: TwoLayerProblem(np.ones((4, 2)), np.ones(4), 0), "m"),
    (lambda: TwoLayerProblem(np.ones((4, 2)), np.ones(4), 3, alpha=-1.0), "alpha"),
    (lambda: TwoLayerProblem(np.ones((4, 2)), np.ones(4), 3, x0=np.ones(5)), "x0"),
    (lambda: TwoLayerProblem(np.ones((4, 2)), np.ones(4), 3).batch_grad(np.zeros(9), [4]),
     "idx"),
    (lambda: init_particles(3, 2, np.random.default_rng(), symmetric=True), "m"),
    (lambda: init_particles(3, 2, np.random.default_rng(), b_init="uniform"), "b_init"),
    (lambda: init_particles(3, 2, np.random.default_rng(), a_scale=0.0), "a_scale"),
    (lambda: init_particles(3, 2, 0), "rng"),
    (lambda: Teacher(np.ones(2), np.ones((3, 2))), "b"),
    (lambda: TeacherStudentData(Teacher(np.ones(1), np.ones((1, 2))), labels="binary"),
     "labels"),
    (lambda: population_risk(np.ones(2), np.ones((2, 3)), Teacher(np.ones(1), np.ones((1, 2)))),
     "b"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(DescentlabError, match=rf"^{argument}:"):
        call()
