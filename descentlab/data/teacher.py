"""The teacher-student data model of seed 002 (section 4.4), and a constant input coordinate.

x ~ N(0, I_d), a teacher with m0 unit neurons b*_k and output weights a*_k = +-1,

    y = sum_k a*_k relu(b*_k . x)        (no 1/m0),

regression targets (optionally with N(0, noise^2) noise) or labels sign(y) in {-1, +1}. An
optional bias is a constant last input coordinate (``add_bias``), seen by the teacher too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_choice, check_int, check_positive
from ..errors import DescentlabError


def add_bias(X: np.ndarray, value: float = 1.0) -> np.ndarray:
    """[X, value]: a constant last input coordinate, so that b_j . x includes a bias."""
    X = np.asarray(X)
    return np.concatenate([X, np.full(X.shape[:-1] + (1,), value, dtype=X.dtype)], axis=-1)


@dataclass
class Teacher:
    """y = sum_k a*_k relu(b*_k . x) (no 1/m0), as in section 4.4 of seed 002."""

    a: np.ndarray
    b: np.ndarray

    def __post_init__(self):
        self.a = np.asarray(self.a, dtype=np.float64).ravel()
        self.b = np.atleast_2d(np.asarray(self.b, dtype=np.float64))
        if self.b.shape[0] != self.a.shape[0]:
            raise DescentlabError(f"b: expected one row per teacher neuron ({self.a.shape[0]}),"
                                  f" got shape {self.b.shape}")

    @classmethod
    def draw(cls, m0: int, dim: int, rng: np.random.Generator) -> Teacher:
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
        return cls(a, b)

    @property
    def m0(self) -> int:
        return int(self.a.shape[0])

    @property
    def dim(self) -> int:
        return int(self.b.shape[1])

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return np.maximum(X @ self.b.T, 0.0) @ self.a


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


__all__ = ["Teacher", "TeacherStudentData", "add_bias"]
