"""Input checks shared by problems, methods and the run loop.

Each check raises :class:`descentlab.errors.DescentlabError` with a message of the form
"<argument>: expected <what>, got <what>".
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from .errors import DescentlabError

FLOAT_DTYPES = (np.float64, np.float32)


def check_positive(name: str, value, *, allow_none: bool = False, strict: bool = True):
    """Return ``value`` as a float after checking it is a finite (strictly) positive number."""
    if value is None:
        if allow_none:
            return None
        raise DescentlabError(f"{name}: expected a positive number, got None")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DescentlabError(f"{name}: expected a positive number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (strict and value == 0):
        kind = "a positive" if strict else "a non-negative"
        raise DescentlabError(f"{name}: expected {kind} finite number, got {value!r}")
    return value


def check_int(name: str, value, *, minimum: int = 0, allow_none: bool = False):
    """Return ``value`` as an int after checking ``value >= minimum``."""
    if value is None:
        if allow_none:
            return None
        raise DescentlabError(f"{name}: expected an integer >= {minimum}, got None")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise DescentlabError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise DescentlabError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def check_choice(name: str, value, choices):
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise DescentlabError(f"{name}: expected one of {listed}, got {value!r}")
    return value


def check_indices(idx, n: int, *, check_range: bool = True) -> np.ndarray:
    """A non-empty 1-D integer array of sample indices in [0, n) (the argument ``idx``)."""
    idx = np.asarray(idx)
    if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
        raise DescentlabError(f"idx: expected a non-empty 1-D array of integer sample indices, "
                              f"got {idx.dtype} array of shape {idx.shape}")
    if check_range:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= n:
            raise DescentlabError(f"idx: expected indices in [0, {n}), got values in "
                                  f"[{lo}, {hi}]")
    return idx


def check_design(X, *, name: str = "X"):
    """Validate a design matrix: 2-D, dense ndarray or CSR, float32/float64, all finite.

    Integer or boolean dense arrays and other sparse formats are converted (float64, CSR);
    the data are never modified in place.
    """
    if sp.issparse(X):
        if X.ndim != 2:
            raise DescentlabError(f"{name}: expected a 2-D matrix, got shape {X.shape}")
        X = sp.csr_matrix(X) if X.format != "csr" else X
        if X.dtype not in FLOAT_DTYPES:
            X = X.astype(np.float64)
        if not np.all(np.isfinite(X.data)):
            raise DescentlabError(f"{name}: expected finite values, found NaN or Inf")
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        return X
    if not isinstance(X, np.ndarray):
        try:
            X = np.asarray(X)
        except Exception as exc:  # pragma: no cover - numpy's message is clear enough
            raise DescentlabError(f"{name}: expected an array, got {type(X).__name__}") from exc
    if X.ndim != 2:
        raise DescentlabError(f"{name}: expected a 2-D array (n_samples, n_features), "
                              f"got shape {X.shape}")
    if X.dtype not in FLOAT_DTYPES:
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
            raise DescentlabError(f"{name}: expected numbers, got dtype {X.dtype}")
        X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise DescentlabError(f"{name}: expected finite values, found NaN or Inf")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DescentlabError(f"{name}: expected a non-empty matrix, got shape {X.shape}")
    return X


def check_target(y, n: int, *, name: str = "y", dtype=np.float64):
    """Validate a target vector of length ``n`` with finite values."""
    y = np.asarray(y)
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1:
        raise DescentlabError(f"{name}: expected a 1-D array of length {n}, got shape {y.shape}")
    if y.shape[0] != n:
        raise DescentlabError(f"{name}: expected length {n} (the number of rows of X), "
                              f"got {y.shape[0]}")
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise DescentlabError(f"{name}: expected numbers, got dtype {y.dtype}")
    y = y.astype(dtype)
    if not np.all(np.isfinite(y)):
        raise DescentlabError(f"{name}: expected finite values, found NaN or Inf")
    return y


def check_dense_xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    """A dense, finite, non-empty float64 design (n, d) and its finite target of length n."""
    if sp.issparse(X):
        raise DescentlabError(f"X: expected a dense array, got a sparse {X.format} matrix "
                              "(use X.toarray())")
    X = check_design(np.asarray(X, dtype=np.float64))
    return X, check_target(y, X.shape[0])


def check_vector(name: str, x, dim: int, dtype=np.float64):
    """Validate a point of the parameter space (length ``dim``, finite); returns a copy."""
    try:
        x = np.array(x, dtype=dtype, copy=True).ravel() if np.ndim(x) else np.full(dim, x, dtype)
    except (TypeError, ValueError):
        raise DescentlabError(f"{name}: expected a vector of {dim} numbers, got {x!r}") from None
    if x.shape != (dim,):
        raise DescentlabError(f"{name}: expected a vector of length {dim}, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise DescentlabError(f"{name}: expected finite values, found NaN or Inf")
    return x
