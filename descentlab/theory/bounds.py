"""Bound curves of the theory, to be drawn next to the measured ones.

Notation: f is L-smooth (beta in seed 004), mu-strongly convex or mu-PL, gap0 = f(x0) - f*,
dist0_sq = ||x0 - x*||^2, k (or t) the number of iterations done. Every function returns
the bound at the given iteration counts (numpy arrays in, arrays out).

Gradient descent, step 1/L (seed 004, "Gradient descent"):

* ``gd_nonconvex_bound``  min_{i<t} ||grad f(x_i)||^2 <= 2 L gap0 / t   (smooth; telescoping
  ||grad f(x_i)||^2 / (2L) <= f(x_i) - f(x_{i+1}); seed 004 writes the min over i < t)
* ``gd_convex_bound``     f(x_t) - f* <= L dist0_sq / (2 t)             (smooth and convex)
* ``linear_bound``        f(x_k) - f* <= (1 - mu/L)^k gap0   (strongly convex, and PL with
  constant mu: seed 004, "Theorem: if L is beta-smooth and satisfies PL"; seed 003 App. II)

Nesterov's accelerated gradient (convex variant of ``descentlab.methods.Nesterov``, step
1/L; Nesterov 1983, 2004; Beck and Teboulle 2009 for the same bound for FISTA):

* ``nesterov_bound``      f(x_k) - f* <= 2 L dist0_sq / (k + 1)^2
* ``nesterov_strongly_convex_bound`` (constant momentum (sqrt kappa - 1)/(sqrt kappa + 1),
  mu-strongly convex f; Nesterov 2004, Thm 2.2.3 with gamma0 = mu):
  f(x_k) - f* <= (1 - sqrt(mu/L))^k (gap0 + mu dist0_sq / 2)

SGD on a smooth non-convex f with unbiased stochastic gradients bounded by G (seed 004,
"Stochastic gradient descent", the theorem and its proof), constant step eta for T steps:

* ``sgd_nonconvex_bound`` min_{t<T} E||grad f(w_t)||^2 <= gap0 / (eta T) + L eta G^2 / 2,
  minimized by eta = sqrt(2 gap0 / (L G^2 T)) (``sgd_optimal_step``) to
  sqrt(2 L G^2 gap0 / T): E||grad f|| <~ T^(-1/4). (gap0 may be replaced by f(x0) - inf f.)

Variance reduction, f = (1/n) sum f_i with each f_i L_max-smooth and convex, f mu-strongly
convex:

* ``saga_bound``  step 1/(3 L_max) (Defazio, Bach, Lacoste-Julien 2014, Thm 1):
  E||x_k - x*||^2 <= (1 - min(1/(4n), mu/(3 L_max)))^k (dist0_sq + 2n/(3 L_max) D0),
  D0 = f(x0) - f* - <grad f(x*), x0 - x*> (= gap0 for smooth f); k = SAGA iterations
  after the initial pass.
The tight worst cases (performance estimation) are in ``descentlab.theory.pep``;
``plot_pep`` draws them next to these bounds in one style (``PEP_STYLE``).

* ``svrg_bound``  step eta < 1/(2 L_max), m inner steps per snapshot (Johnson and Zhang
  2013, Thm 1, snapshot = a random inner iterate): E f(w_s) - f* <= alpha^s gap0 with
  alpha = 1/(mu eta (1 - 2 L_max eta) m) + 2 L_max eta / (1 - 2 L_max eta); s = epochs
  (snapshots). When alpha >= 1 the theorem says nothing and the bound is returned as NaN.
"""

from __future__ import annotations

import numpy as np

from ..errors import DescentlabError


def _arr(k) -> np.ndarray:
    return np.asarray(k, dtype=np.float64)


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        raise DescentlabError(f"{name}: expected a positive number, got {value!r}")
    return value


def gd_nonconvex_bound(t, L: float, gap0: float) -> np.ndarray:
    """2 L gap0 / t, the bound on min_{i<t} ||grad f(x_i)||^2 (inf at t = 0)."""
    t = _arr(t)
    with np.errstate(divide="ignore"):
        return np.where(t > 0, 2.0 * _positive("L", L) * gap0 / np.maximum(t, 1e-300), np.inf)


def gd_convex_bound(t, L: float, dist0_sq: float) -> np.ndarray:
    """L ||x0 - x*||^2 / (2 t), the bound on f(x_t) - f* (inf at t = 0)."""
    t = _arr(t)
    return np.where(t > 0, _positive("L", L) * dist0_sq / (2.0 * np.maximum(t, 1e-300)), np.inf)


def linear_bound(k, mu: float, L: float, gap0: float) -> np.ndarray:
    """(1 - mu/L)^k gap0 (GD, step 1/L, mu-strongly convex or mu-PL)."""
    mu, L = _positive("mu", mu), _positive("L", L)
    if mu > L:
        raise DescentlabError(f"mu, L: expected mu <= L, got mu={mu:g} > L={L:g}")
    return (1.0 - mu / L) ** _arr(k) * gap0


def nesterov_bound(k, L: float, dist0_sq: float) -> np.ndarray:
    """2 L ||x0 - x*||^2 / (k + 1)^2 (Nesterov's method, convex variant, step 1/L)."""
    return 2.0 * _positive("L", L) * dist0_sq / (_arr(k) + 1.0) ** 2


def nesterov_strongly_convex_bound(k, mu: float, L: float, gap0: float,
                                   dist0_sq: float) -> np.ndarray:
    """(1 - sqrt(mu/L))^k (gap0 + mu ||x0 - x*||^2 / 2) (strongly convex variant, step 1/L)."""
    mu, L = _positive("mu", mu), _positive("L", L)
    if mu > L:
        raise DescentlabError(f"mu, L: expected mu <= L, got mu={mu:g} > L={L:g}")
    return (1.0 - np.sqrt(mu / L)) ** _arr(k) * (gap0 + mu * dist0_sq / 2.0)


def sgd_nonconvex_bound(T, L: float, gap0: float, G: float, step) -> np.ndarray:
    """gap0 / (step T) + L step G^2 / 2: bound on min_{t<T} E||grad f(w_t)||^2 (seed 004)."""
    T, step = _arr(T), _arr(step)
    return gap0 / (step * T) + _positive("L", L) * step * float(G) ** 2 / 2.0


def sgd_optimal_step(T, L: float, gap0: float, G: float) -> np.ndarray:
    """The step sqrt(2 gap0 / (L G^2 T)) minimizing ``sgd_nonconvex_bound`` at horizon T."""
    return np.sqrt(2.0 * gap0 / (_positive("L", L) * _positive("G", G) ** 2 * _arr(T)))


def saga_rate(n: int, L_max: float, mu: float) -> float:
    """1 - min(1/(4n), mu/(3 L_max)): SAGA's contraction per iteration, step 1/(3 L_max)."""
    return 1.0 - min(1.0 / (4.0 * n), _positive("mu", mu) / (3.0 * _positive("L_max", L_max)))


def saga_bound(k, n: int, L_max: float, mu: float, dist0_sq: float, gap0: float) -> np.ndarray:
    """Bound on E||x_k - x*||^2 for SAGA with step 1/(3 L_max) (Defazio et al. 2014, Thm 1)."""
    C = dist0_sq + 2.0 * n / (3.0 * L_max) * gap0
    return saga_rate(n, L_max, mu) ** _arr(k) * C


def svrg_factor(L_max: float, mu: float, step: float, m: int) -> float:
    """alpha = 1/(mu eta (1 - 2 L eta) m) + 2 L eta/(1 - 2 L eta) (Johnson and Zhang 2013)."""
    L_max, mu, step = _positive("L_max", L_max), _positive("mu", mu), _positive("step", step)
    q = 1.0 - 2.0 * L_max * step
    if q <= 0:
        return float("inf")
    return 1.0 / (mu * step * q * m) + 2.0 * L_max * step / q


def svrg_bound(s, L_max: float, mu: float, step: float, m: int, gap0: float) -> np.ndarray:
    """alpha^s gap0 after s snapshots (NaN when alpha >= 1: no guarantee)."""
    alpha = svrg_factor(L_max, mu, step, m)
    s = _arr(s)
    if alpha >= 1:
        return np.full_like(s, np.nan)
    return alpha ** s * gap0


# ---------------------------------------------------------------------------- plot
def plot_with_bound(ax, x, measured, bound, *, label: str, bound_label: str | None = None,
                    color=None, x_bound=None, **kwargs):
    """Draw the measured curve (solid) and its bound (dashed, same colour) on ``ax``.

    Returns the two Line2D objects. ``x_bound`` defaults to ``x``.
    """
    (line,) = ax.plot(x, measured, color=color, label=label, **kwargs)
    xb = x if x_bound is None else x_bound
    (bline,) = ax.plot(xb, bound, "--", color=line.get_color(), lw=1.2,
                       label=bound_label if bound_label is not None else f"bound ({label})")
    return line, bline


#: the line style of PEP curves next to the textbook bounds (dashed): black, dotted, thick
PEP_STYLE = {"color": "k", "ls": ":", "lw": 2.0, "marker": ".", "ms": 5}


def plot_pep(ax, N, values, *, label: str = "PEP worst case (tight)", **kwargs):
    """Draw a PEP worst-case curve (``descentlab.theory.pep.worst_case_curve``) on ``ax`` in
    the one style every figure uses for it (``PEP_STYLE``); returns the Line2D."""
    (line,) = ax.plot(N, values, label=label, **{**PEP_STYLE, **kwargs})
    return line


__all__ = ["PEP_STYLE", "gd_convex_bound", "gd_nonconvex_bound", "linear_bound",
           "nesterov_bound", "nesterov_strongly_convex_bound", "plot_pep", "plot_with_bound",
           "saga_bound", "saga_rate", "sgd_nonconvex_bound", "sgd_optimal_step", "svrg_bound",
           "svrg_factor"]
