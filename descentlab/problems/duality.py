"""Fenchel duality of the linear models: dual points, dual values, duality gaps.

The primal (``problems.linear``, phi_i the loss at target y_i, a_i the rows of X)

    P(x) = (1/n) sum_i phi_i(a_i . x) + g(x),   g(x) = lam2 ||x||^2 / 2 + lam1 ||x||_1

has the Fenchel dual (Shalev-Shwartz & Zhang 2013, Eq. (2); Ndiaye, Fercoq, Gramfort,
Salmon 2017, Eq. (3) in their scaling)

    D(alpha) = (1/n) sum_i -phi_i*(-alpha_i) - g*(v),   v = X^T alpha / n,

and P(x) >= F* >= D(alpha) for every x and every alpha (weak duality), with equality at the
optimum, where alpha*_i = -phi_i'(a_i . x*) and x* = grad g*(v*). The conjugates:

* least squares, phi(z) = (z - y)^2 / 2:     -phi*(-a) = a y - a^2 / 2;
* logistic, phi(z) = log(1 + e^(-y z)):      -phi*(-a) = -(b log b + (1 - b) log(1 - b)),
  b = y a in [0, 1] (-inf outside);
* g*(v) = sum_j (|v_j| - lam1)_+^2 / (2 lam2)  when lam2 > 0 (x = soft(v, lam1) / lam2);
  the indicator of ||v||_inf <= lam1 when lam2 = 0 (pure L1).

The dual point of a primal x (``dual_point``) is the optimality map alpha_i =
-phi_i'(a_i . x), made feasible:

* pure L1 (lam2 = 0): alpha is rescaled by min(1, lam1 / ||X^T alpha / n||_inf), the
  rescaling of gap-safe screening (Ndiaye et al. 2017, Eq. (11)); the gap then tends to 0
  linearly in ||x - x*||;
* unpenalized intercept (``fit_intercept=True``): its conjugate is the indicator of
  sum_i alpha_i = 0 (the last coordinate of v must vanish). Least squares: alpha is
  projected onto that hyperplane (alpha - mean(alpha)); logistic: the class with the larger
  sum of b_i = y_i alpha_i is scaled down to the other's sum, which keeps every b_i in
  [0, 1]. Both maps are continuous and fix alpha*, so the gap still tends to 0.

Without a penalty (reg=None, or lam = 0) the dual has no finite point in general (g* is the
indicator of v = 0): ``duality_gap`` raises. Everything is computed in float64.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from ..errors import DescentlabError

#: slack allowed (relative) on the dual constraints ||v||_inf <= lam1 and sum(alpha) = 0
CONSTRAINT_RTOL = 1e-9


def check_gap(problem) -> None:
    """Raise when ``problem`` has no duality gap (no penalty: the dual is degenerate)."""
    r = problem.regularizer
    if r.lam1 == 0.0 and r.lam2 == 0.0:
        raise DescentlabError(
            f"gap_tol: the duality gap needs a penalty (reg 'l2', 'l1' or 'elasticnet' with "
            f"lam > 0), got reg={r.reg!r}, lam={r.lam:g} on {type(problem).__name__}")


def _loss_derivative(problem, x: np.ndarray) -> np.ndarray:
    p = problem._as64()
    return p._dloss(p.X @ np.asarray(x, dtype=np.float64), p.y)


def dual_point(problem, x: np.ndarray) -> np.ndarray:
    """A feasible dual point built from the primal x (see the module docstring)."""
    check_gap(problem)
    p = problem._as64()
    alpha = -_loss_derivative(p, x)
    if p.fit_intercept:
        if p.loss_name == "logistic":
            b = p.y * alpha
            pos, neg = p.y > 0, p.y < 0
            sp_, sn = float(b[pos].sum()), float(b[neg].sum())
            if sp_ > sn:
                b[pos] *= sn / sp_
            elif sn > sp_:
                b[neg] *= sp_ / sn
            alpha = p.y * b
        else:
            alpha -= alpha.mean()
    r = p.regularizer
    if r.lam2 == 0.0:
        v = r.penalized(p.X.T @ alpha) / p.n
        top = float(np.abs(v).max(initial=0.0))
        if top > r.lam1:
            alpha *= r.lam1 / top
    return alpha


def dual_value(problem, alpha: np.ndarray) -> float:
    """D(alpha); -inf outside the dual domain (b_i outside [0, 1], constraints violated)."""
    check_gap(problem)
    p = problem._as64()
    alpha = np.asarray(alpha, dtype=np.float64)
    if p.loss_name == "logistic":
        b = p.y * alpha
        if np.any(b < 0.0) or np.any(b > 1.0):
            return -np.inf
        conj = -(xlogy(b, b) + xlogy(1.0 - b, 1.0 - b))
    else:
        conj = alpha * p.y - 0.5 * alpha * alpha
    v_all = p.X.T @ alpha / p.n
    r = p.regularizer
    if p.fit_intercept:
        scale = float(np.abs(alpha).mean()) if alpha.size else 0.0
        if abs(v_all[-1]) > CONSTRAINT_RTOL * max(scale, 1e-300):
            return -np.inf
    v = r.penalized(v_all)
    if r.lam2 > 0.0:
        excess = np.maximum(np.abs(v) - r.lam1, 0.0)
        g_conj = float(excess @ excess) / (2.0 * r.lam2)
    else:
        if float(np.abs(v).max(initial=0.0)) > r.lam1 * (1.0 + CONSTRAINT_RTOL):
            return -np.inf
        g_conj = 0.0
    return float(np.mean(conj)) - g_conj


def duality_gap(problem, x: np.ndarray) -> float:
    """P(x) - D(dual_point(x)) >= F(x) - F* >= 0 (up to rounding)."""
    p = problem._as64()
    x = np.asarray(x, dtype=np.float64)
    return p.value(x) - dual_value(p, dual_point(p, x))


def primal_of_dual(problem, alpha: np.ndarray) -> np.ndarray:
    """x = grad g*(X^T alpha / n) = soft(v, lam1) / lam2 (lam2 > 0, no intercept)."""
    p = problem._as64()
    r = p.regularizer
    if r.lam2 == 0.0 or p.fit_intercept:
        raise DescentlabError("alpha: the primal point of a dual one needs lam2 > 0 and no "
                              "intercept")
    v = p.X.T @ np.asarray(alpha, dtype=np.float64) / p.n
    return np.sign(v) * np.maximum(np.abs(v) - r.lam1, 0.0) / r.lam2
