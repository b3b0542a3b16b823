"""Semilocal PL certificates for f(x) = l(H(x)) (seed 003, "Semilocal convergence").

Setting (seed 003): H : R^D -> R^d smooth with Jacobian J_H(x) (a d x D matrix), l : R^d -> R
m-strongly convex and M-smooth, minimized at y*; f = l o H, f* = l(y*) when y* is reached.

**Theorem** (Kachaiev, Labarriere, Molinari, Villa '26; Chatterjee '22 for l = ||. - y*||^2/2):
if for some r > 0 there is sigma_r > 0 with

    sigma_min(J_H(x)) >= sigma_r  for all x in B(x0, r)   and
    y* in B(H(x0), r sigma_r sqrt(m/M)),

then f satisfies the PL inequality with mu = m sigma_r^2 on B(x0, r) and the gradient flow
from x0 converges to some x* with H(x*) = y*, f(x(t)) - f* <= exp(-2 mu t)(f(x0) - f*).

Here sigma_min(J) is the smallest of the d singular values of J, sqrt(lambda_min(J J^T));
it is what the PL argument needs (||grad f||^2 = ||J^T grad l||^2 >= sigma_min^2 ||grad l||^2
>= 2 m sigma_min^2 (l - l*)), and it is 0 when d > D (J^T has a kernel).

**Radii** (seed 003, "Where does x(t) go?" and Appendix II): under PL with constant mu on
the ball, the flow stays in B(x0, sqrt(2 (f(x0) - f*)/mu)), and GD with step 1/L stays in
B(x0, sqrt(8 (f(x0) - f*)/mu)) with f(x_k) - f* <= (1 - mu/L)^k (f(x0) - f*), provided PL
holds on that ball (and L bounds the curvature there). With f(x0) - f* <= M ||H(x0) - y*||^2/2
the second certificate condition gives sqrt(2 (f(x0) - f*)/mu) <= r: the flow's ball lies in
the certified one; the GD ball does when ||H(x0) - y*|| <= r sigma_r sqrt(m/M) / 2.

**Lower estimate of sigma_r.** A minimum over sampled points is an upper estimate of
sigma_r. A rigorous lower estimate comes from Weyl's inequality for singular values,
sigma_min(J(x)) >= sigma_min(J(x0)) - ||J(x) - J(x0)||_2 >= sigma_min(J(x0)) - Lip(J) r,
given a Lipschitz constant of x -> J_H(x) on the ball (``jac_lipschitz``). Both are
reported; ``sigma_r`` (the one the certificate uses) is the Weyl bound when ``jac_lipschitz``
is given (``rigorous=True``) and the sampled minimum otherwise.

**The toy network** (seed 003, "A simple example"): x = (a, w) in R^(1+d), H(a, w) = a w,
J_H = [w | a I_d], so J J^T = w w^T + a^2 I_d and sigma_min(J_H) = |a| when d >= 2 and
sqrt(a^2 + ||w||^2) when d = 1 (the seed writes sqrt(a^2 + ||w||^2) for every d, which is the
*largest* singular value when d >= 2; its bound sigma_min >= |a| >= |a0| - r is right in
both cases). J(x) - J(x') = [w - w' | (a - a') I] has norm exactly ||x - x'||, so Lip(J) = 1
and the Weyl bound gives sigma_r >= |a0| - r, the seed's value; with w0 = 0 and r = |a0|/2,
sigma_r = |a0|/2 and the certificate holds iff ||y*|| <= r sigma_r = a0^2/4. This is also
the exact minimum of sigma_min over the ball (reached at the point (|a0| - r) sign(a0), 0)).
The flow keeps a^2 - ||w||^2 constant (d/dt a^2 = d/dt ||w||^2 = -2 a w . (a w - y*)), and
w stays on the line of y*, so its limit is a^2 = (a0^2 + sqrt(a0^4 + 4 ||y*||^2))/2,
w = y*/a (``scalar_network_flow_limit``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ..errors import DescentlabError


# --------------------------------------------------------------------------- basics
def sigma_min(J) -> float:
    """Smallest of the d singular values of a d x D Jacobian (0 when d > D)."""
    J = np.atleast_2d(np.asarray(J, dtype=np.float64))
    d, D = J.shape
    if d > D:
        return 0.0
    return float(np.linalg.svd(J, compute_uv=False)[-1])


def flow_radius(gap0: float, mu: float) -> float:
    """sqrt(2 (f(x0) - f*) / mu): the gradient flow stays in this ball (seed 003)."""
    if mu <= 0:
        return float("inf")
    return float(np.sqrt(2.0 * max(gap0, 0.0) / mu))


def gd_radius(gap0: float, mu: float) -> float:
    """sqrt(8 (f(x0) - f*) / mu): GD with step 1/L stays in this ball (seed 003, App. II)."""
    if mu <= 0:
        return float("inf")
    return float(np.sqrt(8.0 * max(gap0, 0.0) / mu))


def sample_ball(center, radius: float, count: int, seed: int = 0,
                boundary_fraction: float = 0.5) -> np.ndarray:
    """``count`` points of the closed ball B(center, radius): uniform inside, plus a fraction
    on the boundary sphere (where minima of sigma_min over the ball usually lie)."""
    center = np.asarray(center, dtype=np.float64).ravel()
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((count, center.size))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    rad = radius * rng.random(count) ** (1.0 / center.size)
    rad[: int(boundary_fraction * count)] = radius
    return center + rad[:, None] * u


# --------------------------------------------------------------------- certificate
@dataclass(frozen=True)
class SemilocalCertificate:
    """Result of :func:`semilocal_certificate` (see the module docstring).

    ``holds``: y* in B(H(x0), r sigma_r sqrt(m/M)) with sigma_r > 0; ``flow_inside`` /
    ``gd_inside``: the flow / GD ball (radii from mu = m sigma_r^2 and ``gap0``) lies in
    B(x0, r), i.e. the certificate covers that dynamics.
    """

    r: float
    sigma_r: float
    sigma_r_lower: float | None
    sigma_r_sampled: float
    sigma_x0: float
    jac_lipschitz: float | None
    rigorous: bool
    residual: float
    target: float
    holds: bool
    m: float
    M: float
    mu: float
    gap0: float
    flow_radius: float
    gd_radius: float
    flow_inside: bool
    gd_inside: bool
    n_samples: int

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def sigma_min_on_ball(jac: Callable[[np.ndarray], np.ndarray], x0, r: float, *,
                      n_samples: int = 256, seed: int = 0, refine: int = 3) -> float:
    """Minimum of sigma_min(J_H(x)) over samples of B(x0, r), refined by local minimization.

    The ``refine`` best samples start SLSQP runs on x -> sigma_min(J_H(x)) under
    ||x - x0||^2 <= r^2. The result is an upper estimate of the true minimum over the ball.
    """
    x0 = np.asarray(x0, dtype=np.float64).ravel()
    pts = np.vstack([x0[None, :], sample_ball(x0, r, n_samples, seed)])
    vals = np.array([sigma_min(jac(p)) for p in pts])
    best = float(vals.min())
    if refine and r > 0:
        cons = {"type": "ineq", "fun": lambda x: r * r - float((x - x0) @ (x - x0))}
        for j in np.argsort(vals)[:refine]:
            res = optimize.minimize(lambda x: sigma_min(jac(x)), pts[j], method="SLSQP",
                                    constraints=[cons], options={"maxiter": 200, "ftol": 1e-12})
            x = res.x
            dist = float(np.linalg.norm(x - x0))
            if dist > r:  # project back onto the ball (SLSQP may overshoot slightly)
                x = x0 + (x - x0) * (r / dist)
            best = min(best, sigma_min(jac(x)))
    return best


def semilocal_certificate(H: Callable[[np.ndarray], np.ndarray],
                          jac: Callable[[np.ndarray], np.ndarray], x0, r: float, y_star, *,
                          m: float = 1.0, M: float = 1.0, gap0: float | None = None,
                          jac_lipschitz: float | None = None, n_samples: int = 256,
                          seed: int = 0, refine: int = 3) -> SemilocalCertificate:
    """Check the semilocal PL certificate of seed 003 for f = l o H on B(x0, r).

    ``gap0`` is f(x0) - f*; by default its upper bound M ||H(x0) - y*||^2 / 2 (exact for
    l = ||. - y*||^2 / 2). ``jac_lipschitz`` (a Lipschitz constant of J_H on the ball) makes
    sigma_r the rigorous Weyl bound sigma_min(J(x0)) - jac_lipschitz r.
    """
    x0 = np.asarray(x0, dtype=np.float64).ravel()
    y_star = np.asarray(y_star, dtype=np.float64).ravel()
    if not (np.isfinite(r) and r > 0):
        raise DescentlabError(f"r: expected a positive radius, got {r!r}")
    if not (m > 0 and M >= m):
        raise DescentlabError(f"m, M: expected 0 < m <= M, got m={m!r}, M={M!r}")
    h0 = np.asarray(H(x0), dtype=np.float64).ravel()
    if h0.shape != y_star.shape:
        raise DescentlabError(f"y_star: expected a vector of length {h0.size} (the output of H), "
                              f"got {y_star.size}")
    residual = float(np.linalg.norm(h0 - y_star))
    sig0 = sigma_min(jac(x0))
    sampled = sigma_min_on_ball(jac, x0, r, n_samples=n_samples, seed=seed, refine=refine)
    lower = None
    if jac_lipschitz is not None:
        if jac_lipschitz < 0:
            raise DescentlabError(f"jac_lipschitz: expected a non-negative number, got "
                                  f"{jac_lipschitz!r}")
        lower = max(0.0, sig0 - jac_lipschitz * r)
    sigma_r = lower if lower is not None else sampled
    target = r * sigma_r * float(np.sqrt(m / M))
    gap = 0.5 * M * residual ** 2 if gap0 is None else float(gap0)
    mu = m * sigma_r ** 2
    fr, gr = flow_radius(gap, mu), gd_radius(gap, mu)
    return SemilocalCertificate(
        r=float(r), sigma_r=float(sigma_r), sigma_r_lower=lower, sigma_r_sampled=sampled,
        sigma_x0=sig0, jac_lipschitz=jac_lipschitz, rigorous=lower is not None,
        residual=residual, target=target, holds=bool(sigma_r > 0 and residual <= target),
        m=float(m), M=float(M), mu=float(mu), gap0=float(gap), flow_radius=fr, gd_radius=gr,
        flow_inside=bool(mu > 0 and fr <= r), gd_inside=bool(mu > 0 and gr <= r),
        n_samples=int(n_samples))


# ------------------------------------------------------------------ the toy network
#: Lipschitz constant of x -> J_H(x) for H(a, w) = a w (||J(x) - J(x')||_2 = ||x - x'||)
SCALAR_NETWORK_JAC_LIPSCHITZ = 1.0


def scalar_network_map(d: int) -> tuple[Callable, Callable]:
    """(H, J_H) of the toy network H(a, w) = a w, x = (a, w) in R^(1+d)."""
    if d < 1:
        raise DescentlabError(f"d: expected an output dimension >= 1, got {d}")
    eye = np.eye(d)

    def H(x):
        return x[0] * x[1:]

    def jac(x):
        return np.column_stack([x[1:], x[0] * eye])

    return H, jac


def scalar_network_certificate(problem, r: float | None = None, **kwargs) -> SemilocalCertificate:
    """The certificate of seed 003 for a ``ScalarNetwork`` (default r = |a0|/2, Lip(J) = 1)."""
    H, jac = scalar_network_map(problem.y_star.size)
    r = problem.radius if r is None else r
    x0 = problem.default_x0()
    gap0 = problem.value(x0)  # f* = 0: y* is reachable whenever a0 != 0
    kwargs.setdefault("jac_lipschitz", SCALAR_NETWORK_JAC_LIPSCHITZ)
    return semilocal_certificate(H, jac, x0, r, problem.y_star, gap0=gap0, **kwargs)


def scalar_network_smoothness_bound(a0: float, y_norm: float, rho: float) -> float:
    """Upper bound of ||Hess f|| over B((a0, 0), rho) for f = ||a w - y*||^2 / 2.

    Hess f = [[||w||^2, c^T], [c, a^2 I]] with c = 2 a w - y*; its norm is its largest
    eigenvalue (s + a^2)/2 + sqrt(((a^2 - s)/2)^2 + ||c||^2) (s = ||w||^2; the smallest is
    at least minus that, the others equal a^2), increasing in s, a^2 and ||c||; on the ball
    s <= rho^2, a^2 <= (|a0| + rho)^2, ||c|| <= 2 (|a0| + rho) rho + ||y*||. For rho = |a0|/2
    this is ``ScalarNetwork.L``.
    """
    a0, rho = abs(float(a0)), float(rho)
    s, asq = rho ** 2, (a0 + rho) ** 2
    c = 2.0 * (a0 + rho) * rho + float(y_norm)
    return (s + asq) / 2.0 + float(np.hypot((asq - s) / 2.0, c))


def scalar_network_flow_limit(a0: float, y_star) -> np.ndarray:
    """Limit of the gradient flow from (a0, 0): a^2 - ||w||^2 = a0^2 and a w = y*."""
    y = np.asarray(y_star, dtype=np.float64).ravel()
    Y = float(np.linalg.norm(y))
    a = np.sign(a0) * np.sqrt((a0 ** 2 + np.sqrt(a0 ** 4 + 4.0 * Y ** 2)) / 2.0)
    return np.concatenate([[a], y / a])


__all__ = ["SCALAR_NETWORK_JAC_LIPSCHITZ", "SemilocalCertificate", "flow_radius", "gd_radius",
           "sample_ball", "scalar_network_certificate", "scalar_network_flow_limit",
           "scalar_network_map", "scalar_network_smoothness_bound", "semilocal_certificate",
           "sigma_min", "sigma_min_on_ball"]
