"""Compiled coordinate loops on linear models (numba): coordinate descent and the inner solve
of the proximal Newton method.

The objective is, with per-coordinate weights (the coordinate ``free`` — the unpenalized
intercept, or -1 — has ridge ``lam2f`` instead of lam2 and no L1 term),

    F(x) = (1/n) sum_i phi(z_i, y_i) + sum_j [lam2_j x_j^2 / 2 + shift_j x_j + lam1_j |x_j|],

z = X x the margins, phi the loss ``code`` (``losses.LossCode``: SQUARE or LOGISTIC), ``shift``
the constant linear term of Catalyst's subproblems (zero otherwise). X is read by columns:
CSC arrays (cindptr, cindices, cdata) from ``LinearModel.csc_arrays``. The loops keep z up to
date in place, so a coordinate update costs the non-zeros of its column.

Every loop returns its work: the stored entries of the columns it visited, one read per
visit (the update of z along a changed column reuses it); the caller converts that work to
oracle calls (all of X, nnz entries, is n calls: one epoch over every coordinate).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .linear import dloss
from .losses import LossCode, log1p_exp, sigmoid
from .variance_reduced import soft

SQUARE = int(LossCode.SQUARE)


@njit(cache=True, inline="always", error_model="numpy")
def _weights(j, lam1, lam2, free, lam2f):
    """(lam1_j, lam2_j) of coordinate j."""
    if j == free:
        return 0.0, lam2f
    return lam1, lam2


@njit(cache=True, inline="always", error_model="numpy")
def _subdiff_distance(g, xj, l1):
    """Distance of -g to the subdifferential of l1 |.| at xj (skglm's optimality score)."""
    if xj > 0.0:
        return abs(g + l1)
    if xj < 0.0:
        return abs(g - l1)
    return max(abs(g) - l1, 0.0)


@njit(cache=True, error_model="numpy")
def value(y, code, z, x, lam1, lam2, shift, free, lam2f):
    """F(x) from the margins z = X x."""
    n = z.shape[0]
    total = 0.0
    if code == SQUARE:
        for i in range(n):
            r = z[i] - y[i]
            total += 0.5 * r * r
    else:
        for i in range(n):
            total += log1p_exp(-(y[i] * z[i]))
    total /= n
    for j in range(x.shape[0]):
        l1, l2 = _weights(j, lam1, lam2, free, lam2f)
        total += 0.5 * l2 * x[j] * x[j] + shift[j] * x[j] + l1 * abs(x[j])
    return total


@njit(cache=True, error_model="numpy")
def derivatives(y, code, z, r, h):
    """r_i = phi'(z_i), h_i = phi''(z_i) (h untouched when it has length 0)."""
    with_h = h.shape[0] > 0
    for i in range(z.shape[0]):
        if code == SQUARE:
            r[i] = z[i] - y[i]
            if with_h:
                h[i] = 1.0
        else:
            s = sigmoid(-(y[i] * z[i]))
            r[i] = -y[i] * s
            if with_h:
                h[i] = s * sigmoid(y[i] * z[i])  # s (1 - s) without cancellation


@njit(cache=True, error_model="numpy")
def gradient_scores(cindptr, cindices, cdata, r, h, x, coords, lam1, lam2, shift, free, lam2f,
                    grad, score, hess):
    """For j in ``coords``: grad[j] = dF_smooth/dx_j from r = phi'(z), score[j] = distance of
    -grad[j] to the subdifferential of lam1_j |x_j|, and (when ``h`` is given, length n)
    hess[j] = (1/n) sum_i X_ij^2 h_i + lam2_j. Returns the entries read."""
    n = r.shape[0]
    inv_n = 1.0 / n
    with_h = h.shape[0] > 0
    work = 0
    for t in range(coords.shape[0]):
        j = coords[t]
        l1, l2 = _weights(j, lam1, lam2, free, lam2f)
        g = 0.0
        hj = 0.0
        start, end = cindptr[j], cindptr[j + 1]
        if with_h:
            for p in range(start, end):
                v = cdata[p]
                i = cindices[p]
                g += v * r[i]
                hj += v * v * h[i]
            hess[j] = hj * inv_n + l2
        else:
            for p in range(start, end):
                g += cdata[p] * r[cindices[p]]
        work += end - start
        g = g * inv_n + l2 * x[j] + shift[j]
        grad[j] = g
        score[j] = _subdiff_distance(g, x[j], l1)
    return work


@njit(cache=True, error_model="numpy")
def cd_epoch(cindptr, cindices, cdata, y, code, x, z, lips, order, lam1, lam2, shift, free,
             lam2f):
    """One pass of proximal coordinate descent over the coordinates ``order`` (in place).

    x_j <- prox_{lam1_j / L_j}(x_j - grad_j F / L_j), L_j = lips[j] + lam2_j with
    lips[j] = sup(phi'') ||X_:j||^2 / n (exact minimization along j for the square loss);
    z follows. Returns the entries read."""
    n = z.shape[0]
    inv_n = 1.0 / n
    work = 0
    for t in range(order.shape[0]):
        j = order[t]
        l1, l2 = _weights(j, lam1, lam2, free, lam2f)
        lj = lips[j] + l2
        start, end = cindptr[j], cindptr[j + 1]
        if lj <= 0.0:
            continue
        g = 0.0
        if code == SQUARE:
            for p in range(start, end):
                i = cindices[p]
                g += cdata[p] * (z[i] - y[i])
        else:
            for p in range(start, end):
                i = cindices[p]
                g += cdata[p] * dloss(z[i], y[i], code)
        g = g * inv_n + l2 * x[j] + shift[j]
        old = x[j]
        new = soft(old - g / lj, l1 / lj)
        work += end - start
        if new != old:
            x[j] = new
            delta = new - old
            for p in range(start, end):
                z[cindices[p]] += delta * cdata[p]
    return work


@njit(cache=True, error_model="numpy")
def model_epoch(cindptr, cindices, cdata, ws, qh, hess, x, delta, lam1, lam2, shift, free,
                lam2f):
    """One epoch of coordinate descent on the proximal Newton model restricted to ``ws``:

        min_d  (1/n) sum_i [r_i (X d)_i + h_i (X d)_i^2 / 2] + sum_j in ws [lam2_j (x_j + d_j)^2
               / 2 + shift_j d_j + lam1_j |x_j + d_j|],

    r = phi'(z), h = phi''(z) given packed as the rows (r_i, h_i) of ``qh`` (n x 2; the first
    column is q = r + h X d: the model's derivative, one cache line per row; in place),
    hess[j] the diagonal (1/n) sum_i X_ij^2 h_i + lam2_j, ``delta`` the step on ws (length
    |ws|, in place). Returns (the largest optimality score of the model met during the
    epoch, entries read)."""
    inv_n = 1.0 / qh.shape[0]
    work = 0
    worst = 0.0
    for t in range(ws.shape[0]):
        j = ws[t]
        hj = hess[j]
        start, end = cindptr[j], cindptr[j + 1]
        if hj <= 0.0:
            continue
        l1, l2 = _weights(j, lam1, lam2, free, lam2f)
        g = 0.0
        for p in range(start, end):
            g += cdata[p] * qh[cindices[p], 0]
        u = x[j] + delta[t]
        g = g * inv_n + l2 * u + shift[j]
        worst = max(worst, _subdiff_distance(g, u, l1))
        new = soft(u - g / hj, l1 / hj)
        work += end - start
        if new != u:
            step = new - u
            delta[t] += step
            for p in range(start, end):
                i = cindices[p]
                qh[i, 0] += step * cdata[p] * qh[i, 1]
    return worst, work


@njit(cache=True, error_model="numpy")
def model_value(qh, r, ws, x, delta, lam1, lam2, shift, free, lam2f):
    """The proximal Newton model at the step ``delta`` (see ``model_epoch``) from q = r + h X d
    (the first column of ``qh``): with u = X d, r u + h u^2 / 2 = (q^2 - r^2) / (2 h)."""
    n = qh.shape[0]
    total = 0.0
    for i in range(n):
        total += (qh[i, 0] * qh[i, 0] - r[i] * r[i]) / qh[i, 1]
    total *= 0.5 / n
    for t in range(ws.shape[0]):
        j = ws[t]
        l1, l2 = _weights(j, lam1, lam2, free, lam2f)
        u = x[j] + delta[t]
        total += 0.5 * l2 * u * u + shift[j] * delta[t] + l1 * abs(u)
    return total


@njit(cache=True, error_model="numpy")
def column_product(cindptr, cindices, cdata, ws, delta, out):
    """out = X d for the step ``delta`` on the coordinates ``ws``. Returns the entries read."""
    out[:] = 0.0
    work = 0
    for t in range(ws.shape[0]):
        if delta[t] != 0.0:
            j = ws[t]
            for p in range(cindptr[j], cindptr[j + 1]):
                out[cindices[p]] += delta[t] * cdata[p]
            work += cindptr[j + 1] - cindptr[j]
    return work


@njit(cache=True, error_model="numpy")
def line_search(cindptr, cindices, cdata, y, code, z, xdelta, x, ws, delta, lam1, lam2, shift,
                free, lam2f, max_backtrack, ztmp, grad):
    """The largest step t in {1, 1/2, 1/4, ...} with

        lam1 (||x + t d||_1 - ||x||_1) + t grad f(x + t d) . d < 0

    on the coordinates ws (skglm's ProxNewton rule; by convexity of f it implies
    F(x + t d) < F(x)); grad[j] (j in ws) is left at the partial derivatives of the smooth
    part at x + t d. Returns (t, entries read); t = 0 when no step passes."""
    n = z.shape[0]
    inv_n = 1.0 / n
    old_pen = 0.0
    for t in range(ws.shape[0]):
        l1, _ = _weights(ws[t], lam1, lam2, free, lam2f)
        old_pen += l1 * abs(x[ws[t]])
    step = 1.0
    work = 0
    for _ in range(max_backtrack):
        for i in range(n):
            ztmp[i] = dloss(z[i] + step * xdelta[i], y[i], code)
        crit = -old_pen
        for t in range(ws.shape[0]):
            j = ws[t]
            l1, l2 = _weights(j, lam1, lam2, free, lam2f)
            u = x[j] + step * delta[t]
            g = 0.0
            for p in range(cindptr[j], cindptr[j + 1]):
                g += cdata[p] * ztmp[cindices[p]]
            work += cindptr[j + 1] - cindptr[j]
            g = g * inv_n + l2 * u + shift[j]
            grad[j] = g
            crit += l1 * abs(u) + step * g * delta[t]
        if crit < 0.0:
            return step, work
        step *= 0.5
    return 0.0, work


@njit(cache=True, error_model="numpy")
def margins(indptr, indices, data, x, out):
    """out = X x from the CSR rows of X."""
    for i in range(indptr.shape[0] - 1):
        total = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            total += data[p] * x[indices[p]]
        out[i] = total


def empty_float() -> np.ndarray:
    """A length-0 float64 array (the 'not wanted' argument of the kernels)."""
    return np.empty(0, dtype=np.float64)


__all__ = ["cd_epoch", "column_product", "derivatives", "empty_float", "gradient_scores",
           "line_search", "margins", "model_epoch", "model_value", "value"]
