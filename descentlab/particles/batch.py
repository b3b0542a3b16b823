"""Many networks as one array: the batched layout of ``descentlab.particles``.

R networks of widths m_1..m_R that see the same data are concatenated along the particle
axis (M = m_1 + ... + m_R particles, network r owning the slice starts[r]:starts[r+1]);
S independent copies of that set (S data streams, e.g. S repetitions with their own
teacher) are stacked along a leading axis. The parameters are

    a: (S, M)      output weights (mean-field scale: h = (alpha/m) sum_j a_j sigma(b_j.x)),
    b: (S, M, D)   input weights,

and a step of every network is two matrix products over all particles of a stream
(X b^T and P^T X, one BLAS call each, stacked over S) plus compiled passes
(``descentlab._compiled.particles``), never a Python loop over networks.

Seeding: ``seeded(seed, *keys)`` is ``np.random.default_rng([seed, *keys])`` (a
SeedSequence over the integers), so a network's initial particles depend only on its own
keys: network (s, r) of a batch equals the same network initialised alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_positive
from ..errors import DescentlabError
from ..problems.twolayer import Activation, get_activation, init_particles

#: first key of the streams used by the experiments: seeded(seed, KEY_..., ...)
KEY_TEACHER, KEY_INIT, KEY_TRAIN, KEY_TEST = 0, 1, 2, 3


def seeded(seed: int, *keys: int) -> np.random.Generator:
    """np.random.default_rng([seed, *keys]): one independent stream per tuple of keys."""
    values = [int(seed), *map(int, keys)]
    if any(v < 0 for v in values):
        raise DescentlabError(f"seed: expected non-negative integers, got {values}")
    return np.random.default_rng(values)


@dataclass(eq=False)
class ParticleBatch:
    """R networks (``widths``) in each of S streams; see the module docstring."""

    widths: tuple[int, ...]
    a: np.ndarray
    b: np.ndarray
    alpha: float = 1.0
    activation: str = "relu"

    def __post_init__(self):
        if len(self.widths) == 0:
            raise DescentlabError("widths: expected at least one network width")
        self.widths = tuple(check_int("widths", m, minimum=1) for m in self.widths)
        self.alpha = check_positive("alpha", self.alpha)
        self.act: Activation = get_activation(self.activation)
        self.a = np.ascontiguousarray(self.a, dtype=np.float64)
        self.b = np.ascontiguousarray(self.b, dtype=np.float64)
        M = sum(self.widths)
        if self.a.ndim != 2 or self.a.shape[1] != M:
            raise DescentlabError(f"a: expected shape (S, {M}) for widths {self.widths}, "
                                  f"got {self.a.shape}")
        if self.b.ndim != 3 or self.b.shape[:2] != self.a.shape:
            raise DescentlabError(f"b: expected shape {self.a.shape + ('D',)}, got "
                                  f"{self.b.shape}")
        self.starts = np.concatenate([[0], np.cumsum(self.widths)]).astype(np.int64)
        self.network_of = np.repeat(np.arange(len(self.widths)), self.widths)
        #: c_j = alpha / m_r(j), so that h_r = sum_{j in r} c_j a_j sigma(b_j . x)
        self.scale = self.alpha / np.repeat(np.asarray(self.widths, dtype=np.float64),
                                            self.widths)

    # ----------------------------------------------------------------- building
    @classmethod
    def init(cls, widths: Sequence[int], dim: int,
             rng_for: Callable[[int, int], np.random.Generator], *, streams: int = 1,
             alpha: float = 1.0, activation: str = "relu", init: Callable = init_particles,
             **init_options) -> ParticleBatch:
        """Draw network r of stream s with ``init(m_r, dim, rng_for(s, r), **init_options)``.

        ``init`` defaults to :func:`descentlab.problems.twolayer.init_particles` (options
        b_init, b_scale, a_init, a_scale, symmetric); any function returning (a, b) of
        shapes (m,) and (m, dim) works (e.g. ``descentlab.particles.margins.init_margin``).
        """
        streams = check_int("streams", streams, minimum=1)
        dim = check_int("dim", dim, minimum=1)
        widths = [check_int("widths", m, minimum=1) for m in widths]
        return cls.from_networks([[init(m, dim, rng_for(s, r), **init_options)
                                   for r, m in enumerate(widths)] for s in range(streams)],
                                 alpha=alpha, activation=activation)

    @classmethod
    def from_networks(cls, networks: Sequence[Sequence[tuple[np.ndarray, np.ndarray]]], *,
                      alpha: float = 1.0, activation: str = "relu") -> ParticleBatch:
        """From ``networks[s][r] = (a, b)``; every stream must have the same widths."""
        widths = tuple(len(a) for a, _ in networks[0])
        for row in networks:
            if tuple(len(a) for a, _ in row) != widths:
                raise DescentlabError(f"networks: every stream needs the widths {widths}")
        a = np.stack([np.concatenate([np.asarray(n[0], float) for n in row]) for row in networks])
        b = np.stack([np.concatenate([np.asarray(n[1], float) for n in row]) for row in networks])
        return cls(widths, a, b, alpha, activation)

    def copy(self) -> ParticleBatch:
        return ParticleBatch(self.widths, self.a.copy(), self.b.copy(), self.alpha,
                             self.activation)

    def streams(self, keep: np.ndarray) -> ParticleBatch:
        """The networks of the streams ``keep`` (indices or a boolean mask), copied."""
        return ParticleBatch(self.widths, self.a[keep], self.b[keep], self.alpha,
                             self.activation)

    # ------------------------------------------------------------------ views
    @property
    def n_streams(self) -> int:
        return int(self.a.shape[0])

    @property
    def n_networks(self) -> int:
        return len(self.widths)

    @property
    def n_particles(self) -> int:
        return int(self.a.shape[1])

    @property
    def dim(self) -> int:
        return int(self.b.shape[2])

    def network(self, s: int, r: int) -> tuple[np.ndarray, np.ndarray]:
        """(a, b) of network r of stream s (views)."""
        lo, hi = self.starts[r], self.starts[r + 1]
        return self.a[s, lo:hi], self.b[s, lo:hi]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """h of every network: X of shape (S, n, D) or (n, D) -> (S, n, R)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 2:
            X = np.broadcast_to(X, (self.n_streams,) + X.shape)
        H = self.act(np.matmul(X, self.b.transpose(0, 2, 1)))
        weighted = H * (self.scale * self.a)[:, None, :]
        return np.add.reduceat(weighted, self.starts[:-1], axis=2)


__all__ = ["KEY_INIT", "KEY_TEACHER", "KEY_TEST", "KEY_TRAIN", "ParticleBatch", "seeded"]
