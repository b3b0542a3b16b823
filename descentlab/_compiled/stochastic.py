"""Compiled loops of SGD, the adaptive methods (Adam, AdaGrad, RMSProp) and L-Katyusha on
linear models (numba), on the problem's ``linear_view()`` arrays.

Component i is f_i(x) = phi_i(a_i . x) + lam2 ||x||^2 / 2 + shift . x (the coordinate
``free``, the unpenalized intercept or -1, gets the ridge weight lam2f instead of lam2) and
h = lam1 ||x||_1 (see ``variance_reduced``). A batch gradient is
g_B(x) = (1/|B|) sum_{i in B} phi_i'(a_i . x) a_i + lam2 x + shift.

Lazy SGD (``sgd_lazy``). Between two iterations that touch coordinate k (through a sampled
row), its update is x_k <- S_{tau_i}(c_i x_k - s_i shift_k), c_i = 1 - s_i lam2,
tau_i = s_i lam1, s_i the step of iteration i (any schedule). With
P_i = prod_{l < i} c_l (the scaling trick of Bottou's "SGD tricks" and of Pegasos, Shalev-
Shwartz et al. 2007: x = P u, the L2 shrink is one scalar) and u = x / P, the positive branch
reads u_{i+1} = u_i - (tau_i + s_i shift_k) / P_{i+1}, so t steps at once are
x_t = (P_t / P_l) (x_l - P_l (T_t - T_l) - shift_k P_l (B_t - B_l)) with the prefix sums
T_t = sum_{i<t} tau_i / P_{i+1} and B_t = sum_{i<t} s_i / P_{i+1}. With lam1 > 0 (and no
shift) |u| decreases to 0 and stays there: the just-in-time soft threshold of Lipton and
Elkan (2015) and Tsuruoka et al. (2009)'s cumulative penalty made exact. The Polyak-Ruppert
sum of untouched iterates is x_l / P_l (Q_t - Q_l), Q_t the prefix sum of the averaged P_i.
P is renormalized (every coordinate caught up) when it falls below 1e-150 (1e-3 with
averaging, where the prefix sums Q would otherwise lose the digits of P_l). The methods
choose the lazy loop only where it is exact: no momentum, c_i > 0, no shift together with
lam1 > 0, averaging only when lam1 = 0 and the shift is zero; otherwise the dense loop.

Katyusha (``katyusha_dense``, ``katyusha_lazy``): with the snapshot w kept as n scalars
phi_j'(a_j . w) and the data part of grad g(w), the estimator is
g = weight_j (phi_j'(a_j . x) - phi_j'(a_j . w)) a_j + lam2 x + gw_data + shift (the L2 part
is exact, not sampled). For a coordinate outside row j and lam1 = 0 one iteration is the
affine map (z_k, y_k) <- M (z_k, y_k) + r_k with a 2 x 2 matrix M that is the same for every
coordinate and r_k depending on (w_k, gw_k, shift_k) only; ``katyusha_lazy`` catches up t
iterations with the tabulated M^t and sum_{i<t} M^i.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .linear import dloss
from .variance_reduced import full_pass, soft

RENORMALIZE_BELOW = 1e-150
#: with averaging: the sum of P_i over (l, t] is a difference of prefix sums Q_t - Q_l of
#: decreasing terms, whose rounding error eps Q_t / P_l must stay small against x_l / P_l
RENORMALIZE_AVERAGE_BELOW = 1e-3


# ------------------------------------------------------------------------------- SGD
@njit(cache=True, error_model="numpy")
def sgd_dense(indptr, indices, data, y, code, x, x_prev, x_avg, n_avg, idx, b, steps,
              avg_from, lam1, lam2, shift, free, lam2f, m, nesterov):
    """The reference recursion of ``methods.sgd.SGD``, every coordinate at every iteration.

    Iteration i uses the rows idx[i b:(i + 1) b] and the step steps[i]; plain, heavy-ball
    (m > 0) or Nesterov (``nesterov``) update, then the soft threshold s lam1 (not on
    ``free``); iterates of iterations i >= avg_from enter the running mean x_avg (n_avg
    of them so far). Returns the new n_avg. x and x_prev are updated in place."""
    d = x.shape[0]
    g = np.zeros(d)
    yv = x.copy()
    inv_b = 1.0 / b
    for i in range(steps.shape[0]):
        s = steps[i]
        if m != 0.0 and nesterov:
            for q in range(d):
                yv[q] = x[q] + m * (x[q] - x_prev[q])
        else:
            for q in range(d):
                yv[q] = x[q]
        g[:] = 0.0
        for r in range(b):
            j = idx[i * b + r]
            z = 0.0
            for p in range(indptr[j], indptr[j + 1]):
                z += data[p] * yv[indices[p]]
            gj = dloss(z, y[j], code) * inv_b
            for p in range(indptr[j], indptr[j + 1]):
                g[indices[p]] += gj * data[p]
        tau = s * lam1
        for q in range(d):
            lam = lam2f if q == free else lam2
            gq = g[q] + lam * yv[q] + shift[q]
            if m == 0.0:
                new = x[q] - s * gq
            elif nesterov:
                new = yv[q] - s * gq
            else:
                new = x[q] - s * gq + m * (x[q] - x_prev[q])
            if tau > 0.0 and q != free:
                new = soft(new, tau)
            x_prev[q] = x[q]
            x[q] = new
        if i >= avg_from:
            n_avg += 1
            if n_avg == 1:
                for q in range(d):
                    x_avg[q] = x[q]
            else:
                for q in range(d):
                    x_avg[q] += (x[q] - x_avg[q]) / n_avg
    return n_avg


@njit(cache=True, inline="always", error_model="numpy")
def _sgd_catch_up(x, asum, k, it, last, base, C, lam1, has_shift, shift, averaging):
    """Bring coordinate k from iteration last[k] to ``it`` (see the module docstring); row
    t - base of C holds (P_t, T_t, B_t, Q_t), one cache line per iteration."""
    lk = last[k] - base
    ic = it - base
    xl = x[k]
    pl = C[lk, 0]
    ratio = C[ic, 0] / pl
    if lam1 > 0.0:
        dt = (C[ic, 1] - C[lk, 1]) * pl
        if xl > dt:
            x[k] = ratio * (xl - dt)
        elif xl < -dt:
            x[k] = ratio * (xl + dt)
        else:
            x[k] = 0.0
    elif has_shift:
        x[k] = ratio * (xl - shift[k] * (C[ic, 2] - C[lk, 2]) * pl)
    else:
        x[k] = ratio * xl
    if averaging:
        asum[k] += xl / pl * (C[ic, 3] - C[lk, 3])
    last[k] = it


@njit(cache=True, error_model="numpy")
def sgd_lazy(indptr, indices, data, y, code, x, asum, idx, b, steps, avg_from, lam1, lam2,
             shift, free, lam2f, averaging):
    """Plain SGD (no momentum) with lazy updates, exact with respect to ``sgd_dense``.

    The prefix sums live in a table of max(1024, 2 d) iterations: when it is full (or P is
    small) every coordinate is caught up and the sums restart, O(d) every 2 d iterations at
    most, and the table stays in cache. On exit x is the last iterate (every coordinate
    current) and, with ``averaging``, asum holds the sum of the iterates of iterations
    i >= avg_from."""
    d = x.shape[0]
    k = steps.shape[0]
    period = max(1024, 2 * d)
    last = np.zeros(d, dtype=np.int64)
    C = np.zeros((period + 1, 4))
    C[0, 0] = 1.0
    base = 0
    has_shift = False
    for q in range(d):
        if shift[q] != 0.0 and q != free:
            has_shift = True
    g = np.zeros(d)
    gs = np.empty(b)
    inv_b = 1.0 / b
    renormalize = RENORMALIZE_AVERAGE_BELOW if averaging else RENORMALIZE_BELOW
    for i in range(k):
        s = steps[i]
        c = 1.0 - s * lam2
        for r in range(b):
            j = idx[i * b + r]
            z = 0.0
            for p in range(indptr[j], indptr[j + 1]):
                q = indices[p]
                if q != free and last[q] < i:
                    _sgd_catch_up(x, asum, q, i, last, base, C, lam1, has_shift, shift,
                                  averaging)
                z += data[p] * x[q]
            gs[r] = dloss(z, y[j], code) * inv_b
        for r in range(b):
            j = idx[i * b + r]
            for p in range(indptr[j], indptr[j + 1]):
                g[indices[p]] += gs[r] * data[p]
        ic = i - base
        pn = C[ic, 0] * c
        C[ic + 1, 0] = pn
        C[ic + 1, 1] = C[ic, 1] + s * lam1 / pn
        C[ic + 1, 2] = C[ic, 2] + s / pn
        C[ic + 1, 3] = C[ic, 3] + (pn if i >= avg_from else 0.0)
        add = averaging and i >= avg_from
        tau = s * lam1
        for r in range(b):
            j = idx[i * b + r]
            for p in range(indptr[j], indptr[j + 1]):
                q = indices[p]
                if q == free or last[q] != i:  # the free coordinate, or already updated
                    continue
                new = c * x[q] - s * (g[q] + shift[q])
                if tau > 0.0:
                    new = soft(new, tau)
                x[q] = new
                g[q] = 0.0
                last[q] = i + 1
                if add:
                    asum[q] += new
        if free >= 0:
            x[free] = (1.0 - s * lam2f) * x[free] - s * (g[free] + shift[free])
            g[free] = 0.0
            last[free] = i + 1
            if add:
                asum[free] += x[free]
        if pn < renormalize or ic + 1 == period:
            for q in range(d):
                if last[q] < i + 1:
                    _sgd_catch_up(x, asum, q, i + 1, last, base, C, lam1, has_shift, shift,
                                  averaging)
            base = i + 1
            C[0, 0] = 1.0
            C[0, 1] = 0.0
            C[0, 2] = 0.0
            C[0, 3] = 0.0
    for q in range(d):
        if last[q] < k:
            _sgd_catch_up(x, asum, q, k, last, base, C, lam1, has_shift, shift, averaging)


# ----------------------------------------------------------------------------- adaptive
ADAM, ADAGRAD, RMSPROP = 0, 1, 2


@njit(cache=True, error_model="numpy")
def adaptive_dense(indptr, indices, data, y, code, x, mom, v, idx, b, lrs, t0, kind, beta1,
                   beta2, eps, lam2, shift, free, lam2f):
    """Adam (kind 0), AdaGrad (1) or RMSProp (2) of ``methods.adaptive``, dense loop.

    beta2 is RMSProp's rho; t0 the iterations done before. mom (Adam's m), v, x in place."""
    d = x.shape[0]
    g = np.zeros(d)
    inv_b = 1.0 / b
    for i in range(lrs.shape[0]):
        g[:] = 0.0
        for r in range(b):
            j = idx[i * b + r]
            z = 0.0
            for p in range(indptr[j], indptr[j + 1]):
                z += data[p] * x[indices[p]]
            gj = dloss(z, y[j], code) * inv_b
            for p in range(indptr[j], indptr[j + 1]):
                g[indices[p]] += gj * data[p]
        t = float(t0 + i + 1)
        lr = lrs[i]
        if kind == ADAM:
            c1 = 1.0 - math.pow(beta1, t)
            c2 = 1.0 - math.pow(beta2, t)
        for q in range(d):
            gq = g[q] + (lam2f if q == free else lam2) * x[q] + shift[q]
            if kind == ADAM:
                mom[q] = beta1 * mom[q] + (1.0 - beta1) * gq
                v[q] = beta2 * v[q] + (1.0 - beta2) * (gq * gq)
                x[q] -= lr * (mom[q] / c1) / (math.sqrt(v[q] / c2) + eps)
            elif kind == ADAGRAD:
                v[q] = v[q] + gq * gq
                x[q] -= lr * gq / (math.sqrt(v[q]) + eps)
            else:
                v[q] = beta2 * v[q] + (1.0 - beta2) * (gq * gq)
                x[q] -= lr * gq / (math.sqrt(v[q]) + eps)


@njit(cache=True, error_model="numpy")
def adaptive_lazy(indptr, indices, data, y, code, x, v, idx, b, lrs, kind, rho, eps):
    """AdaGrad (kind 1) or RMSProp (2) without L2 term and shift, lazy: a coordinate outside
    the sampled rows has g = 0, so x and AdaGrad's sum stay put and RMSProp's v is only
    multiplied by rho (caught up as rho^t when read). Exact with respect to
    ``adaptive_dense``; on exit every coordinate is current."""
    d = x.shape[0]
    k = lrs.shape[0]
    last = np.zeros(d, dtype=np.int64)
    g = np.zeros(d)
    gs = np.empty(b)
    inv_b = 1.0 / b
    for i in range(k):
        for r in range(b):
            j = idx[i * b + r]
            z = 0.0
            for p in range(indptr[j], indptr[j + 1]):
                z += data[p] * x[indices[p]]
            gs[r] = dloss(z, y[j], code) * inv_b
        for r in range(b):
            j = idx[i * b + r]
            for p in range(indptr[j], indptr[j + 1]):
                g[indices[p]] += gs[r] * data[p]
        lr = lrs[i]
        for r in range(b):
            j = idx[i * b + r]
            for p in range(indptr[j], indptr[j + 1]):
                q = indices[p]
                if last[q] == i + 1:
                    continue
                gq = g[q]
                if kind == ADAGRAD:
                    v[q] = v[q] + gq * gq
                else:
                    t = i - last[q]
                    if t > 0:
                        v[q] *= rho ** t
                    v[q] = rho * v[q] + (1.0 - rho) * (gq * gq)
                x[q] -= lr * gq / (math.sqrt(v[q]) + eps)
                g[q] = 0.0
                last[q] = i + 1
    if kind == RMSPROP:
        for q in range(d):
            t = k - last[q]
            if t > 0:
                v[q] *= rho ** t


# ----------------------------------------------------------------------------- Katyusha
@njit(cache=True, error_model="numpy")
def katyusha_dense(indptr, indices, data, y, code, yv, z, w, gw, snap, idx, coins, weights,
                   pos, spent, calls, s, th1, th2, mu, prob, lam1, lam2, shift, free, lam2f):
    """L-Katyusha of ``methods.accelerated.Katyusha``, every coordinate at every iteration.

    Runs iterations from position ``pos`` of the pre-drawn (idx, coins) until ``spent`` >=
    ``calls`` (at least one); yv (y_k), z, w, gw (the data part of grad g(w)) and snap
    (phi_j'(a_j . w)) are updated in place. Returns (pos, spent, iterations, snapshots)."""
    n = snap.shape[0]
    d = yv.shape[0]
    th3 = 1.0 - th1 - th2
    denom = 1.0 + s * mu
    s_prox = s / denom
    tau = s_prox * lam1
    xb = np.empty(d)
    rowg = np.zeros(d)
    it = 0
    snapshots = 0
    while it == 0 or spent < calls:
        j = idx[pos]
        switch = coins[pos] < prob
        pos += 1
        for q in range(d):
            xb[q] = th1 * z[q] + th2 * w[q] + th3 * yv[q]
        zx = 0.0
        for p in range(indptr[j], indptr[j + 1]):
            zx += data[p] * xb[indices[p]]
        delta = (dloss(zx, y[j], code) - snap[j]) * weights[j]
        for p in range(indptr[j], indptr[j + 1]):
            rowg[indices[p]] += delta * data[p]
        for q in range(d):
            lam = lam2f if q == free else lam2
            gq = rowg[q] + lam * xb[q] + gw[q] + shift[q]
            rowg[q] = 0.0
            zq = z[q]
            zn = (zq + (s * mu) * xb[q] - s * gq) / denom
            if tau > 0.0 and q != free:
                zn = soft(zn, tau)
            if switch:
                w[q] = yv[q]
            yv[q] = xb[q] + th1 * (zn - zq)
            z[q] = zn
        spent += 2
        if switch:
            full_pass(indptr, indices, data, y, code, w, snap, gw)
            spent += n
            snapshots += 1
        it += 1
    return pos, spent, it, snapshots


@njit(cache=True, error_model="numpy")
def katyusha_tables(kmax, s, th1, th2, mu, lam):
    """M^t and S_t = sum_{i<t} M^i (t = 0..kmax) of the untouched-coordinate map
    (z, y) <- M (z, y) + r of ridge weight ``lam``, as arrays of shape (kmax + 1, 4)
    (row-major 2 x 2). With a = s (mu - lam) / (1 + s mu):
    z' = (1/(1 + s mu) + a th1) z + a th3 y + r_z,  y' = th1 z' + th3 y + ... (see
    ``_katyusha_offset``)."""
    th3 = 1.0 - th1 - th2
    denom = 1.0 + s * mu
    a = s * (mu - lam) / denom
    m00 = 1.0 / denom + a * th1
    m01 = a * th3
    m10 = th1 * m00
    m11 = th3 + th1 * m01
    Mt = np.empty((kmax + 1, 4))
    St = np.empty((kmax + 1, 4))
    Mt[0, 0], Mt[0, 1], Mt[0, 2], Mt[0, 3] = 1.0, 0.0, 0.0, 1.0
    St[0, :] = 0.0
    for t in range(kmax):
        p0, p1, p2, p3 = Mt[t, 0], Mt[t, 1], Mt[t, 2], Mt[t, 3]
        St[t + 1, 0] = St[t, 0] + p0
        St[t + 1, 1] = St[t, 1] + p1
        St[t + 1, 2] = St[t, 2] + p2
        St[t + 1, 3] = St[t, 3] + p3
        Mt[t + 1, 0] = m00 * p0 + m01 * p2
        Mt[t + 1, 1] = m00 * p1 + m01 * p3
        Mt[t + 1, 2] = m10 * p0 + m11 * p2
        Mt[t + 1, 3] = m10 * p1 + m11 * p3
    return Mt, St


@njit(cache=True, inline="always", error_model="numpy")
def _katyusha_catch_up(yv, z, w, gw, shift, q, t, Mt, St, s, th1, th2, mu, lam, denom):
    """t untouched iterations of coordinate q at once: (z, y) <- M^t (z, y) + S_t r."""
    a = s * (mu - lam) / denom
    rz = a * th2 * w[q] - s * (gw[q] + shift[q]) / denom
    ry = th2 * w[q] + th1 * rz
    z0, y0 = z[q], yv[q]
    z[q] = Mt[t, 0] * z0 + Mt[t, 1] * y0 + St[t, 0] * rz + St[t, 1] * ry
    yv[q] = Mt[t, 2] * z0 + Mt[t, 3] * y0 + St[t, 2] * rz + St[t, 3] * ry


@njit(cache=True, error_model="numpy")
def _katyusha_catch_up_all(yv, z, w, gw, shift, last, it, Mt, St, Mf, Sf, s, th1, th2, mu,
                           lam2, free, lam2f, denom):
    for q in range(yv.shape[0]):
        t = it - last[q]
        if t > 0:
            if q == free:
                _katyusha_catch_up(yv, z, w, gw, shift, q, t, Mf, Sf, s, th1, th2, mu, lam2f,
                                   denom)
            else:
                _katyusha_catch_up(yv, z, w, gw, shift, q, t, Mt, St, s, th1, th2, mu, lam2,
                                   denom)
            last[q] = it


@njit(cache=True, error_model="numpy")
def katyusha_lazy(indptr, indices, data, y, code, yv, z, w, gw, snap, idx, coins, weights,
                  pos, spent, calls, s, th1, th2, mu, prob, lam2, shift, free, lam2f, Mt, St,
                  Mf, Sf):
    """``katyusha_dense`` for lam1 = 0 with lazy updates (see the module docstring), at
    most len(Mt) - 1 iterations (the tables' length). A snapshot w = y_k first brings every
    coordinate to iteration k + 1 under the old w. On exit every coordinate is current."""
    n = snap.shape[0]
    d = yv.shape[0]
    kmax = Mt.shape[0] - 1
    th3 = 1.0 - th1 - th2
    denom = 1.0 + s * mu
    last = np.zeros(d, dtype=np.int64)
    rowg = np.zeros(d)
    ybuf = np.empty(d)
    it = 0
    snapshots = 0
    while (it == 0 or spent < calls) and it < kmax:
        j = idx[pos]
        switch = coins[pos] < prob
        pos += 1
        if switch:
            _katyusha_catch_up_all(yv, z, w, gw, shift, last, it, Mt, St, Mf, Sf, s, th1,
                                   th2, mu, lam2, free, lam2f, denom)
            ybuf[:] = yv
        start, end = indptr[j], indptr[j + 1]
        zx = 0.0
        for p in range(start, end):
            q = indices[p]
            t = it - last[q]
            if t > 0:
                if q == free:
                    _katyusha_catch_up(yv, z, w, gw, shift, q, t, Mf, Sf, s, th1, th2, mu,
                                       lam2f, denom)
                else:
                    _katyusha_catch_up(yv, z, w, gw, shift, q, t, Mt, St, s, th1, th2, mu,
                                       lam2, denom)
                last[q] = it
            zx += data[p] * (th1 * z[q] + th2 * w[q] + th3 * yv[q])
        delta = (dloss(zx, y[j], code) - snap[j]) * weights[j]
        for p in range(start, end):
            rowg[indices[p]] += delta * data[p]
        for p in range(start, end):
            q = indices[p]
            if last[q] != it:
                continue
            lam = lam2f if q == free else lam2
            xq = th1 * z[q] + th2 * w[q] + th3 * yv[q]
            gq = rowg[q] + lam * xq + gw[q] + shift[q]
            rowg[q] = 0.0
            zq = z[q]
            zn = (zq + (s * mu) * xq - s * gq) / denom
            yv[q] = xq + th1 * (zn - zq)
            z[q] = zn
            last[q] = it + 1
        spent += 2
        it += 1
        if switch:
            _katyusha_catch_up_all(yv, z, w, gw, shift, last, it, Mt, St, Mf, Sf, s, th1,
                                   th2, mu, lam2, free, lam2f, denom)
            w[:] = ybuf
            full_pass(indptr, indices, data, y, code, w, snap, gw)
            spent += n
            snapshots += 1
    _katyusha_catch_up_all(yv, z, w, gw, shift, last, it, Mt, St, Mf, Sf, s, th1, th2, mu,
                           lam2, free, lam2f, denom)
    return pos, spent, it, snapshots
