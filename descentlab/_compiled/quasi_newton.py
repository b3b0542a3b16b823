"""Compiled O(n) pieces of the (quasi-)Newton methods on linear models (numba).

A linear model's smooth part is g(x) = (1/n) sum_i phi(z_i, y_i) + lam2 ||x||^2 / 2 with the
margins z = X x. The (quasi-)Newton methods keep z and, along a search direction d, the
margins q = X d, so that every point x + t d of a line search costs one pass over n scalars
(z + t q) instead of a pass over the data: the matrix products X d and X^T r stay in scipy /
BLAS, these kernels do the per-sample work in one loop with one exponential per sample
(numpy's logaddexp + expit take several passes and two exponentials).

With u = y z (logistic, y in {-1, +1}) and e = exp(-|u|):
phi = log(1 + exp(-u)) = max(-u, 0) + log1p(e),  phi' = -y sigmoid(-u),
sigmoid(-u) = e / (1 + e) for u >= 0 and 1 / (1 + e) otherwise,  phi'' = sigmoid(u) sigmoid(-u).
Square loss: phi = (z - y)^2 / 2, phi' = z - y, phi'' = 1.
"""

from __future__ import annotations

import math

from numba import njit

from .losses import LossCode

SQUARE = int(LossCode.SQUARE)


@njit(cache=True, inline="always", error_model="numpy")
def _loss_dloss(z, y, code):
    """(phi(z), phi'(z)) of the loss ``code`` at the target y, with one exponential."""
    if code == SQUARE:
        r = z - y
        return 0.5 * r * r, r
    u = y * z
    e = math.exp(-abs(u))
    if u >= 0.0:
        return math.log1p(e), -y * (e / (1.0 + e))
    return -u + math.log1p(e), -y / (1.0 + e)


@njit(cache=True, error_model="numpy")
def loss_and_residual(z, y, code, r):
    """sum_i phi(z_i, y_i), with r_i = phi'(z_i, y_i) written into ``r``."""
    total = 0.0
    for i in range(z.shape[0]):
        f, g = _loss_dloss(z[i], y[i], code)
        total += f
        r[i] = g
    return total


@njit(cache=True, error_model="numpy")
def loss_along_ray(z, q, y, code, t, r):
    """(sum_i phi(z_i + t q_i), sum_i phi'(z_i + t q_i) q_i): the data part of g(x + t d)
    and of its derivative in t, with z = X x and q = X d; r_i = phi'(z_i + t q_i) is written
    into ``r`` (the gradient at an accepted step needs only X^T r)."""
    total = 0.0
    slope = 0.0
    for i in range(z.shape[0]):
        f, g = _loss_dloss(z[i] + t * q[i], y[i], code)
        total += f
        slope += g * q[i]
        r[i] = g
    return total, slope


@njit(cache=True, error_model="numpy")
def curvature(z, y, code, w):
    """w_i = phi''(z_i, y_i) (1 for the square loss, sigmoid(u) sigmoid(-u) for the logistic)."""
    for i in range(z.shape[0]):
        if code == SQUARE:
            w[i] = 1.0
        else:
            e = math.exp(-abs(y[i] * z[i]))
            w[i] = e / ((1.0 + e) * (1.0 + e))
    return w

