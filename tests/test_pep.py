"""descentlab.theory.pep: worst cases against closed forms of the literature, the PEP
iteration against descentlab's methods (same iterates), the disk cache, the errors.

References: Drori and Teboulle 2014 (GD, step 1/L: L R^2 / (4 N + 2)); Taylor, Hendrickx,
Glineur 2017 (GD, any h in (0, 2/L): L R^2 max(1/(4 N L h + 2), (1 - L h)^(2N) / 2), proved
for all h by Rotaru, Glineur, Patrinos 2024; strongly convex distance max(|1 - h L|,
|1 - h mu|)^(2N)); Taylor, Hendrickx, Glineur 2018 (proximal gradient, step 1/L:
L R^2 / (4 N)); Defazio, Bach, Lacoste-Julien 2014 Thm 1 (SAGA's Lyapunov rate); the
spectral closed forms of heavy ball and Nesterov on quadratics (companion matrices, computed
here independently of the PEP code); Abbaszadehpeivasti, de Klerk, Zamani 2023 Thm 3 (GD on
PL functions, one step) and seed 004's 1 - mu/L.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from descentlab.errors import DescentlabError
from descentlab.methods import FISTA, GD, HeavyBall, Nesterov, ProximalGradient
from descentlab.problems import LeastSquares, Quadratic
from descentlab.theory import pep
from descentlab.theory.bounds import saga_rate

TOL = 1e-4


def rel(a, b):
    return abs(a - b) / abs(b)


# ------------------------------------------------------------------ closed forms: GD
def test_gd_drori_teboulle():
    L, N = 3.0, 4
    assert rel(pep.worst_case("gd", L=L, n_steps=N), L / (4 * N * L * (1 / L) + 2)) < TOL


@pytest.mark.parametrize("hL", [0.5, 1.5, 1.9])
def test_gd_any_step_taylor_hendrickx_glineur(hL):
    L, N = 2.0, 3
    tight = L * max(1.0 / (4 * N * hL + 2), (1 - hL) ** (2 * N) / 2)
    assert rel(pep.worst_case("gd", L=L, step=hL / L, n_steps=N), tight) < TOL


def test_gd_strongly_convex_distance_and_gradient():
    L, mu, h, N = 1.0, 0.1, 1.5, 3
    rho2 = max(abs(1 - h * L), abs(1 - h * mu)) ** (2 * N)
    assert rel(pep.worst_case("gd", L=L, mu=mu, step=h, n_steps=N, performance="dist2"),
               rho2) < TOL
    # the gradient norm contracts by the same factor (grad f(x) = A (x - x*) on quadratics
    # and the worst case is the eigenvalue mu here): ||grad f(x_N)||^2 <= L^2 rho^(2N)
    g2 = pep.worst_case("gd", L=L, mu=mu, step=h, n_steps=N, performance="grad2")
    assert g2 <= L ** 2 * rho2 * (1 + TOL)
    assert g2 >= mu ** 2 * rho2 * (1 - TOL)  # the quadratic mu x^2/2 attains this


def test_ista_proximal_gradient_rate():
    L = 2.0
    for N in (1, 2):
        assert rel(pep.worst_case("ista", L=L, n_steps=N), L / (4 * N)) < TOL


def test_fista_first_steps_are_ista_and_below_the_bound():
    L = 1.0
    assert rel(pep.worst_case("fista", L=L, n_steps=2), L / 8) < TOL  # t_1 = 1: no momentum
    v3 = pep.worst_case("fista", L=L, n_steps=3)
    assert v3 < L / 12 and v3 <= 2 * L / 16  # accelerates past ISTA, below Beck-Teboulle


# ----------------------------------------------- closed forms: spectral (quadratics)
def _spectral_max(matrix_of, N, lams, weight=lambda lam: 1.0):
    """max over lambda of weight(lambda) * (first coordinate of M_N...M_1 [1, 1])^2."""
    best = 0.0
    for lam in lams:
        v = np.array([1.0, 1.0])
        for k in range(1, N + 1):
            v = matrix_of(lam, k) @ v
        best = max(best, weight(lam) * v[0] ** 2)
    return best


def test_heavy_ball_on_quadratics_spectral():
    L, mu, N = 1.0, 0.1, 5
    a = 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2
    b = ((math.sqrt(L) - math.sqrt(mu)) / (math.sqrt(L) + math.sqrt(mu))) ** 2
    exact = _spectral_max(lambda lam, k: np.array([[1 + b - a * lam, -b], [1.0, 0.0]]), N,
                          np.linspace(mu, L, 20001))
    got = pep.worst_case("heavy-ball", L=L, mu=mu, n_steps=N, performance="dist2",
                         function_class="quadratic")
    assert rel(got, exact) < TOL
    # over all smooth strongly convex functions Polyak's tuning is much worse (Lessard et
    # al. 2016: no global guarantee)
    assert pep.worst_case("heavy-ball", L=L, mu=mu, n_steps=N, performance="dist2") > 5 * got


def test_nesterov_on_quadratics_spectral():
    L, mu, N = 1.0, 0.05, 4
    sk = math.sqrt(L / mu)
    beta = (sk - 1) / (sk + 1)

    def sc(lam, k):
        c = 1 - lam / L
        return np.array([[(1 + beta) * c, -beta * c], [1.0, 0.0]])

    exact = _spectral_max(sc, N, np.linspace(mu, L, 20001))
    got = pep.worst_case("nesterov", L=L, mu=mu, n_steps=N, performance="dist2",
                         function_class="quadratic")
    assert rel(got, exact) < TOL

    def convex(lam, k):
        c, bk = 1 - lam / L, (k - 1) / (k + 2)
        return np.array([[(1 + bk) * c, -bk * c], [1.0, 0.0]])

    exact = _spectral_max(convex, N, np.linspace(0, L, 20001), weight=lambda lam: lam / 2)
    got = pep.worst_case("nesterov", L=L, n_steps=N, function_class="quadratic")
    assert rel(got, exact) < TOL
    # and the smooth convex class is harder, but within the textbook 2 L / (N + 1)^2
    smooth = pep.worst_case("nesterov", L=L, n_steps=N)
    assert got < smooth <= 2 * L / (N + 1) ** 2


# --------------------------------------------------------- SAGA and the PL class
def test_saga_lyapunov():
    L, mu, n = 1.0, 0.1, 3
    h = 1 / (2 * (mu * n + L))  # PEPit's example: the exact rate is 1 - h mu
    got = pep.worst_case("saga", L=L, mu=mu, step=h, n_steps=1, performance="lyapunov",
                         initial="lyapunov", n_functions=n)
    assert rel(got, 1 - h * mu) < TOL
    # descentlab's default step 1/(3 L_max): Defazio et al.'s Thm 1 rate is attained here
    got = pep.worst_case("saga", L=L, mu=mu, n_steps=1, performance="lyapunov",
                         initial="lyapunov", n_functions=n)
    assert got <= saga_rate(n, L, mu) * (1 + TOL)
    assert rel(got, saga_rate(n, L, mu)) < TOL


def test_gd_pl_class():
    L, mu = 1.0, 0.2
    got = pep.worst_case("gd", L=L, mu=mu, step=1 / L, n_steps=1, initial="f0-fstar",
                         function_class="pl")
    m, mp, g = -L, mu, 1 / L  # Abbaszadehpeivasti, de Klerk, Zamani 2023, Thm 3
    adz = (mp * (1 - L * g) + math.sqrt((L - m) * (m - mp) * (2 - L * g) * mp * g
                                       + (L - m) ** 2)) ** 2 / (L - m + mp) ** 2
    assert got <= adz * (1 + TOL) and got <= 1 - mu / L  # seed 004's rate
    assert got >= (1 - mu / L) ** 2  # the quadratic mu x^2 / 2 attains (1 - mu/L)^2
    assert rel(got, 0.6832669556) < TOL  # Rubbens, Hendrickx, Taylor 2025 (PEPit docs)


# ------------------------------------------- the PEP iteration is descentlab's method
def _quadratic(mu=1e-3):
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    A = Q @ np.diag(np.linspace(mu, 2.0, 6)) @ Q.T
    return Quadratic(A, rng.standard_normal(6))


def _lasso():
    rng = np.random.default_rng(1)
    return LeastSquares(rng.standard_normal((20, 8)), rng.standard_normal(20), reg="l1",
                        lam=0.1)


@pytest.mark.parametrize("method, problem", [
    (GD(), _quadratic()), (GD(step=0.8), _quadratic()),
    (HeavyBall(step=0.25, momentum=0.5), _quadratic()), (HeavyBall(), _quadratic(0.1)),
    (Nesterov(variant="convex"), _quadratic()), (Nesterov(), _quadratic(0.1)),
    (ProximalGradient(), _lasso()), (FISTA(restart=None), _lasso()),
])
def test_pep_iteration_is_descentlabs(method, problem):
    N = 7
    x0 = np.linspace(-1, 1, problem.dim)
    resolved = method.resolve(problem)
    state = resolved.advance(problem, resolved.init(problem, x0.copy(), None), None,
                             N * problem.n)
    assert state.iteration == N
    kind, params = pep.pep_spec(method, L=problem.L, mu=problem.mu)
    x = pep.iterate(kind, params, x0.copy(), N, problem.grad, problem.prox)
    np.testing.assert_allclose(x, state.x, rtol=1e-12, atol=1e-13)


def test_names_take_the_methods_defaults():
    L, mu = 4.0, 1.0
    assert pep.pep_spec("heavy-ball", L=L, mu=mu) == ("heavy-ball", (4 / 9, 1 / 9))
    assert pep.pep_spec("nesterov", L=L, mu=mu) == ("nesterov", (0.25, 1 / 3))
    assert pep.pep_spec("nesterov", L=L) == ("nesterov", (0.25, None))
    assert pep.pep_spec("gd", L=L, step=0.3) == ("gd", (0.3,))


# --------------------------------------------------------------- curve and cache
def test_curve_and_cache():
    kw = {"L": 1.0, "step": 0.7}
    assert not pep.is_cached("gd", n_steps=3, **kw)
    curve = pep.worst_case_curve("gd", n_steps=3, **kw)
    assert pep.is_cached("gd", n_steps=3, **kw)
    exact = [max(1 / (4 * N * 0.7 + 2), 0.3 ** (2 * N) / 2) for N in (1, 2, 3)]
    np.testing.assert_allclose(curve, exact, rtol=TOL)
    again = pep.worst_case_curve("gd", n_steps=[3, 1], **kw)
    np.testing.assert_array_equal(again, curve[[2, 0]])  # read back, bit for bit


# ------------------------------------------------------------------------ errors
@pytest.mark.parametrize("kwargs, match", [
    ({"method": "svrg"}, "svrg has no performance-estimation"),
    ({"method": "adam"}, "no performance-estimation formulation for adam"),
    ({"method": "fista", "restart": "gradient"}, "restart"),
    ({"method": "fista", "performance": "grad2"}, "performance: fista is composite"),
    ({"method": "gd", "L": 0}, "L: expected a positive number"),
    ({"method": "gd", "mu": 2.0}, r"mu: expected a number in \[0, L\)"),
    ({"method": "gd", "n_steps": 0}, "n_steps: expected an integer >= 1"),
    ({"method": "gd", "performance": "gap"}, "performance: expected one of"),
    ({"method": "gd", "function_class": "pl"}, "function_class: the PL class needs mu > 0"),
    ({"method": "nesterov", "mu": 0.1, "function_class": "pl", "initial": "f0-fstar"},
     "PL class is modelled for gd only"),
    ({"method": "saga", "n_steps": 2}, "saga's PEP is the one-step"),
    ({"method": GD(), "step": None, "momentum": 0.3}, "hyper: give the hyperparameters"),
    ({"method": 3}, "method: expected a method name"),
])
def test_errors(kwargs, match):
    args = {"L": 1.0, "n_steps": 2, **kwargs}
    with pytest.raises(DescentlabError, match=match):
        pep.worst_case(args.pop("method"), **args)
