"""What the particles descend: risks of the teacher-student model (seed 002, section 4.4).

* ``FreshSamples``: the population risk R(h) = E loss(y, h(x)) seen through a new batch
  of ``batch_size`` fresh samples at every step (one-pass SGD, as in Figures 2-3). Stream
  s draws its batches from its own Generator; every network of the stream sees the same
  batches (the widths of one repetition share their data stream). Batches are drawn in
  chunks of steps, which does not change them: Generator.standard_normal fills arrays
  value after value, so a chunk of k batches is the next k batches.
* ``FixedSample``: an empirical objective L(h(x_1), ..., h(x_n)) on a finite sample (any
  loss of ``descentlab.problems.twolayer``: square, logistic, exponential, soft-min), full
  batch (gradient descent, gradient flow) or minibatches drawn with replacement; one sample
  for all streams or one per stream.
* ``PopulationRisk``: the exact population square risk E[(h(x) - y)^2] / 2 of ReLU
  networks for x ~ N(0, I_d) without bias, in closed form (arc-cosine kernel, see
  ``descentlab.theory.kernels``); a smooth, noise-free target for gradient flows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_int, check_real
from ..data.teacher import Teacher, TeacherStudentData
from ..errors import DescentlabError
from ..problems.twolayer import get_loss
from ..theory.kernels import population_velocity

#: target size in bytes of one chunk of fresh inputs
CHUNK_BYTES = 8 * 2**20


def _as_list(value, n: int | None, name: str) -> list:
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if n is not None and len(items) == 1 and n > 1:
        items = items * n
    if n is not None and len(items) != n:
        raise DescentlabError(f"{name}: expected one per stream ({n}), got {len(items)}")
    return items


class FreshSamples:
    """A new batch of (x, y) per step and per stream, x ~ N(0, I_d), y = teacher(x).

    ``data``: one TeacherStudentData (or a Teacher) per stream (or one for all);
    ``rngs``: one Generator per stream. ``next()`` returns X of shape (S, n, D) and y of
    shape (S, n), views into a buffer that the next chunk overwrites (copy them to keep
    them). Regression noise, if any, comes from a child of each stream's Generator
    (``rng.spawn``), so that the inputs are the same with and without noise.
    """

    def __init__(self, data, rngs: Sequence[np.random.Generator], batch_size: int, *,
                 loss: str = "square", chunk: int | None = None):
        rngs = list(rngs) if isinstance(rngs, (list, tuple)) else [rngs]
        if not rngs or not all(isinstance(r, np.random.Generator) for r in rngs):
            raise DescentlabError("rngs: expected one numpy Generator per stream")
        self.rngs = rngs
        S = len(rngs)
        models = [d if isinstance(d, TeacherStudentData) else TeacherStudentData(d)
                  for d in _as_list(data, S, "data")]
        self.models = models
        self.loss = get_loss(loss)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        dims = {m.teacher.dim for m in models}
        if len(dims) != 1:
            raise DescentlabError(f"data: every stream needs the same input dimension, "
                                  f"got {sorted(dims)}")
        self.dim = dims.pop()
        if self.loss.labels and any(m.labels != "sign" for m in models):
            raise DescentlabError(f"loss: the {self.loss.name} loss needs labels='sign' data")
        self.noise_rngs = [r.spawn(1)[0] if m.noise else None
                           for r, m in zip(rngs, models, strict=True)]
        per_step = S * self.batch_size * self.dim * 8
        self.chunk = check_int("chunk", chunk, minimum=1) if chunk is not None \
            else max(1, CHUNK_BYTES // per_step)
        self._X = self._y = None
        self._pos = self.chunk

    full_batch = False

    @property
    def n_streams(self) -> int:
        return len(self.rngs)

    def _refill(self) -> None:
        K, S, n, D = self.chunk, self.n_streams, self.batch_size, self.dim
        if self._X is None:
            self._X, self._y = np.empty((K, S, n, D)), np.empty((K, S, n))
        X, y = self._X, self._y
        for s, (rng, model) in enumerate(zip(self.rngs, self.models, strict=True)):
            d = model.d
            if S == 1 and not model.bias:
                rng.standard_normal(out=X.reshape(K, n, D))  # in place, same values
            else:
                X[:, s, :, :d] = rng.standard_normal((K, n, d))
            if model.bias:
                X[:, s, :, d] = 1.0
            y[:, s] = model.targets(X[:, s], self.noise_rngs[s])
        self._pos = 0

    def next(self) -> tuple[np.ndarray, np.ndarray]:
        if self._pos >= self.chunk:
            self._refill()
        k = self._pos
        self._pos += 1
        return self._X[k], self._y[k]

    def test_set(self, n: int, rngs: Sequence[np.random.Generator]) -> FixedSample:
        """n fresh samples per stream from ``rngs`` (independent of the training stream)."""
        rngs = _as_list(rngs, self.n_streams, "rngs")
        pairs = [m.sample(n, r) for m, r in zip(self.models, rngs, strict=True)]
        return FixedSample(np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]),
                           loss=self.loss.name)


class FixedSample:
    """A finite sample: X of shape (n, D) shared by all streams or (S, n, D), y likewise.

    ``next()`` returns the whole sample (full batch: gradient descent) unless
    ``batch_size`` is given, then ``batch_size`` indices drawn with replacement from
    ``rng`` (the same indices for every stream).
    """

    def __init__(self, X, y, *, loss: str = "square", batch_size: int | None = None,
                 rng: np.random.Generator | None = None):
        X, y = np.asarray(X), np.asarray(y)
        check_real("X", X.dtype)
        check_real("y", y.dtype)
        X, y = X.astype(np.float64, copy=False), y.astype(np.float64, copy=False)
        if X.ndim == 2:
            X = X[None]
        if y.ndim == 1:
            y = y[None]
        if X.ndim != 3 or y.shape != X.shape[:2]:
            raise DescentlabError(f"X, y: expected shapes (S, n, D) and (S, n) (or (n, D) and "
                                  f"(n,)), got {X.shape} and {y.shape}")
        if X.shape[1] == 0 or X.shape[2] == 0:
            raise DescentlabError(f"X: expected a non-empty sample (n >= 1 rows of D >= 1 "
                                  f"features), got shape {X.shape}")
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
            raise DescentlabError("X, y: expected finite values, found NaN or Inf")
        self.loss = get_loss(loss)
        self.loss.check_targets(y)
        self.X, self.y = np.ascontiguousarray(X), np.ascontiguousarray(y)
        self.n = X.shape[1]
        self.batch_size = None if batch_size is None else \
            check_int("batch_size", batch_size, minimum=1)
        if self.batch_size is not None and not isinstance(rng, np.random.Generator):
            raise DescentlabError("rng: minibatches need a numpy Generator")
        self.rng = rng

    @property
    def n_streams(self) -> int:
        return int(self.X.shape[0])

    @property
    def dim(self) -> int:
        return int(self.X.shape[2])

    @property
    def full_batch(self) -> bool:
        return self.batch_size is None

    def streams(self, keep: np.ndarray) -> FixedSample:
        """The samples of the streams ``keep`` (a sample shared by all streams stays one)."""
        if self.n_streams == 1:
            return self
        return FixedSample(self.X[keep], self.y[keep], loss=self.loss,
                           batch_size=self.batch_size, rng=self.rng)

    def next(self) -> tuple[np.ndarray, np.ndarray]:
        if self.batch_size is None:
            return self.X, self.y
        idx = self.rng.integers(0, self.n, self.batch_size)
        return self.X[:, idx], self.y[:, idx]


class PopulationRisk:
    """G = E[(h(x) - y)^2] / (2 alpha^2) exactly, x ~ N(0, I_d), ReLU, no bias.

    One teacher per stream (or one for all). ``velocity(batch, a, b)`` returns
    (m dG/da, m dG/db, risk) with risk[s, r] = E[(h_r - y_s)^2] / 2 of network r.
    """

    loss = get_loss("square")
    full_batch = True

    def __init__(self, teachers):
        self.teachers = [t if isinstance(t, Teacher) else t.teacher
                         for t in _as_list(teachers, None, "teachers")]
        self.dim = self.teachers[0].dim

    def teacher(self, s: int) -> Teacher:
        return self.teachers[s if len(self.teachers) > 1 else 0]

    def velocity(self, batch, a: np.ndarray, b: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if batch.act.name != "relu":
            raise DescentlabError("activation: the closed-form population risk needs relu")
        if len(self.teachers) not in (1, batch.n_streams):
            raise DescentlabError(f"teachers: expected 1 or {batch.n_streams} (one per "
                                  f"stream), got {len(self.teachers)}")
        va, vb = np.empty_like(a), np.empty_like(b)
        risk = np.empty((a.shape[0], batch.n_networks))
        for s in range(a.shape[0]):  # streams and networks are few; particles are batched
            for r in range(batch.n_networks):
                lo, hi = batch.starts[r], batch.starts[r + 1]
                va[s, lo:hi], vb[s, lo:hi], G = population_velocity(
                    a[s, lo:hi], b[s, lo:hi], self.teacher(s), alpha=batch.alpha)
                risk[s, r] = G * batch.alpha**2
        return va, vb, risk


__all__ = ["FixedSample", "FreshSamples", "PopulationRisk"]
