"""Regularizers Omega of the empirical risk F = (1/n) sum_i loss_i + lam * Omega.

Seed 000 (slide "regularized empirical risk minimization") and the foundation issue:

* ``l2``:          Omega(x) = ||x||_2^2 / 2                        (smooth)
* ``l1``:          Omega(x) = ||x||_1                              (prox: soft thresholding)
* ``elasticnet``:  Omega(x) = l1_ratio ||x||_1 + (1 - l1_ratio) ||x||^2 / 2

The smooth part lam2 ||x||^2 / 2 is added to every component f_i, so that the mean of the
component gradients is the gradient of the smooth part; the l1 part lam1 ||x||_1 is the
non-smooth term handled by the proximal operator

    prox_{t lam1 ||.||_1}(x)_j = sign(x_j) max(|x_j| - t lam1, 0).
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

    def smooth_value(self, x: np.ndarray) -> float:
        return 0.5 * self.lam2 * float(x @ x) if self.lam2 else 0.0

    def nonsmooth_value(self, x: np.ndarray) -> float:
        return self.lam1 * float(np.abs(x).sum()) if self.lam1 else 0.0

    def prox(self, x: np.ndarray, step: float) -> np.ndarray:
        """Soft thresholding at ``step * lam1`` (identity when lam1 = 0)."""
        if not self.lam1:
            return x
        t = step * self.lam1
        return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)

    def describe(self) -> dict:
        return {"reg": self.reg or "none", "lam": self.lam,
                **({"l1_ratio": self.l1_ratio} if self.reg == "elasticnet" else {})}
