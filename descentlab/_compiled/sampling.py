"""The table of Walker's alias method (Vose 1991), compiled: O(n) to build, then O(1) per
draw (``descentlab.methods.sampling.SamplingLaw`` draws from it)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def alias_table(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's construction: P(i) = (prob[i] + sum_{j: alias[j] = i} (1 - prob[j])) / n = p[i]."""
    n = p.shape[0]
    scaled = p * (n / p.sum())
    prob = np.ones(n)
    alias = np.arange(n)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = nl = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        g = large[nl - 1]
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    return prob, alias
