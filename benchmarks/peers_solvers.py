"""The peers of ``benchmarks/peers.py``: other libraries' solvers mapped onto descentlab's F.

F(w) = (1/n) sum_i log(1 + exp(-y_i x_i . w)) + lam Omega(w), Omega = ||w||^2 / 2 (``l2``)
or ||w||_1 (``l1``), no intercept. Each library's objective and how it maps (checked by
evaluating our F at each library's converged solution, ``tests/test_peers_benchmark.py``):

* scikit-learn ``LogisticRegression``: C sum_i log-loss + Omega(w), so C = 1 / (n lam)
  (for both penalties; ``l1_ratio`` = 0 for L2, 1 for L1), ``fit_intercept=False``;
* skglm (CSC input for every solver: its L-BFGS fails on CSR in skglm 0.5):
  ``datafits.Logistic`` is the mean log-loss, ``penalties.L1(lam)`` is lam ||w||_1,
  ``L2(lam)`` is lam ||w||^2 / 2 (L-BFGS); the coordinate solvers need a penalty with a
  1-d prox, so L2 is ``L1_plus_L2(lam, l1_ratio=0)`` for them (the same function);
* celer ``LogisticRegression`` (L1 only): scikit-learn's C, C = 1 / (n lam);
* cyanure ``Classifier``: (1/n) sum_i log-loss + lambda_1 Omega(w), lambda_1 = lam;
* snapml ``LogisticRegression``: sum_i log-loss + regularizer Omega(w), regularizer = n lam
  (SDCA, ``dual=True``, for L2; its primal solver for L1, which has no dual).

A peer is fitted from scratch by ``fit(setting)`` along a grid of settings (benchopt's
protocol). Most peers are driven by ``max_iter`` (grid 1, 2, 3, 5, 8, ...), with the
tolerance set to 0 or the smallest the library takes, so that ``max_iter`` is the only
stopping rule. skglm's working-set solvers and celer are driven by their tolerance instead
(grid 10^-0.5, 10^-1, ..., 10^-16, their other limits at the libraries' defaults): their
``max_iter`` counts outer working-set iterations, and once the working set holds every
feature (L2, or a dense L1 solution) the inner loop runs up to 50 000 epochs whatever
``max_iter`` is, so a max_iter grid would time one run to the inner limit.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import dataclasses
import importlib.util
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import scipy.sparse as sp

#: the tolerance handed to libraries that refuse 0
TINY_TOL = 1e-16
#: newton-cholesky forms the d x d Hessian: skipped above this many features
CHOLESKY_MAX_DIM = 5000


@dataclasses.dataclass(frozen=True)
class Peer:
    """A solver of another library: ``build(X, y, reg, lam)`` returns ``fit(max_iter) ->
    coef`` (X is converted to the solver's layout once, outside the timed fits)."""

    name: str
    module: str
    regs: tuple[str, ...]
    build: Callable
    layout: str = "csr"
    max_dim: int | None = None
    #: what ``fit`` takes: "max_iter" (grid 1, 2, 3, 5, ...) or "tol" (10^-0.5, 10^-1, ...)
    knob: str = "max_iter"

    @property
    def library(self) -> str:
        return self.name.split(":")[0]

    def installed(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def skip_reason(self, reg: str, dim: int) -> str | None:
        """Why this peer does not run on a case (None: it runs)."""
        if not self.installed():
            return f"{self.module} is not installed (pip install '.[bench]')"
        if reg not in self.regs:
            return f"does not handle the {reg} penalty"
        if self.max_dim is not None and dim > self.max_dim:
            return f"forms a d x d matrix, d = {dim} > {self.max_dim}"
        return None

    def grid(self, factor: float = 1.5) -> Iterator[float]:
        """The settings of the successive fits: max_iter = 1, 2, 3, 5, 8, ... (each
        max(k + 1, ceil(factor k))) or tol = 10^-0.5, 10^-1, ..., 10^-16."""
        if self.knob == "tol":
            yield from (10.0 ** (-k / 2) for k in range(1, 33))
            return
        k = 1
        while True:
            yield k
            k = max(k + 1, math.ceil(k * factor))

    def prepare(self, X, y, reg: str, lam: float) -> Callable[[float], np.ndarray]:
        """``fit(setting) -> coef`` on (X, y) converted to this peer's layout; each fit
        leaves the processor's floating-point state as it found it."""
        X = X.tocsc() if self.layout == "csc" and sp.issparse(X) else X
        with floating_point_state():  # the library's import too
            fit = self.build(X, np.asarray(y, dtype=np.float64), reg, lam)

        def guarded(setting):
            with floating_point_state():
                return fit(setting)
        return guarded


_LIBM = ctypes.CDLL(ctypes.util.find_library("m"))


@contextlib.contextmanager
def floating_point_state():
    """Restore the floating-point environment (C99 ``fegetenv`` / ``fesetenv``) on exit.

    Importing snapml switches the processor to flush subnormals to zero (its library is
    built with -ffast-math) and leaves it so: every later computation of the process,
    descentlab's runs included, would see subnormals as 0."""
    env = ctypes.create_string_buffer(256)  # fenv_t is 32 bytes on x86-64 glibc
    _LIBM.fegetenv(env)
    try:
        yield
    finally:
        _LIBM.fesetenv(env)


@contextlib.contextmanager
def quiet_output():
    """Silence what a compiled library prints on file descriptors 1 and 2 (cyanure's and
    snapml's notes, e.g. "Minibatch is not compatible with lazy updates")."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def _sklearn(solver: str, dual: bool = False):
    def build(X, y, reg, lam):
        from sklearn.linear_model import LogisticRegression

        C = 1.0 / (X.shape[0] * lam)
        tol = 1e-300 if solver == "liblinear" else 0.0

        def fit(max_iter):
            clf = LogisticRegression(C=C, l1_ratio=1.0 if reg == "l1" else 0.0, dual=dual,
                                     solver=solver, fit_intercept=False, tol=tol,
                                     max_iter=max_iter, random_state=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return clf.fit(X, y).coef_.ravel()
        return fit
    return build


def _skglm(solver: str):
    def build(X, y, reg, lam):
        from skglm import penalties, solvers
        from skglm.datafits import Logistic

        if solver == "lbfgs":
            penalty = penalties.L2(lam)
        else:
            penalty = penalties.L1(lam) if reg == "l1" else penalties.L1_plus_L2(lam, 0.0)

        def fit(setting):
            if solver == "lbfgs":
                s = solvers.LBFGS(max_iter=int(setting), tol=TINY_TOL)
            elif solver == "prox-newton":
                s = solvers.ProxNewton(tol=setting, fit_intercept=False)
            else:
                s = solvers.AndersonCD(tol=setting, fit_intercept=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return np.asarray(s.solve(X, y, Logistic(), penalty)[0]).ravel()
        return fit
    return build


def _celer(X, y, reg, lam):
    from celer import LogisticRegression

    C = 1.0 / (X.shape[0] * lam)

    def fit(tol):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = LogisticRegression(C=C, tol=tol, fit_intercept=False)
            return clf.fit(X, y).coef_.ravel()
    return fit


def _cyanure(solver: str):
    def build(X, y, reg, lam):
        from cyanure.estimators import Classifier

        def fit(max_iter):
            clf = Classifier(loss="logistic", penalty=reg, lambda_1=lam, fit_intercept=False,
                             solver=solver, tol=TINY_TOL, max_iter=max_iter, verbose=False,
                             n_threads=1)
            with warnings.catch_warnings(), quiet_output():
                warnings.simplefilter("ignore")
                return np.asarray(clf.fit(X, y).coef_).ravel()
        return fit
    return build


def _snapml(X, y, reg, lam):
    from snapml import LogisticRegression

    def fit(max_iter):
        clf = LogisticRegression(regularizer=X.shape[0] * lam, penalty=reg, dual=reg == "l2",
                                 fit_intercept=False, tol=TINY_TOL, max_iter=max_iter,
                                 n_jobs=1)
        with warnings.catch_warnings(), quiet_output():
            warnings.simplefilter("ignore")
            return np.asarray(clf.fit(X, y).coef_).ravel()
    return fit


L2, L1, BOTH = ("l2",), ("l1",), ("l2", "l1")
#: every peer, in the order of the table
PEERS: tuple[Peer, ...] = (
    Peer("sklearn:liblinear", "sklearn", BOTH, _sklearn("liblinear")),
    Peer("sklearn:liblinear-dual", "sklearn", L2, _sklearn("liblinear", dual=True)),
    Peer("sklearn:lbfgs", "sklearn", L2, _sklearn("lbfgs")),
    Peer("sklearn:newton-cg", "sklearn", L2, _sklearn("newton-cg")),
    Peer("sklearn:newton-cholesky", "sklearn", L2, _sklearn("newton-cholesky"),
         max_dim=CHOLESKY_MAX_DIM),
    Peer("sklearn:sag", "sklearn", L2, _sklearn("sag")),
    Peer("sklearn:saga", "sklearn", BOTH, _sklearn("saga")),
    Peer("skglm:prox-newton", "skglm", BOTH, _skglm("prox-newton"), layout="csc", knob="tol"),
    Peer("skglm:anderson-cd", "skglm", BOTH, _skglm("anderson-cd"), layout="csc", knob="tol"),
    Peer("skglm:lbfgs", "skglm", L2, _skglm("lbfgs"), layout="csc"),
    Peer("celer:celer-pn", "celer", L1, _celer, layout="csc", knob="tol"),
    Peer("cyanure:auto", "cyanure", BOTH, _cyanure("auto")),
    Peer("cyanure:catalyst-miso", "cyanure", BOTH, _cyanure("catalyst-miso")),
    Peer("cyanure:qning-miso", "cyanure", BOTH, _cyanure("qning-miso")),
    Peer("cyanure:acc-svrg", "cyanure", BOTH, _cyanure("acc-svrg")),
    Peer("cyanure:svrg", "cyanure", BOTH, _cyanure("svrg")),
    Peer("snapml:sdca", "snapml", L2, _snapml),
    Peer("snapml:primal", "snapml", L1, _snapml),
)


def select_peers(spec: str | None) -> list[Peer]:
    """``"sklearn,skglm:lbfgs"`` -> those peers (a library name selects all of its
    solvers); None or "all": every peer; "none": no peer."""
    from descentlab.errors import DescentlabError

    if spec is None or spec.strip() == "all":
        return list(PEERS)
    if spec.strip() == "none":
        return []
    chosen = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        found = [p for p in PEERS if item in (p.name, p.library)]
        if not found:
            raise DescentlabError(f"--peers: expected peer or library names among "
                                  f"{', '.join(p.name for p in PEERS)}, got {item!r}")
        chosen += found
    return list(dict.fromkeys(chosen))
