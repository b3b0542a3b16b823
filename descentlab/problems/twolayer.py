"""Two-layer networks as averages of particles (seed 002, sections 3-4; seed 000).

A network of width m is a set of particles w_j = (a_j, b_j) in R^(1+D) and predicts

    h(x) = (alpha/m) sum_j a_j sigma(b_j . x)                        (Eq. 3.1 of 002)

alpha = 1 is the mean-field scaling; alpha > 1 together with the objective divided by
alpha^2 is the lazy regime of Chizat, Oyallon and Bach (seed 000, "Idea 2"): same code,
one parameter. The objective of a finite sample (x_i, y_i), i < n, is

    G(W) = (1/alpha^2) (1/n) sum_i loss(y_i, h(x_i)),

and the particle velocity of the gradient flow dW/dt = -m grad G(W) (Eq. 3.4) is
-grad J(w_j | mu) with

    m dG/da_j = (1/alpha) mean_i loss'(y_i, h(x_i)) sigma(b_j . x_i),
    m dG/db_j = (1/alpha) mean_i loss'(y_i, h(x_i)) a_j sigma'(b_j . x_i) x_i.

Gradient descent with the step multiplied by m (Eq. 3.3) is W <- W - gamma m grad G(W);
``TwoLayerProblem.mean_field_step(gamma)`` is the step gamma m to give a generic method.

Pieces (each small, each documented with its formula):

* activations ``relu`` (positively 1-homogeneous, so each particle's term a sigma(b . x)
  is 2-homogeneous in w, the setting of Theorems 2-3) and ``softplus``
  log(1 + e^t) (smooth); an optional bias is a constant input coordinate (``add_bias``);
* losses ``square`` (f - y)^2 / 2 and ``logistic`` log(1 + exp(-y f)), y in {-1, +1};
* initialisations (``init_particles``): b_j uniform on the sphere of radius ``b_scale``
  or Gaussian N(0, b_scale^2 I / D) (so that E||b_j||^2 = b_scale^2); a_j = +-a_scale
  (random signs) or Gaussian N(0, a_scale^2); ``symmetric=True`` pairs particle j with
  (-a_j, b_j) so that h = 0 at initialisation (the usual start of the lazy regime);
* the teacher-student data model of section 4.4: x ~ N(0, I_d), a teacher with m0 unit
  neurons b*_k and output weights a*_k = +-1, y = sum_k a*_k relu(b*_k . x) (no 1/m0);
* the population risk of that model in closed form for ReLU, Gaussian inputs and no
  bias, with the arc-cosine kernel of Cho and Saul (2009): for u, v in R^d with angle
  theta,  E[relu(u.x) relu(v.x)] = |u||v| (sin theta + (pi - theta) cos theta) / (2 pi)
  and grad_u = ((pi - theta) v + |v| sin theta u/|u|) / (2 pi);
* ``TwoLayerProblem``: the empirical risk on a finite sample as a descentlab Problem over
  the flattened parameters theta = (a_1..a_m, b_1..b_m) (b row-major), for ``run`` and
  the generic methods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import expit

from .._validation import check_choice, check_dense_xy, check_indices, check_int, check_positive
from ..errors import DescentlabError
from .base import Problem

# ----------------------------------------------------------------------- activations


@dataclass(frozen=True)
class Activation:
    """sigma and sigma'; ``degree`` is the positive homogeneity degree (None if none)."""

    name: str
    code: int  # the integer the compiled kernels of descentlab.meanfield switch on
    degree: int | None

    def __call__(self, z: np.ndarray) -> np.ndarray:
        if self.code == 0:
            return np.maximum(z, 0.0)
        return np.logaddexp(0.0, z)

    def deriv(self, z: np.ndarray) -> np.ndarray:
        if self.code == 0:
            return (z > 0).astype(z.dtype if isinstance(z, np.ndarray) else np.float64)
        return expit(z)


#: relu(t) = max(t, 0) (relu'(0) = 0); softplus(t) = log(1 + e^t), softplus' = sigmoid
ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", 0, 1),
    "softplus": Activation("softplus", 1, None),
}


def get_activation(name) -> Activation:
    if isinstance(name, Activation):
        return name
    check_choice("activation", name, tuple(ACTIVATIONS))
    return ACTIVATIONS[name]


# ---------------------------------------------------------------------------- losses


@dataclass(frozen=True)
class Loss:
    """loss(y, f), its derivative in f and the bound on its second derivative."""

    name: str
    code: int
    curvature: float  # sup of d^2 loss / df^2

    def value(self, y: np.ndarray, f: np.ndarray) -> np.ndarray:
        if self.code == 0:
            return 0.5 * (f - y) ** 2
        return np.logaddexp(0.0, -y * f)

    def deriv(self, y: np.ndarray, f: np.ndarray) -> np.ndarray:
        if self.code == 0:
            return f - y
        return -y * expit(-y * f)

    def check_targets(self, y: np.ndarray, name: str = "y") -> None:
        if self.code == 1 and not np.all(np.abs(y) == 1.0):
            bad = y[np.abs(y) != 1.0][:3]
            raise DescentlabError(f"{name}: the logistic loss needs labels in {{-1, +1}}, "
                                  f"got values such as {bad.tolist()}")


LOSSES: dict[str, Loss] = {
    "square": Loss("square", 0, 1.0),
    "logistic": Loss("logistic", 1, 0.25),
}


def get_loss(name) -> Loss:
    if isinstance(name, Loss):
        return name
    check_choice("loss", name, tuple(LOSSES))
    return LOSSES[name]


# ------------------------------------------------------------------- inputs and init


def add_bias(X: np.ndarray, value: float = 1.0) -> np.ndarray:
    """[X, value]: a constant last input coordinate, so that b_j . x includes a bias."""
    X = np.asarray(X)
    return np.concatenate([X, np.full(X.shape[:-1] + (1,), value, dtype=X.dtype)], axis=-1)


B_INITS = ("sphere", "gaussian")
A_INITS = ("sign", "gaussian")


def init_particles(m: int, dim: int, rng: np.random.Generator, *, b_init: str = "sphere",
                   b_scale: float = 1.0, a_init: str = "sign", a_scale: float = 1.0,
                   symmetric: bool = False, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Initial particles (a, b), a of shape (m,), b of shape (m, dim).

    Draws, in this order from ``rng``: a's signs or values (m numbers), then b (m x dim
    normals, normalised to the sphere for ``b_init="sphere"``). The published code of
    Figures 2-3 uses ``a_init="sign"`` and ``b_init="sphere"`` with unit scales (its
    A_j = a_j / m are +-1/m). ``symmetric=True`` (m even) draws m/2 particles and appends
    (-a_j, b_j), so that h = 0 at initialisation.
    """
    m = check_int("m", m, minimum=1)
    dim = check_int("dim", dim, minimum=1)
    check_choice("b_init", b_init, B_INITS)
    check_choice("a_init", a_init, A_INITS)
    b_scale = check_positive("b_scale", b_scale)
    a_scale = check_positive("a_scale", a_scale)
    if not isinstance(rng, np.random.Generator):
        raise DescentlabError(f"rng: expected a numpy Generator (np.random.default_rng(seed)), "
                              f"got {type(rng).__name__}")
    if symmetric:
        if m % 2:
            raise DescentlabError(f"m: symmetric=True pairs the particles and needs an even "
                                  f"width, got m = {m}")
        a, b = init_particles(m // 2, dim, rng, b_init=b_init, b_scale=b_scale,
                              a_init=a_init, a_scale=a_scale, dtype=dtype)
        return np.concatenate([a, -a]), np.concatenate([b, b])
    z = rng.standard_normal(m)
    a = a_scale * (np.where(z >= 0, 1.0, -1.0) if a_init == "sign" else z)
    b = rng.standard_normal((m, dim))
    if b_init == "sphere":
        b *= b_scale / np.linalg.norm(b, axis=1, keepdims=True)
    else:
        b *= b_scale / math.sqrt(dim)
    return a.astype(dtype), b.astype(dtype)


# ------------------------------------------------------------------- forward, velocity


def forward(a: np.ndarray, b: np.ndarray, X: np.ndarray, *, alpha: float = 1.0,
            activation="relu") -> np.ndarray:
    """h(x_i) = (alpha/m) sum_j a_j sigma(b_j . x_i) for the rows x_i of X."""
    act = get_activation(activation)
    return (alpha / a.shape[0]) * (act(X @ b.T) @ a)


def velocity(a: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray, *,
             alpha: float = 1.0, activation="relu", loss="square"
             ) -> tuple[np.ndarray, np.ndarray, float]:
    """(m dG/da, m dG/db, G) on the sample (X, y): the particle velocities grad J(w_j|mu).

    m dG/da_j = (1/alpha) mean_i l'_i sigma(b_j . x_i);
    m dG/db_j = (1/alpha) mean_i l'_i a_j sigma'(b_j . x_i) x_i;
    G = mean_i l(y_i, h(x_i)) / alpha^2, with l'_i = loss'(y_i, h(x_i)).
    """
    act, lo = get_activation(activation), get_loss(loss)
    n, m = X.shape[0], a.shape[0]
    Z = X @ b.T
    H = act(Z)
    f = (alpha / m) * (H @ a)
    D = lo.deriv(y, f)
    va = (H.T @ D) / (alpha * n)
    vb = ((act.deriv(Z) * D[:, None]) * a).T @ X / (alpha * n)
    return va, vb, float(np.mean(lo.value(y, f))) / alpha**2


# ------------------------------------------------------------------ teacher-student


@dataclass
class Teacher:
    """y = sum_k a*_k sigma(b*_k . x) (no 1/m0), as in section 4.4 of seed 002."""

    a: np.ndarray
    b: np.ndarray
    activation: str = "relu"

    def __post_init__(self):
        self.a = np.asarray(self.a, dtype=np.float64).ravel()
        self.b = np.atleast_2d(np.asarray(self.b, dtype=np.float64))
        if self.b.shape[0] != self.a.shape[0]:
            raise DescentlabError(f"b: expected one row per teacher neuron ({self.a.shape[0]}),"
                                  f" got shape {self.b.shape}")
        get_activation(self.activation)

    @classmethod
    def draw(cls, m0: int, dim: int, rng: np.random.Generator, *,
             activation: str = "relu") -> Teacher:
        """m0 neurons: a*_k uniform in {-1, +1}, b*_k uniform on the unit sphere of R^dim.

        Draws m0 normals for the signs, then m0 x dim normals for the directions (the
        published notebook draws its signs with ``rand([-1, 1])`` and normalises Gaussian
        directions the same way).
        """
        m0 = check_int("m0", m0, minimum=1)
        dim = check_int("dim", dim, minimum=1)
        a = np.where(rng.standard_normal(m0) >= 0, 1.0, -1.0)
        b = rng.standard_normal((m0, dim))
        b /= np.linalg.norm(b, axis=1, keepdims=True)
        return cls(a, b, activation)

    @property
    def m0(self) -> int:
        return int(self.a.shape[0])

    @property
    def dim(self) -> int:
        return int(self.b.shape[1])

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return get_activation(self.activation)(X @ self.b.T) @ self.a


@dataclass
class TeacherStudentData:
    """x ~ N(0, I_d) (plus a constant coordinate when ``bias``), y = teacher(x).

    With ``labels="sign"`` the targets are sign(teacher(x)) in {-1, +1} (for the logistic
    loss); ``noise`` adds N(0, noise^2) to regression targets.
    """

    teacher: Teacher
    bias: bool = False
    labels: str = "regression"
    noise: float = 0.0

    def __post_init__(self):
        check_choice("labels", self.labels, ("regression", "sign"))
        self.noise = check_positive("noise", self.noise, strict=False)

    @property
    def d(self) -> int:
        """Dimension of the raw inputs x (the teacher acts on [x, 1] when ``bias``)."""
        return self.teacher.dim - int(self.bias)

    def targets(self, X: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        y = self.teacher(X)
        if self.labels == "sign":
            return np.where(y >= 0, 1.0, -1.0)
        if self.noise:
            y = y + self.noise * rng.standard_normal(y.shape)
        return y

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n fresh pairs (X, y); X has the constant column already when ``bias``."""
        n = check_int("n", n, minimum=1)
        X = rng.standard_normal((n, self.d))
        if self.bias:
            X = add_bias(X)
        return X, self.targets(X, rng)


# --------------------------------------------------------- closed-form population risk


def relu_gaussian_kernel(U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """K[i, k] = E[relu(u_i . x) relu(v_k . x)] for x ~ N(0, I): arc-cosine kernel of order 1.

    K = |u||v| (sin t + (pi - t) cos t) / (2 pi), t the angle between u and v (0 if a
    vector is 0).
    """
    nu, nv = np.linalg.norm(U, axis=-1), np.linalg.norm(V, axis=-1)
    dots = U @ np.swapaxes(V, -1, -2)
    denom = nu[..., :, None] * nv[..., None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(denom > 0, dots / np.where(denom > 0, denom, 1.0), 1.0)
    cos = np.clip(cos, -1.0, 1.0)
    t = np.arccos(cos)
    return denom * (np.sqrt(1.0 - cos * cos) + (np.pi - t) * cos) / (2 * np.pi)


def relu_gaussian_kernel_grad(U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """G[i, k] = grad_u E[relu(u . x) relu(v . x)] at (u_i, v_k) = E[1(u.x > 0) relu(v.x) x].

    G = ((pi - t) v + |v| sin(t) u/|u|) / (2 pi) (0 at u = 0); shape (U rows, V rows, dim).
    """
    nu, nv = np.linalg.norm(U, axis=-1), np.linalg.norm(V, axis=-1)
    dots = U @ np.swapaxes(V, -1, -2)
    denom = nu[..., :, None] * nv[..., None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(denom > 0, dots / np.where(denom > 0, denom, 1.0), 1.0)
        uhat = np.where(nu[..., None] > 0, U / np.where(nu > 0, nu, 1.0)[..., None], 0.0)
    cos = np.clip(cos, -1.0, 1.0)
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
    if teacher.activation != "relu":
        raise DescentlabError("teacher: the closed-form population risk needs a ReLU teacher")
    if b.shape[-1] != teacher.dim:
        raise DescentlabError(f"b: expected particles in dimension {teacher.dim} (the "
                              f"teacher's), got {b.shape[-1]}")


# ------------------------------------------------------------------------ the problem


class TwoLayerProblem(Problem):
    """Empirical risk of a width-m two-layer network on (X, y), as a descentlab Problem.

        F(theta) = (1/alpha^2) (1/n) sum_i loss(y_i, h(x_i)),
        h(x) = (alpha/m) sum_j a_j sigma(b_j . x),   theta = (a, vec(b)) in R^(m (1 + D)).

    ``grad`` is the Euclidean gradient of F; the mean-field gradient descent of Eq. (3.3)
    is GD with step ``mean_field_step(gamma)`` = gamma m. The problem is not convex and
    not globally smooth: ``L`` and ``L_max`` are Gauss-Newton estimates at
    ``default_x0()`` (curvature of the loss times lambda_max of (1/n) J^T J / alpha^2 and
    max_i ||J_i||^2 / alpha^2, J_i = grad_theta h(x_i)), enough for the defaults of the
    generic methods, not a guarantee. ``x0`` (or ``init_seed`` with the init options of
    ``init_particles``) gives the default starting point.
    """

    name = "two-layer"
    convex: ClassVar[bool] = False

    def __init__(self, X, y, m: int, *, activation: str = "relu", loss: str = "square",
                 alpha: float = 1.0, x0=None, init_seed: int = 0, b_init: str = "sphere",
                 b_scale: float = 1.0, a_init: str = "sign", a_scale: float = 1.0,
                 symmetric: bool = False):
        X, y = check_dense_xy(X, y)
        self.activation = get_activation(activation)
        self.loss = get_loss(loss)
        self.loss.check_targets(y)
        self.alpha = check_positive("alpha", alpha)
        self.X, self.y = X, y
        self.m = check_int("m", m, minimum=1)
        self.n, self.D = X.shape
        self.dim = self.m * (1 + self.D)
        if x0 is None:
            a, b = init_particles(self.m, self.D, np.random.default_rng(init_seed),
                                  b_init=b_init, b_scale=b_scale, a_init=a_init,
                                  a_scale=a_scale, symmetric=symmetric)
            x0 = self.pack(a, b)
        self._x0 = self.check_point(x0)

    # ------------------------------------------------------------- parameters
    def pack(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """theta = (a_1..a_m, b_11..b_1D, ..., b_m1..b_mD)."""
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != (self.m,) or b.shape != (self.m, self.D):
            raise DescentlabError(f"a, b: expected shapes ({self.m},) and ({self.m}, {self.D}), "
                                  f"got {a.shape} and {b.shape}")
        return np.concatenate([a, b.ravel()])

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(a, b) views of theta."""
        return theta[:self.m], theta[self.m:].reshape(self.m, self.D)

    def default_x0(self) -> np.ndarray:
        return self._x0.copy()

    def mean_field_step(self, gamma: float) -> float:
        """The step gamma m of Eq. (3.3): GD with it is W <- W - gamma m grad G(W)."""
        return check_positive("gamma", gamma) * self.m

    # ---------------------------------------------------------------- oracles
    def predict(self, theta: np.ndarray, X: np.ndarray | None = None) -> np.ndarray:
        a, b = self.unpack(theta)
        return forward(a, b, self.X if X is None else X, alpha=self.alpha,
                       activation=self.activation)

    def value(self, theta):
        a, b = self.unpack(theta)
        f = forward(a, b, self.X, alpha=self.alpha, activation=self.activation)
        return float(np.mean(self.loss.value(self.y, f))) / self.alpha**2

    def _grad_on(self, theta, X, y) -> np.ndarray:
        a, b = self.unpack(theta)
        va, vb, _ = velocity(a, b, X, y, alpha=self.alpha, activation=self.activation,
                             loss=self.loss)
        return np.concatenate([va, vb.ravel()]) / self.m  # grad G = (m grad G) / m

    def grad(self, theta):
        return self._grad_on(theta, self.X, self.y)

    def batch_grad(self, theta, idx):
        idx = check_indices(idx, self.n)
        return self._grad_on(theta, self.X[idx], self.y[idx])

    # --------------------------------------------------------------- constants
    def _jacobian(self, theta) -> np.ndarray:
        """J[i] = grad_theta h(x_i), shape (n, m (1 + D))."""
        a, b = self.unpack(theta)
        Z = self.X @ b.T
        c = self.alpha / self.m
        Ja = c * self.activation(Z)
        Jb = (c * self.activation.deriv(Z) * a)[:, :, None] * self.X[:, None, :]
        return np.concatenate([Ja, Jb.reshape(self.n, -1)], axis=1)

    def _gauss_newton(self) -> tuple[float, float]:
        cached = getattr(self, "_gn_cache", None)
        if cached is None:
            J = self._jacobian(self._x0)
            sigma = self.loss.curvature / self.alpha**2
            gram = J @ J.T if self.n <= self.dim else J.T @ J
            top = float(np.linalg.eigvalsh(gram)[-1]) if gram.shape[0] <= 3000 \
                else float(np.linalg.norm(J, 2) ** 2)
            cached = self._gn_cache = (sigma * top / self.n,
                                       sigma * float(np.max(np.sum(J * J, axis=1))))
        return cached

    @property
    def L(self):
        return self._gauss_newton()[0]

    @property
    def L_max(self):
        return self._gauss_newton()[1]

    def describe(self):
        return {**super().describe(), "m": self.m, "input_dim": self.D,
                "activation": self.activation.name, "loss": self.loss.name,
                "alpha": self.alpha}


__all__ = ["ACTIVATIONS", "LOSSES", "Activation", "Loss", "Teacher", "TeacherStudentData",
           "TwoLayerProblem", "add_bias", "forward", "get_activation", "get_loss",
           "init_particles", "population_risk", "population_velocity",
           "relu_gaussian_kernel", "relu_gaussian_kernel_grad", "velocity"]
