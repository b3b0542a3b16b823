"""Linear models: regularized least squares and logistic regression (seed 000).

    F(theta) = (1/n) sum_i loss(y_i, x_i . theta) + lam * Omega(theta)

* ``LeastSquares``: loss(y, z) = (y - z)^2 / 2,           loss'' = 1
* ``Logistic``:     loss(y, z) = log(1 + exp(-y z)),       0 < loss'' <= 1/4,
  evaluated as ``logaddexp(0, -y z)`` and its derivative as ``-y expit(-y z)`` so that no
  margin overflows.

Constants (sigma = sup loss'', A = X^T X / n):
L = sigma lambda_max(A) + lam2,  L_max = sigma max_i ||x_i||^2 + lam2,
mu = inf(loss'') lambda_min(A) + lam2  (so mu = lam2 for the logistic loss).

X is a dense ndarray or a scipy.sparse CSR matrix, float64 or float32.

``fit_intercept=True`` adds an unpenalized intercept b, z_i = x_i . w + b, as in
scikit-learn's linear models: the design is stored augmented with a column of ones
(``X`` has ``n_features + 1`` columns, theta = (w, b)) and the regularizer skips the last
coordinate, so every method (generic or compiled) sees an ordinary linear model whose last
coordinate is free. The constants become L = sigma lambda_max(A) + lam2 (an upper bound) and
mu = lambda_min(A + diag(lam2, ..., lam2, 0)) for least squares, 0 for the logistic loss
(no strong convexity along the intercept).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import ClassVar

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy import optimize
from scipy.special import expit

from .._compiled.linear import batch_grad_csr
from .._compiled.losses import LossCode
from .._validation import check_design, check_indices, check_target
from ..data.libsvm import binarize_labels, load_libsvm
from ..data.synthetic import spectral_design
from ..errors import DescentlabError, SolutionError
from .base import Problem
from .regularizers import Regularizer

#: certified accuracy of ``solution()``: norm of the gradient mapping at x*
SOLUTION_TOL = 1e-10
_DENSE_GRAM_LIMIT = 4000


@dataclasses.dataclass(frozen=True, eq=False)
class LinearView:
    """The arrays of a linear model that the compiled loops read.

    Component i is f_i(x) = phi_i(a_i . x) + lam2 ||x||^2 / 2 + shift . x (the coordinate
    ``free``, the unpenalized intercept or -1, gets the ridge weight lam2f instead of lam2)
    and h = lam1 ||x||_1; a_i is row i of the CSR arrays (indptr, indices, data), phi_i the
    loss ``loss_code`` at the target y_i.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    y: np.ndarray
    loss_code: int
    n: int
    d: int
    lam1: float
    lam2: float
    shift: np.ndarray = dataclasses.field(repr=False)
    free: int = -1
    lam2f: float = 0.0

    @property
    def rows(self) -> tuple:
        """(indptr, indices, data, y, loss_code): the rows a_i, targets y_i and loss phi."""
        return self.indptr, self.indices, self.data, self.y, self.loss_code

    def with_proximal_term(self, kappa: float, center: np.ndarray) -> LinearView:
        """The view of F + kappa ||x - center||^2 / 2 (Catalyst's subproblem)."""
        return dataclasses.replace(self, lam2=self.lam2 + kappa, lam2f=kappa,
                                   shift=-kappa * center.astype(np.float64))


class LinearModel(Problem):
    """Regularized empirical risk of a linear predictor; subclasses define the loss."""

    loss_name: ClassVar[str]
    #: the loss of the compiled kernels, a ``descentlab._compiled.losses.LossCode`` value
    #: (a plain int: numba dispatches on it without the slow path of an enum member)
    loss_code: ClassVar[int]
    curvature_max: ClassVar[float]
    curvature_min: ClassVar[float]

    def __init__(self, X, y, reg: str | None = None, lam: float = 0.0,
                 l1_ratio: float | None = None, fit_intercept: bool = False):
        X = check_design(X)
        n, n_features = X.shape
        y = check_target(y, n, dtype=X.dtype)
        self._check_labels(y)
        self.fit_intercept = bool(fit_intercept)
        self.n_features = int(n_features)
        if self.fit_intercept:
            X = _with_ones_column(X)
        self.X, self.y = X, y
        self.n, self.dim = int(n), int(X.shape[1])
        self.dtype = X.dtype
        self.sparse = sp.issparse(X)
        self.regularizer = Regularizer(reg, lam, l1_ratio, intercept=self.fit_intercept)
        self.nonsmooth = self.regularizer.nonsmooth
        self.dataset: str | None = None
        self.name = self.loss_name

    def describe(self) -> dict:
        info = super().describe()
        if self.dataset:
            info["dataset"] = self.dataset
        info.update(self.regularizer.describe(), sparse=bool(self.sparse))
        return info

    # ----------------------------------------------------------- construction
    @classmethod
    def from_libsvm(cls, name_or_path, reg: str | None = None, lam: float = 0.0,
                    l1_ratio: float | None = None, positive_class=None,
                    dtype=np.float64, fit_intercept: bool = False,
                    max_features: int | None = None):
        """Build the problem on a LIBSVM dataset (a known name or a path).

        ``Logistic``: binary labels are mapped to -1/+1; multiclass data need
        ``positive_class`` (one vs rest). ``LeastSquares``: the targets are kept as they are
        (regression), unless ``positive_class`` asks for -1/+1 (one vs rest).
        ``max_features`` allows a file more features than its entries justify (see
        ``descentlab.data.libsvm``).
        """
        X, y = load_libsvm(name_or_path, max_features=max_features)
        y = cls._labels_from_raw(y, positive_class)
        X = X.astype(dtype, copy=False)
        problem = cls(X, y, reg=reg, lam=lam, l1_ratio=l1_ratio, fit_intercept=fit_intercept)
        problem.dataset = str(name_or_path)
        return problem

    @classmethod
    def _labels_from_raw(cls, y, positive_class):
        return binarize_labels(y, positive_class)

    def _check_labels(self, y: np.ndarray) -> None:
        """Subclasses reject targets outside the loss's domain."""

    # --------------------------------------------------------------- the loss
    def _loss(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _dloss(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """d loss(y, z) / dz."""
        raise NotImplementedError

    def _d2loss(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """d^2 loss(y, z) / dz^2."""
        raise NotImplementedError

    # ---------------------------------------------------------------- oracles
    def margins(self, x: np.ndarray) -> np.ndarray:
        """z = X theta."""
        return self.X @ x

    def smooth_value(self, x: np.ndarray) -> float:
        z = self.X @ x
        return float(np.mean(self._loss(z, self.y))) + self.regularizer.smooth_value(x)

    def value(self, x: np.ndarray) -> float:
        return self.smooth_value(x) + self.regularizer.nonsmooth_value(x)

    def grad(self, x: np.ndarray) -> np.ndarray:
        r = self._dloss(self.X @ x, self.y)
        g = self.X.T @ r
        g /= self.n
        return self.regularizer.add_smooth_grad(g, x)

    def batch_grad(self, x: np.ndarray, idx) -> np.ndarray:
        idx = check_indices(idx, self.n, check_range=not self.sparse)
        if self.sparse:  # gather the rows in compiled code (scipy's row slicing is slow)
            indptr, indices, data = self.csr_arrays()
            g = np.empty(self.dim, dtype=np.result_type(self.dtype, x.dtype))
            if not batch_grad_csr(indptr, indices, data, self.y, self.loss_code, x, idx, g):
                check_indices(idx, self.n)  # the kernel found an index out of range: raise
        else:
            Xb = self.X[idx]
            g = Xb.T @ self._dloss(Xb @ x, self.y[idx])
            g /= idx.size
        return self.regularizer.add_smooth_grad(g, x)

    def csr_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indptr, indices, data) of X (a dense X viewed as CSR), built once."""
        arrays = getattr(self, "_csr_arrays", None)
        if arrays is None:
            if self.sparse:
                arrays = self.X.indptr, self.X.indices, self.X.data
            else:
                n, d = self.X.shape
                arrays = (np.arange(0, (n + 1) * d, d, dtype=np.int64),
                          np.tile(np.arange(d, dtype=np.int32), n),
                          np.ascontiguousarray(self.X).ravel())
            self._csr_arrays = arrays
        return arrays

    def csc_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(indptr, indices, data, sq_norms): the columns of X and their squared norms.

        Column j of X is ``data[indptr[j]:indptr[j+1]]`` at the rows
        ``indices[indptr[j]:indptr[j+1]]`` (sorted); ``sq_norms[j] = ||X_:j||^2`` (float64).
        A dense X is viewed as CSC with every entry stored. Built once (coordinate methods).
        """
        arrays = getattr(self, "_csc_arrays", None)
        if arrays is None:
            if self.sparse:
                C = sp.csc_matrix(self.X)
                C.sort_indices()
                indptr, indices, data = C.indptr, C.indices, C.data
                sq = np.bincount(np.repeat(np.arange(self.dim), np.diff(indptr)),
                                 weights=np.square(data, dtype=np.float64), minlength=self.dim)
            else:
                n, d = self.X.shape
                data = np.ascontiguousarray(self.X.T).ravel()
                indptr = np.arange(0, (d + 1) * n, n, dtype=np.int64)
                indices = np.tile(np.arange(n, dtype=np.int32), d)
                sq = np.einsum("ij,ij->j", self.X, self.X, dtype=np.float64)
            for a in (indptr, indices, data, sq):
                a.setflags(write=False)
            arrays = self._csc_arrays = (indptr, indices, data, np.asarray(sq, np.float64))
        return arrays

    def linear_view(self) -> LinearView:
        """The arrays of the compiled loops (built once)."""
        view = getattr(self, "_linear_view", None)
        if view is None:
            r = self.regularizer
            view = self._linear_view = LinearView(
                *self.csr_arrays(), self.y, self.loss_code, self.n, self.dim, r.lam1,
                r.lam2, np.zeros(self.dim), self.dim - 1 if self.fit_intercept else -1)
        return view

    def component_smoothness(self) -> np.ndarray:
        """L_i = sup(loss'') ||x_i||^2 + lam2."""
        return self.curvature_max * self.row_sq_norms() + self.regularizer.lam2

    def hessp(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Hessian of the smooth part at x times v."""
        w = self._d2loss(self.X @ x, self.y)
        hv = self.X.T @ (w * (self.X @ v))
        hv /= self.n
        return self.regularizer.add_smooth_grad(hv, v)

    def prox(self, x: np.ndarray, step: float) -> np.ndarray:
        return self.regularizer.prox(x, step)

    # -------------------------------------------------------------- constants
    def _gram_extremes(self) -> tuple[float, float]:
        """(lambda_max, lambda_min) of X^T X / n, computed once."""
        cached = getattr(self, "_gram_cache", None)
        if cached is not None:
            return cached
        X = self.X.astype(np.float64) if self.X.dtype != np.float64 else self.X
        n, d = X.shape
        if min(n, d) <= _DENSE_GRAM_LIMIT:
            G = (X.T @ X) if d <= n else (X @ X.T)
            G = G.toarray() if sp.issparse(G) else np.asarray(G)
            eig = sla.eigvalsh(G / n)
            lam_max = float(eig[-1])
            lam_min = float(eig[0]) if d <= n else 0.0
        else:
            op = spla.LinearOperator((d, d), matvec=lambda v: X.T @ (X @ v) / n,
                                     dtype=np.float64)
            v0 = np.ones(d)
            lam_max = float(spla.eigsh(op, k=1, which="LA", v0=v0,
                                       return_eigenvectors=False)[0])
            if d > n:
                lam_min = 0.0
            else:
                lam_min = float(spla.eigsh(op, k=1, which="SA", v0=v0,
                                           return_eigenvectors=False)[0])
        # eigenvalues below the rounding level of the Gram matrix are zeros (rank deficiency)
        if lam_min <= 100 * max(n, d) * np.finfo(np.float64).eps * lam_max:
            lam_min = 0.0
        self._gram_cache = (lam_max, lam_min)
        return self._gram_cache

    @property
    def L(self) -> float:
        return self.curvature_max * self._gram_extremes()[0] + self.regularizer.lam2

    def row_sq_norms(self) -> np.ndarray:
        """||x_i||^2 for every row (computed once): L_i = sup(loss'') ||x_i||^2 + lam2."""
        sq = getattr(self, "_row_sq", None)
        if sq is None:
            if self.sparse:
                sq = np.asarray(self.X.multiply(self.X).sum(axis=1), dtype=np.float64).ravel()
            else:
                sq = np.einsum("ij,ij->i", self.X, self.X, dtype=np.float64)
            sq.setflags(write=False)
            self._row_sq = sq
        return sq

    @property
    def L_max(self) -> float:
        return self.curvature_max * float(self.row_sq_norms().max()) + self.regularizer.lam2

    @property
    def mu(self) -> float:
        if self.fit_intercept:
            return self._mu_with_intercept()
        data = self.curvature_min * self._gram_extremes()[1] if self.curvature_min else 0.0
        return data + self.regularizer.lam2

    def _mu_with_intercept(self) -> float:
        """lambda_min(c A + diag(lam2, ..., lam2, 0)), c = inf loss'' (0 for the logistic loss).

        Exact when the dimension allows a dense eigendecomposition, else the lower bound
        c lambda_min(A) (the intercept direction gets no lam2)."""
        c = self.curvature_min
        if not c:
            return 0.0
        cached = getattr(self, "_mu_cache", None)
        if cached is None:
            if self.dim <= _DENSE_GRAM_LIMIT:
                X = self.X.astype(np.float64)
                G = X.T @ X
                G = G.toarray() if sp.issparse(G) else np.asarray(G)
                G = c * G / self.n + np.diag(self.regularizer.smooth_diag(self.dim))
                cached = float(sla.eigvalsh(G, subset_by_index=[0, 0])[0])
                if cached <= 100 * self.dim * np.finfo(np.float64).eps * self.L:
                    cached = 0.0
            else:
                cached = c * self._gram_extremes()[1]
            self._mu_cache = cached
        return cached

    # ------------------------------------------------------- reference optimum
    def _solve(self):
        x = self._solve_smooth() if not self.nonsmooth else self._solve_composite()
        x = x.astype(np.float64)
        gm = float(np.linalg.norm(self._as64().gradient_mapping(x)))
        if gm > SOLUTION_TOL:
            warnings.warn(f"{self!r}: reference solution certified only to gradient-mapping "
                          f"norm {gm:.2e} (target {SOLUTION_TOL:.0e})", RuntimeWarning,
                          stacklevel=3)
        return x, self._as64().value(x)

    def _as64(self) -> LinearModel:
        """This problem in float64 (itself when already float64)."""
        if self.dtype == np.float64:
            return self
        cached = getattr(self, "_f64", None)
        if cached is None:
            r = self.regularizer
            X = self.X[:, :-1] if self.fit_intercept else self.X
            cached = type(self)(X.astype(np.float64), self.y.astype(np.float64),
                                reg=r.reg, lam=r.lam, l1_ratio=r.l1_ratio,
                                fit_intercept=self.fit_intercept)
            self._f64 = cached
        return cached

    def _solve_smooth(self) -> np.ndarray:
        p = self._as64()
        res = optimize.minimize(
            lambda x: (p.value(x), p.grad(x)), np.zeros(p.dim), jac=True,
            hessp=p.hessp, method="trust-ncg",
            options={"gtol": 1e-13, "maxiter": 500})
        x = res.x
        if p.dim <= _DENSE_GRAM_LIMIT and np.all(np.isfinite(x)):
            # Newton polish with the explicit Hessian (trust-ncg stops at its own rounding)
            every = np.arange(p.dim)
            x = _newton_on_support(p, x, every, np.zeros(p.dim), 0.0)
        if not np.all(np.isfinite(x)) or np.linalg.norm(p.grad(x)) > 1e-6:
            raise SolutionError(
                f"{self!r}: no minimizer found (gradient norm {np.linalg.norm(p.grad(x)):.1e} "
                f"after {res.nit} Newton steps, ||x|| = {np.linalg.norm(x):.1e}); the data may "
                "be separable or rank deficient: add regularization (reg='l2', lam > 0)")
        return x

    def _solve_composite(self) -> np.ndarray:
        """L-BFGS-B on the split x = u - v (u, v >= 0), then Newton on the active set."""
        p, lam1, d = self._as64(), self.regularizer.lam1, self.dim
        w1 = np.full(d, lam1)  # the weight of |x_j| (0 on the intercept)
        if self.fit_intercept:
            w1[-1] = 0.0

        def split_fun(uv):
            x = uv[:d] - uv[d:]
            g = p.grad(x)
            f = p.smooth_value(x) + float(w1 @ (uv[:d] + uv[d:]))
            return f, np.concatenate([g + w1, w1 - g])

        res = optimize.minimize(split_fun, np.zeros(2 * d), jac=True, method="L-BFGS-B",
                                bounds=[(0.0, None)] * (2 * d),
                                options={"maxiter": 20000, "maxfun": 40000, "ftol": 1e-16,
                                         "gtol": 1e-14, "maxcor": 30})
        x = res.x[:d] - res.x[d:]
        return _polish_l1(p, x, lam1)


def _polish_l1(p: LinearModel, x: np.ndarray, lam1: float, rounds: int = 30) -> np.ndarray:
    """Active-set Newton refinement of an L1-regularized solution.

    On the support S with signs s, the optimum solves grad_S g(x) + lam1 s = 0, a smooth
    equation solved by Newton's method with the exact Hessian on S (least-norm steps when
    columns of X_S are collinear); coordinates whose sign flips are set to zero and dropped,
    violators (|grad_j g| > lam1 off the support) are added, until the gradient mapping
    vanishes to ``SOLUTION_TOL``.
    """
    scale = max(1.0, float(np.abs(x).max(initial=0.0)))
    x = np.where(np.abs(x) > 1e-9 * scale, x, 0.0)
    free = np.zeros(p.dim, dtype=bool)  # unpenalized coordinates: always on the support
    free[-1] = p.fit_intercept
    best, best_x = np.inf, x
    for _ in range(rounds):
        gm = float(np.linalg.norm(p.gradient_mapping(x)))
        if gm < best:
            best, best_x = gm, x
        elif gm >= best:  # a round that does not improve: done
            break
        if gm <= 0.01 * SOLUTION_TOL:
            break
        g = p.grad(x)
        S = np.flatnonzero((x != 0) | (np.abs(g) > lam1 * (1 + 1e-12)) | free)
        s = np.where(x[S] != 0, np.sign(x[S]), -np.sign(g[S]))
        s[free[S]] = 0.0
        u = _newton_on_support(p, x, S, s, lam1)
        flipped = (np.sign(u) != s) & ~free[S]
        if flipped.any():
            # step back to the first zero crossing along the segment, drop those coordinates
            x_S, delta = x[S], u - x[S]
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(flipped & (delta != 0), -x_S / delta, np.inf)
            t_cross = float(np.clip(np.min(t[flipped]), 0.0, 1.0))
            u = x_S + t_cross * delta
            u[flipped & (t <= t_cross + 1e-15)] = 0.0
            u[np.sign(u) != s] = 0.0
        x = np.zeros(p.dim)
        x[S] = u
    gm = float(np.linalg.norm(p.gradient_mapping(x)))
    return x if gm < best else best_x


def _newton_on_support(p: LinearModel, x: np.ndarray, S: np.ndarray, s: np.ndarray,
                       lam1: float, iterations: int = 50) -> np.ndarray:
    """Solve grad_S g(x_S) + lam1 s = 0 over the coordinates S by Newton's method."""
    XS = p.X[:, S]
    if sp.issparse(XS):
        XS = sp.csr_matrix(XS, dtype=np.float64)
    diag = p.regularizer.smooth_diag(p.dim)[S]
    z = np.zeros(p.dim)
    u = x[S].astype(np.float64)
    best_r, best_u = np.inf, u
    for _ in range(iterations):
        z[S] = u
        margins = XS @ u
        r = p.grad(z)[S] + lam1 * s
        norm_r = float(np.linalg.norm(r))
        if norm_r < best_r:
            best_r, best_u = norm_r, u
        elif norm_r > 0.5 * best_r:  # no Newton progress left: the rounding floor
            break
        if norm_r <= 1e-3 * SOLUTION_TOL:
            break
        w = p._d2loss(margins, p.y)
        if sp.issparse(XS):
            H = (XS.T @ XS.multiply(w[:, None]).tocsr()).toarray()
        else:
            H = XS.T @ (w[:, None] * XS)
        H = H / p.n + np.diag(diag)
        step = sla.lstsq(H, r, cond=1e-13)[0]
        u = u - step
    return best_u


def _with_ones_column(X):
    """[X, 1]: the design of a model with an intercept (CSR stays CSR, int32 indices)."""
    ones = np.ones((X.shape[0], 1), dtype=X.dtype)
    if not sp.issparse(X):
        return np.hstack([X, ones])
    out = sp.hstack([X, sp.csr_matrix(ones)], format="csr", dtype=X.dtype)
    if out.indices.dtype != X.indices.dtype and X.shape[1] + 1 < np.iinfo(np.int32).max:
        out.indices = out.indices.astype(X.indices.dtype)
        out.indptr = out.indptr.astype(X.indptr.dtype)
    return out


class LeastSquares(LinearModel):
    """F(theta) = (1/(2n)) ||X theta - y||^2 + lam Omega(theta)."""

    loss_name = "least-squares"
    loss_code = int(LossCode.SQUARE)
    curvature_max = 1.0
    curvature_min = 1.0

    @classmethod
    def _labels_from_raw(cls, y, positive_class):
        if positive_class is None:
            return np.asarray(y, dtype=np.float64)  # regression targets, kept as they are
        return binarize_labels(y, positive_class)

    def _loss(self, z, y):
        r = z - y
        return 0.5 * r * r

    def _dloss(self, z, y):
        return z - y

    def _d2loss(self, z, y):
        return np.ones_like(z)

    def _solve_smooth(self) -> np.ndarray:
        """Normal equations (A + lam2 I) x = X^T y / n: Cholesky, or least-norm lstsq."""
        p = self._as64()
        lam2, n, d = p.regularizer.lam2, p.n, p.dim
        if d <= _DENSE_GRAM_LIMIT:
            X = p.X.toarray() if p.sparse else p.X
            if lam2 > 0 or np.linalg.matrix_rank(X) == d:
                G = X.T @ X / n + np.diag(p.regularizer.smooth_diag(d))
                x = sla.cho_solve(sla.cho_factor(G), X.T @ p.y / n)
            else:
                x = sla.lstsq(X, p.y)[0]
        else:
            x = spla.lsqr(p.X, p.y, damp=np.sqrt(n * lam2), atol=1e-16, btol=1e-16,
                          iter_lim=100 * d)[0]
        for _ in range(3):  # iterative refinement against rounding
            g = p.grad(x)
            if np.linalg.norm(g) <= 0.01 * SOLUTION_TOL:
                break
            op = spla.LinearOperator((d, d), matvec=lambda v, x=x: p.hessp(x, v),
                                     dtype=np.float64)
            x = x - spla.cg(op, g, rtol=1e-14, maxiter=10 * d)[0]
        return x

    @classmethod
    def with_spectrum(cls, n: int, spectrum, *, lam: float = 0.0, noise: float = 0.1,
                      seed: int = 0, design_seed: int | None = None) -> LeastSquares:
        """Least squares on ``data.synthetic.spectral_design(n, spectrum)``, y = X theta + noise.

        theta (attribute ``theta_true``) is a random unit vector drawn from ``seed``
        (independent of n and of the spectrum), the noise is ``noise`` times a standard
        Gaussian per sample, drawn from (seed, n); the design from ``design_seed`` (default
        ``seed``). ``lam`` > 0 adds the ridge lam ||theta||^2 / 2. Constants:
        L = max(spectrum) + lam, mu = min(spectrum) + lam, L_max = sum(spectrum) + lam.
        """
        spectrum = np.asarray(spectrum, dtype=np.float64).ravel()
        ds = seed if design_seed is None else design_seed
        X = spectral_design(n, spectrum, seed=ds + 7919 * n, rotation_seed=ds)
        rng = np.random.default_rng(seed)
        theta = rng.standard_normal(spectrum.size)
        theta /= np.linalg.norm(theta)
        eps = np.random.default_rng([seed, n]).standard_normal(n)
        problem = cls(X, X @ theta + noise * eps, reg="l2" if lam > 0 else None, lam=float(lam))
        problem.theta_true = theta
        return problem


class Logistic(LinearModel):
    """F(theta) = (1/n) sum_i log(1 + exp(-y_i x_i . theta)) + lam Omega(theta), y in {-1,+1}."""

    loss_name = "logistic"
    loss_code = int(LossCode.LOGISTIC)
    curvature_max = 0.25
    curvature_min = 0.0

    def _check_labels(self, y):
        bad = ~((y == 1.0) | (y == -1.0))
        if bad.any():
            shown = ", ".join(f"{c:g}" for c in np.unique(y)[:10])
            raise DescentlabError(
                f"y: the logistic loss expects labels in {{-1, +1}}, got values {shown}; "
                "map two classes with descentlab.data.binarize_labels(y) or pick "
                "positive_class= for one vs rest")
        if np.all(y == y[0]):
            raise DescentlabError(f"y: expected two classes, got only the label {y[0]:g}")

    def _loss(self, z, y):
        return np.logaddexp(0.0, -y * z)

    def _dloss(self, z, y):
        return -y * expit(-y * z)

    def _d2loss(self, z, y):
        s = expit(z)
        return s * (1.0 - s)
