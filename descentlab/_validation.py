"""Input checks shared by problems, methods and the run loop.

Each check raises :class:`descentlab.errors.DescentlabError` with a message of the form
"<argument>: expected <what>, got <what>".
"""

from __future__ import annotations

import difflib
import numbers
import os

import numpy as np
import scipy.sparse as sp

from .errors import DescentlabError

FLOAT_DTYPES = (np.float64, np.float32)

#: environment variable: the largest number of features allowed (lifts the rules below)
MAX_FEATURES_ENV = "DESCENTLAB_MAX_FEATURES"
#: a data file may always declare this many features (a dense float64 iterate of 80 MB) ...
FEATURES_FLOOR = 10_000_000
#: ... and beyond it at most this many per stored entry (else most columns are empty)
FEATURES_PER_ENTRY = 10
#: a data file's dense iterate may take at most this share of the machine's memory
ITERATE_MEMORY_SHARE = 16
#: a problem refuses a sparse design whose dense iterate takes this share of the memory
PROBLEM_MEMORY_SHARE = 2


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


#: memory limits of a container (cgroup v2, v1): "max" or a huge number when unlimited
_CGROUP_MEMORY_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def _gib(n_bytes: float) -> str:
    """A size in GiB, or in MiB below one GiB."""
    if n_bytes < 2**30:
        return f"{n_bytes / 2**20:.1f} MiB"
    return f"{n_bytes / 2**30:.1f} GiB"


def physical_memory() -> int | None:
    """Bytes of memory of this machine (or of its cgroup limit when lower); None if unknown."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None
    for limit_file in _CGROUP_MEMORY_LIMITS:
        try:
            with open(limit_file) as fh:
                limit = fh.read().strip()
        except OSError:
            continue
        if limit.isdigit() and int(limit) > 0:
            total = min(total, int(limit))
    return total if total > 0 else None


def max_features_allowed(max_features=None) -> int | None:
    """The explicit limit on the number of features: ``max_features``, else the environment
    variable ``DESCENTLAB_MAX_FEATURES``, else None (the default rules apply)."""
    if max_features is not None:
        return check_int("max_features", max_features, minimum=1)
    text = os.environ.get(MAX_FEATURES_ENV, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        try:  # 2e9
            value = int(float(text)) if float(text).is_integer() else None
        except (ValueError, OverflowError):
            value = None
    if value is None or value < 1:
        raise DescentlabError(f"{MAX_FEATURES_ENV}: expected an integer >= 1, got {text!r}")
    return value


def check_n_features(name: str, source: str, n_features: int, nnz: int, *,
                     max_features=None) -> None:
    """Refuse a data file whose number of features is out of proportion (read right after
    parsing, before any dense vector of that size is allocated).

    Without an explicit limit (``max_features``, or ``DESCENTLAB_MAX_FEATURES``) a file may
    declare at most max(10^7, 10 x its stored entries) features, and a dense float64 iterate
    of that size must take at most 1/16 of the machine's memory. With a limit, only the limit
    applies.
    """
    limit = max_features_allowed(max_features)
    allow = (f"if the file is right, pass max_features={n_features} or set "
             f"{MAX_FEATURES_ENV}={n_features} to allow it")
    size = _gib(8.0 * n_features)
    if limit is not None:
        if n_features > limit:
            where = "max_features" if max_features is not None else MAX_FEATURES_ENV
            raise DescentlabError(
                f"{name}: {source} declares {n_features} features for {nnz} stored entries, "
                f"more than {where}={limit} (a dense iterate would take {size}); {allow}")
        return
    expected = []
    most = max(FEATURES_FLOOR, FEATURES_PER_ENTRY * nnz)
    if n_features > most:
        expected.append(f"at most {most} features ({FEATURES_PER_ENTRY} per stored entry, "
                        f"and {FEATURES_FLOOR} for any file)")
    memory = physical_memory()
    if memory is not None and 8.0 * n_features > memory / ITERATE_MEMORY_SHARE:
        expected.append(f"a dense iterate under {_gib(memory / ITERATE_MEMORY_SHARE)}, "
                        f"1/{ITERATE_MEMORY_SHARE} of this machine's memory")
    if expected:
        raise DescentlabError(
            f"{name}: {source} declares {n_features} features for {nnz} stored entries, so a "
            f"dense iterate would take {size}; expected {' and '.join(expected)} (is a "
            f"feature index wrong?); {allow}")


def _check_dense_iterate_fits(name: str, n_columns: int) -> None:
    """Refuse a sparse design whose dense iterate alone would fill half the memory."""
    memory = physical_memory()
    if memory is None or 8.0 * n_columns <= memory / PROBLEM_MEMORY_SHARE:
        return
    limit = max_features_allowed()
    if limit is not None and n_columns <= limit:
        return
    raise DescentlabError(
        f"{name}: expected a number of columns whose dense float64 iterate fits in memory, got "
        f"{n_columns} columns (an iterate of {_gib(8.0 * n_columns)}, this machine has "
        f"{_gib(memory)}); drop the empty columns, or set {MAX_FEATURES_ENV}={n_columns} to "
        "try anyway")


def check_real(name: str, dtype) -> None:
    """Refuse complex (and other non-real) numbers instead of dropping the imaginary part."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise DescentlabError(f"{name}: expected real numbers, got {dtype.name}")
    if dtype.kind not in "biuf":  # bool, int, unsigned, float
        raise DescentlabError(f"{name}: expected numbers, got dtype {dtype}")


def check_design(X, *, name: str = "X"):
    """Validate a design matrix: 2-D, non-empty, dense ndarray or CSR, float32/float64 (real),
    all finite; a sparse one must have few enough columns for a dense iterate to fit in memory.

    Integer or boolean arrays and other sparse formats are converted (float64, CSR); complex
    numbers are refused; the data are never modified in place.
    """
    if sp.issparse(X):
        if X.ndim != 2:
            raise DescentlabError(f"{name}: expected a 2-D matrix, got shape {X.shape}")
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise DescentlabError(f"{name}: expected a non-empty matrix, got shape {X.shape}")
        _check_dense_iterate_fits(name, X.shape[1])
        check_real(name, X.dtype)
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
        check_real(name, X.dtype)
        X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise DescentlabError(f"{name}: expected finite values, found NaN or Inf")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DescentlabError(f"{name}: expected a non-empty matrix, got shape {X.shape}")
    return X


def check_target(y, n: int, *, name: str = "y", dtype=np.float64):
    """Validate a target vector of length ``n`` with finite real values (cast to ``dtype``)."""
    y = np.asarray(y)
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1:
        raise DescentlabError(f"{name}: expected a 1-D array of length {n}, got shape {y.shape}")
    if y.shape[0] != n:
        raise DescentlabError(f"{name}: expected length {n} (the number of rows of X), "
                              f"got {y.shape[0]}")
    check_real(name, y.dtype)
    if not np.all(np.isfinite(y)):
        raise DescentlabError(f"{name}: expected finite values, found NaN or Inf")
    with np.errstate(over="ignore"):
        cast = y.astype(dtype)
    if not np.all(np.isfinite(cast)):
        raise DescentlabError(f"{name}: expected values within the range of "
                              f"{np.dtype(dtype).name}, got {np.max(np.abs(y)):g}")
    return cast


def check_dense_xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    """A dense, finite, non-empty float64 design (n, d) and its finite target of length n."""
    if sp.issparse(X):
        raise DescentlabError(f"X: expected a dense array, got a sparse {X.format} matrix "
                              "(use X.toarray())")
    X = check_design(np.asarray(X)).astype(np.float64, copy=False)
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


def did_you_mean(word, choices) -> str:
    """' (did you mean 'x'?)' for the closest of ``choices`` (difflib), or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
