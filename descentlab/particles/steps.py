"""How one step of every network of a batch is computed: the reductions of one update.

The update is that of ``descentlab.particles.engine`` (Eq. 3.3 of seed 002, per layer l,
gamma_l = gamma_k x the layer's rate, weight decay lam, D_i = dL/dh(x_i)):

    a_j <- (1 - gamma_a lam) a_j - (gamma_a/alpha) sum_i D_i sigma(b_j . x_i)
    b_j <- (1 - gamma_b lam) b_j - (gamma_b/alpha) sum_i D_i a*_j sigma'(b_j . x_i) x_i

(a*_j the old a_j, or the new one in the sequential order). Per step and stream, Z = b X^T
and the input-layer sum Q X are BLAS products; ``matmul_dtype="float32"`` runs them in
single precision (the particles, the sums of the compiled passes and the updates stay
float64). ``Step`` computes the other sums over samples in one of three ways:

* "compiled": one compiled pass per network (``_compiled.particles`` fused_step), sums in
  4 interleaved partial sums; the fastest for small networks (icm-fig2/3) and per-sample
  losses; the step sizes must be known before the pass (``fused``).
* "blas": compiled passes without sums over samples (forward, loss, Q) and the sums P D as
  BLAS products per network; the fastest for large networks (icm-fig5/6), any loss (the
  soft-min couples the samples), and the step size may depend on the forward pass (a
  per-network curvature bound, early stopping): ``forward`` then ``update``. With a frozen
  input layer on a fixed sample the features P = sigma(b X^T) are computed once and
  h = P^T (c a) is a product.
* "gram" ("blas" on a fixed sample): the pre-activations are updated through the Gram
  matrix K = X X^T. b_j - b_j(0) stays in the span of the inputs, b = b(0) + C X, and a step
  is Z <- Z + Q K, C <- C + Q: one n x n product instead of the two n x D products b X^T
  and Q X (b is formed when read, ``materialize``). That is the span reduction of the
  weakly-correlated experiment: inputs in d = 10^6 cost as much as in d = n.

``ClosedFormStep`` descends the exact population risk (``PopulationRisk.velocity``).
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


class Step:
    """The buffers and passes of one step on a sample (module docstring).

    ``previous``, ``keep``: continue the streams ``keep`` of a previous step (a Gram update
    is carried over, not recomputed, so that a stream's arithmetic does not depend on when
    the others leave the batch).
    """

    def __init__(self, batch: ParticleBatch, data, mm: np.dtype, *, reduction: str,
                 frozen: bool = False, previous: Step | None = None,
                 keep: np.ndarray | None = None):
        self.batch, self.data, self.mm, self.frozen = batch, data, mm, frozen
        self.compiled, self.gram = reduction == "compiled", reduction == "gram"
        self.fixed, self.R = data.full_batch, batch.n_networks
        # plain ints: numba types an enum member slowly
        self.kernels, self.loss = KERNELS[batch.act.code], int(data.loss.code)
        S, M, R = batch.n_streams, batch.n_particles, batch.n_networks
        if data.full_batch:
            X, y = broadcast(data.X, data.y, S)
            self.X, self.y = np.ascontiguousarray(X), np.ascontiguousarray(y)
            self.Xm = self.X if mm == self.X.dtype else self.X.astype(mm)
        n = data.n if data.full_batch else data.batch_size
        # P = sigma(b X^T), in place of Z = b X^T for relu (1(Z > 0) = 1(P > 0)); the
        # compiled pass reads Z only
        self.Z = np.empty((S, M, n), mm)
        self.P = self.Z if self.compiled or (batch.act.code == RELU and not self.gram) \
            else np.empty((S, M, n), mm)
        self.F, self.D = np.empty((S, R, n)), np.empty((S, R, n))
        self.Lv, self.Mg, self.GA = np.empty((S, R)), np.empty((S, R)), np.empty((S, M))
        self.Q, self.G = np.empty((S, M, n), mm), np.empty((S, M, batch.dim), mm)
        self.key = self.gram_norm = None
        if previous is not None and previous.gram_norm is not None:
            self.gram_norm = previous.gram_norm[keep]
        if self.gram and previous is not None:
            self.K, self.C, self.b0 = previous.K[keep], previous.C[keep], previous.b0[keep]
            self.Z[...] = previous.Z[keep]
        elif self.gram:
            self.K = np.matmul(self.Xm, self.Xm.transpose(0, 2, 1))
            self.b0, self.C = batch.b.copy(), np.zeros((S, M, n))
            np.matmul(batch.b.astype(mm), self.Xm.transpose(0, 2, 1), out=self.Z)
        if frozen and not self.compiled:  # the features, once: P = sigma(b X^T)
            self._features()
            if batch.act.code == RELU:
                np.maximum(self.P, 0, out=self.P)
            else:
                self.kernels.forward(self.P, batch.a, batch.scale, batch.starts, self.F, True)

    def _sample(self) -> None:
        """The next batch of a stream (a fixed sample is read once, in ``__init__``)."""
        X, y = broadcast(*self.data.next(), self.batch.n_streams)
        self.X, self.y = X, np.ascontiguousarray(y)
        self.Xm = X if self.mm == X.dtype else X.astype(self.mm)

    def _features(self) -> None:
        """Z = b X^T (unless updated through the Gram matrix), and P = Z before sigma."""
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

    # ------------------------------------------------------------------ compiled
    def fused(self, gamma_a: np.ndarray, gamma_b: np.ndarray, decay: float,
              sequential: bool) -> np.ndarray:
        """One step; returns the loss of the step's sample at the point before it."""
        batch, b = self.batch, self.batch.b
        if not self.fixed:
            self._sample()
        if not self.frozen or self.key is None:
            self._features()
        key = self.key
        if key is None or not (gamma_a is key[0] and gamma_b is key[1] and decay == key[2]):
            # a <- (1 - gamma_a lam) a - (gamma_a/alpha) GA in place; Q = -(gamma_b/alpha n)
            # a* D sigma', so that b += Q X (recomputed only when the steps change)
            self.key, lr_b = (gamma_a, gamma_b, decay), gamma_b / batch.alpha
            self.coefs = (gamma_a / batch.alpha, -lr_b / self.Z.shape[2],
                          1.0 - gamma_a * decay,
                          (1.0 - gamma_b * decay)[:, batch.network_of, None] if decay else None)
        lr_a, coef_b, shrink_a, shrink_b = self.coefs
        self.kernels.fused_step(self.Z, self.y, batch.a, batch.scale, batch.starts, self.loss,
                                lr_a, coef_b, shrink_a, sequential, self.F, self.D, self.Lv,
                                self.GA, self.Q)
        if not self.frozen:
            np.matmul(self.Q, self.Xm, out=self.G)
            if shrink_b is not None:
                b *= shrink_b
            b += self.G
        return self.Lv

    # ---------------------------------------------------------------------- blas
    def forward(self) -> np.ndarray:
        """F = h, D = dL/dh and the loss L of every network at the current point."""
        batch = self.batch
        if not self.fixed:
            self._sample()
        if self.frozen:
            w = (batch.scale * batch.a).astype(self.mm)
            for r in range(self.R):
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
        for r in range(self.R):
            j0, j1 = batch.starts[r], batch.starts[r + 1]
            self.GA[:, j0:j1] = np.matmul(self.P[:, j0:j1], Dm[:, r, :, None])[:, :, 0]
        return self.GA

    def input_gradient(self, coef: np.ndarray) -> np.ndarray:
        """G = Q X with Q = coef a D sigma'(Z): the b-step for coef = -gamma_b/alpha."""
        batch = self.batch
        self.kernels.input_factors(self.Z, batch.a, self.D, batch.starts, coef, self.Q)
        return np.matmul(self.Q, self.Xm, out=self.G)

    def update(self, gamma_a: np.ndarray, gamma_b: np.ndarray, decay: float,
               sequential: bool) -> None:
        """Move the particles after ``forward``."""
        batch, of = self.batch, self.batch.network_of
        GA = self.output_gradient()
        shrink_a, shrink_b = (1.0 - gamma_a * decay, 1.0 - gamma_b * decay) if decay else (0, 0)
        if batch.alpha != 1.0:  # x / 1.0 = x: skipped for speed
            gamma_a, gamma_b = gamma_a / batch.alpha, gamma_b / batch.alpha
        coef = None if self.frozen else -gamma_b
        if not (sequential or self.frozen):  # both gradients at the current point
            self.kernels.input_factors(self.Z, batch.a, self.D, batch.starts, coef, self.Q)
        if decay:
            batch.a *= shrink_a[:, of]
        batch.a -= gamma_a[:, of] * GA
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
            batch.b *= shrink_b[:, of, None]
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


__all__ = ["ClosedFormStep", "Step", "broadcast"]
