"""Compiled pass of a batched particle step over the (stream, particle, sample) array (numba).

Layout: ZT[s, j, i] = b_j . x_i (one BLAS product b X^T per stream), y[s, i] the targets,
a[s, j] the output weights, c_j = alpha/m_r(j) the scales, network r owning the particles
starts[r]:starts[r+1]. ``step_pass`` computes, for every stream s and network r,

    F[s, r, i] = sum_{j in r} c_j a_j sigma(ZT[s, j, i])          h_r(x_i)
    D[s, r, i] = loss'(y_i, F[s, r, i]),   Lm[s, r] = mean_i loss(y_i, F[s, r, i])
    GA[s, j]   = mean_i D[s, r(j), i] sigma(ZT[s, j, i])          (alpha m dG/da_j)

then, particle by particle, a_j <- a_j - lr_a GA_j (nothing when lr_a = 0) and

    Q[s, j, i] = coef_b a*_j D[s, r(j), i] sigma'(ZT[s, j, i]),

with a*_j the new a_j (``sequential``) or the old one (simultaneous), so that the
b-update is the BLAS product Q X: with coef_b = -lr_b / n it is b += Q X, with
coef_b = 1 it gives (alpha m dG/db) n = Q X.

Sums over samples use 4 interleaved partial sums in a fixed order and sums over the
particles of a network run in index order; no fastmath: the results are deterministic
and do not depend on which other networks share the batch. Activation codes: 0 relu,
1 softplus; loss codes: 0 square, 1 logistic (``descentlab.problems.twolayer``).
"""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True, inline="always", error_model="numpy")
def _sigma(z, act):
    if act == 0:
        return z if z > 0.0 else 0.0
    if z > 0.0:
        return z + math.log1p(math.exp(-z))
    return math.log1p(math.exp(z))


@njit(cache=True, inline="always", error_model="numpy")
def _dsigma(z, act):
    if act == 0:
        return 1.0 if z > 0.0 else 0.0
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@njit(cache=True, inline="always", error_model="numpy")
def _loss_and_deriv(y, f, loss):
    if loss == 0:
        r = f - y
        return 0.5 * r * r, r
    u = -y * f  # log(1 + e^u) and d/df = -y sigmoid(u)
    if u > 0.0:
        e = math.exp(-u)
        return u + math.log1p(e), -y / (1.0 + e)
    e = math.exp(u)
    return math.log1p(e), -y * e / (1.0 + e)


@njit(cache=True, error_model="numpy")
def _forward_network(ZT, a, c, s, j0, j1, act, Fr):
    n = Fr.shape[0]
    for i in range(n):
        Fr[i] = 0.0
    for j in range(j0, j1):
        w = c[j] * a[s, j]
        Zj = ZT[s, j]
        for i in range(n):
            Fr[i] += w * _sigma(Zj[i], act)


@njit(cache=True, error_model="numpy")
def step_pass(ZT, y, a, c, starts, act, loss, lr_a, coef_b, sequential, F, D, Lm, GA, Q):
    S, M, n = ZT.shape
    R = starts.shape[0] - 1
    n4 = n - n % 4
    for s in range(S):
        for r in range(R):
            j0, j1 = starts[r], starts[r + 1]
            Fr, Dr = F[s, r], D[s, r]
            _forward_network(ZT, a, c, s, j0, j1, act, Fr)
            tot = 0.0
            for i in range(n):
                lv, dl = _loss_and_deriv(y[s, i], Fr[i], loss)
                Dr[i] = dl
                tot += lv
            Lm[s, r] = tot / n
            for j in range(j0, j1):
                Zj, Qj = ZT[s, j], Q[s, j]
                g0 = g1 = g2 = g3 = 0.0
                for i in range(0, n4, 4):
                    g0 += Dr[i] * _sigma(Zj[i], act)
                    g1 += Dr[i + 1] * _sigma(Zj[i + 1], act)
                    g2 += Dr[i + 2] * _sigma(Zj[i + 2], act)
                    g3 += Dr[i + 3] * _sigma(Zj[i + 3], act)
                for i in range(n4, n):
                    g0 += Dr[i] * _sigma(Zj[i], act)
                ga = ((g0 + g1) + (g2 + g3)) / n
                GA[s, j] = ga
                a_old = a[s, j]
                a_new = a_old - lr_a * ga
                w = coef_b * (a_new if sequential else a_old)
                for i in range(n):
                    Qj[i] = w * Dr[i] * _dsigma(Zj[i], act)
                a[s, j] = a_new


@njit(cache=True, error_model="numpy")
def step_pass_relu(ZT, y, a, c, starts, loss, lr_a, coef_b, sequential, F, D, Lm, GA, Q):
    """``step_pass`` for relu (activation code 0), with branch-free inner loops.

    Same arithmetic in the same order as ``step_pass(..., act=0, ...)``; only the
    sign of zeros may differ (relu computed as max(z, 0)).
    """
    S, M, n = ZT.shape
    R = starts.shape[0] - 1
    n4 = n - n % 4
    for s in range(S):
        for r in range(R):
            j0, j1 = starts[r], starts[r + 1]
            Fr, Dr = F[s, r], D[s, r]
            for i in range(n):
                Fr[i] = 0.0
            for j in range(j0, j1):
                w = c[j] * a[s, j]
                Zj = ZT[s, j]
                for i in range(n):
                    Fr[i] += w * max(Zj[i], 0.0)
            tot = 0.0
            for i in range(n):
                lv, dl = _loss_and_deriv(y[s, i], Fr[i], loss)
                Dr[i] = dl
                tot += lv
            Lm[s, r] = tot / n
            for j in range(j0, j1):
                Zj, Qj = ZT[s, j], Q[s, j]
                g0 = g1 = g2 = g3 = 0.0
                for i in range(0, n4, 4):
                    g0 += Dr[i] * max(Zj[i], 0.0)
                    g1 += Dr[i + 1] * max(Zj[i + 1], 0.0)
                    g2 += Dr[i + 2] * max(Zj[i + 2], 0.0)
                    g3 += Dr[i + 3] * max(Zj[i + 3], 0.0)
                for i in range(n4, n):
                    g0 += Dr[i] * max(Zj[i], 0.0)
                ga = ((g0 + g1) + (g2 + g3)) / n
                GA[s, j] = ga
                a_old = a[s, j]
                a_new = a_old - lr_a * ga
                w = coef_b * (a_new if sequential else a_old)
                for i in range(n):
                    Qj[i] = w * Dr[i] if Zj[i] > 0.0 else 0.0
                a[s, j] = a_new


def step(ZT, y, a, c, starts, act, loss, lr_a, coef_b, sequential, F, D, Lm, GA, Q):
    """Dispatch to the relu kernel or the generic one (see the module docstring)."""
    if act == 0:
        step_pass_relu(ZT, y, a, c, starts, loss, lr_a, coef_b, sequential, F, D, Lm, GA, Q)
    else:
        step_pass(ZT, y, a, c, starts, act, loss, lr_a, coef_b, sequential, F, D, Lm, GA, Q)


@njit(cache=True, error_model="numpy")
def risk_pass(ZT, y, a, c, starts, act, loss, F, Lm):
    """Lm[s, r] = mean_i loss(y_i, h_r(x_i)) (and F = h), the forward part of step_pass."""
    S, M, n = ZT.shape
    R = starts.shape[0] - 1
    for s in range(S):
        for r in range(R):
            Fr = F[s, r]
            _forward_network(ZT, a, c, s, starts[r], starts[r + 1], act, Fr)
            tot = 0.0
            for i in range(n):
                lv, _ = _loss_and_deriv(y[s, i], Fr[i], loss)
                tot += lv
            Lm[s, r] = tot / n
