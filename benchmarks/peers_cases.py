"""The cases of ``benchmarks/peers.py``: a dataset, a penalty, and the certified optimum.

F(w) = (1/n) sum_i log(1 + exp(-y_i x_i . w)) + lam Omega(w), no intercept, with
Omega = ||w||^2 / 2 (``l2``) or ||w||_1 (``l1``), on the LIBSVM datasets a9a, w8a and news20
(label 1 against the rest), plus ``tiny``, a small synthetic sparse problem for the tests.
F* is ``Logistic.solution()`` (certified to gradient-mapping norm 1e-10), cached on disk
with ``descentlab.cache`` so that a rerun skips it.

A case name is ``DATA:PENALTY``, e.g. ``a9a:l2-1/n``, ``w8a:l2-1e-4``, ``news20:l1-1e-4``;
a bare dataset name (``a9a``) stands for its three penalties.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import scipy.sparse as sp

from descentlab.cache import memory
from descentlab.errors import DescentlabError
from descentlab.problems import Logistic

#: the datasets: name -> positive class (None: the file is binary)
DATASETS = {"a9a": None, "w8a": None, "news20": 1, "tiny": None}
#: the penalties: name -> (reg, lam as a function of n)
PENALTIES = {"l2-1/n": ("l2", lambda n: 1.0 / n),
             "l2-1e-4": ("l2", lambda n: 1e-4),
             "l1-1e-4": ("l1", lambda n: 1e-4)}
#: the cases of the issue's table (the default of ``--cases``)
DEFAULT_DATA = ("a9a", "w8a", "news20")


@dataclasses.dataclass(frozen=True)
class Case:
    """One cell row of the table: a dataset and a penalty."""

    data: str
    penalty: str

    @property
    def name(self) -> str:
        return f"{self.data}:{self.penalty}"

    @property
    def reg(self) -> str:
        return PENALTIES[self.penalty][0]


def parse_cases(spec: str | None) -> list[Case]:
    """``"a9a,w8a:l1-1e-4"`` -> the cases; None: the issue's nine."""
    items = DEFAULT_DATA if spec is None else [s.strip() for s in spec.split(",") if s.strip()]
    if not items:
        raise DescentlabError(f"--cases: expected DATA or DATA:PENALTY names, got {spec!r}")
    cases = []
    for item in items:
        data, _, penalty = item.partition(":")
        if data not in DATASETS:
            raise DescentlabError(f"--cases: expected a dataset among "
                                  f"{', '.join(DATASETS)}, got {data!r}")
        if penalty and penalty not in PENALTIES:
            raise DescentlabError(f"--cases: expected a penalty among "
                                  f"{', '.join(PENALTIES)}, got {penalty!r}")
        cases += [Case(data, p) for p in ([penalty] if penalty else PENALTIES)]
    return list(dict.fromkeys(cases))


def tiny_design(n: int = 400, d: int = 60, seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
    """A small sparse design with noisy linear labels (not separable)."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.2, random_state=seed, format="csr", dtype=np.float64)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    w = rng.standard_normal(d)
    y = np.where(X @ w + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return X, y


@functools.cache
def load_data(data: str) -> tuple[sp.csr_matrix, np.ndarray]:
    """(X, y) of a dataset, y in {-1, +1} (``news20``: label 1 against the rest)."""
    if data == "tiny":
        return tiny_design()
    base = Logistic.from_libsvm(data, positive_class=DATASETS[data])
    return base.X, base.y


def make_problem(case: Case) -> Logistic:
    """The descentlab problem of a case (no intercept)."""
    X, y = load_data(case.data)
    reg, lam = PENALTIES[case.penalty]
    problem = Logistic(X, y, reg=reg, lam=lam(X.shape[0]))
    problem.dataset = case.data
    return problem


def certified(X, y, reg: str, lam: float) -> tuple[np.ndarray, float]:
    """``Logistic(X, y, reg, lam).solution()`` (cached on disk by ``optimum``)."""
    x_star, f_star = Logistic(X, y, reg=reg, lam=lam).solution()
    return np.array(x_star), float(f_star)


def optimum(problem: Logistic) -> float:
    """F* of the problem, from the on-disk cache when it was computed before."""
    r = problem.regularizer
    return memory("optima").cache(certified)(problem.X, problem.y, r.reg, r.lam)[1]
