"""Compiled loops of the dual methods (SDCA, prox-SDCA, MISO) on linear models (numba).

Both keep one scalar per sample, alpha_i, and the dense vectors

    v = X^T alpha / n,   w = soft(v - s, lam1) / lam2   (the primal point, grad g*(v - s))

with s the linear shift of the components (zero except in Catalyst's subproblems) and
g = lam2 ||.||^2 / 2 + lam1 ||.||_1. A step on sample i changes alpha_i by delta and then
v and w on the nonzeros of row a_i only (O(nnz_i); no lazy bookkeeping is needed: w is a
coordinate-wise function of v).

* ``RULE_SDCA`` (Shalev-Shwartz & Zhang 2013, Procedure SDCA, option I; prox-SDCA 2014 for
  lam1 > 0): delta maximizes -phi_i*(-(alpha_i + delta)) - delta a_i . w
  - delta^2 ||a_i||^2 / (2 lam2 n) (the dual, with g* bounded by its 1/lam2-smooth
  quadratic model; exact for lam1 = 0). Least squares: delta = (y - a_i.w - alpha_i)/(1 + q),
  q = ||a_i||^2 / (lam2 n). Logistic: with b = y (alpha_i + delta) = sigmoid(t) the
  optimality condition is h(t) = -t - y a_i.w - q (sigmoid(t) - b0) = 0, h decreasing with
  h' in [-(1 + q/4), -1] and its root in [-c - q (1 - b0), -c + q b0] (c = y a_i.w):
  safeguarded Newton steps in t (the logit of b, as liblinear's dual solver, Yu, Huang and
  Lin 2011, works away from b = 0, 1), to |step| <= 1e-13 (1 + |t|).
* ``RULE_MISO`` (Mairal 2015; the variant of Lin, Mairal, Harchaoui 2015 for any n):
  alpha_i <- (1 - delta) alpha_i + delta (-phi_i'(a_i . w)) with the given mixing delta
  (the surrogate of f_i = phi_i + lam2 ||.||^2 / 2 + s . x at the current point, averaged).
"""

from __future__ import annotations

import math

from numba import njit

from .linear import dloss
from .losses import LossCode, log1p_exp, sigmoid
from .variance_reduced import soft

RULE_SDCA = 0
RULE_MISO = 1
_SQUARE = int(LossCode.SQUARE)
NEWTON_MAX = 60


@njit(cache=True, inline="always", error_model="numpy")
def _h(t, c, q, b0):
    return -t - c - q * (sigmoid(t) - b0)


@njit(cache=True, error_model="numpy")
def logistic_dual_step(b0, c, q, t0):
    """(b, logit(b)) for the b in [0, 1] maximizing
    -b log b - (1-b) log(1-b) - c b - q (b - b0)^2 / 2, given t0 = logit(b0) (or +-inf).

    With b = sigmoid(t) the optimality condition is h(t) = -t - c - q (sigmoid(t) - b0) = 0,
    h decreasing, concave for t < 0 and convex for t > 0. The sign of h(0) tells on which
    side the root lies; Newton's method started between 0 and the root (from t0 when it lies
    there, where h(t0) = -t0 - c costs no exponential; else from the guess
    -c - q (sigmoid(-c) - b0) when it does, else from 0) converges monotonically (the tangent
    of a concave decreasing function overestimates it, so no iterate overshoots the root)
    and quadratically: it stops after a step below 1e-7 (1 + |t|), whose square is below the
    rounding of t, or when rounding reverses the step.
    """
    h0 = -c - q * (0.5 - b0)
    if h0 == 0.0:
        return 0.5, 0.0
    side = 1.0 if h0 > 0.0 else -1.0  # sign of the root
    if side * t0 > 0.0 and side * (-t0 - c) >= 0.0 and math.isfinite(t0):
        t, s = t0, b0
    else:
        t = -c - q * (sigmoid(-c) - b0)
        if side * t > 0.0:
            s = sigmoid(t)
            if side * (-t - c - q * (s - b0)) < 0.0:
                t, s = 0.0, 0.5
        else:
            t, s = 0.0, 0.5
    for _ in range(NEWTON_MAX):
        h = -t - c - q * (s - b0)
        step = h / (1.0 + q * s * (1.0 - s))
        if side * step <= 0.0:  # at the root up to rounding
            break
        t += step
        s = sigmoid(t)
        if abs(step) <= 1e-7 * (1.0 + abs(t)):
            break
    return s, t


#: the packed layout: row i is the record rec[offs[i]:], holding alpha_i, logit(y_i alpha_i)
#: (SDCA's warm start on the logistic loss), ||a_i||^2, y_i, nnz(a_i) and then the pairs
#: (column index, value) of a_i. A step in a random order then reads two places in memory
#: (offs[i] and the record) instead of seven separate arrays (indptr, indices, data, y,
#: alpha, ||a_i||^2, the logit): the loops are bound by those cache misses, 2-3x faster so.
R_ALPHA, R_LOGIT, R_SQ, R_Y, R_NNZ, R_HEAD = 0, 1, 2, 3, 4, 5


@njit(cache=True, error_model="numpy")
def pack_rows(indptr, indices, data, y, alpha, logit, sq, rec, offs):
    """Fill the packed records (``rec`` of size 5 n + 2 nnz) and their offsets."""
    q = 0
    for i in range(alpha.shape[0]):
        offs[i] = q
        rec[q + R_ALPHA] = alpha[i]
        rec[q + R_LOGIT] = logit[i]
        rec[q + R_SQ] = sq[i]
        rec[q + R_Y] = y[i]
        rec[q + R_NNZ] = indptr[i + 1] - indptr[i]
        q += R_HEAD
        for p in range(indptr[i], indptr[i + 1]):
            rec[q] = indices[p]
            rec[q + 1] = data[p]
            q += 2


@njit(cache=True, error_model="numpy")
def unpack_alpha(rec, offs, out):
    for i in range(offs.shape[0]):
        out[i] = rec[offs[i] + R_ALPHA]


@njit(cache=True, error_model="numpy")
def dual_loop(rec, offs, code, v, w, shift, samples, lam1, lam2, rule, delta_mix, plain):
    """Dual coordinate steps on ``samples`` (see the module docstring) on the packed records
    (alpha and the logits in place), v and w in place. Every row read is one oracle call.
    ``plain`` (lam1 = 0 and s = 0, so w = v / lam2): only w is updated, and v = lam2 w is
    set at the end."""
    n = offs.shape[0]
    inv_n = 1.0 / n
    inv_lam2 = 1.0 / lam2
    for r in range(samples.shape[0]):
        o = offs[samples[r]]
        nnz = int(rec[o + R_NNZ])
        head = o + R_HEAD
        z = 0.0
        for j in range(nnz):
            z += rec[head + 2 * j + 1] * w[int(rec[head + 2 * j])]
        a0 = rec[o + R_ALPHA]
        yi = rec[o + R_Y]
        if rule == RULE_SDCA:
            q = rec[o + R_SQ] * inv_lam2 * inv_n
            if code == _SQUARE:
                new = a0 + (yi - z - a0) / (1.0 + q)
            else:
                b, rec[o + R_LOGIT] = logistic_dual_step(yi * a0, yi * z, q, rec[o + R_LOGIT])
                new = yi * b
        else:
            new = (1.0 - delta_mix) * a0 - delta_mix * dloss(z, yi, code)
        d = new - a0
        if d == 0.0:
            continue
        rec[o + R_ALPHA] = new
        d *= inv_n
        if plain:
            d *= inv_lam2
            for j in range(nnz):
                w[int(rec[head + 2 * j])] += d * rec[head + 2 * j + 1]
            continue
        for j in range(nnz):
            k = int(rec[head + 2 * j])
            vk = v[k] + d * rec[head + 2 * j + 1]
            v[k] = vk
            w[k] = soft(vk - shift[k], lam1) * inv_lam2
    if plain:
        for k in range(w.shape[0]):
            v[k] = lam2 * w[k]


@njit(cache=True, error_model="numpy")
def primal_from_dual(indptr, indices, data, alpha, shift, lam1, lam2, v, w):
    """v = X^T alpha / n and w = soft(v - s, lam1) / lam2, from scratch (drift-free)."""
    n = alpha.shape[0]
    v[:] = 0.0
    for i in range(n):
        a = alpha[i] / n
        if a != 0.0:
            for p in range(indptr[i], indptr[i + 1]):
                v[indices[p]] += a * data[p]
    for k in range(v.shape[0]):
        w[k] = soft(v[k] - shift[k], lam1) / lam2


@njit(cache=True, error_model="numpy")
def dual_objective(y, code, alpha, v, shift, lam1, lam2):
    """D(alpha) = (1/n) sum_i -phi_i*(-alpha_i) - g_s*(v) with g_s = g + s . x
    (g_s*(v) = g*(v - s)); -inf outside the domain of the logistic conjugate."""
    n = alpha.shape[0]
    total = 0.0
    for i in range(n):
        a = alpha[i]
        if code == _SQUARE:
            total += a * y[i] - 0.5 * a * a
        else:
            b = y[i] * a
            if b < 0.0 or b > 1.0:
                return -math.inf
            e = 0.0
            if b > 0.0:
                e -= b * math.log(b)
            if b < 1.0:
                e -= (1.0 - b) * math.log1p(-b)
            total += e
    g = 0.0
    for k in range(v.shape[0]):
        u = abs(v[k] - shift[k]) - lam1
        if u > 0.0:
            g += u * u
    return total / n - g / (2.0 * lam2)


@njit(cache=True, error_model="numpy")
def primal_objective(indptr, indices, data, y, code, w, shift, lam1, lam2):
    """P(w) = (1/n) sum_i phi_i(a_i . w) + lam2 ||w||^2 / 2 + lam1 ||w||_1 + s . w."""
    n = indptr.shape[0] - 1
    total = 0.0
    for i in range(n):
        z = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            z += data[p] * w[indices[p]]
        if code == _SQUARE:
            r = z - y[i]
            total += 0.5 * r * r
        else:
            total += log1p_exp(-y[i] * z)
    reg = 0.0
    for k in range(w.shape[0]):
        reg += 0.5 * lam2 * w[k] * w[k] + lam1 * abs(w[k]) + shift[k] * w[k]
    return total / n + reg

