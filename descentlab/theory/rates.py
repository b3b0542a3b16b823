"""Fits of convergence rates on recorded curves.

A linear rate is a contraction factor rho with e_k ~ C rho^k: it is fitted as exp(slope)
of the least-squares line through (k, log e_k) over the records whose error lies in a
window [low, high], away from the transient (above ``high``) and the rounding floor
(below ``low``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DescentlabError


@dataclass(frozen=True)
class LinearRateFit:
    """rho (contraction per unit of ``k``), and the range of k used for the fit."""

    rho: float
    k_first: float
    k_last: float
    n_points: int

    @property
    def rate(self) -> float:
        """-log(rho): the exponent of exp(-rate k)."""
        return -float(np.log(self.rho))


def fit_linear_rate(k, err, *, low: float = 1e-9, high: float = 1e-2,
                    min_points: int = 5) -> LinearRateFit:
    """Fit err_k ~ C rho^k on the records with low <= err_k <= high.

    Raises ``DescentlabError`` when fewer than ``min_points`` records fall in the window.
    """
    k = np.asarray(k, dtype=np.float64)
    err = np.asarray(err, dtype=np.float64)
    mask = np.isfinite(err) & (err > 0) & (err >= low) & (err <= high)
    if mask.sum() < min_points:
        raise DescentlabError(f"fit window: only {int(mask.sum())} records with error in "
                              f"[{low:g}, {high:g}]; need {min_points} (run longer or widen it)")
    slope = np.polyfit(k[mask], np.log(err[mask]), 1)[0]
    return LinearRateFit(float(np.exp(slope)), float(k[mask].min()), float(k[mask].max()),
                         int(mask.sum()))
