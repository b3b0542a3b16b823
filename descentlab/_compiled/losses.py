"""Loss codes and the numerically stable scalar pieces of the logistic loss (numba).

Every compiled kernel of descentlab switches on the same integer codes:

==============  ====  =================================================================
code            int   loss of a prediction f with target y (per sample)
==============  ====  =================================================================
SQUARE          0     (f - y)^2 / 2
LOGISTIC        1     log(1 + exp(-y f)),  y in {-1, +1}
SOFTMIN         2     coupled: L = log((1/n) sum_i exp(-y_i f_i))   (margin training)
EXPONENTIAL     3     coupled mean: L = (1/n) sum_i exp(-y_i f_i)   (margin training)
==============  ====  =================================================================

With the margin u = y f, the logistic pieces are evaluated without overflow for any u:

    log1p_exp(t)  = log(1 + e^t)       = max(t, 0) + log1p(e^-|t|),
    sigmoid(t)    = 1 / (1 + e^-t)     (e^t / (1 + e^t) for t < 0),

so that loss = log1p_exp(-u) and d loss / d f = -y sigmoid(-u).
"""

from __future__ import annotations

import enum
import math

from numba import njit


class LossCode(enum.IntEnum):
    """The integer a compiled kernel receives for each loss (see the module docstring)."""

    SQUARE = 0
    LOGISTIC = 1
    SOFTMIN = 2
    EXPONENTIAL = 3


@njit(cache=True, inline="always", error_model="numpy")
def log1p_exp(t):
    """log(1 + e^t) without overflow."""
    if t > 0.0:
        return t + math.log1p(math.exp(-t))
    return math.log1p(math.exp(t))


@njit(cache=True, inline="always", error_model="numpy")
def sigmoid(t):
    """1 / (1 + e^-t) without overflow."""
    if t >= 0.0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)
