"""Kernels of wide ReLU networks: arc-cosine kernels, the population risk, the kernel SVM.

**The order-1 arc-cosine kernel** (Cho and Saul 2009, ref. [11] of seed 002): for u, v in
R^D with angle t and x ~ N(0, I_D),

    E[relu(u . x) relu(v . x)] = |u||v| (sin t + (pi - t) cos t) / (2 pi),
    grad_u = ((pi - t) v + |v| sin t u/|u|) / (2 pi)        (``relu_gaussian_kernel*``).

**Population risk of the teacher-student model** (seed 002, section 4.4; ReLU, x ~ N(0, I_d),
no bias): with c = alpha a / m, E[(h(x) - y)^2] / 2 = (c^T K(b, b) c - 2 c^T K(b, b*) a* +
a*^T K(b*, b*) a*) / 2, and its particle velocities in closed form (``population_*``).

**The kernel regime's reference** (seed 002, 5.3). Training only the output layer of
f(x) = (1/m) sum_j a_j relu(b_j . x) is a linear model on the features
Phi_j(x) = relu(b_j . x) / sqrt(m), with kernel

    k_m(x, x') = (1/m) sum_j relu(b_j . x) relu(b_j . x')       (``empirical_kernel``)
              -> k(x, x') = E_eta[relu(eta . x) relu(eta . x')]  as m -> infinity.

For eta uniform on the sphere S^(D-1) of R^D the limit is the Gaussian-eta kernel divided
by E|eta|^2 = D, since eta = |eta| (eta/|eta|) with the radius independent of the
direction (``limit_kernel``, ``b_init`` as in ``descentlab.particles.margins``).

The gradient flow on the output layer converges in direction to the max-margin predictor
(Theorem 4, [43]): the solution of min ||f||_k^2 subject to y_i f(x_i) >= 1, computed from
its dual (no intercept: the bias is the constant input coordinate)

    max_{alpha >= 0} sum_i alpha_i - (1/2) sum_{i,l} alpha_i alpha_l y_i y_l k(x_i, x_l),
    f*(x) = sum_i alpha_i y_i k(x_i, x),   ||f*||_k^2 = sum_i alpha_i,

so that the normalized predictor is f*/||f*||_k and its margin 1/||f*||_k
(``hard_margin_svm``: L-BFGS-B on the box-constrained dual, then an exact active-set
solve of the margin equalities on the support). ``intercept=True`` returns scikit-learn's
SVC(kernel="precomputed", C large) instead, which also fits a free intercept (not the
problem of Theorem 4; kept for comparison).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from .._validation import check_choice, check_positive
from ..data.teacher import Teacher
from ..errors import DescentlabError


def _angles(U: np.ndarray, V: np.ndarray):
    """(cos t, |u|, |v|, |u||v|) for the rows u of U and v of V (cos t = 1 if one is 0)."""
    nu, nv = np.linalg.norm(U, axis=-1), np.linalg.norm(V, axis=-1)
    dots = U @ np.swapaxes(V, -1, -2)
    denom = nu[..., :, None] * nv[..., None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(denom > 0, dots / np.where(denom > 0, denom, 1.0), 1.0)
    return np.clip(cos, -1.0, 1.0), nu, nv, denom


def relu_gaussian_kernel(U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """K[i, k] = E[relu(u_i . x) relu(v_k . x)] for x ~ N(0, I): arc-cosine kernel of order 1.

    K = |u||v| (sin t + (pi - t) cos t) / (2 pi), t the angle between u and v (0 if a
    vector is 0).
    """
    cos, _, _, denom = _angles(U, V)
    t = np.arccos(cos)
    return denom * (np.sqrt(1.0 - cos * cos) + (np.pi - t) * cos) / (2 * np.pi)


def relu_gaussian_kernel_grad(U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """G[i, k] = grad_u E[relu(u . x) relu(v . x)] at (u_i, v_k) = E[1(u.x > 0) relu(v.x) x].

    G = ((pi - t) v + |v| sin(t) u/|u|) / (2 pi) (0 at u = 0); shape (U rows, V rows, dim).
    """
    cos, nu, nv, _ = _angles(U, V)
    uhat = np.where(nu[..., None] > 0, U / np.where(nu > 0, nu, 1.0)[..., None], 0.0)
    t = np.arccos(cos)
    sin = np.sqrt(1.0 - cos * cos)
    grad = ((np.pi - t)[..., None] * V[..., None, :, :]
            + (nv[..., None, :] * sin)[..., None] * uhat[..., :, None, :]) / (2 * np.pi)
    return grad * (nu > 0)[..., :, None, None]  # relu(0 . x) = 0: no gradient at u = 0


def population_risk(a: np.ndarray, b: np.ndarray, teacher: Teacher, *,
                    alpha: float = 1.0) -> float:
    """E[(h(x) - y)^2] / 2 exactly, for ReLU networks, x ~ N(0, I_d) and no bias.

    With c = alpha a / m:  (c^T K(b, b) c - 2 c^T K(b, b*) a* + a*^T K(b*, b*) a*) / 2.
    """
    _check_population(b, teacher)
    c = alpha * np.asarray(a, dtype=np.float64) / a.shape[0]
    r = (c @ relu_gaussian_kernel(b, b) @ c - 2 * c @ relu_gaussian_kernel(b, teacher.b)
         @ teacher.a + teacher.a @ relu_gaussian_kernel(teacher.b, teacher.b) @ teacher.a)
    return max(0.5 * float(r), 0.0)


def population_velocity(a: np.ndarray, b: np.ndarray, teacher: Teacher, *,
                        alpha: float = 1.0) -> tuple[np.ndarray, np.ndarray, float]:
    """(m dG/da, m dG/db, G) for the exact population risk G = E[(h - y)^2] / (2 alpha^2).

    m dG/da_j = (1/alpha) (sum_k c_k K(b_j, b_k) - sum_l a*_l K(b_j, b*_l)),
    m dG/db_j = (a_j/alpha) (sum_k c_k grad_1 K(b_j, b_k) - sum_l a*_l grad_1 K(b_j, b*_l)),
    c_k = alpha a_k / m.
    """
    _check_population(b, teacher)
    m = a.shape[0]
    c = alpha * a / m
    va = (relu_gaussian_kernel(b, b) @ c - relu_gaussian_kernel(b, teacher.b) @ teacher.a)
    gb = (np.einsum("jkd,k->jd", relu_gaussian_kernel_grad(b, b), c)
          - np.einsum("jld,l->jd", relu_gaussian_kernel_grad(b, teacher.b), teacher.a))
    risk = population_risk(a, b, teacher, alpha=alpha) / alpha**2
    return va / alpha, (a / alpha)[:, None] * gb, risk


def _check_population(b: np.ndarray, teacher: Teacher) -> None:
    if b.shape[-1] != teacher.dim:
        raise DescentlabError(f"b: expected particles in dimension {teacher.dim} (the "
                              f"teacher's), got {b.shape[-1]}")


B_LAWS = ("gaussian", "sphere")


def sphere_relu_kernel(X: np.ndarray, X2: np.ndarray | None = None) -> np.ndarray:
    """K[i, l] = E[relu(eta . x_i) relu(eta . x2_l)], eta uniform on the unit sphere of R^D."""
    X = np.asarray(X, dtype=np.float64)
    X2 = X if X2 is None else np.asarray(X2, dtype=np.float64)
    return relu_gaussian_kernel(X, X2) / X.shape[-1]


def limit_kernel(X: np.ndarray, X2: np.ndarray | None = None, *,
                 b_init: str = "gaussian") -> np.ndarray:
    """The m -> infinity kernel for input weights N(0, I_D) ("gaussian") or on the sphere."""
    check_choice("b_init", b_init, B_LAWS)
    X = np.asarray(X, dtype=np.float64)
    X2 = X if X2 is None else np.asarray(X2, dtype=np.float64)
    return relu_gaussian_kernel(X, X2) if b_init == "gaussian" else sphere_relu_kernel(X, X2)


def empirical_kernel(b: np.ndarray, X: np.ndarray, X2: np.ndarray | None = None) -> np.ndarray:
    """K[i, l] = (1/m) sum_j relu(b_j . x_i) relu(b_j . x2_l) for the m rows b_j of b."""
    b = np.asarray(b, dtype=np.float64)
    P = np.maximum(np.asarray(X, dtype=np.float64) @ b.T, 0.0)
    P2 = P if X2 is None else np.maximum(np.asarray(X2, dtype=np.float64) @ b.T, 0.0)
    return P @ P2.T / b.shape[0]


@dataclass
class KernelSVM:
    """Hard-margin SVM: dual coefficients ``alpha`` (n,), labels ``y``, ``intercept``.

    decision(K_test_train) = K_test_train @ (alpha y) + intercept; ``norm`` = ||f*||_k.
    """

    alpha: np.ndarray
    y: np.ndarray
    norm: float
    intercept: float = 0.0

    @property
    def margin(self) -> float:
        """1 / ||f*||_k: the margin of the normalized max-margin predictor."""
        return 1.0 / self.norm

    def decision(self, K_cross: np.ndarray) -> np.ndarray:
        """f*(x) for the rows of K_cross[t, i] = k(x_t, x_i)."""
        return np.asarray(K_cross) @ (self.alpha * self.y) + self.intercept

    def normalized(self, K_cross: np.ndarray) -> np.ndarray:
        """f*(x) / ||f*||_k."""
        return self.decision(K_cross) / self.norm


def _check_gram(K, y) -> tuple[np.ndarray, np.ndarray]:
    K = np.asarray(K, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if K.ndim != 2 or K.shape[0] != K.shape[1] or y.shape != (K.shape[0],):
        raise DescentlabError(f"K, y: expected a square Gram matrix (n, n) and n labels, got "
                              f"{K.shape} and {y.shape}")
    if not np.all(np.isfinite(K)):
        raise DescentlabError("K: contains NaN or Inf")
    if not np.all(np.abs(y) == 1):
        raise DescentlabError("y: expected labels in {-1, +1}")
    return K, y


def hard_margin_svm(K, y, *, intercept: bool = False, C: float = 1e8,
                    tol: float = 1e-9) -> KernelSVM:
    """The max-margin predictor for the Gram matrix K (see the module docstring).

    Raises DescentlabError if the data are not separable by the kernel (the dual is then
    unbounded; detected as a dual objective above 1 / tol).
    """
    K, y = _check_gram(K, y)
    if intercept:
        from sklearn.svm import SVC
        C = check_positive("C", C)
        svc = SVC(kernel="precomputed", C=C, tol=1e-10).fit(K, y)
        alpha = np.zeros(len(y))
        alpha[svc.support_] = np.abs(svc.dual_coef_[0])
        norm = float(np.sqrt(max(alpha @ ((y[:, None] * K * y[None, :]) @ alpha), 0.0)))
        return KernelSVM(alpha, y, norm, float(svc.intercept_[0]))
    Q = y[:, None] * K * y[None, :]
    n = len(y)

    def dual(alpha):
        g = Q @ alpha
        return 0.5 * alpha @ g - alpha.sum(), g - 1.0

    res = minimize(dual, np.full(n, 1.0 / max(np.trace(Q), 1e-300) * n), jac=True,
                   method="L-BFGS-B", bounds=[(0, None)] * n,
                   options={"maxiter": 50_000, "ftol": 1e-15, "gtol": 1e-12})
    alpha = np.maximum(res.x, 0.0)
    if not np.isfinite(res.fun) or -res.fun > 1.0 / tol:
        raise DescentlabError("hard_margin_svm: the data are not separable with this kernel "
                              "(the dual is unbounded)")
    alpha = _polish(Q, alpha, tol)
    norm = float(np.sqrt(max(alpha @ Q @ alpha, 0.0)))
    return KernelSVM(alpha, y, norm)


def _polish(Q: np.ndarray, alpha: np.ndarray, tol: float, rounds: int = 50) -> np.ndarray:
    """Active-set refinement: on the support S solve Q_SS alpha_S = 1 (margins equal to 1),
    drop non-positive coefficients, add the most violated margin; keep the best KKT point."""
    def kkt(al):
        g = Q @ al - 1.0
        return max(float(np.max(np.abs(g[al > 0]), initial=0.0)),
                   float(-np.min(g, initial=0.0)))

    best, best_kkt = alpha, kkt(alpha)
    support = alpha > tol * max(alpha.max(), 1e-300)
    for _ in range(rounds):
        if not support.any():
            break
        sol = np.zeros_like(alpha)
        try:
            sol[support] = np.linalg.solve(Q[np.ix_(support, support)],
                                           np.ones(support.sum()))
        except np.linalg.LinAlgError:
            break
        if np.any(sol[support] <= 0):
            support &= sol > 0
            continue
        value = kkt(sol)
        if value < best_kkt:
            best, best_kkt = sol, value
        g = Q @ sol - 1.0
        worst = int(np.argmin(g))
        if g[worst] >= -tol:
            break
        support[worst] = True
    return best


def kkt_residual(K, y, svm: KernelSVM) -> float:
    """Largest violation of the hard-margin KKT conditions (0 at the exact solution):
    |y_i f(x_i) - 1| on the support, max(0, 1 - y_i f(x_i)) elsewhere, negative alpha."""
    K, y = _check_gram(K, y)
    u = y * svm.decision(K)
    on = svm.alpha > 0
    return max(float(np.max(np.abs(u[on] - 1.0), initial=0.0)),
               float(np.max(1.0 - u, initial=0.0)), float(-np.min(svm.alpha, initial=0.0)))


__all__ = ["B_LAWS", "KernelSVM", "empirical_kernel", "hard_margin_svm", "kkt_residual",
           "limit_kernel", "population_risk", "population_velocity", "relu_gaussian_kernel",
           "relu_gaussian_kernel_grad", "sphere_relu_kernel"]
