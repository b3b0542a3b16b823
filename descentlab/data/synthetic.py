"""Synthetic designs with a chosen spectrum: controlled n, L, L_max and kappa (seed 000).

The complexity table of seed 000 (GD n kappa log 1/eps, SGD kappa/eps, variance reduction
(n + kappa) log 1/eps, acceleration (n + sqrt(n kappa)) log 1/eps) is a statement about how
the number of component gradients grows with n and kappa *separately*. Measuring it needs
designs whose constants do not move when n does:

``spectral_design(n, spectrum, seed)`` returns X (n x d, d = len(spectrum)) with

    X^T X / n = V diag(spectrum) V^T      exactly (V a random rotation), and
    ||x_i||^2 = sum(spectrum)             for every row i,

built as X = D H_J diag(sqrt(spectrum)) V^T with H_J = d distinct columns (other than the
all-ones one) of the n x n Sylvester-Hadamard matrix, H_ij = (-1)^popcount(i & j), whose
columns are orthogonal with squared norm n, and D a random diagonal of signs. So for least
squares (loss'' = 1): L = max(spectrum), mu = min(spectrum) (plus the ridge), and
L_max = sum(spectrum) for every n: the row norms do not grow like log n as the maximum of
n Gaussian rows would. n must be a power of two (and larger than d).

``geometric_spectrum(d, kappa)``: d eigenvalues geometrically spaced from 1 down to 1/kappa.
``descentlab.problems.LeastSquares.with_spectrum`` draws y = X theta_true + noise on such a
design, with theta_true a random unit vector (fixed by ``seed``, independent of n and kappa,
so that the initial error splits the same way over the eigen-directions everywhere on a
grid).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_positive
from ..errors import DescentlabError


def _is_power_of_two(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


def hadamard_columns(n: int, cols) -> np.ndarray:
    """Columns ``cols`` of the n x n Sylvester-Hadamard matrix: H_ij = (-1)^popcount(i & j).

    Any two distinct columns are orthogonal and every column has squared norm n.
    """
    n = check_int("n", n, minimum=1)
    if not _is_power_of_two(n):
        raise DescentlabError(f"n: expected a power of two for a Hadamard design, got {n}")
    cols = np.asarray(cols, dtype=np.int64)
    if cols.size and (cols.min() < 0 or cols.max() >= n):
        raise DescentlabError(f"cols: expected column indices in [0, {n}), got "
                              f"[{cols.min()}, {cols.max()}]")
    rows = np.arange(n, dtype=np.int64)
    bits = rows[:, None] & cols[None, :]
    parity = np.zeros(bits.shape, dtype=np.int64)
    while np.any(bits):
        parity ^= bits & 1
        bits = bits >> 1
    return np.where(parity == 1, -1.0, 1.0)


def random_rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed d x d orthogonal matrix (QR of a Gaussian, signs fixed)."""
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    return Q * np.sign(np.diag(R))


def geometric_spectrum(d: int, kappa: float, top: float = 1.0) -> np.ndarray:
    """d eigenvalues from ``top`` down to ``top / kappa``, geometrically spaced."""
    d = check_int("d", d, minimum=1)
    kappa = check_positive("kappa", kappa)
    if kappa < 1:
        raise DescentlabError(f"kappa: expected a condition number >= 1, got {kappa}")
    if d == 1:
        return np.array([float(top)])
    return np.geomspace(float(top), float(top) / kappa, d)


def spectral_design(n: int, spectrum, seed: int = 0, *, rotation_seed: int | None = None
                    ) -> np.ndarray:
    """X (n x d) with X^T X / n = V diag(spectrum) V^T and equal row norms (module docstring).

    ``rotation_seed`` (default ``seed``) draws V, ``seed`` the Hadamard columns and the signs;
    keeping ``rotation_seed`` fixed across n keeps the same eigenvectors on a grid of n.
    """
    spectrum = np.asarray(spectrum, dtype=np.float64).ravel()
    d = spectrum.size
    if d == 0 or not np.all(np.isfinite(spectrum)) or np.any(spectrum < 0):
        raise DescentlabError("spectrum: expected a non-empty vector of non-negative numbers")
    n = check_int("n", n, minimum=2)
    if not _is_power_of_two(n) or n <= d:
        raise DescentlabError(f"n: expected a power of two larger than d = {d}, got {n}")
    rng = np.random.default_rng(seed)
    cols = 1 + rng.choice(n - 1, size=d, replace=False)  # skip the all-ones column
    signs = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    V = random_rotation(d, np.random.default_rng(seed if rotation_seed is None
                                                 else rotation_seed))
    U = hadamard_columns(n, cols) * signs[:, None]
    return (U * np.sqrt(spectrum)) @ V.T


def subsample_rows(X, y, n: int, seed: int = 0):
    """(X[idx], y[idx]) for ``n`` rows drawn without replacement (all rows when n >= rows)."""
    rows = X.shape[0]
    n = check_int("n", n, minimum=2)
    if n >= rows:
        return X, y
    idx = np.sort(np.random.default_rng(seed).choice(rows, size=n, replace=False))
    return X[idx], y[idx]


__all__ = ["geometric_spectrum", "hadamard_columns", "random_rotation", "spectral_design",
           "subsample_rows"]
