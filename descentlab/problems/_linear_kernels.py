"""Compiled building blocks of the linear models (numba): the loss derivative, and the
mean gradient of a batch of rows gathered straight from the CSR arrays (scipy's row
indexing costs tens of microseconds per call, which dominated the stochastic methods)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

SQUARED, LOGISTIC = 0, 1


@njit(cache=True, inline="always", error_model="numpy")
def dloss(z, y, kind):
    """phi'(z) for the squared loss (z - y)^2/2 or the logistic loss log(1 + exp(-y z))."""
    if kind == SQUARED:
        return z - y
    m = y * z
    if m > 0.0:
        e = math.exp(-m)
        return -y * e / (1.0 + e)
    return -y / (1.0 + math.exp(m))


@njit(cache=True, error_model="numpy")
def batch_grad_csr(indptr, indices, data, y, kind, x, idx, out):
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
        g = dloss(z, y[i], kind) * inv_b
        for p in range(indptr[i], indptr[i + 1]):
            out[indices[p]] += g * data[p]
    return True


def csr_arrays(X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, indices, data) of X; a dense X is viewed as CSR with every entry stored."""
    import scipy.sparse as sp

    if sp.issparse(X):
        return X.indptr, X.indices, X.data
    n, d = X.shape
    indptr = np.arange(0, (n + 1) * d, d, dtype=np.int64)
    indices = np.tile(np.arange(d, dtype=np.int32), n)
    return indptr, indices, np.ascontiguousarray(X).ravel()
