"""How the stochastic methods draw their sample indices (seeds 000 and 004).

Every draw comes from the numpy Generator handed to ``init`` and ``advance``.

**Batches** (SGD, the adaptive methods, STORM, SpiderBoost, Langevin). A ``BatchStream``
draws index batches of b indices in blocks, so that the sequence does not depend on how
``advance`` is called: with replacement, one block is
``rng.integers(0, n, size=b * ceil(n / b))`` (about one epoch), consumed b indices per
iteration in order; with ``permutation=True`` the stream is the concatenation of
``rng.permutation(n)`` draws, cut into consecutive batches of b (a batch may straddle two
epochs). The stream is a frozen record in the state; ``advance`` reads it through a
``Batches`` cursor and stores the cursor's position back.

**Expected smoothness** of a batch of b indices drawn uniformly with replacement:
Lb = L_max / b + (1 - 1/b) L (``expected_smoothness``; the default step of SGD is 1/(2 Lb)).

**Single indices** (SAG, SAGA, SVRG, loopless SVRG, SARAH). A ``SamplingLaw`` draws j
uniformly, or by importance with p_j = 1/(2n) + L_j / (2 sum_i L_i) (half uniform, half
proportional to the component smoothness L_j, Schmidt et al. 2015) through Walker's alias
method (O(1) per draw; numpy's ``Generator.choice(p=...)`` does a binary search per draw
instead, which costs more than a SAGA step on sparse data) and reweights the stochastic part
of the update by 1/(n p_j); the analyses then hold with L_max replaced by
L_Q = max_j L_j / (n p_j) <= 2 mean(L_j) (Xiao and Zhang 2014, Prox-SVRG, Sec. 3), which
matters when a few rows are much longer than the others (news20: L_max = 96407 against a mean
of 121). ``"auto"`` takes importance sampling when L_max > 2 mean(L_j) and the L_j are known
(linear models), uniform otherwise.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._compiled.sampling import alias_table
from .._validation import check_choice, check_int
from ..errors import DescentlabError
from ..problems.base import Problem

#: the sampling laws of the variance-reduced methods
SAMPLINGS = ("auto", "uniform", "importance")


def check_rng(method: str, rng) -> np.random.Generator:
    """The numpy Generator of a stochastic method."""
    if not isinstance(rng, np.random.Generator):
        raise DescentlabError(f"{method}: rng: expected a numpy Generator "
                              f"(np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def check_batch_size(method: str, batch_size: int, n: int) -> int:
    """1 <= batch_size <= n (n is known only once the problem is)."""
    b = check_int(f"{method}: batch_size", batch_size, minimum=1)
    if b > n:
        raise DescentlabError(f"{method}: batch_size: expected an integer between 1 and the "
                              f"number of samples n = {n}, got {b}")
    return b


def expected_smoothness(problem: Problem, batch_size: int) -> float:
    """Lb = L_max / b + (1 - 1/b) L: expected smoothness of a batch of b indices drawn
    uniformly with replacement, i.e. E||g_B(x) - g_B(x*)||^2 <= 2 Lb (g(x) - g(x*)) for
    convex f_i (the condition of Gower et al. 2019). It follows from
    E||g_B(x) - g_B(x*)||^2 = (1 - 1/b)||grad g(x) - grad g(x*)||^2 +
    (1/b) E_i||grad f_i(x) - grad f_i(x*)||^2 and ||grad f_i(x) - grad f_i(x*)||^2 <=
    2 L_i D_{f_i}(x, x*); it is the with-replacement analogue of their b-nice formula,
    equals L_max for b = 1 and L when n = 1."""
    b = float(batch_size)
    return float(problem.L_max) / b + (1.0 - 1.0 / b) * float(problem.L)


# ------------------------------------------------------------------------------ batches
@dataclasses.dataclass(frozen=True, eq=False)
class BatchStream:
    """Where a stream of index batches stands: the block drawn last and the position in it."""

    n: int
    b: int
    permutation: bool = False
    buf: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, dtype=np.int64),
                                        repr=False)
    pos: int = 0

    def batches(self, rng: np.random.Generator) -> Batches:
        """A cursor that draws the next batches from ``rng``."""
        return Batches(self, rng)


class Batches:
    """Cursor over a ``BatchStream`` during one ``advance`` (see the module docstring)."""

    __slots__ = ("b", "buf", "n", "permutation", "pos", "rng")

    def __init__(self, stream: BatchStream, rng: np.random.Generator):
        self.n, self.b, self.permutation = stream.n, stream.b, stream.permutation
        self.buf, self.pos, self.rng = stream.buf, stream.pos, rng

    def next(self) -> np.ndarray:
        pos, b = self.pos, self.b
        if pos + b > self.buf.size:
            self._refill()
            pos = 0
        self.pos = pos + b
        return self.buf[pos:pos + b]

    def take(self, k: int) -> np.ndarray:
        """The next k batches at once, concatenated (k b indices): the same indices and the
        same draws from the generator as k calls of ``next``."""
        need = k * self.b
        while self.buf.size - self.pos < need:
            self._refill()
        out = self.buf[self.pos:self.pos + need]
        self.pos += need
        return out

    def _refill(self) -> None:
        rest = self.buf[self.pos:]
        if self.permutation:
            new = self.rng.permutation(self.n)
        else:
            new = self.rng.integers(0, self.n, size=self.b * -(-self.n // self.b))
        self.buf = np.concatenate([rest, new]) if rest.size else new
        self.pos = 0

    def stream(self) -> BatchStream:
        """The stream where this cursor stands."""
        return BatchStream(self.n, self.b, self.permutation, self.buf, self.pos)


# ----------------------------------------------------------------------- single indices
@dataclasses.dataclass(frozen=True, eq=False)
class SamplingLaw:
    """The law of j: uniform (``probs`` None: unit weights, L_Q = L_max), or importance
    sampling with probabilities ``probs`` (alias method, weights 1/(n p_j),
    L_Q = max_j L_j / (n p_j))."""

    n: int
    L_Q: float
    probs: np.ndarray | None = None
    weights: np.ndarray = dataclasses.field(init=False, repr=False)
    table: tuple[np.ndarray, np.ndarray] | None = dataclasses.field(init=False, repr=False)

    def __post_init__(self):
        uniform = self.probs is None
        object.__setattr__(self, "weights", np.ones(self.n) if uniform else
                           1.0 / (self.n * self.probs))
        object.__setattr__(self, "table", None if uniform else alias_table(self.probs))

    @property
    def name(self) -> str:
        return "uniform" if self.probs is None else "importance"

    def draw(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """k independent draws."""
        idx = rng.integers(0, self.n, size=k, dtype=np.int64)
        if self.table is None:
            return idx
        prob, alias = self.table
        keep = rng.random(k) < prob[idx]
        return np.where(keep, idx, alias[idx])


def sampling_law(method: str, problem: Problem, sampling: str = "uniform") -> SamplingLaw:
    """The law of j for ``sampling`` in SAMPLINGS on ``problem`` (see the module docstring)."""
    check_choice(f"{method}: sampling", sampling, SAMPLINGS)
    L_i = problem.component_smoothness()
    if sampling == "importance" and L_i is None:
        raise DescentlabError(f"{method}: sampling='importance' needs the component "
                              "smoothness constants, known for linear models only")
    if L_i is None or sampling == "uniform" or \
            (sampling == "auto" and L_i.max() <= 2.0 * L_i.mean()):
        return SamplingLaw(problem.n, problem.L_max)
    n = problem.n
    probs = 0.5 / n + 0.5 * L_i / L_i.sum()
    return SamplingLaw(n, float(np.max(L_i / (n * probs))), probs)


__all__ = ["SAMPLINGS", "BatchStream", "Batches", "SamplingLaw", "check_batch_size", "check_rng",
           "expected_smoothness", "sampling_law"]
