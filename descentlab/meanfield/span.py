"""Two-layer ReLU networks on high-dimensional inputs, trained in the span of the inputs.

Model (seed 000, "Weakly correlated inputs", after Dana, Bach and Pillaud-Vivien 2025): n
inputs x_i in R^d, labels y_i, a width-m network with both layers trained,

    h(x) = sum_j a_j relu(w_j . x),      L(a, W) = (1/2n) sum_i (h(x_i) - y_i)^2.

**Reduction to the span.** The gradient of L in w_j is (1/n) sum_i r_i a_j 1(w_j.x_i > 0) x_i
(r = h - y), a combination of the inputs, so gradient descent keeps w_j(t) = w_j(0) +
sum_i C_ji(t) x_i and only the pre-activations Z_ji = w_j . x_i enter the dynamics:

    a_j <- a_j - eta (1/n) sum_i r_i relu(Z_ji),
    Z   <- Z   - eta Q G,        Q_ji = (1/n) r_i a_j 1(Z_ji > 0),   G = X X^T (Gram, n x n).

A step costs O(m n^2) whatever d, and the data enter only through G and Z(0) = W(0) X^T.
This is exactly gradient descent on (a, W) in R^(m (1 + d)) (``tests/test_weakly_correlated.py``
compares it with ``TwoLayerProblem`` and plain GD in dimension d).

**Sampling without forming X.** Inputs x_i = g_i / ||g_i|| with g_i ~ N(0, I_d) (uniform on
the sphere, population covariance I/d). For d >= n the Gram matrix g g^T is Wishart_n(d, I)
and its Bartlett factor (L lower triangular, L_kk^2 ~ chi2(d - k), L_kl ~ N(0, 1) below the
diagonal, g g^T = L L^T) is a factor F with g = F Q^T for some Q with orthonormal columns,
drawn in O(n^2) random numbers; for d < n, F = g itself (n x d). An initial neuron
w ~ N(0, I_d) then has g w = F xi with xi ~ N(0, I_r) (r = rank of F) and
||w||^2 = ||xi||^2 + chi2(d - r), so Z_ji(0) = s (F xi_j)_i / (||w_j|| ||g_i||) for a
neuron of norm s, exactly, without ever drawing a d-dimensional vector: d = 10^6 costs
the same as d = 10^3. ``orthogonal_data`` gives x_i = e_i (exactly orthogonal inputs).

**Initialisation** (``init_network``): balanced, a_j = +-s (random signs) and
w_j = s u_j with u_j uniform on the sphere (|a_j| = ||w_j||; the flow of a ReLU network
keeps a_j^2 - ||w_j||^2 constant, so the sign of a_j never changes). Neurons are drawn one
by one from their stream, so the width-m network is the first m neurons of the width-m'
network (m < m'): widths are nested.

**Step size.** ``train_span`` runs full-batch GD with eta_k = step_factor / L_k, where

    L_k = ( ||G||_2 sum_j a_j^2 + sum_ji relu(Z_ji)^2 + sqrt(||G||_2) ||r|| ) / n

bounds the Hessian of L at the current point (Gauss-Newton part J J^T <= R^T R +
sum_j a_j^2 D_j G D_j, plus the residual part whose block j has norm
||sum_i r_i 1(Z_ji > 0) x_i|| / n), so every step is a stable, small step of the gradient
flow; the flow time t = sum_k eta_k is what is reported (the time of the gradient flow
dtheta/dt = -grad L). Many networks of the same (n, m) train as one batch (leading axis);
a network leaves the batch when its loss is below ``tol`` times its initial loss
(success) or its flow time reaches ``t_max`` (failure), so stuck runs do not slow the
others down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_positive
from ..errors import DescentlabError


@dataclass(frozen=True)
class SpanData:
    """Inputs through their Gram matrix: x_i = g_i / ||g_i||, g = F Q^T; labels y.

    F: (n, r) factor of the unnormalised Gram g g^T (r = min(n, d)); d: ambient dimension;
    G: (n, n) Gram matrix of the unit inputs; y: (n,) labels.
    """

    F: np.ndarray
    d: int
    y: np.ndarray

    @property
    def n(self) -> int:
        return int(self.F.shape[0])

    @property
    def norms(self) -> np.ndarray:
        return np.sqrt(np.einsum("ij,ij->i", self.F, self.F))

    @property
    def G(self) -> np.ndarray:
        U = self.F / self.norms[:, None]
        return U @ U.T


def _check_nd(n, d) -> tuple[int, int]:
    return check_int("n", n, minimum=1), check_int("d", d, minimum=1)


def bartlett_factor(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Lower-triangular L with L L^T ~ Wishart_n(d, I) (needs d >= n)."""
    n, d = _check_nd(n, d)
    if d < n:
        raise DescentlabError(f"d: the Bartlett factor needs d >= n, got d = {d} < n = {n}")
    L = np.tril(rng.standard_normal((n, n)), -1)
    L[np.diag_indices(n)] = np.sqrt(rng.chisquare(d - np.arange(n)))
    return L


def labels(n: int, rng: np.random.Generator) -> np.ndarray:
    """y_i = +-1, independent fair signs (no data model)."""
    return rng.choice(np.array([-1.0, 1.0]), size=n)


def sphere_data(n: int, d: int, rng: np.random.Generator) -> SpanData:
    """x_i uniform on the unit sphere of R^d, y_i = +-1 (see the module docstring)."""
    n, d = _check_nd(n, d)
    F = bartlett_factor(n, d, rng) if d >= n else rng.standard_normal((n, d))
    return SpanData(F, d, labels(n, rng))


def orthogonal_data(n: int, d: int, rng: np.random.Generator) -> SpanData:
    """x_i = e_i (exactly orthogonal unit inputs, d >= n), y_i = +-1."""
    n, d = _check_nd(n, d)
    if d < n:
        raise DescentlabError(f"d: {n} orthogonal inputs need d >= n, got d = {d}")
    return SpanData(np.eye(n), d, labels(n, rng))


def explicit_data(X: np.ndarray, y: np.ndarray) -> SpanData:
    """SpanData of explicit inputs X (n, d) (rows normalised to unit norm) and labels y."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise DescentlabError(f"X, y: expected shapes (n, d) and (n,), got {X.shape} and "
                              f"{y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise DescentlabError("X, y: expected finite values, found NaN or Inf")
    if np.any(np.linalg.norm(X, axis=1) == 0):
        raise DescentlabError("X: every input needs a non-zero norm")
    return SpanData(X, X.shape[1], y)


def init_network(data: SpanData, m: int, rng: np.random.Generator,
                 scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(a (m,), Z0 (m, n)): balanced neurons a_j = +-scale, w_j = scale * uniform unit vector,
    Z0_ji = w_j . x_i, drawn neuron by neuron (nested widths; module docstring)."""
    m = check_int("m", m, minimum=1)
    scale = check_positive("scale", scale)
    F, d = data.F, data.d
    r = F.shape[1]
    norms = data.norms
    a, Z = np.empty(m), np.empty((m, data.n))
    for j in range(m):
        xi = rng.standard_normal(r)
        rest = rng.chisquare(d - r) if d > r else 0.0
        a[j] = scale * (1.0 if rng.random() < 0.5 else -1.0)
        Z[j] = scale * (F @ xi) / (np.sqrt(xi @ xi + rest) * norms)
    return a, Z


def init_explicit(W: np.ndarray, a: np.ndarray, data: SpanData) -> tuple[np.ndarray, np.ndarray]:
    """(a, Z0) of explicit first-layer weights W (m, d) on explicit inputs (data.F = X)."""
    X = data.F / data.norms[:, None]
    return np.asarray(a, dtype=np.float64).copy(), np.asarray(W, dtype=np.float64) @ X.T


@dataclass
class SpanResult:
    """What ``train_span`` returns for a batch of B networks.

    success (B,): loss <= tol * initial loss reached; t_conv (B,): flow time when it was
    (NaN otherwise); t_end, steps (B,): flow time and steps when the network stopped;
    loss0, loss_end (B,); a (B, m), Z (B, m, n): final parameters (pre-activations);
    curve_t, curve_loss: per network, the flow times and losses every ``record_every``
    steps (and at the stopping step).
    """

    success: np.ndarray
    t_conv: np.ndarray
    t_end: np.ndarray
    steps: np.ndarray
    loss0: np.ndarray
    loss_end: np.ndarray
    a: np.ndarray
    Z: np.ndarray
    curve_t: list
    curve_loss: list


def span_loss(a: np.ndarray, Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """L = (1/2n) sum_i (h_i - y_i)^2 for a (..., m), Z (..., m, n), y (..., n)."""
    h = np.einsum("...m,...mn->...n", a, np.maximum(Z, 0.0))
    return 0.5 * np.mean((h - y) ** 2, axis=-1)


def span_gradient(a: np.ndarray, Z: np.ndarray, y: np.ndarray):
    """(dL/da (..., m), Q (..., m, n), r (..., n)): dL/dw_j = sum_i Q_ji x_i, r = h - y."""
    R = np.maximum(Z, 0.0)
    n = Z.shape[-1]
    r = np.einsum("...m,...mn->...n", a, R) - y
    ga = np.einsum("...mn,...n->...m", R, r) / n
    Q = (Z > 0) * (a[..., :, None] * r[..., None, :]) / n
    return ga, Q, r


def train_span(a0: np.ndarray, Z0: np.ndarray, G: np.ndarray, y: np.ndarray, *,
               t_max, tol: float = 1e-6, step_factor: float = 0.5,
               step: float | None = None, max_steps: int = 1_000_000,
               record_every: int = 10) -> SpanResult:
    """Full-batch GD on B networks (module docstring): a0 (B, m), Z0 (B, m, n),
    G (B, n, n), y (B, n); t_max: scalar or (B,) flow-time budgets. ``step`` fixes
    eta instead of the adaptive step_factor / L_k."""
    a = np.array(a0, dtype=np.float64, ndmin=2)
    Z = np.array(Z0, dtype=np.float64, ndmin=3)
    G = np.asarray(G, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    B, m, n = Z.shape
    if a.shape != (B, m) or G.shape != (B, n, n) or y.shape != (B, n):
        raise DescentlabError(f"a0, Z0, G, y: expected shapes (B, m), (B, m, n), (B, n, n), "
                              f"(B, n) with B, m, n = {B}, {m}, {n}; got {a.shape}, {Z.shape}, "
                              f"{G.shape}, {y.shape}")
    for name, arr in (("a0", a), ("Z0", Z), ("G", G), ("y", y)):
        if not np.all(np.isfinite(arr)):
            raise DescentlabError(f"{name}: expected finite values, found NaN or Inf")
    t_max = np.broadcast_to(np.asarray(t_max, dtype=np.float64), (B,)).copy()
    if np.any(~np.isfinite(t_max)) or np.any(t_max <= 0):
        raise DescentlabError(f"t_max: expected positive finite flow times, got {t_max}")
    tol = check_positive("tol", tol)
    step_factor = check_positive("step_factor", step_factor)
    step = check_positive("step", step, allow_none=True)
    max_steps = check_int("max_steps", max_steps, minimum=1)
    record_every = check_int("record_every", record_every, minimum=1)

    norm_G = np.linalg.norm(G, 2, axis=(1, 2))
    loss0 = span_loss(a, Z, y)
    if np.any(loss0 <= 0):
        raise DescentlabError("y: the initial loss is 0 (nothing to train)")
    out = SpanResult(np.zeros(B, bool), np.full(B, np.nan), np.zeros(B), np.zeros(B, np.int64),
                     loss0.copy(), loss0.copy(), a.copy(), Z.copy(),
                     [[] for _ in range(B)], [[] for _ in range(B)])
    idx = np.arange(B)  # networks still training
    t = np.zeros(B)
    k = 0
    while idx.size:
        ga, Q, r = span_gradient(a, Z, y[idx])
        loss = 0.5 * np.mean(r * r, axis=1)
        if not np.all(np.isfinite(loss)):
            raise DescentlabError("train_span: the loss became NaN/Inf (lower step_factor)")
        won = loss <= tol * loss0[idx]
        lost = (t[idx] >= t_max[idx]) | (k >= max_steps)
        stop = won | lost
        if k % record_every == 0 or np.any(stop):
            for p, i in enumerate(idx):
                if k % record_every == 0 or stop[p]:
                    out.curve_t[i].append(t[i])
                    out.curve_loss[i].append(loss[p])
        if np.any(stop):
            done = idx[stop]
            out.success[done] = won[stop]
            out.t_conv[done[won[stop]]] = t[done[won[stop]]]
            out.t_end[done], out.steps[done], out.loss_end[done] = t[done], k, loss[stop]
            out.a[done], out.Z[done] = a[stop], Z[stop]
            keep = ~stop
            idx, a, Z, ga, Q, r = idx[keep], a[keep], Z[keep], ga[keep], Q[keep], r[keep]
            if not idx.size:
                break
        if step is None:
            R2 = np.sum(np.maximum(Z, 0.0) ** 2, axis=(1, 2))
            ng = norm_G[idx]
            L_k = (ng * np.sum(a * a, axis=1) + R2 + np.sqrt(ng) * np.linalg.norm(r, axis=1)) / n
            eta = step_factor / L_k
        else:
            eta = np.full(idx.size, step)
        a -= eta[:, None] * ga
        Z -= eta[:, None, None] * np.matmul(Q, G[idx])
        t[idx] += eta
        k += 1
    out.curve_t = [np.asarray(c) for c in out.curve_t]
    out.curve_loss = [np.asarray(c) for c in out.curve_loss]
    return out


def orthogonal_success_probability(n: int, m: int) -> float:
    """P(every point is fitted) for exactly orthogonal inputs, balanced init, labels +-1.

    With orthogonal inputs, Z_ji moves only through point i and a_j keeps its sign, so
    point i can be fitted iff some neuron has sign(a_j) = y_i and Z_ji(0) > 0 (a neuron of
    the wrong sign active on x_i is switched off, an inactive one never moves); given the
    m_+ positive neurons this has probability 1 - 2^(-m_+) for a positive label,
    independently over points. Averaging over m_+ ~ Bin(m, 1/2) and n_+ ~ Bin(n, 1/2):

        P = sum_{m+} Bin(m+; m) ((1 - 2^-m+)/2 + (1 - 2^-(m - m+))/2)^n.
    """
    from scipy.stats import binom

    n, m = check_int("n", n, minimum=1), check_int("m", m, minimum=1)
    mp = np.arange(m + 1)
    q = 0.5 * (1 - 0.5 ** mp) + 0.5 * (1 - 0.5 ** (m - mp))
    return float(np.sum(binom.pmf(mp, m, 0.5) * q ** n))


__all__ = ["SpanData", "SpanResult", "bartlett_factor", "explicit_data", "init_explicit",
           "init_network", "labels", "orthogonal_data", "orthogonal_success_probability",
           "span_gradient", "span_loss", "sphere_data", "train_span"]
