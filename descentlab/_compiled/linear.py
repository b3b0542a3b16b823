"""Compiled pieces of the linear models (numba): the derivative of the per-sample loss, and
the mean gradient of a batch of rows gathered straight from the CSR arrays (scipy's row
indexing costs tens of microseconds per call, which dominated the stochastic methods).

With the margin u = y z, phi'(z) = z - y for the square loss (z - y)^2 / 2 and
phi'(z) = -y sigmoid(-u) for the logistic loss log(1 + exp(-u)), y in {-1, +1}.
"""

from __future__ import annotations

from numba import njit

from .losses import LossCode, sigmoid

SQUARE = int(LossCode.SQUARE)


@njit(cache=True, inline="always", error_model="numpy")
def dloss(z, y, code):
    """phi'(z) of the loss ``code`` (LossCode.SQUARE or LossCode.LOGISTIC) at the target y."""
    if code == SQUARE:
        return z - y
    return -y * sigmoid(-(y * z))


@njit(cache=True, error_model="numpy")
def batch_grad_csr(indptr, indices, data, y, code, x, idx, out):
    """out = (1/|idx|) sum_{i in idx} phi_i'(a_i . x) a_i  (the data part only).

    Returns False, leaving ``out`` undefined, when an index lies outside [0, n)."""
    n = indptr.shape[0] - 1
    for t in range(idx.shape[0]):
        if idx[t] < 0 or idx[t] >= n:
            return False
    out[:] = 0.0
    inv_b = 1.0 / idx.shape[0]
    for t in range(idx.shape[0]):
        i = idx[t]
        z = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            z += data[p] * x[indices[p]]
        g = dloss(z, y[i], code) * inv_b
        for p in range(indptr[i], indptr[i + 1]):
            out[indices[p]] += g * data[p]
    return True
