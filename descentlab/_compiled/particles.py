"""Compiled passes of the particle engine ``descentlab.particles`` (numba).

Layout: ZT[s, j, i] = b_j . x_i (one BLAS product b X^T per stream), y[s, i] the targets,
a[s, j] the output weights, c_j = alpha/m_r(j) the output scales, network r owning the
particles starts[r]:starts[r+1]. For every stream s and network r,

    F[s, r, i] = sum_{j in r} c_j a_j sigma(ZT[s, j, i])              h_r(x_i)

in index order of the particles. Activation codes: RELU 0 (max(z, 0), sigma' = 1(z > 0)),
SOFTPLUS 1 (log(1 + e^z), sigma' = sigmoid); loss codes: ``losses.LossCode``.

Two ways to reduce over the samples, both deterministic (no fastmath) and independent of
which other networks share the batch:

* ``fused_step`` (reduction "compiled"): one pass per network with a per-sample loss
  (square, logistic, exponential): D_i = loss'(y_i, F_i), Lm = mean_i loss, then for every
  particle GA_j = (1/n) sum_i D_i sigma(ZT_ji) with 4 interleaved partial sums,
  a_j <- shrink a_j - lr_a GA_j and Q_ji = coef_b a*_j D_i sigma'(ZT_ji) (a*_j the new a_j
  when ``sequential``, else the old one), so that b += Q X is the input-layer step.
* ``forward`` + ``objectives`` + ``input_factors`` (reduction "blas"): passes without sums
  over samples (F, and P = sigma(ZT) in place; D = dL/dF for any of the four losses, with
  its 1/n or soft-max weights; Q = coef_b a D sigma'(Z)); the sums GA = P D and Q X are
  BLAS products, 2-4 times faster than a compiled reduction for large networks.

The soft-min objective log((1/n) sum_i exp(-u_i)), u_i = y_i F_i, is evaluated as
-min u + log(mean exp(-(u - min u))), which never overflows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numba import njit

from .losses import LossCode, log1p_exp, sigmoid

RELU, SOFTPLUS = 0, 1
SQUARE, SOFTMIN, EXPONENTIAL = int(LossCode.SQUARE), int(LossCode.SOFTMIN), \
    int(LossCode.EXPONENTIAL)


@njit(cache=True, inline="always", error_model="numpy")
def sigma(z, act):
    if act == RELU:
        return max(z, 0.0)
    return log1p_exp(z)


@njit(cache=True, inline="always", error_model="numpy")
def times_dsigma(v, z, act):
    """v sigma'(z)."""
    if act == RELU:
        return v if z > 0.0 else 0.0
    return v * sigmoid(z)


@njit(cache=True, inline="always", error_model="numpy")
def loss_and_deriv(y, f, loss):
    """(loss(y, f), d loss / d f) of a per-sample loss; u = y f for the label losses."""
    if loss == SQUARE:
        r = f - y
        return 0.5 * r * r, r
    u = y * f
    if loss == EXPONENTIAL:
        e = math.exp(-u)
        return e, -y * e
    return log1p_exp(-u), -y * sigmoid(-u)


@njit(cache=True, inline="always", error_model="numpy")
def _forward_network(Zs, a_s, c, j0, j1, act, Fr, in_place):
    n = Fr.shape[0]
    for i in range(n):
        Fr[i] = 0.0
    for j in range(j0, j1):
        w = c[j] * a_s[j]
        Zj = Zs[j]
        if in_place:
            for i in range(n):
                p = sigma(Zj[i], act)
                Zj[i] = p
                Fr[i] += w * p
        else:
            for i in range(n):
                Fr[i] += w * sigma(Zj[i], act)


class ActivationKernels(NamedTuple):
    """The passes whose inner loops apply sigma or sigma' (one compiled set per activation)."""

    forward: Callable
    fused_step: Callable
    input_factors: Callable


def _specialize(act: int) -> ActivationKernels:
    """Kernels in which ``act`` is a compile-time constant (numba keys its cache on it): a
    run-time activation argument would cost a branch per sample and particle."""

    @njit(cache=True, error_model="numpy")
    def forward(ZT, a, c, starts, F, in_place):
        """F = h of every network; with ``in_place`` ZT becomes P = sigma(ZT)."""
        S = ZT.shape[0]
        R = starts.shape[0] - 1
        for s in range(S):
            for r in range(R):
                _forward_network(ZT[s], a[s], c, starts[r], starts[r + 1], act, F[s, r],
                                 in_place)

    @njit(cache=True, error_model="numpy")
    def fused_step(ZT, y, a, c, starts, loss, lr_a, coef_b, shrink, sequential, F, D, Lm, GA,
                   Q):
        """One step of every network, sums over samples in the pass (module docstring)."""
        S, M, n = ZT.shape
        R = starts.shape[0] - 1
        n4 = n - n % 4
        for s in range(S):
            for r in range(R):
                j0, j1 = starts[r], starts[r + 1]
                Fr, Dr = F[s, r], D[s, r]
                _forward_network(ZT[s], a[s], c, j0, j1, act, Fr, False)
                tot = 0.0
                for i in range(n):
                    lv, dl = loss_and_deriv(y[s, i], Fr[i], loss)
                    Dr[i] = dl
                    tot += lv
                Lm[s, r] = tot / n
                la, cb, sh = lr_a[s, r], coef_b[s, r], shrink[s, r]
                for j in range(j0, j1):
                    Zj, Qj = ZT[s, j], Q[s, j]
                    g0 = g1 = g2 = g3 = 0.0
                    for i in range(0, n4, 4):
                        g0 += Dr[i] * sigma(Zj[i], act)
                        g1 += Dr[i + 1] * sigma(Zj[i + 1], act)
                        g2 += Dr[i + 2] * sigma(Zj[i + 2], act)
                        g3 += Dr[i + 3] * sigma(Zj[i + 3], act)
                    for i in range(n4, n):
                        g0 += Dr[i] * sigma(Zj[i], act)
                    ga = ((g0 + g1) + (g2 + g3)) / n
                    GA[s, j] = ga
                    a_old = a[s, j]
                    a_new = sh * a_old - la * ga
                    w = cb * (a_new if sequential else a_old)
                    for i in range(n):
                        Qj[i] = times_dsigma(w * Dr[i], Zj[i], act)
                    a[s, j] = a_new

    @njit(cache=True, error_model="numpy")
    def input_factors(Z, a, D, starts, coef_b, Q):
        """Q[s, j, i] = coef_b[s, r] a_j D[s, r, i] sigma'(Z[s, j, i]), so that b += Q X.

        For relu, Z may be P = relu(Z) (the same sign pattern)."""
        S, M, n = Z.shape
        R = starts.shape[0] - 1
        for s in range(S):
            for r in range(R):
                Dr = D[s, r]
                for j in range(starts[r], starts[r + 1]):
                    w = coef_b[s, r] * a[s, j]
                    Zj, Qj = Z[s, j], Q[s, j]
                    for i in range(n):
                        Qj[i] = times_dsigma(w * Dr[i], Zj[i], act)

    return ActivationKernels(forward, fused_step, input_factors)


#: the kernels of each activation code
KERNELS = {RELU: _specialize(RELU), SOFTPLUS: _specialize(SOFTPLUS)}


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
    if loss == SOFTMIN:
        for i in range(n):
            e = math.exp(-(y[i] * Fr[i] - umin))
            Dr[i] = e
            tot += e
        for i in range(n):
            Dr[i] = -y[i] * Dr[i] / tot
        return -umin + math.log(tot / n), umin
    for i in range(n):
        lv, dl = loss_and_deriv(y[i], Fr[i], loss)
        Dr[i] = dl / n
        tot += lv
    return tot / n, umin


@njit(cache=True, error_model="numpy")
def objectives(y, F, loss, D, Lv, Mg):
    """D = dL/dF, Lv = L and Mg = min_i y_i F_i for every (stream, network)."""
    S, R, n = F.shape
    for s in range(S):
        for r in range(R):
            lv, umin = _objective(y[s], F[s, r], loss, D[s, r])
            Lv[s, r] = lv
            Mg[s, r] = umin
