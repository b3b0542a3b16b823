"""Data and initialisation of the published weakly-interacting protocol (Dana, Bach and
Pillaud-Vivien, NeurIPS 2025 version of arXiv 2502.16977, the authors' released code; seed
000 quotes the result).

* inputs x_i = g_i / ||g_i|| r_i, g_i ~ N(0, I_d), r_i ~ U[1, 2] (a random direction, a norm
  uniform on [1, 2]); labels y_i = s_i u_i, s_i Rademacher, u_i ~ U[1, 2];
* network f(x) = (1/p) sum_j a_j relu(w_j . x) without biases: w_j has i.i.d. entries
  U(-1/sqrt d, 1/sqrt d) (PyTorch's default ``nn.Linear`` initialisation, kaiming-uniform
  with a = sqrt 5: bound 1/sqrt(fan_in)), a_j = s_j (||w_j|| + e_j), s_j Rademacher,
  e_j ~ Exp(1) (so |a_j| > ||w_j||).

Draws are made in float64 and returned in ``dtype`` (float32 for the protocol), one
``numpy.random.Generator`` per call, so each training has its own reproducible stream
whatever the batching.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_int


def published_inputs(n: int, d: int, rng: np.random.Generator,
                     dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, d), y (n,)): x_i = g_i / ||g_i|| r_i, r_i ~ U[1, 2]; y_i = +-U[1, 2]."""
    n, d = check_int("n", n, minimum=1), check_int("d", d, minimum=1)
    g = rng.standard_normal((n, d))
    r = rng.uniform(1.0, 2.0, n)
    X = g * (r / np.linalg.norm(g, axis=1))[:, None]
    y = rng.choice(np.array([-1.0, 1.0]), n) * rng.uniform(1.0, 2.0, n)
    return X.astype(dtype), y.astype(dtype)


def published_network(p: int, d: int, rng: np.random.Generator,
                      dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """(W (p, d), a (p,)): W_jk ~ U(-1/sqrt d, 1/sqrt d), a_j = s_j (||w_j|| + Exp(1))."""
    p, d = check_int("p", p, minimum=1), check_int("d", d, minimum=1)
    bound = 1.0 / math.sqrt(d)
    W = rng.uniform(-bound, bound, (p, d))
    a = rng.choice(np.array([-1.0, 1.0]), p) * (np.linalg.norm(W, axis=1)
                                                 + rng.exponential(1.0, p))
    return W.astype(dtype), a.astype(dtype)


__all__ = ["published_inputs", "published_network"]
