"""Compiled pass of the float32 full-batch GD of ``descentlab.particles.float32_gd`` (numba).

``residual_pass(Z, a, y, inv_p, inv_n, loss, ga)``: Z[r, i, j] = w_j . x_i of network r
(one BLAS product per network, done by the caller), a[r, j], y[r, i]. For each network and
sample, in the arrays' dtype (float32 for the protocol):

    f_i = (sum_j a_j relu(Z_ij)) inv_p,   res_i = f_i - y_i,   e_i = res_i inv_n,
    ga_j = sum_i e_i relu(Z_ij),          Z_ij <- e_i a_j 1(Z_ij > 0)   (in place),

so that dL/dW = Z^T X is one more BLAS product; loss[r] = sum_i res_i^2 accumulated in
float64 (the caller scales it by p / (2 n) and rounds it to the dtype). One pass over Z
instead of five numpy passes (relu, two products, the mask, the outer product); the loop
over j has one accumulator per j, so it vectorizes without fastmath.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def residual_pass(Z, a, y, inv_p, inv_n, loss, ga):  # pragma: no cover - compiled
    R, n, p = Z.shape
    zero = inv_p - inv_p
    for r in range(R):
        for j in range(p):
            ga[r, j] = zero
        acc = 0.0
        for i in range(n):
            f = zero
            for j in range(p):
                z = Z[r, i, j]
                f += a[r, j] * (z if z > zero else zero)  # a select, not a branch
            res = f * inv_p - y[r, i]
            rd = np.float64(res)
            acc += rd * rd
            e = res * inv_n
            for j in range(p):
                z = Z[r, i, j]
                h = z if z > zero else zero
                ga[r, j] += e * h
                Z[r, i, j] = e * a[r, j] if z > zero else zero
        loss[r] = acc


__all__ = ["residual_pass"]
