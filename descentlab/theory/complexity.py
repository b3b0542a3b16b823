"""The complexity table of seed 000: oracle calls to reach accuracy eps.

Seed 000 ("Stochastic gradient with exponential convergence"), number of component
gradients grad f_i to reach error eps on a strongly convex finite sum of n terms:

    gradient descent          n kappa               x log(1/eps)
    stochastic gradient       kappa                 x 1/eps
    variance reduction        (n + kappa)           x log(1/eps)     (SAG, SAGA, SVRG)
    acceleration              (n + sqrt(n kappa))   x log(1/eps)     (Katyusha, Catalyst)

kappa is L/mu for gradient descent (one full gradient of n calls per step, rate 1 - mu/L)
and L_max/mu for the stochastic rows (each step uses one f_i; the seed's kappa = R^2/mu
with R^2 a bound on ||x_i||^2). ``oracle_complexity`` is the formula without its eps
factor; ``COMPLEXITY_ROWS`` names the row and ``COMPLEXITY_FORMULAS`` writes it out.
"""

from __future__ import annotations

import math

from .._validation import check_choice

#: the row of the table each method belongs to
COMPLEXITY_ROWS = {"gd": "gradient descent", "sgd": "stochastic gradient",
                   "saga": "variance reduction", "svrg": "variance reduction",
                   "katyusha": "acceleration"}
#: the formula of each row, with its eps factor
COMPLEXITY_FORMULAS = {"gd": "n kappa log(1/eps)", "sgd": "kappa / eps",
                       "saga": "(n + kappa) log(1/eps)", "svrg": "(n + kappa) log(1/eps)",
                       "katyusha": "(n + sqrt(n kappa)) log(1/eps)"}


def oracle_complexity(method: str, n: float, kappa_L: float, kappa_max: float) -> float:
    """The seed's formula for ``method`` without the eps factor.

    ``kappa_L`` = L/mu (gradient descent), ``kappa_max`` = L_max/mu (stochastic rows).
    """
    check_choice("method", method, tuple(COMPLEXITY_ROWS))
    if method == "gd":
        return n * kappa_L
    if method == "sgd":
        return kappa_max
    if method in ("saga", "svrg"):
        return n + kappa_max
    return n + math.sqrt(n * kappa_max)


__all__ = ["COMPLEXITY_FORMULAS", "COMPLEXITY_ROWS", "oracle_complexity"]
