"""Regularizers Omega of the empirical risk F = (1/n) sum_i loss_i + lam * Omega.

Seed 000 (slide "regularized empirical risk minimization") and the foundation issue:

* ``l2``:          Omega(x) = ||x||_2^2 / 2                        (smooth)
* ``l1``:          Omega(x) = ||x||_1                              (prox: soft thresholding)
* ``elasticnet``:  Omega(x) = l1_ratio ||x||_1 + (1 - l1_ratio) ||x||^2 / 2

The smooth part lam2 ||x||^2 / 2 is added to every component f_i, so that the mean of the
component gradients is the gradient of the smooth part; the l1 part lam1 ||x||_1 is the
non-smooth term handled by the proximal operator

    prox_{t lam1 ||.||_1}(x)_j = sign(x_j) max(|x_j| - t lam1, 0).

``intercept=True`` leaves the last coordinate unpenalized (an intercept, as in
scikit-learn's linear models): Omega is applied to x[:-1] only, and the prox is the identity
on x[-1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_choice, check_positive
from ..errors import DescentlabError

REGULARIZERS = (None, "l2", "l1", "elasticnet")


@dataclass(frozen=True)
class Regularizer:
    """lam * Omega split into its smooth (lam2) and non-smooth (lam1) weights."""

    reg: str | None = None
    lam: float = 0.0
    l1_ratio: float | None = None
    #: whether the last coordinate is an unpenalized intercept
    intercept: bool = False

    def __post_init__(self):
        check_choice("reg", self.reg, REGULARIZERS)
        lam = check_positive("lam", self.lam, strict=False)
        object.__setattr__(self, "lam", lam)
        if self.reg is None and lam != 0.0:
            raise DescentlabError(f"lam: got lam={lam} with reg=None; "
                                  "pass reg='l2', 'l1' or 'elasticnet' to regularize")
        if self.reg == "elasticnet":
            if self.l1_ratio is None:
                raise DescentlabError("l1_ratio: expected a number in [0, 1] for "
                                      "reg='elasticnet', got None")
            r = check_positive("l1_ratio", self.l1_ratio, strict=False)
            if r > 1:
                raise DescentlabError(f"l1_ratio: expected a number in [0, 1], got {r}")
            object.__setattr__(self, "l1_ratio", r)
        elif self.l1_ratio is not None:
            raise DescentlabError(f"l1_ratio: only used with reg='elasticnet', got "
                                  f"l1_ratio={self.l1_ratio} with reg={self.reg!r}")

    @property
    def lam1(self) -> float:
        """Weight of ||x||_1 (the non-smooth part)."""
        if self.reg == "l1":
            return self.lam
        if self.reg == "elasticnet":
            return self.lam * self.l1_ratio
        return 0.0

    @property
    def lam2(self) -> float:
        """Weight of ||x||^2 / 2 (the smooth part)."""
        if self.reg == "l2":
            return self.lam
        if self.reg == "elasticnet":
            return self.lam * (1.0 - self.l1_ratio)
        return 0.0

    @property
    def nonsmooth(self) -> bool:
        return self.lam1 > 0.0

    def penalized(self, x: np.ndarray) -> np.ndarray:
        """The penalized coordinates of x (a view: all but the intercept)."""
        return x[:-1] if self.intercept else x

    def smooth_value(self, x: np.ndarray) -> float:
        if not self.lam2:
            return 0.0
        w = self.penalized(x)
        return 0.5 * self.lam2 * float(w @ w)

    def nonsmooth_value(self, x: np.ndarray) -> float:
        return self.lam1 * float(np.abs(self.penalized(x)).sum()) if self.lam1 else 0.0

    def add_smooth_grad(self, g: np.ndarray, x: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """g += scale lam2 x on the penalized coordinates (in place); returns g."""
        if self.lam2:
            if self.intercept:
                g[:-1] += (scale * self.lam2) * x[:-1]
            else:
                g += (scale * self.lam2) * x
        return g

    def smooth_diag(self, dim: int) -> np.ndarray:
        """Diagonal of the Hessian of lam2 ||x||^2 / 2: lam2, with 0 for the intercept."""
        diag = np.full(dim, self.lam2)
        if self.intercept:
            diag[-1] = 0.0
        return diag

    def prox(self, x: np.ndarray, step: float) -> np.ndarray:
        """Soft thresholding at ``step * lam1`` (identity when lam1 = 0 and on the intercept)."""
        if not self.lam1:
            return x
        t = step * self.lam1
        out = np.sign(x) * np.maximum(np.abs(x) - t, 0.0)
        if self.intercept:
            out[-1] = x[-1]
        return out

    def describe(self) -> dict:
        return {"reg": self.reg or "none", "lam": self.lam,
                **({"l1_ratio": self.l1_ratio} if self.reg == "elasticnet" else {}),
                **({"intercept": True} if self.intercept else {})}
