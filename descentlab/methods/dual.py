"""Dual methods on linear models: SDCA / prox-SDCA and MISO (one scalar per sample).

Both solve P(x) = (1/n) sum_i phi_i(a_i . x) + lam2 ||x||^2 / 2 + lam1 ||x||_1 (least
squares or logistic, ``problems.linear``; also Catalyst's subproblems, which add
kappa ||x - c||^2 / 2) through n scalars alpha_i, the dual variables, with the primal point

    x = soft(v - s, lam1) / lam2,   v = X^T alpha / n

(s the shift of Catalyst's subproblems, 0 otherwise), maintained densely: a step on sample i
costs O(nnz(a_i)) and one oracle call (one loss derivative, or one 1D dual maximization).
They need lam2 > 0 (reg "l2", or "elasticnet" with l1_ratio < 1: the regularizer must be
strongly convex for x to be a function of alpha) and no unpenalized intercept (its dual
carries the equality constraint sum_i alpha_i = 0, which a single-coordinate step cannot
keep: fit without intercept, or append a column of ones as a penalized feature, as
liblinear does). Pure L1 is refused (use a proximal primal method, e.g. saga, fista).

The state keeps alpha, v and x (alpha packed with the rows, ``_compiled.dual``: a copy of
the data, 5 n + 2 nnz floats; ``state.dual_variables()`` returns alpha); ``info()`` reports
``duality_gap`` = P(x) - D(alpha), the certificate of the dual methods
(``problems.duality``: weak duality, so F(x) - F* <= duality_gap), computed when asked (one
pass over the data, not counted). Every 10 epochs of steps v and x are recomputed from alpha
(no drift; not counted: no loss derivative is evaluated). Oracle calls: 1 per coordinate
step; ``init`` costs 0 calls from x0 = 0 (alpha = 0) and n calls from another x0 (alpha_i =
-phi_i'(a_i . x0), a warm start).
Samples, one of

* ``"blocks"`` (default): the rows are stored once, at ``init``, in a random order, packed
  with their scalars (``_compiled.dual``); every epoch visits the blocks of 8 consecutive
  stored rows in a fresh random order, each block in order: the data are read contiguously.
  Measured (a9a, w8a, L2 logistic, lam = 1/n and 1e-4, one process): the loops are bound by
  cache misses, a pass in a random row order costs 2.5-5x a contiguous one, so although SDCA
  needs up to 1.6x more epochs than with "permutation" on a9a (about as many on w8a), it
  reaches 1e-8 in 0.7-0.9x the time; MISO in 0.5-1x;
* ``"permutation"``: a fresh random permutation of the rows per epoch (random reshuffling);
* ``"uniform"``: with replacement (the sampling of the convergence theorems).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .._compiled import dual as kernels
from .._compiled.variance_reduced import full_pass
from .._validation import check_choice
from ..errors import DescentlabError
from .base import Method, State, check_unit_interval

#: the orders in which the dual methods visit the samples
DUAL_SAMPLINGS = ("blocks", "permutation", "uniform")
#: rows per block of the "blocks" order
BLOCK_ROWS = 8
#: epochs of steps between two recomputations of v = X^T alpha / n from alpha
REFRESH_EPOCHS = 10


@dataclass(frozen=True, kw_only=True, eq=False)
class DualState(State):
    """The packed rows with their scalars (``_compiled.dual``: alpha_i, the logit SDCA keeps
    on the logistic loss, ||a_i||^2, y_i, a_i; a copy of the data), v = X^T alpha / n, the
    current permutation and the position in it, the steps since v was recomputed, and the
    problem (for the certificate)."""

    rec: np.ndarray
    offs: np.ndarray
    v: np.ndarray
    order: np.ndarray
    pos: int
    since_refresh: int = 0
    problem: Any = dataclasses.field(default=None, repr=False)
    layout: np.ndarray | None = None

    def dual_variables(self) -> np.ndarray:
        """alpha, one dual variable per sample (a copy)."""
        alpha = np.empty(self.offs.shape[0])
        kernels.unpack_alpha(self.rec, self.offs, alpha)
        return alpha

    def info(self) -> dict[str, Any]:
        return {"path": "compiled", "duality_gap": self.duality_gap(), **super().info()}

    def dual_value(self) -> float:
        """D(alpha) of the state's dual variables (on the problem's linear view)."""
        view = self.problem.linear_view()
        return float(kernels.dual_objective(view.y, view.loss_code, self.dual_variables(),
                                            self.v, view.shift, view.lam1, view.lam2))

    def duality_gap(self) -> float:
        """P(x) - D(alpha) >= F(x) - F*: the certificate of the dual methods."""
        view = self.problem.linear_view()
        primal = kernels.primal_objective(*view.rows, np.asarray(self.x, dtype=np.float64),
                                          view.shift, view.lam1, view.lam2)
        return float(primal) - self.dual_value()


class DualMethod(Method):
    """Shared checks, initialization and loop of SDCA and MISO."""

    handles_prox: ClassVar[bool] = True
    rule: ClassVar[int]

    def __post_init__(self):
        super().__post_init__()
        check_choice(f"{self.name}: sampling", self.sampling, DUAL_SAMPLINGS)

    def resolve(self, problem):
        view = problem.linear_view()
        if view is None:
            raise DescentlabError(f"{self.name}: needs a linear model (least squares or "
                                  f"logistic regression), got {type(problem).__name__}")
        if view.free >= 0:
            raise DescentlabError(
                f"{self.name}: the unpenalized intercept (fit_intercept=True) is not supported "
                "(its dual constraint sum(alpha) = 0 breaks single-coordinate steps); fit "
                "without intercept (append a column of ones as a penalized feature) or use "
                "saga")
        if not view.lam2 > 0.0:
            raise DescentlabError(
                f"{self.name}: needs a strongly convex penalty (reg 'l2', or 'elasticnet' with "
                f"l1_ratio < 1, lam > 0), got lam2 = {view.lam2:g} (reg="
                f"{getattr(getattr(problem, 'regularizer', None), 'reg', None)!r}); for pure "
                "L1 use a proximal method (saga, fista)")
        return self

    def init(self, problem, x0, rng):
        view = problem.linear_view()
        n, d = problem.n, problem.dim
        alpha, calls = np.zeros(n), 0
        if np.any(x0 != 0):  # warm start: the dual point of x0
            full_pass(*view.rows, np.asarray(x0, dtype=np.float64), alpha, np.empty(d))
            alpha *= -1.0
            calls = n
        v, x = np.empty(d), np.empty(d)
        kernels.primal_from_dual(view.indptr, view.indices, view.data, alpha, view.shift,
                                 view.lam1, view.lam2, v, x)
        counts = np.diff(view.indptr)
        sq = np.bincount(np.repeat(np.arange(n), counts), minlength=n,
                         weights=np.asarray(view.data, dtype=np.float64) ** 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            b = alpha * np.asarray(view.y, dtype=np.float64)
            logit = np.log(b) - np.log1p(-b)
        rec = np.empty(kernels.R_HEAD * n + 2 * int(view.indptr[-1]))
        offs = np.empty(n, dtype=np.int64)
        if self.sampling == "blocks":  # records laid out in a random order
            layout = rng.permutation(n)
            sizes = (kernels.R_HEAD + 2 * counts)[layout]
            starts = np.zeros(n, dtype=np.int64)
            np.cumsum(sizes[:-1], out=starts[1:])
            tmp = np.empty_like(rec)
            kernels.pack_rows(view.indptr, view.indices, view.data, view.y, alpha, logit, sq,
                              tmp, offs)
            for_layout = np.repeat(offs[layout] - starts, sizes) + np.arange(rec.size)
            rec[:] = tmp[for_layout]
            offs[layout] = starts
            order0 = layout
        else:
            kernels.pack_rows(view.indptr, view.indices, view.data, view.y, alpha, logit, sq,
                              rec, offs)
            order0 = np.arange(0)
        return DualState(x=x, calls=calls, rec=rec, offs=offs, v=v, order=np.arange(0),
                         pos=0, problem=problem, layout=order0)

    def _mixing(self) -> float:
        return 0.0

    def _samples(self, state: DualState, rng, k: int, n: int):
        """k sample indices, and the permutation and position they leave."""
        if self.sampling == "uniform":
            return rng.integers(0, n, size=k), state.order, state.pos
        order, pos, parts, need = state.order, state.pos, [], k
        while need > 0:
            if pos >= order.size:
                if self.sampling == "blocks":
                    blocks = rng.permutation(-(-n // BLOCK_ROWS))
                    j = (blocks[:, None] * BLOCK_ROWS + np.arange(BLOCK_ROWS)).ravel()
                    order, pos = state.layout[j[j < n]], 0
                else:
                    order, pos = rng.permutation(n), 0
            take = min(need, order.size - pos)
            parts.append(order[pos:pos + take])
            pos += take
            need -= take
        return np.concatenate(parts) if len(parts) > 1 else parts[0], order, pos

    def advance(self, problem, state, rng, calls):
        view = problem.linear_view()
        n, k = problem.n, max(1, int(calls))
        v, x = state.v, state.x
        since = state.since_refresh
        if since >= REFRESH_EPOCHS * n:
            kernels.primal_from_dual(view.indptr, view.indices, view.data,
                                     state.dual_variables(), view.shift, view.lam1,
                                     view.lam2, v, x)
            since = 0
        samples, order, pos = self._samples(state, rng, k, n)
        kernels.dual_loop(state.rec, state.offs, view.loss_code, v, x, view.shift, samples,
                          view.lam1, view.lam2, self.rule, self._mixing(),
                          view.lam1 == 0.0 and not view.shift.any())
        return state.after(k, k, x=x, order=order, pos=pos, since_refresh=since + k)


@dataclass(frozen=True, kw_only=True)
class SDCA(DualMethod):
    """Stochastic dual coordinate ascent (Shalev-Shwartz & Zhang 2013, JMLR 14, Procedure
    SDCA with option I: the exact maximization of the dual along one coordinate) and
    prox-SDCA for the elastic net (Shalev-Shwartz & Zhang 2014, Math. Program. 155, with the
    1/lam2-smooth quadratic bound of g*).

    Step on sample i (c = a_i . x, q = ||a_i||^2 / (lam2 n)): alpha_i += delta maximizing
    -phi_i*(-(alpha_i + delta)) - delta c - q delta^2 / 2; least squares in closed form,
    delta = (y_i - c - alpha_i) / (1 + q); logistic by safeguarded Newton steps on the logit
    of b = y_i (alpha_i + delta) (as liblinear's dual solver, Yu, Huang, Lin 2011); then
    v += delta a_i / n and x = soft(v - s, lam1) / lam2 on the nonzeros of a_i. No step
    size. Rate (their Thm 2, smooth losses): E[D* - D(alpha_t)] <= eps after
    O((n + L_max / lam2) log 1/eps) steps, and the duality gap (``info()["duality_gap"]``)
    follows. State: alpha, v, x (module docstring); 1 oracle call per step.
    """

    sampling: str = "blocks"
    name: ClassVar[str] = "sdca"
    rule: ClassVar[int] = kernels.RULE_SDCA


@dataclass(frozen=True, kw_only=True)
class MISO(DualMethod):
    """MISO (Mairal 2015, SIAM J. Optim. 25, "Incremental majorization-minimization
    optimization with application to large-scale machine learning") for strongly convex
    linear models, in the variant of Lin, Mairal and Harchaoui (2015, "A universal catalyst
    for first-order optimization", Catalyst's MISO) that has no "big data" condition.

    Each f_i = phi_i(a_i . x) + lam2 ||x||^2 / 2 has the lower bound
    f_i(z) + <grad f_i(z), x - z> + lam2 ||x - z||^2 / 2 at the last point z where sample i
    was visited; MISO minimizes the average of these bounds plus lam1 ||x||_1, i.e.
    x = soft(v - s, lam1) / lam2 with v = X^T alpha / n, alpha_i = -phi_i'(a_i . z_i). The
    step on sample i mixes the new bound in:

        alpha_i <- (1 - delta) alpha_i + delta (-phi_i'(a_i . x)),

    default delta = min(1, n lam2 / (2 (L_max - lam2))) (the mixing of Lin, Mairal,
    Harchaoui; 1 when n >= 2 L_max / lam2, Mairal's MISO-mu), which gives
    E[F(x_k) - F*] <= (1 - delta / n)^k C, i.e. O((n + L_max / lam2) log 1/eps) steps.
    State: alpha (the scalar memory: one per sample), v, x; 1 oracle call per step; the
    same dual certificate as SDCA (alpha stays in the dual domain).
    """

    delta: float | None = None
    sampling: str = "blocks"
    name: ClassVar[str] = "miso"
    rule: ClassVar[int] = kernels.RULE_MISO
    step_param: ClassVar[str] = "delta"

    def __post_init__(self):
        super().__post_init__()
        if self.delta is not None:
            self._set(delta=check_unit_interval(f"{self.name}: delta", self.delta,
                                                open_left=True, closed_right=True))

    def resolve(self, problem):
        super().resolve(problem)
        if self.delta is not None:
            return self
        lam2, L_max = problem.linear_view().lam2, float(problem.L_max)
        loss_smoothness = L_max - lam2
        delta = 1.0 if loss_smoothness <= 0 else min(1.0, problem.n * lam2
                                                     / (2.0 * loss_smoothness))
        return dataclasses.replace(self, delta=delta)

    def _mixing(self) -> float:
        return float(self.delta)

