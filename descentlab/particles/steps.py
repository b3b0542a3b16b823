"""How one step of every network of a batch is computed: three reductions of the same update.

The update is that of ``descentlab.particles.engine`` (Eq. 3.3 of seed 002, per layer l,
gamma_l = gamma_k x the layer's rate, weight decay lam, D_i = dL/dh(x_i)):

    a_j <- (1 - gamma_a lam) a_j - (gamma_a/alpha) sum_i D_i sigma(b_j . x_i)
    b_j <- (1 - gamma_b lam) b_j - (gamma_b/alpha) sum_i D_i a*_j sigma'(b_j . x_i) x_i

(a*_j the old a_j, or the new one in the sequential order). Per step and stream, Z = b X^T
and the input-layer sum Q X are BLAS products; ``matmul_dtype="float32"`` runs them in
single precision (the particles, the sums of the compiled passes and the updates stay
float64). The sums over samples of the rest are computed in one of three ways:

* ``CompiledStep``: one compiled pass per network (``_compiled.particles.fused_step``),
  sums in 4 interleaved partial sums; the fastest for small networks (icm-fig2/3) and
  per-sample losses; the step sizes must be known before the pass.
* ``BlasStep``: compiled passes without sums over samples (forward, loss, Q) and the sums
  P D as BLAS products per network; the fastest for large networks (icm-fig5/6), any loss
  (the soft-min couples the samples), and the step size may depend on the forward pass
  (a per-network curvature bound, early stopping). With a frozen input layer on a fixed
  sample the features P = sigma(b X^T) are computed once and h = P^T (c a) is a product.
  With ``gram=True`` (a fixed sample) the pre-activations are updated through the Gram
  matrix K = X X^T: b_j - b_j(0) stays in the span of the inputs, b = b(0) + C X, and a
  step is Z <- Z + Q K, C <- C + Q (one n x n product instead of the two n x D products
  b X^T and Q X; b is formed when it is read). That is the span reduction of the
  weakly-correlated experiment: inputs in d = 10^6 cost as much as in d = n.
* ``ClosedFormStep``: the exact population risk (``PopulationRisk.velocity``).

A step object owns the buffers of its batch; ``forward()`` returns the loss of every
network at the current point (mean over the step's sample), ``update(gamma_a, gamma_b,
decay, sequential)`` moves the particles with the per-network steps gamma_a, gamma_b
(S, R) and the weight decay lam (``CompiledStep`` does both in one call, ``fused``).
"""

from __future__ import annotations

import numpy as np

from .._compiled.particles import KERNELS, RELU, objectives
from .batch import ParticleBatch
from .samples import PopulationRisk


def broadcast(X: np.ndarray, y: np.ndarray, S: int) -> tuple[np.ndarray, np.ndarray]:
    """X (S or 1, n, D) and y (S or 1, n) as views with S streams."""
    if X.shape[0] == S:
        return X, y
    return np.broadcast_to(X, (S,) + X.shape[1:]), np.broadcast_to(y, (S,) + y.shape[1:])


class CompiledStep:
    """Sums over samples inside one compiled pass (module docstring)."""

    def __init__(self, batch: ParticleBatch, data, mm: np.dtype, *, frozen: bool = False):
        self.batch, self.data, self.mm, self.frozen = batch, data, mm, frozen
        self.kernels, self.loss = KERNELS[batch.act.code], int(data.loss.code)  # plain ints:
        self.n = self.key = None  # numba types an enum member slowly

    def _buffers(self, n: int) -> None:
        batch, mm = self.batch, self.mm
        S, M, R = batch.n_streams, batch.n_particles, batch.n_networks
        self.n = n
        self.ZT, self.Q = np.empty((S, M, n), mm), np.empty((S, M, n), mm)
        self.F, self.D = np.empty((S, R, n)), np.empty((S, R, n))
        self.Lm, self.GA = np.empty((S, R)), np.empty((S, M))
        self.G = np.empty((S, M, batch.dim), mm)
        self.features_done = False

    def fused(self, gamma_a: np.ndarray, gamma_b: np.ndarray, decay: float,
              sequential: bool) -> np.ndarray:
        """One step; returns the loss of the step's sample at the point before it."""
        batch, mm = self.batch, self.mm
        a, b, S = batch.a, batch.b, batch.n_streams
        X, y = self.data.next()
        X, y = broadcast(X, y, S)
        n = X.shape[1]
        if self.n != n:
            self._buffers(n)
        ZT, Q, G = self.ZT, self.Q, self.G
        X = X if mm == X.dtype else X.astype(mm)
        if not (self.frozen and self.features_done):
            bm = b if mm == b.dtype else b.astype(mm)
            if S == 1:
                np.matmul(bm[0], X[0].T, out=ZT[0])
            else:
                np.matmul(bm, X.transpose(0, 2, 1), out=ZT)
            self.features_done = True
        key = self.key
        if key is None or not (gamma_a is key[0] and gamma_b is key[1] and decay == key[2]
                               and n == key[3]):
            # a <- (1 - gamma_a lam) a - (gamma_a/alpha) GA in place; Q = -(gamma_b/alpha n)
            # a* D sigma', so that b += Q X (recomputed only when the steps change)
            self.key, lr_b = (gamma_a, gamma_b, decay, n), gamma_b / batch.alpha
            self.coefs = (gamma_a / batch.alpha, -lr_b / n, 1.0 - gamma_a * decay,
                          (1.0 - gamma_b * decay)[:, batch.network_of, None] if decay else None)
        lr_a, coef_b, shrink_a, shrink_b = self.coefs
        self.kernels.fused_step(ZT, np.ascontiguousarray(y), a, batch.scale, batch.starts,
                                self.loss, lr_a, coef_b, shrink_a, sequential, self.F, self.D,
                                self.Lm, self.GA, Q)
        if not self.frozen:
            if S == 1:
                np.matmul(Q[0], X[0], out=G[0])
            else:
                np.matmul(Q, X, out=G)
            if shrink_b is not None:
                b *= shrink_b
            b += G
        return self.Lm


class BlasStep:
    """Sums over samples as BLAS products between compiled passes (module docstring)."""

    def __init__(self, batch: ParticleBatch, data, mm: np.dtype, *, frozen: bool = False,
                 gram: bool = False, previous: BlasStep | None = None,
                 keep: np.ndarray | None = None):
        """``previous``, ``keep``: continue the streams ``keep`` of a previous step (their
        Gram update is carried over, not recomputed, so that a stream's arithmetic does
        not depend on when the others leave the batch)."""
        self.batch, self.data, self.mm, self.frozen = batch, data, mm, frozen
        S, M, R = batch.n_streams, batch.n_particles, batch.n_networks
        self.kernels, self.loss = KERNELS[batch.act.code], int(data.loss.code)
        self.relu = batch.act.code == RELU
        if data.full_batch:
            X, y = broadcast(data.X, data.y, S)
            self.X, self.y = np.ascontiguousarray(X), np.ascontiguousarray(y)
            self.Xm = self.X.astype(mm)
        n = data.n if data.full_batch else data.batch_size
        self.P = np.empty((S, M, n), mm)  # sigma(b X^T): recomputed each step, or frozen
        # relu without the Gram update: P = relu(Z) in place (1(Z > 0) = 1(P > 0))
        self.Z = self.P if self.relu and not gram else np.empty((S, M, n), mm)
        self.gram, self.gram_norm = gram, None
        if previous is not None:
            self.gram_norm = None if previous.gram_norm is None else previous.gram_norm[keep]
        if gram and previous is not None:
            self.K, self.C, self.b0 = previous.K[keep], previous.C[keep], previous.b0[keep]
            self.Z[...] = previous.Z[keep]
        elif gram:
            self.K = np.matmul(self.Xm, self.Xm.transpose(0, 2, 1))
            self.b0, self.C = batch.b.copy(), np.zeros((S, M, n))
            np.matmul(batch.b.astype(mm), self.Xm.transpose(0, 2, 1), out=self.Z)
        self.F, self.D = np.empty((S, R, n)), np.empty((S, R, n))
        self.Lv, self.Mg, self.GA = np.empty((S, R)), np.empty((S, R)), np.empty((S, M))
        self.Q, self.G = np.empty((S, M, n), mm), np.empty((S, M, batch.dim), mm)
        if frozen:
            self._features()
            if self.relu:
                np.maximum(self.P, 0, out=self.P)
            else:
                self.kernels.forward(self.P, batch.a, batch.scale, batch.starts, self.F, True)

    def _features(self) -> None:
        if not self.gram:
            b = self.batch.b
            bm = b if self.mm == b.dtype else b.astype(self.mm)
            np.matmul(bm, self.Xm.transpose(0, 2, 1), out=self.Z)
        if self.P is not self.Z:
            np.copyto(self.P, self.Z)

    def materialize(self) -> None:
        """Form b = b(0) + C X (Gram update only; otherwise b is always current)."""
        if self.gram:
            np.add(self.b0, np.matmul(self.C, self.X), out=self.batch.b)

    def forward(self) -> np.ndarray:
        """F = h, D = dL/dh and the loss L of every network at the current point."""
        batch = self.batch
        if not self.data.full_batch:
            X, y = broadcast(*self.data.next(), batch.n_streams)
            self.X, self.y = X, np.ascontiguousarray(y)
            self.Xm = X.astype(self.mm)
        if self.frozen:
            w = (batch.scale * batch.a).astype(self.mm)
            for r in range(batch.n_networks):
                j0, j1 = batch.starts[r], batch.starts[r + 1]
                self.F[:, r] = np.matmul(w[:, None, j0:j1], self.P[:, j0:j1])[:, 0]
        else:
            self._features()
            self.kernels.forward(self.P, batch.a, batch.scale, batch.starts, self.F, True)
        objectives(self.y, self.F, self.loss, self.D, self.Lv, self.Mg)
        return self.Lv

    def curvature(self) -> np.ndarray:
        """(S, R): a bound of ||m grad^2 G|| at the current point (square loss, relu, fixed
        sample; after ``forward``). With c = alpha/m, g = ||X X^T||_2 and r = h - y,

            ||grad^2 L|| <= (c^2 (g sum_j a_j^2 + sum_ij relu(b_j . x_i)^2) + c sqrt(g) ||r||) / n

        (Gauss-Newton part J^T J / n, ||J||^2 <= c^2 (g sum a^2 + ||relu(b X^T)||_F^2), plus
        the residual part, whose block j has norm c ||sum_i r_i 1(b_j . x_i > 0) x_i|| / n),
        and m grad^2 G = (m / alpha^2) grad^2 L."""
        batch = self.batch
        if self.gram_norm is None:
            K = self.K if self.gram else np.matmul(self.X, self.X.transpose(0, 2, 1))
            self.gram_norm = np.linalg.eigvalsh(K)[:, -1:]
        starts, n, g = batch.starts[:-1], self.F.shape[2], self.gram_norm
        a2 = np.add.reduceat(batch.a * batch.a, starts, axis=1)
        p2 = np.add.reduceat(np.einsum("smi,smi->sm", self.P, self.P), starts, axis=1)
        r = np.linalg.norm(self.F - self.y[:, None, :], axis=2)
        m = np.asarray(batch.widths, dtype=np.float64)
        c = batch.alpha / m
        return (m / batch.alpha**2) * (c * c * (g * a2 + p2) + c * np.sqrt(g) * r) / n

    def output_gradient(self) -> np.ndarray:
        """GA[s, j] = sum_i P[s, j, i] D[s, r(j), i] (BLAS, one product per network)."""
        batch, D = self.batch, self.D
        Dm = D if self.mm == D.dtype else D.astype(self.mm)
        for r in range(batch.n_networks):
            j0, j1 = batch.starts[r], batch.starts[r + 1]
            self.GA[:, j0:j1] = np.matmul(self.P[:, j0:j1], Dm[:, r, :, None])[:, :, 0]
        return self.GA

    def input_gradient(self, coef: np.ndarray) -> np.ndarray:
        """G = Q X with Q = coef a D sigma'(Z): the b-step for coef = -gamma_b/alpha."""
        batch = self.batch
        self.kernels.input_factors(self.Z, batch.a, self.D, batch.starts, coef, self.Q)
        np.matmul(self.Q, self.Xm, out=self.G)
        return self.G

    def update(self, gamma_a: np.ndarray, gamma_b: np.ndarray, decay: float,
               sequential: bool) -> None:
        """Move the particles after ``forward``."""
        batch = self.batch
        of = batch.network_of
        GA = self.output_gradient()
        coef = -(gamma_b / batch.alpha)
        if not (sequential or self.frozen):  # both gradients at the current point
            self.kernels.input_factors(self.Z, batch.a, self.D, batch.starts, coef, self.Q)
        if decay:
            batch.a *= (1.0 - gamma_a * decay)[:, of]
        batch.a -= (gamma_a / batch.alpha)[:, of] * GA
        if self.frozen:
            return
        if sequential:  # the new a_j in the b-gradient
            self.kernels.input_factors(self.Z, batch.a, self.D, batch.starts, coef, self.Q)
        if self.gram:
            self.Z += np.matmul(self.Q, self.K)
            self.C += self.Q
            return
        np.matmul(self.Q, self.Xm, out=self.G)
        if decay:
            batch.b *= (1.0 - gamma_b * decay)[:, of, None]
        batch.b += self.G


class ClosedFormStep:
    """Gradient descent on the exact population risk (simultaneous order)."""

    def __init__(self, batch: ParticleBatch, data: PopulationRisk):
        self.batch, self.data = batch, data

    def forward(self) -> np.ndarray:
        batch = self.batch
        self.va, self.vb, risk = self.data.velocity(batch, batch.a, batch.b)
        return risk

    def update(self, gamma_a: np.ndarray, gamma_b: np.ndarray, decay: float,
               sequential: bool) -> None:
        batch, of = self.batch, self.batch.network_of
        if decay:
            batch.a *= (1.0 - gamma_a * decay)[:, of]
            batch.b *= (1.0 - gamma_b * decay)[:, of, None]
        batch.a -= gamma_a[:, of] * self.va
        batch.b -= gamma_b[:, of, None] * self.vb


__all__ = ["BlasStep", "ClosedFormStep", "CompiledStep", "broadcast"]
