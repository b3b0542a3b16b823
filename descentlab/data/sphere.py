"""Inputs on the sphere of a high-dimensional R^d, through a factor of their Gram matrix.

Model of the weakly-correlated experiment (seed 000, after Dana, Bach and Pillaud-Vivien
2025): n inputs x_i = g_i / ||g_i|| with g_i ~ N(0, I_d) (uniform on the sphere, population
covariance I/d), labels y_i = +-1 fair signs independent of x.

**The span of the inputs.** Write g = F Q^T with Q (d x r) orthonormal columns and F (n x r),
r = min(n, d). Then x_i = U_i Q^T with U_i = F_i / ||F_i|| the unit rows of F: the inputs,
and every first-layer weight that gradient descent moves (gradients are combinations of
the x_i), live in the span of Q, and w . x_i = (w Q) . U_i. Training on the inputs U in
R^r with weights b_j = w_j Q is the same dynamics as in R^d (the component of w_j(0)
orthogonal to the span never moves and never enters w_j . x_i); a step costs O(m n r)
whatever d is.

**Sampling without forming g.** For d >= n, g g^T is Wishart_n(d, I) and its Bartlett
factor (L lower triangular, L_kk^2 ~ chi2(d - k), L_kl ~ N(0, 1) below the diagonal,
g g^T = L L^T) is such a factor F, drawn in O(n^2) random numbers; for d < n, F = g itself.
A neuron w ~ N(0, I_d) has w Q ~ N(0, I_r) and ||w||^2 = ||w Q||^2 + chi2(d - r), so a
neuron of norm s uniform on the sphere has span coordinates b = s xi / sqrt(||xi||^2 +
chi2(d - r)), xi ~ N(0, I_r), exactly, without drawing a d-dimensional vector: d = 10^6
costs the same as d = 10^3 (``balanced_neurons``). ``orthogonal_data`` gives x_i = e_i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_positive
from ..errors import DescentlabError


@dataclass(frozen=True)
class SpanData:
    """Inputs x_i = g_i / ||g_i||, g = F Q^T, and labels y.

    F: (n, r) factor of the unnormalised Gram g g^T (r = min(n, d)); d: ambient dimension;
    y: (n,) labels; basis: Q (d, r) when the inputs are explicit (``explicit_data``).
    """

    F: np.ndarray
    d: int
    y: np.ndarray
    basis: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.F.shape[0])

    @property
    def norms(self) -> np.ndarray:
        return np.sqrt(np.einsum("ij,ij->i", self.F, self.F))

    @property
    def U(self) -> np.ndarray:
        """(n, r): the unit inputs in the coordinates of the span."""
        return self.F / self.norms[:, None]

    @property
    def G(self) -> np.ndarray:
        """(n, n): Gram matrix of the unit inputs."""
        U = self.U
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
    """SpanData of explicit inputs X (n, d) (rows normalised to unit norm) and labels y:
    F = X Q with Q the orthonormal basis of a thin QR factorisation of X^T."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise DescentlabError(f"X, y: expected shapes (n, d) and (n,), got {X.shape} and "
                              f"{y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise DescentlabError("X, y: expected finite values, found NaN or Inf")
    if np.any(np.linalg.norm(X, axis=1) == 0):
        raise DescentlabError("X: every input needs a non-zero norm")
    Q = np.linalg.qr(X.T)[0]
    return SpanData(X @ Q, X.shape[1], y, Q)


def balanced_neurons(data: SpanData, m: int, rng: np.random.Generator,
                     scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(a (m,), b (m, r)): a_j = +-scale (random signs), w_j = scale * a uniform unit vector
    of R^d, in the coordinates of the span (b_j = w_j Q, module docstring). Neurons are drawn
    one by one, so the width-m network is the first m neurons of any wider one."""
    m = check_int("m", m, minimum=1)
    scale = check_positive("scale", scale)
    r = data.F.shape[1]
    a, b = np.empty(m), np.empty((m, r))
    for j in range(m):
        xi = rng.standard_normal(r)
        rest = rng.chisquare(data.d - r) if data.d > r else 0.0
        a[j] = scale * (1.0 if rng.random() < 0.5 else -1.0)
        b[j] = scale * xi / np.sqrt(xi @ xi + rest)
    return a, b


def explicit_neurons(W: np.ndarray, a: np.ndarray, data: SpanData
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of explicit first-layer weights W (m, d) for ``explicit_data``: b = W Q."""
    if data.basis is None:
        raise DescentlabError("data: explicit weights need explicit inputs (explicit_data)")
    return np.asarray(a, dtype=np.float64).copy(), np.asarray(W, dtype=np.float64) @ data.basis


__all__ = ["SpanData", "balanced_neurons", "bartlett_factor", "explicit_data",
           "explicit_neurons", "labels", "orthogonal_data", "sphere_data"]
