"""Two-layer networks as averages of particles (seed 002, sections 3-4; seed 000).

A network of width m is a set of particles w_j = (a_j, b_j) in R^(1+D) and predicts

    h(x) = (alpha/m) sum_j a_j sigma(b_j . x)                        (Eq. 3.1 of 002)

alpha = 1 is the mean-field scaling; alpha > 1 together with the objective divided by
alpha^2 is the lazy regime of Chizat, Oyallon and Bach (seed 000, "Idea 2"): same code,
one parameter (alpha = m gives h = sum_j a_j sigma(b_j . x), the network without 1/m).
The objective of a finite sample (x_i, y_i), i < n, is

    G(W) = (1/alpha^2) L(h(x_1), ..., h(x_n)),     L(f) = (1/n) sum_i loss(y_i, f_i),

and the particle velocity of the gradient flow dW/dt = -m grad G(W) (Eq. 3.4) is
-grad J(w_j | mu) with, D_i = dL/df_i (= loss'(y_i, h(x_i)) / n),

    m dG/da_j = (1/alpha) sum_i D_i sigma(b_j . x_i),
    m dG/db_j = (1/alpha) sum_i D_i a_j sigma'(b_j . x_i) x_i.

Gradient descent with the step multiplied by m (Eq. 3.3) is W <- W - gamma m grad G(W);
``TwoLayerProblem.mean_field_step(gamma)`` is the step gamma m to give a generic method.
``forward`` and ``velocity`` are the NumPy definition of the model; the batched engine
``descentlab.particles`` computes the same quantities in compiled passes.

Pieces (each small, each documented with its formula):

* activations ``relu`` (positively 1-homogeneous, so each particle's term a sigma(b . x)
  is 2-homogeneous in w, the setting of Theorems 2-3) and ``softplus``
  log(1 + e^t) (smooth); an optional bias is a constant input coordinate
  (``descentlab.data.teacher.add_bias``);
* losses (codes ``descentlab._compiled.losses.LossCode``), u_i = y_i f_i, y in {-1, +1}
  except for the square loss:  ``square`` mean (f - y)^2 / 2, ``logistic`` mean
  log(1 + exp(-u)) (Eq. 5.1), ``exponential`` mean exp(-u), ``softmin``
  log((1/n) sum_i exp(-u_i)) = -(soft-min of the margins) (the implicit-bias code of
  section 5);
* initialisations (``init_particles``): b_j uniform on the sphere of radius ``b_scale``
  or Gaussian N(0, b_scale^2 I / D) (so that E||b_j||^2 = b_scale^2); a_j = +-a_scale
  (random signs) or Gaussian N(0, a_scale^2); ``symmetric=True`` pairs particle j with
  (-a_j, b_j) so that h = 0 at initialisation (the usual start of the lazy regime);
* ``TwoLayerProblem``: the empirical risk on a finite sample as a descentlab Problem over
  the flattened parameters theta = (a_1..a_m, b_1..b_m) (b row-major), for ``run`` and
  the generic methods.

The teacher-student data are ``descentlab.data.teacher``, the closed-form population risk
and the arc-cosine kernels ``descentlab.theory.kernels``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import expit

from .._compiled.losses import LossCode
from .._compiled.particles import RELU, SOFTPLUS
from .._validation import check_choice, check_dense_xy, check_indices, check_int, check_positive
from ..errors import DescentlabError
from .base import Problem

# ----------------------------------------------------------------------- activations


@dataclass(frozen=True)
class Activation:
    """sigma and sigma'; ``degree`` is the positive homogeneity degree (None if none)."""

    name: str
    code: int  # the activation code of descentlab._compiled.particles
    degree: int | None

    def __call__(self, z: np.ndarray) -> np.ndarray:
        if self.code == RELU:
            return np.maximum(z, 0.0)
        return np.logaddexp(0.0, z)

    def deriv(self, z: np.ndarray) -> np.ndarray:
        if self.code == RELU:
            return (z > 0).astype(z.dtype if isinstance(z, np.ndarray) else np.float64)
        return expit(z)


#: relu(t) = max(t, 0) (relu'(0) = 0); softplus(t) = log(1 + e^t), softplus' = sigmoid
ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", RELU, 1),
    "softplus": Activation("softplus", SOFTPLUS, None),
}


def get_activation(name) -> Activation:
    if isinstance(name, Activation):
        return name
    check_choice("activation", name, tuple(ACTIVATIONS))
    return ACTIVATIONS[name]


# ---------------------------------------------------------------------------- losses


@dataclass(frozen=True)
class Loss:
    """The objective L(f) of the predictions f on a sample and its gradient dL/df.

    ``curvature``: sup of d^2 loss / df^2 for a per-sample loss with a bounded one (None
    otherwise); ``labels``: the targets must be -1/+1.
    """

    name: str
    code: LossCode
    curvature: float | None
    labels: bool

    def value(self, y: np.ndarray, f: np.ndarray) -> float:
        if self.code == LossCode.SQUARE:
            return float(np.mean(0.5 * (f - y) ** 2))
        u = y * f
        if self.code == LossCode.LOGISTIC:
            return float(np.mean(np.logaddexp(0.0, -u)))
        if self.code == LossCode.EXPONENTIAL:
            return float(np.mean(np.exp(-u)))
        umin = u.min()
        return float(-umin + np.log(np.mean(np.exp(-(u - umin)))))

    def grad(self, y: np.ndarray, f: np.ndarray) -> np.ndarray:
        n = f.shape[-1]
        if self.code == LossCode.SQUARE:
            return (f - y) / n
        u = y * f
        if self.code == LossCode.LOGISTIC:
            return -y * expit(-u) / n
        if self.code == LossCode.EXPONENTIAL:
            return -y * np.exp(-u) / n
        e = np.exp(-(u - u.min()))
        return -y * e / e.sum()

    def check_targets(self, y: np.ndarray, name: str = "y") -> None:
        if self.labels and not np.all(np.abs(y) == 1.0):
            bad = y[np.abs(y) != 1.0][:3]
            raise DescentlabError(f"{name}: the {self.name} loss needs labels in {{-1, +1}}, "
                                  f"got values such as {bad.tolist()}")


LOSSES: dict[str, Loss] = {
    "square": Loss("square", LossCode.SQUARE, 1.0, False),
    "logistic": Loss("logistic", LossCode.LOGISTIC, 0.25, True),
    "softmin": Loss("softmin", LossCode.SOFTMIN, None, True),
    "exponential": Loss("exponential", LossCode.EXPONENTIAL, None, True),
}


def get_loss(name) -> Loss:
    if isinstance(name, Loss):
        return name
    check_choice("loss", name, tuple(LOSSES))
    return LOSSES[name]


# ---------------------------------------------------------------------------- init


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

    m dG/da_j = (1/alpha) sum_i D_i sigma(b_j . x_i);
    m dG/db_j = (1/alpha) sum_i D_i a_j sigma'(b_j . x_i) x_i;
    G = L(h) / alpha^2, with D = dL/dh (module docstring).
    """
    act, lo = get_activation(activation), get_loss(loss)
    Z = X @ b.T
    H = act(Z)
    f = (alpha / a.shape[0]) * (H @ a)
    D = lo.grad(y, f)
    va = (H.T @ D) / alpha
    vb = ((act.deriv(Z) * D[:, None]) * a).T @ X / alpha
    return va, vb, lo.value(y, f) / alpha**2


def jacobian(a: np.ndarray, b: np.ndarray, X: np.ndarray, *, alpha: float = 1.0,
             activation="relu") -> np.ndarray:
    """J[i] = grad_theta h(x_i), shape (n, m (1 + D)), theta = (a, vec b) as in
    ``TwoLayerProblem``."""
    act = get_activation(activation)
    Z = X @ b.T
    c = alpha / a.shape[0]
    Jb = (c * act.deriv(Z) * a)[:, :, None] * X[:, None, :]
    return np.concatenate([c * act(Z), Jb.reshape(X.shape[0], -1)], axis=1)


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
        if self.loss.curvature is None:
            raise DescentlabError(f"loss: TwoLayerProblem needs a per-sample loss with bounded "
                                  f"curvature ('square' or 'logistic'), got {self.loss.name!r}")
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
        return self.loss.value(self.y, f) / self.alpha**2

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
    def _gauss_newton(self) -> tuple[float, float]:
        cached = getattr(self, "_gn_cache", None)
        if cached is None:
            J = jacobian(*self.unpack(self._x0), self.X, alpha=self.alpha,
                         activation=self.activation)
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


__all__ = ["ACTIVATIONS", "LOSSES", "Activation", "Loss", "TwoLayerProblem", "forward",
           "get_activation", "get_loss", "init_particles", "jacobian", "velocity"]
