"""Coordinate methods for linear models: proximal coordinate descent and proximal Newton.

Both minimize F(x) = (1/n) sum_i phi(a_i . x, y_i) + lam2 ||x||^2 / 2 + lam1 ||x||_1 (least
squares or logistic; L2, L1, elastic net; the intercept of ``fit_intercept=True`` is a free
coordinate without penalty) by columns of X (``LinearModel.csc_arrays``), keeping the margins
z = X x up to date, so that updating x_j costs the non-zeros of column j. The loops are
compiled (``descentlab._compiled.coordinate``).

* ``CD`` (proximal coordinate descent; Nesterov 2012, "Efficiency of coordinate descent
  methods on huge-scale optimization problems", Thm 2 / Sec. 5; Richtarik and Takac 2014,
  "Iteration complexity of randomized block-coordinate descent methods for minimizing a
  composite function", Thm 6; survey: Wright 2015, "Coordinate descent algorithms", Alg. 3):

      x_j+ = prox_{lam1/L_j}(x_j - grad_j F(x) / L_j),   L_j = sup(phi'') ||X_:j||^2 / n + lam2,

  the default (and only) step 1/L_j of the coordinate-wise Lipschitz constants (exact
  minimization along j for least squares, where phi'' = 1). Randomized (uniform, i.i.d.)
  order: E[F(x_k) - F*] <= (1 - mu / (d L_bar))^k (F(x_0) - F*) for mu-strongly convex F with
  L_bar = max_j L_j (Richtarik-Takac Thm 7); cyclic order: Beck and Tetruashvili 2013.
  ``ws=True``: working sets (Bertrand, Klopfenstein, Massias, Blondel, Vaiter, Gramfort,
  Salmon 2022, "Beyond L1: faster and better sparse models with skglm", Alg. 1): the score of
  coordinate j is the distance of -grad_j F to the subdifferential of lam1 |x_j|, the set is
  the support plus the highest scores, of size max(10, 2 |support|) (doubling as the support
  grows), solved by CD until its scores fall below 0.3 times the full maximum score (checked
  every 10 epochs). ``anderson=True``: Anderson extrapolation of the inner iterates (skglm,
  Bertrand and Massias 2021 "Anderson acceleration of coordinate descent", Alg. 2): every
  K = 5 epochs, x_acc = sum_k c_k x_k with c = (U^T U)^{-1} 1 / 1^T (U^T U)^{-1} 1, U the
  K differences of the last K+1 iterates, kept only when F(x_acc) < F(x) (so F never rises).
  Defaults: ``ws`` on when lam1 > 0 (with L2 alone the support is every coordinate),
  ``anderson`` on.
  State: x, z (n), the working set, K+1 past iterates on it and their margins (n each).

* ``ProxNewton`` (proximal Newton with a coordinate-descent inner solver: Lee, Sun and
  Saunders 2014, "Proximal Newton-type methods for minimizing composite functions", Alg. 1;
  glmnet's IRLS-CD, Friedman, Hastie and Tibshirani 2010; newGLMNET, Yuan, Ho and Lin 2012;
  skglm's ``ProxNewton``): at x, with r_i = phi'(z_i) and the diagonal Hessian weights
  h_i = phi''(z_i), the direction d minimizes the quadratic model

      (1/n) sum_i [r_i (X d)_i + h_i (X d)_i^2 / 2] + lam2 ||x + d||^2 / 2 + lam1 ||x + d||_1

  over a working set (skglm's rule above), by at most ``max_cd_epochs`` = 20 epochs of CD
  with the exact coordinate steps 1/H_jj (down to 0.09 times the maximum score at the start
  of the working set; when the working set is every coordinate, as with L2 alone, at the
  current x: each Newton step is then an outer iteration), with Anderson extrapolation of
  the inner iterates every ``anderson_k`` = 5 epochs as in ``CD`` (kept when the model drops;
  q = r + h X d is affine in d, so it is extrapolated with the same weights); then x+ =
  x + t d with the largest t in {1, 1/2, ...} such that lam1 (||x + t d||_1 - ||x||_1) +
  t grad f(x + t d) . d < 0 (which implies F(x + t d) < F(x) by convexity). When no t
  passes in ``max_backtrack`` = 20 halvings, one proximal CD epoch on the working set
  (steps 1/L_j, F never rises) replaces the step. The logistic weights h_i are floored at
  ``H_MIN`` = 1e-5 (glmnet's floor on the IRLS weights, Friedman-Hastie-Tibshirani 2010
  Sec. 3): without it, samples misclassified by a large margin (unnormalized counts, news20)
  make H_jj ~ 1e-13 where the gradient is not small, the step on j ~ 1e8, and no trial
  passes. Locally superlinear without the floor (Lee-Sun-Saunders Thm 3.4), locally linear
  with a rate O(H_MIN) with it (any H_k with m I <= H_k <= M I: their Thm 3.1). State: x, z.

Oracle calls (benchopt's convention): reading all the non-zeros of X once costs n calls, so
one epoch of CD over all d coordinates is n calls, a full gradient is n calls, and work on a
working set is counted pro rata of the non-zeros of its columns (an epoch of CD on the
coordinates S costs n nnz(X_:S) / nnz(X) calls). An inner epoch of ProxNewton (a
Hessian-vector product on its working set), the product X d of its direction and a
line-search trial (a gradient on the working set) are counted the same way. Function
values (Anderson's acceptance test) are n loss evaluations without a pass over X and are not
counted.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._compiled import coordinate as kernels
from .._validation import check_choice, check_int
from ..errors import DescentlabError
from .base import Method, State

#: skglm's constants: first working-set size, inner tolerance factor, check period
WS_START = 10
#: glmnet's floor of the logistic Hessian weights h_i = phi''(z_i) (see ``ProxNewton``)
H_MIN = 1e-5
INNER_TOL = 0.3
CHECK_EVERY = 10
ORDERS = ("cyclic", "random")


@dataclass(frozen=True, eq=False)
class _Columns:
    """What the coordinate loops read: the CSC arrays, the linear view, the curvature."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    sq_norms: np.ndarray
    view: object
    curvature: float
    nnz: int

    @property
    def csc(self) -> tuple:
        return self.indptr, self.indices, self.data

    @property
    def weights(self) -> tuple:
        """(lam1, lam2, shift, free, lam2f) of the kernels."""
        v = self.view
        return v.lam1, v.lam2, v.shift, v.free, v.lam2f

    def calls(self, work: int, n: int) -> int:
        """Oracle calls of ``work`` entries of X read (all of X: n calls)."""
        return int(work * n // self.nnz)


def _columns(name: str, problem) -> _Columns:
    """The columns of a linear model, or a clear error for other problems."""
    view = problem.linear_view()
    csc = getattr(problem, "csc_arrays", None)
    if view is None or csc is None:
        raise DescentlabError(f"{name}: expected a linear model (least squares or logistic "
                              f"regression), got the problem {problem.name!r}")
    indptr, indices, data, sq = csc()
    curvature = 1.0 if view.loss_code == kernels.SQUARE else 0.25
    return _Columns(indptr, indices, data, sq, view, curvature, max(int(indptr[-1]), 1))


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise DescentlabError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def _working_set(x: np.ndarray, score: np.ndarray, free: int, start: int) -> np.ndarray:
    """skglm's working set: the support and the highest scores, max(start, 2 |support|) of
    them (sorted, int64)."""
    d = x.size
    support = x != 0.0
    if free >= 0:
        support[free] = True
    size = min(d, max(min(start, d), 2 * int(support.sum())))
    if size >= d:
        return np.arange(d, dtype=np.int64)
    ranked = np.where(support, np.inf, score)
    ws = np.argpartition(ranked, d - size)[d - size:]
    return np.sort(ws).astype(np.int64)


def _margins(cols: _Columns, x: np.ndarray) -> np.ndarray:
    """z = X x (float64) from the view's rows."""
    v = cols.view
    z = np.empty(v.n)
    kernels.margins(v.indptr, v.indices, v.data, x, z)
    return z


# ----------------------------------------------------------------------------- CD
def _resolve_ws(method, problem):
    """``method`` checked against ``problem``, with working sets on (ws=None) when the
    problem has an L1 term."""
    cols = _columns(method.name, problem)
    if method.ws is None:
        return dataclasses.replace(method, ws=cols.view.lam1 > 0.0)
    return method


def _start(name: str, problem, x0) -> tuple[_Columns, np.ndarray, np.ndarray, int]:
    """(columns, x, margins z = X x, work) at x0: the margins cost one pass (nnz) unless
    x0 = 0."""
    cols = _columns(name, problem)
    x = np.array(x0, dtype=np.float64)
    work = cols.nnz if np.any(x) else 0
    z = _margins(cols, x) if work else np.zeros(problem.n)
    return cols, x, z, work


@dataclass(frozen=True, kw_only=True, eq=False)
class CDState(State):
    """Margins z = X x, the working set and its inner tolerance, Anderson's past iterates
    (``past_x``: K+1 rows on the working set, ``past_z``: their margins) and counters."""

    z: np.ndarray
    lips: np.ndarray
    ws: np.ndarray | None = None
    tol_in: float = 0.0
    epochs_in: int = 0
    work: int = 0
    past_x: np.ndarray | None = None
    past_z: np.ndarray | None = None
    stored: int = 0
    outer: int = 0
    extrapolations: int = 0
    reported: ClassVar[tuple[str, ...]] = ("ws_size", "outer", "extrapolations")

    @property
    def ws_size(self) -> int:
        return 0 if self.ws is None else int(self.ws.size)


@dataclass(frozen=True, kw_only=True)
class CD(Method):
    """Proximal coordinate descent x_j+ = prox_{lam1/L_j}(x_j - grad_j F / L_j) on linear
    models; ``order`` "cyclic" or "random" (i.i.d. uniform, drawn from the run's rng);
    ``ws`` working sets (None: on when lam1 > 0); ``anderson`` extrapolation every
    ``anderson_k`` epochs. One epoch over the d coordinates costs n calls."""

    order: str = "cyclic"
    ws: bool | None = None
    anderson: bool = True
    anderson_k: int = 5
    name: ClassVar[str] = "cd"
    handles_prox: ClassVar[bool] = True
    step_param: ClassVar[str] = "order"

    def __post_init__(self):
        check_choice("cd: order", self.order, ORDERS)
        if self.ws is not None:
            self._set(ws=_check_bool("cd: ws", self.ws))
        self._set(anderson=_check_bool("cd: anderson", self.anderson),
                  anderson_k=check_int("cd: anderson_k", self.anderson_k, minimum=2))

    def resolve(self, problem):
        return _resolve_ws(self, problem)

    def init(self, problem, x0, rng):
        cols, x, z, work = _start(self.name, problem, x0)
        lips = cols.curvature * cols.sq_norms / problem.n
        return CDState(x=x, z=z, lips=lips, work=work, calls=cols.calls(work, problem.n))

    def advance(self, problem, state, rng, calls):
        cols = _columns(self.name, problem)
        n, d = problem.n, problem.dim
        v = cols.view
        lam1, lam2, shift, free, lam2f = cols.weights
        x, z, lips = state.x, state.z, state.lips
        ws, tol_in, epochs_in = state.ws, state.tol_in, state.epochs_in
        past_x, past_z, stored = state.past_x, state.past_z, state.stored
        work, outer, accepted = state.work, state.outer, state.extrapolations
        target = state.calls + max(1, int(calls))
        K = self.anderson_k
        r = np.empty(n)
        grad, score = np.empty(d), np.empty(d)
        empty = kernels.empty_float()
        iterations = 0
        while True:
            if ws is None:  # a new working set from the full gradient (n calls)
                if self.ws:
                    kernels.derivatives(v.y, v.loss_code, z, r, empty)
                    every = np.arange(d, dtype=np.int64)
                    work += kernels.gradient_scores(*cols.csc, r, empty, x, every, lam1, lam2,
                                                    shift, free, lam2f, grad, score, empty)
                    ws = _working_set(x, score, free, WS_START)
                    tol_in = INNER_TOL * float(score.max(initial=0.0))
                else:
                    ws, tol_in = np.arange(d, dtype=np.int64), -1.0
                epochs_in, stored, outer = 0, 0, outer + 1
                if self.anderson:
                    past_x, past_z = np.empty((K + 1, ws.size)), np.empty((K + 1, n))
            order = ws if self.order == "cyclic" else rng.choice(ws, size=ws.size)
            work += kernels.cd_epoch(*cols.csc, v.y, v.loss_code, x, z, lips, order, lam1,
                                     lam2, shift, free, lam2f)
            iterations += 1
            epochs_in += 1
            if self.anderson:
                past_x[stored], past_z[stored] = x[ws], z
                stored += 1
                if stored == K + 1:
                    stored = 0
                    accepted += self._extrapolate(v, x, z, ws, past_x, past_z)
            if self.ws and tol_in >= 0 and epochs_in % CHECK_EVERY == 0:
                kernels.derivatives(v.y, v.loss_code, z, r, empty)
                work += kernels.gradient_scores(*cols.csc, r, empty, x, ws, lam1, lam2, shift,
                                                free, lam2f, grad, score, empty)
                if float(score[ws].max(initial=0.0)) <= tol_in:
                    ws = None  # the working set is solved: grow it
            if cols.calls(work, n) >= target:
                break
        return state.after(iterations, cols.calls(work, n) - state.calls, x=x, z=z, ws=ws,
                           tol_in=tol_in, epochs_in=epochs_in, work=work, past_x=past_x,
                           past_z=past_z, stored=stored, outer=outer, extrapolations=accepted)

    @staticmethod
    def _extrapolate(v, x, z, ws, past_x, past_z) -> int:
        """Anderson extrapolation from the K+1 stored iterates; applied (in place) when it
        lowers F. Returns 1 if applied."""
        U = np.diff(past_x, axis=0)
        try:
            c = np.linalg.solve(U @ U.T, np.ones(U.shape[0]))
        except np.linalg.LinAlgError:
            return 0
        total = c.sum()
        if not np.isfinite(total) or total == 0.0 or not np.all(np.isfinite(c)):
            return 0
        c /= total
        x_acc, z_acc = c @ past_x[1:], c @ past_z[1:]
        x_try = x.copy()
        x_try[ws] = x_acc
        args = (v.lam1, v.lam2, v.shift, v.free, v.lam2f)
        if kernels.value(v.y, v.loss_code, z_acc, x_try, *args) < \
                kernels.value(v.y, v.loss_code, z, x, *args):
            x[ws] = x_acc
            z[:] = z_acc
            return 1
        return 0


# ---------------------------------------------------------------------- ProxNewton
@dataclass(frozen=True, kw_only=True, eq=False)
class NewtonState(State):
    """Margins z = X x, the working set (None: to be chosen from the full gradient) and its
    tolerance, the last step and the inner epochs done (reported)."""

    z: np.ndarray
    work: int = 0
    ws: np.ndarray | None = None
    tol_in: float = 0.0
    outer: int = 0
    last_step: float = 1.0
    inner_epochs: int = 0
    fallbacks: int = 0
    reported: ClassVar[tuple[str, ...]] = ("ws_size", "outer", "last_step", "inner_epochs",
                                           "fallbacks")

    @property
    def ws_size(self) -> int:
        return 0 if self.ws is None else int(self.ws.size)


@dataclass(frozen=True, kw_only=True)
class ProxNewton(Method):
    """Proximal Newton: diagonal-weight quadratic model solved by CD on a working set
    (``ws``, None: on when lam1 > 0), at most ``max_cd_epochs`` epochs with Anderson
    extrapolation every ``anderson_k`` epochs (0: off), then a backtracking line search (at
    most ``max_backtrack`` halvings, else one proximal CD epoch); Newton steps on a working
    set until its scores fall below 0.3 times the full maximum score, then a new working set
    (the logistic weights floored at ``H_MIN``). Costs: a
    full gradient (n calls) per working set, and per Newton step its inner epochs and
    line-search passes, pro rata of the non-zeros read."""

    ws: bool | None = None
    max_cd_epochs: int = 20
    max_backtrack: int = 20
    anderson_k: int = 5
    name: ClassVar[str] = "prox-newton"
    handles_prox: ClassVar[bool] = True
    step_param: ClassVar[str] = "max_cd_epochs"

    def __post_init__(self):
        if self.ws is not None:
            self._set(ws=_check_bool("prox-newton: ws", self.ws))
        self._set(max_cd_epochs=check_int("prox-newton: max_cd_epochs", self.max_cd_epochs,
                                          minimum=1),
                  max_backtrack=check_int("prox-newton: max_backtrack", self.max_backtrack,
                                          minimum=1),
                  anderson_k=check_int("prox-newton: anderson_k", self.anderson_k, minimum=0))
        if self.anderson_k == 1:
            raise DescentlabError("prox-newton: anderson_k: expected 0 (off) or an integer "
                                  ">= 2, got 1")

    def resolve(self, problem):
        return _resolve_ws(self, problem)

    def init(self, problem, x0, rng):
        cols, x, z, work = _start(self.name, problem, x0)
        return NewtonState(x=x, z=z, work=work, calls=cols.calls(work, problem.n))

    def advance(self, problem, state, rng, calls):
        cols = _columns(self.name, problem)
        n, d = problem.n, problem.dim
        v = cols.view
        lam1, lam2, shift, free, lam2f = cols.weights
        x, z, work, ws, tol_in = state.x, state.z, state.work, state.ws, state.tol_in
        target = state.calls + max(1, int(calls))
        qh, ztmp = np.empty((n, 2)), np.empty(n)
        r, h = qh[:, 0], qh[:, 1]
        grad, score, hess = np.empty(d), np.empty(d), np.empty(d)
        every = np.arange(d, dtype=np.int64)
        iterations, step, inner, outer = 0, state.last_step, state.inner_epochs, state.outer
        fallbacks = state.fallbacks
        while True:
            kernels.derivatives(v.y, v.loss_code, z, r, h)
            np.maximum(h, H_MIN, out=h)
            if ws is None:  # a new working set from the full gradient (n calls)
                work += kernels.gradient_scores(*cols.csc, r, h, x, every, lam1, lam2, shift,
                                                free, lam2f, grad, score, hess)
                ws = _working_set(x, score, free, WS_START) if self.ws else every
                tol_in = INNER_TOL * float(score.max(initial=0.0))
                outer += 1
            else:  # the Hessian diagonal on the working set (its gradient comes along)
                work += kernels.gradient_scores(*cols.csc, r, h, x, ws, lam1, lam2, shift,
                                                free, lam2f, grad, score, hess)
            delta, xdelta = np.zeros(ws.size), np.empty(n)
            epochs, w = self._direction(cols, ws, qh, hess, x, delta, INNER_TOL * tol_in)
            work += w + kernels.column_product(*cols.csc, ws, delta, xdelta)
            inner += epochs
            step, w = kernels.line_search(*cols.csc, v.y, v.loss_code, z, xdelta, x, ws, delta,
                                          lam1, lam2, shift, free, lam2f, self.max_backtrack,
                                          ztmp, grad)
            work += w
            iterations += 1
            if step > 0.0:
                x[ws] += step * delta
                z += step * xdelta
                l1 = np.full(ws.size, lam1)
                l1[ws == free] = 0.0
                worst = _scores(grad[ws], x[ws], l1).max(initial=0.0)
                if ws.size == d:  # grad is the full gradient at the new x: a new reference
                    tol_in, outer = INNER_TOL * worst, outer + 1
                elif worst <= tol_in:
                    ws = None  # the working set is solved: a new one from the full gradient
            else:  # no step passed: one proximal CD epoch on ws (F never rises), then anew
                lips = cols.curvature * cols.sq_norms / n
                work += kernels.cd_epoch(*cols.csc, v.y, v.loss_code, x, z, lips, ws, lam1,
                                         lam2, shift, free, lam2f)
                fallbacks += 1
                ws = None
            if cols.calls(work, n) >= target:
                break
        return state.after(iterations, cols.calls(work, n) - state.calls, x=x, z=z, work=work,
                           ws=ws, tol_in=tol_in, outer=outer, last_step=float(step),
                           inner_epochs=inner, fallbacks=fallbacks)

    def _direction(self, cols, ws, qh, hess, x, delta, tol) -> tuple[int, int]:
        """CD on the model (``kernels.model_epoch``, ``delta`` and q = r + h X d in place)
        until an epoch meets scores <= tol or ``max_cd_epochs``, with Anderson extrapolation
        (``anderson_k``) of (delta, q) kept when it lowers the model. Returns (epochs, work)."""
        lam1, lam2, shift, free, lam2f = cols.weights
        K = self.anderson_k
        r = qh[:, 0].copy()
        past_d, past_q = (np.empty((K + 1, ws.size)), np.empty((K + 1, qh.shape[0]))) \
            if K else (None, None)
        work, stored = 0, 0
        for epoch in range(1, self.max_cd_epochs + 1):
            worst, w = kernels.model_epoch(*cols.csc, ws, qh, hess, x, delta, lam1, lam2,
                                           shift, free, lam2f)
            work += w
            if worst <= tol:
                return epoch, work
            if K:
                past_d[stored], past_q[stored] = delta, qh[:, 0]
                stored += 1
                if stored == K + 1:
                    stored = 0
                    _model_anderson(qh, r, ws, x, delta, past_d, past_q, cols.weights)
        return self.max_cd_epochs, work


def _model_anderson(qh, r, ws, x, delta, past_d, past_q, weights) -> None:
    """Anderson extrapolation of the model's CD iterates (as ``CD._extrapolate``; q = r + h X d
    is affine in d, so it extrapolates with the same weights), kept when the model drops."""
    U = np.diff(past_d, axis=0)
    try:
        c = np.linalg.solve(U @ U.T, np.ones(U.shape[0]))
    except np.linalg.LinAlgError:
        return
    total = c.sum()
    if not np.isfinite(total) or total == 0.0 or not np.all(np.isfinite(c)):
        return
    c /= total
    d_acc, q_acc = c @ past_d[1:], c @ past_q[1:]
    before = kernels.model_value(qh, r, ws, x, delta, *weights)
    q_old = qh[:, 0].copy()
    qh[:, 0] = q_acc
    if kernels.model_value(qh, r, ws, x, d_acc, *weights) < before:
        delta[:] = d_acc
    else:
        qh[:, 0] = q_old


def _scores(g: np.ndarray, x: np.ndarray, l1: np.ndarray) -> np.ndarray:
    """Distance of -g to the subdifferential of l1 |x| (coordinate-wise, numpy)."""
    return np.where(x != 0, np.abs(g + l1 * np.sign(x)), np.maximum(np.abs(g) - l1, 0.0))


__all__ = ["CD", "CDState", "NewtonState", "ProxNewton"]
