"""Compiled per-sample loops of the variance-reduced methods on linear models (numba).

Component i of a linear model is f_i(x) = phi_i(a_i . x) + lam2 ||x||^2 / 2 + s . x, with
phi_i the loss (``losses.LossCode``: SQUARE or LOGISTIC), ``s`` a constant shift (zero except
inside Catalyst's proximal-point subproblems) and h = lam1 ||x||_1 handled by the prox.
The methods keep one scalar per sample, phi_i'(a_i . x), never a vector (O(n + d) memory).

Lazy (just-in-time) updates. Between two iterations that sample a row containing
coordinate k, the update of x_k does not depend on the sampled row: it is the scalar map

    x_k <- S_tau(c x_k + b_k),   c = 1 - step lam2,  tau = step lam1,  b_k constant,

(S_tau the soft threshold). ``lazy_steps`` applies t such steps at once, exactly: for
tau = 0 it is affine, x_t = x + G_t (b - (1 - c) x) with G_t = sum_{i<t} c^i evaluated as
-expm1(t log1p(-(1 - c))) / (1 - c) (no cancellation when step lam2 is tiny); for tau > 0
the map is monotone and piecewise affine, its iterates are monotone, so they cross the
branches (positive / dead zone / negative) at most twice, and each branch is affine.
An epoch thus costs O(nnz) instead of O(n d). With ``dense=True`` every coordinate is
updated at every iteration by the plain recursion (the reference implementation).

Intercept. Every loop takes ``free``, the index of an unpenalized coordinate (the intercept
column of ones of a model with ``fit_intercept=True``; -1 when there is none), and ``lam2f``,
the ridge weight that coordinate gets instead of lam2 (0, or Catalyst's kappa): its map is
x <- c_f x + b with c_f = 1 - step lam2f and no soft threshold, and in the scaled
representation below it is stored unscaled.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .linear import dloss


@njit(cache=True, inline="always", error_model="numpy")
def soft(u, tau):
    if u > tau:
        return u - tau
    if u < -tau:
        return u + tau
    return 0.0


@njit(cache=True, inline="always", error_model="numpy")
def geometric(t, omc):
    """sum_{i<t} c^i with c = 1 - omc (omc >= 0 given exactly)."""
    if omc == 0.0:
        return float(t)
    return -math.expm1(t * math.log1p(-omc)) / omc


@njit(cache=True, error_model="numpy")
def lazy_steps(x, t, c, b, tau):
    """t iterations of x <- S_tau(c x + b), computed in O(1) (see the module docstring)."""
    if t <= 0:
        return x
    if t == 1:
        return soft(c * x + b, tau)
    if c <= 0.0:  # step lam2 >= 1: no closed form worth having; iterate
        for _ in range(t):
            x = soft(c * x + b, tau)
        return x
    omc = 1.0 - c
    while t > 0:
        u = c * x + b
        if u > tau:
            sign, beta = 1.0, b - tau
        elif u < -tau:
            sign, beta = -1.0, b + tau
        else:
            x = 0.0
            t -= 1
            if abs(b) <= tau:
                return 0.0
            continue
        if tau == 0.0:
            return x + geometric(t, omc) * (beta - omc * x)
        # the branch holds at x iff sign * (x - theta) > 0
        theta = (sign * tau - b) / c
        leaves = False
        s = t
        if omc > 0.0:
            p = beta / omc
            if sign * (p - theta) <= 0.0:
                leaves = True
                ratio = (theta - p) / (x - p)
                if ratio > 0.0:
                    est = math.log(ratio) / math.log1p(-omc)
                    s = t if not est < t else max(1, int(math.ceil(est)))
        elif sign * beta < 0.0:
            leaves = True
            est = (theta - x) / beta
            s = t if not est < t else max(1, int(math.ceil(est)))
        if leaves:
            # s = first index with x_s outside the branch (steps 1..s use this branch)
            while s > 1 and sign * (x + geometric(s - 1, omc) * (beta - omc * x) - theta) <= 0.0:
                s -= 1
            while s < t and sign * (x + geometric(s, omc) * (beta - omc * x) - theta) > 0.0:
                s += 1
        x = x + geometric(s, omc) * (beta - omc * x)
        t -= s
    return x


@njit(cache=True, error_model="numpy")
def catch_up(x, last, it, b_vec, shift, step, lam1, lam2, free, lam2f):
    """Bring every coordinate to iteration ``it`` (x_k <- S(c x_k - step (b_k + s_k)) lazily)."""
    c = 1.0 - step * lam2
    tau = step * lam1
    for k in range(x.shape[0]):
        t = it - last[k]
        if t > 0:
            if k == free:
                x[k] = lazy_steps(x[k], t, 1.0 - step * lam2f, -step * (b_vec[k] + shift[k]),
                                  0.0)
            else:
                x[k] = lazy_steps(x[k], t, c, -step * (b_vec[k] + shift[k]), tau)
            last[k] = it


@njit(cache=True, error_model="numpy")
def full_pass(indptr, indices, data, y, code, x, out_scalars, out_grad):
    """out_scalars[i] = phi_i'(a_i . x); out_grad = (1/n) sum_i out_scalars[i] a_i."""
    n = out_scalars.shape[0]
    out_grad[:] = 0.0
    for i in range(n):
        z = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            z += data[p] * x[indices[p]]
        g = dloss(z, y[i], code)
        out_scalars[i] = g
        for p in range(indptr[i], indptr[i + 1]):
            out_grad[indices[p]] += g * data[p] / n


@njit(cache=True, error_model="numpy")
def saga_loop(indptr, indices, data, y, code, x, alpha, gbar, shift, last, samples, weights,
              it0, step, lam1, lam2, dense, free, lam2f):
    """SAGA (Defazio, Bach, Lacoste-Julien 2014) with scalar memory and lazy updates.

    x+ = prox_{step h}(x - step [(phi_j'(a_j.x) - alpha_j) a_j + gbar + lam2 x + s]),
    then gbar += (phi_j'(a_j.x) - alpha_j) a_j / n and alpha_j = phi_j'(a_j.x).
    """
    inv_n = 1.0 / alpha.shape[0]
    c = 1.0 - step * lam2
    tau = step * lam1
    cf = 1.0 - step * lam2f
    for i in range(samples.shape[0]):
        j = samples[i]
        it = it0 + i
        if dense:
            catch_up(x, last, it, gbar, shift, step, lam1, lam2, free, lam2f)
        start, end = indptr[j], indptr[j + 1]
        z = 0.0
        for p in range(start, end):
            k = indices[p]
            t = it - last[k]
            ck, tk = (cf, 0.0) if k == free else (c, tau)
            if t == 1:
                x[k] = soft(ck * x[k] - step * (gbar[k] + shift[k]), tk)
            elif t > 1:
                x[k] = lazy_steps(x[k], t, ck, -step * (gbar[k] + shift[k]), tk)
            z += data[p] * x[k]
        new = dloss(z, y[j], code)
        delta = new - alpha[j]
        alpha[j] = new
        wj = weights[j]
        # a CSR row holds each column once, so x_k and gbar_k can be updated together
        for p in range(start, end):
            k = indices[p]
            g = gbar[k]
            ck, tk = (cf, 0.0) if k == free else (c, tau)
            x[k] = soft(ck * x[k] - step * (wj * delta * data[p] + g + shift[k]), tk)
            gbar[k] = g + delta * data[p] * inv_n
            last[k] = it + 1


@njit(cache=True, error_model="numpy")
def sag_loop(indptr, indices, data, y, code, x, alpha, gbar, shift, last, samples, it0,
             step, lam2, dense, free, lam2f):
    """SAG (Le Roux, Schmidt, Bach 2012): memory update first, then
    x+ = x - step (gbar + lam2 x + s) with gbar the new average of the stored gradients."""
    n = alpha.shape[0]
    c = 1.0 - step * lam2
    cf = 1.0 - step * lam2f
    for i in range(samples.shape[0]):
        j = samples[i]
        it = it0 + i
        if dense:
            catch_up(x, last, it, gbar, shift, step, 0.0, lam2, free, lam2f)
        z = 0.0
        for p in range(indptr[j], indptr[j + 1]):
            k = indices[p]
            t = it - last[k]
            if t > 0:
                ck = cf if k == free else c
                x[k] = lazy_steps(x[k], t, ck, -step * (gbar[k] + shift[k]), 0.0)
                last[k] = it
            z += data[p] * x[k]
        new = dloss(z, y[j], code)
        delta = new - alpha[j]
        alpha[j] = new
        for p in range(indptr[j], indptr[j + 1]):
            k = indices[p]
            gbar[k] += delta * data[p] / n
        for p in range(indptr[j], indptr[j + 1]):
            k = indices[p]
            if last[k] == it:  # a column index appears once per CSR row
                ck = cf if k == free else c
                x[k] = ck * x[k] - step * (gbar[k] + shift[k])
                last[k] = it + 1


@njit(cache=True, error_model="numpy")
def svrg_loop(indptr, indices, data, y, code, x, snap, mu, shift, last, samples, weights,
              it0, step, lam1, lam2, dense, free, lam2f):
    """SVRG inner loop (Johnson and Zhang 2013) with the snapshot kept as n scalars:
    x+ = prox_{step h}(x - step [(phi_j'(a_j.x) - snap_j) a_j + mu + lam2 x + s])."""
    c = 1.0 - step * lam2
    tau = step * lam1
    cf = 1.0 - step * lam2f
    for i in range(samples.shape[0]):
        j = samples[i]
        it = it0 + i
        if dense:
            catch_up(x, last, it, mu, shift, step, lam1, lam2, free, lam2f)
        z = 0.0
        for p in range(indptr[j], indptr[j + 1]):
            k = indices[p]
            t = it - last[k]
            if t > 0:
                ck, tk = (cf, 0.0) if k == free else (c, tau)
                x[k] = lazy_steps(x[k], t, ck, -step * (mu[k] + shift[k]), tk)
                last[k] = it
            z += data[p] * x[k]
        delta = (dloss(z, y[j], code) - snap[j]) * weights[j]
        for p in range(indptr[j], indptr[j + 1]):
            k = indices[p]
            ck, tk = (cf, 0.0) if k == free else (c, tau)
            x[k] = soft(ck * x[k] - step * (delta * data[p] + mu[k] + shift[k]), tk)
            last[k] = it + 1


@njit(cache=True, error_model="numpy")
def sarah_catch_up(x, v, last, it, step, lam2, free, lam2f):
    """Untouched coordinates of SARAH: v <- c v then x <- x - step v, t times in O(1)."""
    for k in range(x.shape[0]):
        t = it - last[k]
        if t > 0:
            omc = step * (lam2f if k == free else lam2)
            c = 1.0 - omc
            x[k] -= step * v[k] * c * geometric(t, omc) if t > 1 else step * v[k] * c
            v[k] *= c ** t if t > 1 else c
            last[k] = it


@njit(cache=True, error_model="numpy")
def sarah_loop(indptr, indices, data, y, code, x, v, shift, last, samples, it0, step, lam2,
               dense, free, lam2f):
    """SARAH inner loop (Nguyen, Liu, Scheinberg, Takac 2017), smooth problems:
    v_t = grad f_j(x_t) - grad f_j(x_{t-1}) + v_{t-1} = c v_{t-1} + delta_j a_j  (c = 1 - step
    lam2, since x_t - x_{t-1} = -step v_{t-1}); x_{t+1} = x_t - step v_t. The shift s cancels.
    On entry x = x_t and v = v_{t-1} for every coordinate up to date."""
    for i in range(samples.shape[0]):
        j = samples[i]
        it = it0 + i
        if dense:
            sarah_catch_up(x, v, last, it, step, lam2, free, lam2f)
        z = 0.0
        zv = 0.0
        for p in range(indptr[j], indptr[j + 1]):
            k = indices[p]
            t = it - last[k]
            if t > 0:
                omc = step * (lam2f if k == free else lam2)
                c = 1.0 - omc
                if t == 1:
                    x[k] -= step * v[k] * c
                    v[k] *= c
                else:
                    x[k] -= step * v[k] * c * geometric(t, omc)
                    v[k] *= c ** t
                last[k] = it
            z += data[p] * x[k]
            zv += data[p] * v[k]
        delta = dloss(z, y[j], code) - dloss(z + step * zv, y[j], code)
        for p in range(indptr[j], indptr[j + 1]):
            k = indices[p]
            c = 1.0 - step * (lam2f if k == free else lam2)
            v[k] = c * v[k] + delta * data[p]
            x[k] -= step * v[k]
            last[k] = it + 1


# ---------------------------------------------------------------------------------------
# Smooth (lam1 = 0) variants in the scaled representation x = s w (Schmidt, Le Roux and
# Bach's SAG code; scikit-learn's sag_fast): the shrinkage c = 1 - step lam2 multiplies the
# scalar s, and the constant part of every coordinate's update accumulates in
# cum[i] = sum of step / s over the iterations, so catching a coordinate up is one
# multiply-add. s is folded back into w when it falls below 1e-9.
# ---------------------------------------------------------------------------------------
RESCALE_BELOW = 1e-9


@njit(cache=True, error_model="numpy")
def _fold_scale(w, last, it, bvec, shift, cum, base, s, free, cf, step):
    """Catch every coordinate up to ``it`` and fold s into w (x = w afterwards); the free
    coordinate is stored unscaled (x_f <- c_f x_f - step (b_f + s_f) per iteration)."""
    ci = cum[it - base]
    for k in range(w.shape[0]):
        t = it - last[k]
        if k == free:
            if t > 0:
                w[k] = lazy_steps(w[k], t, cf, -step * (bvec[k] + shift[k]), 0.0)
                last[k] = it
            continue
        if t > 0:
            w[k] -= (bvec[k] + shift[k]) * (ci - cum[last[k] - base])
            last[k] = it
        w[k] *= s


@njit(cache=True, inline="always", error_model="numpy")
def _scaled_margin(indices, data, start, end, x, last, bvec, shift, cum, base, ci, it, s,
                   free, cf, step):
    """Catch the coordinates of one sample up to ``it`` and return its margin s z + z_f
    (``last[k]`` is set by the caller's update; the free coordinate is stored unscaled)."""
    z = 0.0
    zf = 0.0
    for p in range(start, end):
        k = indices[p]
        lk = last[k]
        if k == free:
            if lk < it:
                x[k] = lazy_steps(x[k], it - lk, cf, -step * (bvec[k] + shift[k]), 0.0)
            zf += data[p] * x[k]
            continue
        if lk < it:
            x[k] -= (bvec[k] + shift[k]) * (ci - cum[lk - base])
        z += data[p] * x[k]
    return s * z + zf


@njit(cache=True, error_model="numpy")
def saga_loop_smooth(indptr, indices, data, y, code, x, alpha, gbar, shift, last, samples,
                     weights, it0, step, lam2, sag, free, lam2f):
    """SAGA (``sag=False``) or SAG (``sag=True``) on smooth linear models, lazy through the
    scaled representation; on exit x holds the iterate at it0 + len(samples), caught up."""
    inv_n = 1.0 / alpha.shape[0]
    c = 1.0 - step * lam2
    cf = 1.0 - step * lam2f
    m = samples.shape[0]
    cum = np.empty(m + 1)
    cum[0] = 0.0
    base = it0  # cum[i - base] is the accumulated step/s at iteration i
    s = 1.0
    for i in range(m):
        j = samples[i]
        it = it0 + i
        start, end = indptr[j], indptr[j + 1]
        ci = cum[it - base]
        margin = _scaled_margin(indices, data, start, end, x, last, gbar, shift, cum, base,
                                ci, it, s, free, cf, step)
        new = dloss(margin, y[j], code)
        delta = new - alpha[j]
        alpha[j] = new
        wj = weights[j]
        s *= c
        g_step = step / s
        cum[it + 1 - base] = ci + g_step
        for p in range(start, end):
            k = indices[p]
            dk = delta * data[p]
            if k == free:
                g = gbar[k] + dk * inv_n
                if sag:
                    x[k] = cf * x[k] - step * (g + shift[k])
                else:
                    x[k] = cf * x[k] - step * (wj * dk + gbar[k] + shift[k])
                gbar[k] = g
                last[k] = it + 1
                continue
            if sag:
                gbar[k] += dk * inv_n
                x[k] -= g_step * (gbar[k] + shift[k])
            else:
                g = gbar[k]
                x[k] -= g_step * (wj * dk + g + shift[k])
                gbar[k] = g + dk * inv_n
            last[k] = it + 1
        if s < RESCALE_BELOW:
            _fold_scale(x, last, it + 1, gbar, shift, cum, base, s, free, cf, step)
            s = 1.0
            cum[it + 1 - base] = 0.0  # every coordinate is current: restart the sums
    _fold_scale(x, last, it0 + m, gbar, shift, cum, base, s, free, cf, step)


@njit(cache=True, error_model="numpy")
def svrg_loop_smooth(indptr, indices, data, y, code, x, snap, mu, shift, last, samples,
                     weights, it0, step, lam2, free, lam2f):
    """SVRG inner loop on smooth linear models in the scaled representation."""
    c = 1.0 - step * lam2
    cf = 1.0 - step * lam2f
    m = samples.shape[0]
    cum = np.empty(m + 1)
    cum[0] = 0.0
    base = it0
    s = 1.0
    for i in range(m):
        j = samples[i]
        it = it0 + i
        start, end = indptr[j], indptr[j + 1]
        ci = cum[it - base]
        margin = _scaled_margin(indices, data, start, end, x, last, mu, shift, cum, base, ci,
                                it, s, free, cf, step)
        delta = (dloss(margin, y[j], code) - snap[j]) * weights[j]
        s *= c
        g_step = step / s
        cum[it + 1 - base] = ci + g_step
        for p in range(start, end):
            k = indices[p]
            if k == free:
                x[k] = cf * x[k] - step * (delta * data[p] + mu[k] + shift[k])
            else:
                x[k] -= g_step * (delta * data[p] + mu[k] + shift[k])
            last[k] = it + 1
        if s < RESCALE_BELOW:
            _fold_scale(x, last, it + 1, mu, shift, cum, base, s, free, cf, step)
            s = 1.0
            cum[it + 1 - base] = 0.0
    _fold_scale(x, last, it0 + m, mu, shift, cum, base, s, free, cf, step)
