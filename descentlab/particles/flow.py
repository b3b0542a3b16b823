"""Gradient flows of the particles: Cartesian (Eq. 3.4) and polar (Eq. 4.1) of seed 002.

Cartesian flow, w_j = (a_j, b_j):   dw_j/dt = -grad J(w_j | mu) = -m grad_{w_j} G(W).

Polar flow, for a 2-homogeneous particle term (ReLU): w_j = r_j eta_j, |eta_j| = 1,

    dr_j/dt   = -2 r_j J(eta_j | nu),
    deta_j/dt = -(I - eta_j eta_j^T) grad J(eta_j | nu),      nu = (1/m) sum_j r_j^2 delta_eta_j,

which is the same trajectory (section 4.2): grad J(. | nu) is 1-homogeneous and
J(eta) = eta . grad J(eta) / 2 (Euler), so with V_j = grad J(w_j) the particle velocity,
grad J(eta_j) = V_j / r_j and dr_j/dt = -eta_j . V_j (a particle with r_j = 0 stays at 0).

Both integrate either with explicit Euler steps of size ``dt`` ("euler": for the Cartesian
flow the engine's gradient descent of Eq. 3.3 with gamma = dt, ``descentlab.particles.train``)
or with scipy's ``solve_ivp`` ("solve_ivp", adaptive Runge-Kutta, tolerances
``rtol``/``atol``), on the engine's vector field ``velocity``. The risk is a full-batch
``FixedSample`` (empirical) or ``PopulationRisk`` (exact, smooth in the particles away
from b_j = 0).

ReLU's vector field is not smooth at b_j = 0 and there it does not vanish: a particle
with |a_j| > |b_j| can reach b_j = 0 in finite time (|a_j|^2 - |b_j|^2 is conserved by the
flow), after which it chatters around 0 and an adaptive solver takes ever smaller steps.
Balanced starts (|a_j| = |b_j|, the default +-1 / unit-sphere initialisation) only
approach 0 asymptotically. ``solve_ivp`` runs stop with a DescentlabError after
``max_evals`` evaluations of the vector field instead of stalling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from .._validation import check_choice, check_positive
from ..errors import DescentlabError
from .batch import ParticleBatch
from .engine import Dynamics, snapshot, train, velocity

METHODS = ("euler", "solve_ivp")
MAX_EVALS = 200_000


def _counted(rhs, max_evals: int):
    """``rhs`` that raises once it has been evaluated ``max_evals`` times."""
    count = [0]

    def wrapped(t, w):
        count[0] += 1
        if count[0] > max_evals:
            raise DescentlabError(
                f"max_evals: solve_ivp evaluated the vector field {max_evals} times and "
                f"reached t = {t:.4g} only; a particle may have reached b_j = 0 (see "
                f"descentlab.particles.flow), use method='euler' or a balanced start")
        return rhs(t, w)

    return wrapped


@dataclass
class FlowResult:
    """times (T,); particles a (T, S, M), b (T, S, M, D); risk (T, S, R) at those times."""

    times: np.ndarray
    a: np.ndarray
    b: np.ndarray
    risk: np.ndarray

    def batch_at(self, k: int, like: ParticleBatch) -> ParticleBatch:
        return ParticleBatch(like.widths, self.a[k], self.b[k], like.alpha, like.activation)


def _times(t_end: float, t_eval) -> np.ndarray:
    t_end = check_positive("t_end", t_end)
    times = np.array([0.0, t_end]) if t_eval is None else np.asarray(t_eval, dtype=float)
    if times.ndim != 1 or times.size == 0 or np.any(np.diff(times) < 0) or times[0] < 0 \
            or times[-1] > t_end * (1 + 1e-12):
        raise DescentlabError(f"t_eval: expected increasing times in [0, {t_end}]")
    return times


def _result(batch: ParticleBatch, data, times, a: np.ndarray, b: np.ndarray) -> FlowResult:
    return FlowResult(times, a, b, np.stack([velocity(batch, data, a[k], b[k])[2]
                                             for k in range(len(times))]))


def _solve(field, u0: np.ndarray, v0: np.ndarray, times: np.ndarray, solver: str,
           rtol: float, atol: float, max_evals: int):
    """solve_ivp of (u, v)' = field(u, v); (times, u (T, ...), v (T, ...))."""
    nu = u0.size

    def rhs(_t, w):
        du, dv = field(w[:nu].reshape(u0.shape), w[nu:].reshape(v0.shape))
        return np.concatenate([du.ravel(), dv.ravel()])

    sol = solve_ivp(_counted(rhs, max_evals), (0.0, float(times[-1])),
                    np.concatenate([u0.ravel(), v0.ravel()]), method=solver, t_eval=times,
                    rtol=rtol, atol=atol)
    if not sol.success:
        raise DescentlabError(f"solve_ivp failed: {sol.message}; loosen rtol/atol or use "
                              f"method='euler'")
    return (sol.t, sol.y[:nu].T.reshape((-1,) + u0.shape),
            sol.y[nu:].T.reshape((-1,) + v0.shape))


def gradient_flow(batch: ParticleBatch, data, t_end: float, *, method: str = "solve_ivp",
                  dt: float = 1e-2, t_eval=None, rtol: float = 1e-10, atol: float = 1e-12,
                  solver: str = "DOP853", max_evals: int = MAX_EVALS) -> FlowResult:
    """Integrate dw_j/dt = -grad J(w_j | mu) for every network of ``batch`` up to ``t_end``.

    Returns the particles at the times ``t_eval`` (default: 0 and t_end). With
    ``method="euler"`` the times are rounded to multiples of ``dt``.
    """
    check_choice("method", method, METHODS)
    times = _times(t_end, t_eval)
    if method == "euler":
        dt = check_positive("dt", dt)
        velocity(batch, data)  # checks the data: a full-batch FixedSample or PopulationRisk
        ks = np.round(times / dt).astype(np.int64)
        res = train(batch, data, Dynamics(dt), int(ks.max()), record_at=ks, observe=snapshot)
        at = np.searchsorted(res.record_steps, ks)
        return FlowResult(times, res.records["a"][at], res.records["b"][at], res.loss[at])

    def field(a, b):
        va, vb, _ = velocity(batch, data, a, b)
        return -va, -vb

    return _result(batch, data, *_solve(field, batch.a, batch.b, times, solver, rtol, atol,
                                        max_evals))


def to_polar(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """r = |(a, b)| and eta = (a, b)/r per particle (eta = e_1 where r = 0)."""
    w = np.concatenate([a[..., None], b], axis=-1)
    r = np.linalg.norm(w, axis=-1)
    eta = np.where(r[..., None] > 0, w / np.where(r > 0, r, 1.0)[..., None], 0.0)
    eta[..., 0] = np.where(r > 0, eta[..., 0], 1.0)
    return r, eta


def from_polar(r: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = r[..., None] * eta
    return w[..., 0], w[..., 1:]


def polar_velocity(batch: ParticleBatch, data, r: np.ndarray, eta: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dr/dt, deta/dt, risk) of Eq. (4.1) at (r, eta)."""
    a, b = from_polar(r, eta)
    va, vb, risk = velocity(batch, data, a, b)
    V = np.concatenate([va[..., None], vb], axis=-1)
    alive = r > 0
    g = np.where(alive[..., None], V / np.where(alive, r, 1.0)[..., None], 0.0)  # grad J(eta)
    J = 0.5 * np.sum(eta * g, axis=-1)                                          # J(eta)
    dr = -2.0 * r * J
    deta = -(g - np.sum(eta * g, axis=-1)[..., None] * eta)
    return dr, deta, risk


def polar_flow(batch: ParticleBatch, data, t_end: float, *, method: str = "solve_ivp",
               dt: float = 1e-2, t_eval=None, rtol: float = 1e-10, atol: float = 1e-12,
               solver: str = "DOP853", max_evals: int = MAX_EVALS) -> FlowResult:
    """Integrate Eq. (4.1) in (r, eta) and return the particles w = r eta at ``t_eval``.

    Needs a 2-homogeneous particle term (``batch.activation == "relu"``). Euler steps
    renormalise eta onto the sphere after each step (a retraction; the continuous flow
    keeps |eta| = 1).
    """
    if batch.act.degree != 1:
        raise DescentlabError(f"activation: the polar form (Eq. 4.1) needs a 2-homogeneous "
                              f"model (relu), got {batch.activation!r}")
    check_choice("method", method, METHODS)
    times = _times(t_end, t_eval)
    r0, eta0 = to_polar(batch.a, batch.b)
    if method == "euler":
        dt = check_positive("dt", dt)
        r, eta = r0.copy(), eta0.copy()
        out_r, out_eta, k_done = [], [], 0
        for t in times:
            for _ in range(int(round(t / dt)) - k_done):
                dr, deta, _ = polar_velocity(batch, data, r, eta)
                r = r + dt * dr
                eta = eta + dt * deta
                eta /= np.linalg.norm(eta, axis=-1, keepdims=True)
            k_done = max(int(round(t / dt)), k_done)
            out_r.append(r)
            out_eta.append(eta)
        return _result(batch, data, times, *from_polar(np.stack(out_r), np.stack(out_eta)))

    t, r, eta = _solve(lambda r, eta: polar_velocity(batch, data, r, eta)[:2], r0, eta0,
                       times, solver, rtol, atol, max_evals)
    return _result(batch, data, t, *from_polar(r, eta))


__all__ = ["FlowResult", "from_polar", "gradient_flow", "polar_flow", "polar_velocity",
           "to_polar"]
