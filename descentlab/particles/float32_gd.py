"""Full-batch gradient descent in float32 of many networks f(x) = (1/p) sum_j a_j relu(w_j . x),
the published protocol of the weakly-interacting experiment (Dana, Bach and Pillaud-Vivien,
NeurIPS 2025; the authors' released PyTorch code).

Loss and gradients (``gradients``), for R networks of width p on their own data (n, d):

    L = p mean_i (y_i - f(x_i))^2 / 2,        e_i = (f(x_i) - y_i) / n,
    dL/da_j = sum_i e_i relu(w_j . x_i),      dL/dw_j = a_j sum_i e_i 1(w_j . x_i > 0) x_i,

(PyTorch's relu backward lets no gradient through z = 0, as here), and every epoch:
compute L at the current point; stop if L < p / (2 n); else (W, a) <- (W, a) - lr grad L,
both layers at the same point. ``epochs`` defaults to the published budget
floor(1.5 sqrt(n p) log(n p) / 4) + 1 (``published_epochs``). A run has converged when its
last loss (the one that stopped it, or the one computed before the last step) is
<= p / (2 n).

Everything is float32 (parameters, data, products, gradients), as the published code (the
loss's sum of squares is accumulated in float64 and rounded to float32); the R networks
are one array program (stacked products through BLAS sgemm, one compiled pass over the
(R, n, p) pre-activations, ``descentlab._compiled.float32_gd``); a run that stops leaves
the batch. Cost per epoch and network: two products
of 2 n d p flops (the pre-activations X W^T and the gradient G^T X) and O(n p).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._compiled.float32_gd import residual_pass
from .._validation import check_int, check_positive
from ..errors import DescentlabError


def published_epochs(n: int, p: int) -> int:
    """floor(1.5 sqrt(n p) log(n p) / 4) + 1, the published number of epochs."""
    n, p = check_int("n", n, minimum=1), check_int("p", p, minimum=1)
    return int(math.floor(1.5 * math.sqrt(n * p) * math.log(n * p) / 4)) + 1


def published_threshold(n: int, p: int) -> float:
    """p / (2 n): the loss below which a run stops; with L = p mean_i (y_i - f(x_i))^2 / 2,
    L < p / (2 n) means mean_i (y_i - f(x_i))^2 < 1 / n."""
    return p / (2.0 * n)


@dataclass
class GDResult:
    """final_loss (R,) the last loss computed (float32 value), epochs_run (R,) the gradient
    steps taken, converged (R,) final_loss <= threshold, W (R, p, d) and a (R, p) the
    parameters at the end (where each run stopped)."""

    final_loss: np.ndarray
    epochs_run: np.ndarray
    converged: np.ndarray
    W: np.ndarray
    a: np.ndarray


def network_output(X: np.ndarray, W: np.ndarray, a: np.ndarray) -> np.ndarray:
    """f(x_i) = (1/p) sum_j a_j relu(w_j . x_i) of each network: X (R, n, d), W (R, p, d),
    a (R, p) -> (R, n)."""
    H = np.maximum(np.matmul(X, W.transpose(0, 2, 1)), 0)
    return np.matmul(H, a[:, :, None])[:, :, 0] / np.asarray(a.shape[1], a.dtype)


def gradients(X: np.ndarray, y: np.ndarray, W: np.ndarray, a: np.ndarray,
              out: np.ndarray | None = None):
    """(L (R,), dL/dW (R, p, d), dL/da (R, p)) in the arrays' dtype (module docstring): two
    BLAS products and one compiled pass (``descentlab._compiled.float32_gd``). L is the
    square-residual sum accumulated in float64, times p / (2 n), rounded to the dtype.
    ``out``: an (R, n, p) buffer for the pre-activations (overwritten)."""
    dt = W.dtype
    R, n, _ = X.shape
    p = W.shape[1]
    Z = np.matmul(X, W.transpose(0, 2, 1), out=out)             # (R, n, p)
    sums, ga = np.empty(R), np.empty((R, p), dt)
    residual_pass(Z, a, y, dt.type(1.0 / p), dt.type(1.0 / n), sums, ga)
    gW = np.matmul(Z.transpose(0, 2, 1), X)                     # (R, p, d)
    return (sums * (p / (2.0 * n))).astype(dt), gW, ga


def _check(X, y, W, a):
    arrays = {"X": X, "y": y, "W": W, "a": a}
    for name, arr in arrays.items():
        if not isinstance(arr, np.ndarray) or arr.dtype not in (np.float32, np.float64):
            raise DescentlabError(f"{name}: expected a float32 or float64 array, got "
                                  f"{getattr(arr, 'dtype', type(arr).__name__)}")
        if arr.dtype != X.dtype:
            raise DescentlabError(f"{name}: expected dtype {X.dtype} (that of X), got "
                                  f"{arr.dtype}")
    if X.ndim != 3 or y.ndim != 2 or W.ndim != 3 or a.ndim != 2:
        raise DescentlabError(f"X, y, W, a: expected shapes (R, n, d), (R, n), (R, p, d), "
                              f"(R, p), got {X.shape}, {y.shape}, {W.shape}, {a.shape}")
    R, n, d = X.shape
    if y.shape != (R, n) or W.shape[::2] != (R, d) or a.shape != W.shape[:2]:
        raise DescentlabError(f"X, y, W, a: expected shapes (R, n, d), (R, n), (R, p, d), "
                              f"(R, p), got {X.shape}, {y.shape}, {W.shape}, {a.shape}")


def float32_gd(X: np.ndarray, y: np.ndarray, W: np.ndarray, a: np.ndarray, *,
               lr: float = 1.0, epochs: int | None = None,
               threshold: float | None = None) -> GDResult:
    """Train the R networks (W[r], a[r]) on (X[r], y[r]) by full-batch GD (module
    docstring); ``epochs`` and ``threshold`` default to the published ones for (n, p).
    The inputs are not modified."""
    _check(X, y, W, a)
    R, n, _ = X.shape
    p = W.shape[1]
    lr = check_positive("lr", lr)
    epochs = published_epochs(n, p) if epochs is None else check_int("epochs", epochs, minimum=1)
    threshold = published_threshold(n, p) if threshold is None else \
        check_positive("threshold", threshold, strict=False)
    step = X.dtype.type(lr)
    final_loss = np.full(R, np.nan)
    epochs_run = np.full(R, epochs, dtype=np.int64)
    W_end, a_end = W.copy(), a.copy()
    active = np.arange(R)
    Xa, ya = np.ascontiguousarray(X), np.ascontiguousarray(y)
    Wa, aa = np.array(W, order="C"), np.array(a, order="C")
    buf = np.empty((R, n, p), X.dtype)
    for k in range(epochs):
        loss, gW, ga = gradients(Xa, ya, Wa, aa, out=buf[:active.size])
        final_loss[active] = loss
        stop = loss < threshold
        if stop.any():
            done = active[stop]
            epochs_run[done] = k
            W_end[done], a_end[done] = Wa[stop], aa[stop]
            keep = ~stop
            active = active[keep]
            if active.size == 0:
                break
            Xa, ya, Wa, aa = Xa[keep], ya[keep], Wa[keep], aa[keep]
            gW, ga = gW[keep], ga[keep]
        Wa -= step * gW
        aa -= step * ga
    if active.size:
        W_end[active], a_end[active] = Wa, aa
    return GDResult(final_loss, epochs_run, final_loss <= threshold, W_end, a_end)


__all__ = ["GDResult", "float32_gd", "gradients", "network_output", "published_epochs",
           "published_threshold"]
