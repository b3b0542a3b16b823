"""Compiled pass of one batched step of margin-loss GD for ReLU networks (numba).

Layout as in ``descentlab.meanfield._kernels``: ZT[s, j, i] = b_j . x_i (one BLAS product
per stream, or fixed features when the input layer is frozen), y[s, i] in {-1, +1},
a[s, j] the output weights, c_j = 1/m_r(j), network r owning starts[r]:starts[r+1].
``margin_step`` computes, for every stream s and network r, with u_i = y_i F[s, r, i],

    F[s, r, i] = sum_{j in r} c_j a_j relu(ZT[s, j, i])              f_r(x_i)
    Mg[s, r]   = min_i u_i                                            (unnormalized margin)
    D[s, r, i] = dL/dF_i, Lv[s, r] = L, for the objective L of ``loss``:
        0 soft-min   L = log((1/n) sum_i exp(-u_i)),    D_i = -y_i softmax_i(-u)
        1 exponential L = (1/n) sum_i exp(-u_i),         D_i = -y_i exp(-u_i) / n
        2 logistic    L = (1/n) sum_i log(1 + e^-u_i),   D_i = -y_i sigmoid(-u_i) / n
    GA[s, j]   = sum_i D_i relu(ZT[s, j, i])                          (m dL/da_j)

then a_j <- a_j - lr_a[s, r] GA_j and, when ``update_b``,

    Q[s, j, i] = coef_b[s, r] a_j^old D_i 1(ZT[s, j, i] > 0),

so that b += Q X is the input-layer step with coef_b = -lr (both gradients at the same
point, as in the published code). The soft-min is evaluated as -min u + log(mean exp(
-(u - min u))), which never overflows. Sums over samples use 4 interleaved partial sums in
a fixed order; no fastmath: results do not depend on which networks share the batch.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

LOSS_CODES = {"softmin": 0, "exponential": 1, "logistic": 2}


@njit(cache=True, error_model="numpy")
def _objective(y, Fr, loss, Dr):
    """Fill Dr = dL/dF and return (L, min_i y_i F_i)."""
    n = Fr.shape[0]
    umin = np.inf
    for i in range(n):
        u = y[i] * Fr[i]
        if u < umin:
            umin = u
    tot = 0.0
    if loss == 0:
        for i in range(n):
            e = math.exp(-(y[i] * Fr[i] - umin))
            Dr[i] = e
            tot += e
        for i in range(n):
            Dr[i] = -y[i] * Dr[i] / tot
        return -umin + math.log(tot / n), umin
    if loss == 1:
        for i in range(n):
            e = math.exp(-y[i] * Fr[i])
            Dr[i] = -y[i] * e / n
            tot += e
        return tot / n, umin
    for i in range(n):
        u = y[i] * Fr[i]
        if u < 0.0:
            e = math.exp(u)
            tot += -u + math.log1p(e)
            Dr[i] = -y[i] / (1.0 + e) / n
        else:
            e = math.exp(-u)
            tot += math.log1p(e)
            Dr[i] = -y[i] * e / (1.0 + e) / n
    return tot / n, umin


@njit(cache=True, error_model="numpy")
def margin_step(ZT, y, a, c, starts, loss, lr_a, coef_b, update_b, F, D, Lv, Mg, GA, Q):
    S, M, n = ZT.shape
    R = starts.shape[0] - 1
    n4 = n - n % 4
    for s in range(S):
        ys = y[s]
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
            lv, umin = _objective(ys, Fr, loss, Dr)
            Lv[s, r] = lv
            Mg[s, r] = umin
            la, cb = lr_a[s, r], coef_b[s, r]
            for j in range(j0, j1):
                Zj = ZT[s, j]
                g0 = g1 = g2 = g3 = 0.0
                for i in range(0, n4, 4):
                    g0 += Dr[i] * max(Zj[i], 0.0)
                    g1 += Dr[i + 1] * max(Zj[i + 1], 0.0)
                    g2 += Dr[i + 2] * max(Zj[i + 2], 0.0)
                    g3 += Dr[i + 3] * max(Zj[i + 3], 0.0)
                for i in range(n4, n):
                    g0 += Dr[i] * max(Zj[i], 0.0)
                ga = (g0 + g1) + (g2 + g3)
                GA[s, j] = ga
                a_old = a[s, j]
                if update_b:
                    Qj = Q[s, j]
                    w = cb * a_old
                    for i in range(n):
                        Qj[i] = w * Dr[i] if Zj[i] > 0.0 else 0.0
                a[s, j] = a_old - la * ga


@njit(cache=True, error_model="numpy")
def forward_pass(ZT, y, a, c, starts, loss, F, D, Lv, Mg):
    """F, D, Lv and Mg of ``margin_step`` without any update."""
    S, M, n = ZT.shape
    R = starts.shape[0] - 1
    for s in range(S):
        for r in range(R):
            Fr = F[s, r]
            for i in range(n):
                Fr[i] = 0.0
            for j in range(starts[r], starts[r + 1]):
                w = c[j] * a[s, j]
                Zj = ZT[s, j]
                for i in range(n):
                    Fr[i] += w * max(Zj[i], 0.0)
            lv, umin = _objective(y[s], Fr, loss, D[s, r])
            Lv[s, r] = lv
            Mg[s, r] = umin
