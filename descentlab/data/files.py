"""Loading the data a user has: svmlight/LIBSVM, NumPy (.npy/.npz) and CSV files.

Every loader takes any path (``str`` or ``PathLike``; ``~`` expanded), returns ``(X, y)``
and raises ``DatasetNotFoundError`` when there is no file, ``DescentlabError`` with the
reason when the content cannot be used. Compressed files (``.gz``, ``.bz2``, and for
CSV also ``.xz``, ``.zip``) are read directly.

* ``load_svmlight(path)``: scikit-learn's ``load_svmlight_file`` parser; X is CSR float64
  with int32 indices (what liblinear and the compiled kernels expect), y the raw labels.
  ``n_features`` pads X to a given width (a test file that misses the last features).
  A file with no samples or an out-of-proportion number of features is refused right
  after parsing; ``max_features=`` or ``DESCENTLAB_MAX_FEATURES`` allow more features
  (the rule is in ``descentlab.data.libsvm``).
* ``load_numpy(path)``: an ``.npz`` holding arrays ``X`` and ``y`` (names configurable), or
  an ``.npy`` 2-D array whose ``target_column`` is y.
* ``load_csv(path, target_column=-1)``: pandas' reader; the header is detected (a first
  row whose fields are all text, or with a text field above a column of numbers: a first
  sample with a text label is data); the target is a column position or name; the
  features must be numeric; y is float64 when numeric, else the labels as strings.

Missing values (NaN, empty CSV fields) are refused unless ``allow_missing=True`` (e.g. to
impute them in a scikit-learn pipeline).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._validation import check_int, check_n_features, max_features_allowed
from ..errors import DatasetNotFoundError, DescentlabError
from .libsvm import canonical_csr, check_parsed


def _existing(path, what: str) -> Path:
    path = Path(os.fspath(path)).expanduser()
    if not path.is_file():
        raise DatasetNotFoundError(f"{what}: no file at {path}")
    return path


def _check_missing(X, y, path: Path, allow_missing: bool) -> None:
    if allow_missing:
        return
    values = X.data if sp.issparse(X) else X
    bad_X = np.issubdtype(values.dtype, np.floating) and not np.all(np.isfinite(values))
    bad_y = y is not None and np.issubdtype(y.dtype, np.floating) \
        and not np.all(np.isfinite(y))
    if bad_X or bad_y:
        where = "X" if bad_X else "y"
        raise DescentlabError(f"{path}: {where} has missing or infinite values (NaN/Inf); "
                              "pass allow_missing=True to load them anyway (e.g. to impute "
                              "them in a pipeline)")


# ---------------------------------------------------------------------------- svmlight
def load_svmlight(path, *, n_features: int | None = None, zero_based="auto",
                  dtype=np.float64, max_features: int | None = None,
                  allow_missing: bool = False) -> tuple[sp.csr_matrix, np.ndarray]:
    """(X, y) of a svmlight/LIBSVM file at any path (``.gz``/``.bz2`` read directly).

    Refused right after parsing: no samples, no stored entry, non-finite labels or values
    (unless ``allow_missing``), and more features than the file's entries justify (unless
    ``max_features``, ``DESCENTLAB_MAX_FEATURES`` or an explicit ``n_features`` allows
    them; the rule is in ``descentlab.data.libsvm``'s docstring).
    """
    from sklearn.datasets import load_svmlight_file

    n_features = check_int("n_features", n_features, minimum=1, allow_none=True)
    if max_features is None:
        max_features = n_features  # a width the caller declared is allowed
    max_features_allowed(max_features)  # a bad limit fails before the parsing
    path = _existing(path, "svmlight")
    try:
        X, y = load_svmlight_file(str(path), n_features=n_features, zero_based=zero_based,
                                  dtype=dtype)
    except (ValueError, OverflowError, OSError, EOFError, RuntimeError) as exc:
        raise DescentlabError(f"svmlight: {path} is not a readable svmlight/LIBSVM file "
                              f"({exc})") from exc
    check_parsed(X, y, "svmlight", str(path), allow_missing=allow_missing,
                 allow_no_entries=n_features is not None)
    check_n_features("svmlight", str(path), X.shape[1], X.nnz, max_features=max_features)
    return canonical_csr(X), y


# ------------------------------------------------------------------------------- numpy
def _split_column(A: np.ndarray, target_column, path: Path):
    if A.ndim != 2:
        raise DescentlabError(f"numpy: {path} holds an array of shape {A.shape}; expected a "
                              "2-D array (samples x columns)")
    if target_column is None:
        return A, None
    if isinstance(target_column, bool) or not isinstance(target_column, (int, np.integer)):
        raise DescentlabError(f"target_column: expected a column number or None for an "
                              f".npy file, got {target_column!r}")
    k = int(target_column)
    if not -A.shape[1] <= k < A.shape[1]:
        raise DescentlabError(f"target_column: {k} is out of range for {A.shape[1]} columns")
    k %= A.shape[1]
    return np.delete(A, k, axis=1), A[:, k].copy()


def load_numpy(path, *, target_column: int | None = -1, X_key: str = "X", y_key: str = "y",
               allow_missing: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """(X, y) of a NumPy file.

    ``.npz``: the arrays named ``X_key`` and ``y_key`` (``y_key=None``: no target, y is None).
    ``.npy``: a 2-D array; column ``target_column`` (default the last; None: no target)
    is y and the others are X. Pickled object arrays are refused.
    """
    path = _existing(path, "numpy")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DescentlabError(f"numpy: {path} is not a readable .npy/.npz file "
                              f"({exc})") from exc
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            names = list(loaded.files)
            missing = [k for k in (X_key, y_key) if k is not None and k not in names]
            if missing:
                raise DescentlabError(
                    f"numpy: {path} has no array named {missing[0]!r} (it holds "
                    f"{', '.join(names) or 'nothing'}); pass X_key=/y_key= to choose them")
            X = loaded[X_key]
            y = None if y_key is None else loaded[y_key]
        if X.ndim != 2:
            raise DescentlabError(f"numpy: {X_key} in {path} has shape {X.shape}; expected a "
                                  "2-D array (samples x features)")
        if y is not None:
            y = y.ravel() if y.ndim == 2 and 1 in y.shape else y
            if y.ndim != 1 or y.shape[0] != X.shape[0]:
                raise DescentlabError(f"numpy: {y_key} in {path} has shape {y.shape}; "
                                      f"expected ({X.shape[0]},), one label per row of X")
    else:
        X, y = _split_column(loaded, target_column, path)
    _check_numbers(X, y, path)
    _check_missing(X, y, path, allow_missing)
    return X, y


def _check_numbers(X: np.ndarray, y: np.ndarray | None, path: Path) -> None:
    """Features must be real numbers (or booleans); labels may be text but not complex."""
    if X.dtype.kind not in "biuf":
        raise DescentlabError(f"numpy: {path}: expected real numbers (int, float or bool) for "
                              f"X, got dtype {X.dtype}")
    if y is not None and y.dtype.kind == "c":
        raise DescentlabError(f"numpy: {path}: expected real numbers or labels for y, got "
                              f"dtype {y.dtype}")


# --------------------------------------------------------------------------------- csv
def _is_number(text: str) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _looks_like_header(rows: pd.DataFrame) -> bool:
    """Whether the first of ``rows`` (text) is a header: one of its fields is text above a
    column of numbers, or all its fields are text. A data row whose label is text (above
    more text labels) is not a header."""
    head, rest = rows.iloc[0], rows.iloc[1:]
    filled = [c for c in rows.columns if isinstance(head[c], str) and head[c] != ""]
    text = [c for c in filled if not _is_number(head[c])]
    if not text:
        return False
    if len(text) == len(filled):
        return True
    return any(all(_is_number(v) for v in rest[c] if isinstance(v, str) and v != "")
               for c in text if len(rest))


def load_csv(path, *, target_column: int | str | None = -1, delimiter: str = ",",
             header: bool | None = None, allow_missing: bool = False
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """(X, y) of a CSV file: X float64 (n, d), y one column (float64 when numeric).

    target_column: position (negative counts from the end; default the last column),
        name (needs a header) or None (no target, y is None).
    header: True/False, or None to detect it (see the module docstring).
    """
    path = _existing(path, "csv")
    try:
        first = pd.read_csv(path, sep=delimiter, header=None, nrows=50, dtype=str,
                            keep_default_na=False)
    except (ValueError, OSError, EOFError, pd.errors.ParserError) as exc:
        raise DescentlabError(f"csv: {path} is not a readable CSV file ({exc})") from exc
    if first.empty:
        raise DescentlabError(f"csv: {path} is empty")
    if header is None:
        header = _looks_like_header(first)
    try:
        frame = pd.read_csv(path, sep=delimiter, header=0 if header else None)
    except (ValueError, OSError, EOFError, pd.errors.ParserError) as exc:
        raise DescentlabError(f"csv: {path} is not a readable CSV file ({exc})") from exc
    if frame.shape[0] == 0:
        raise DescentlabError(f"csv: {path} has a header but no data rows")
    columns = list(frame.columns)
    y = None
    if target_column is not None:
        if isinstance(target_column, str):
            if not header or target_column not in columns:
                shown = ", ".join(map(str, columns)) if header else "none (no header)"
                raise DescentlabError(f"target_column: no column named {target_column!r} in "
                                      f"{path}; the columns are {shown}")
            name = target_column
        elif isinstance(target_column, (int, np.integer)) and not isinstance(target_column,
                                                                             bool):
            k = int(target_column)
            if not -len(columns) <= k < len(columns):
                raise DescentlabError(f"target_column: {k} is out of range for "
                                      f"{len(columns)} columns in {path}")
            name = columns[k]
        else:
            raise DescentlabError(f"target_column: expected a column number, a column name "
                                  f"or None, got {target_column!r}")
        target = frame.pop(name)
        if pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_bool_dtype(target):
            y = target.to_numpy(dtype=np.float64)
        else:
            if target.isna().any() and not allow_missing:
                raise DescentlabError(f"{path}: the target column {name!r} has missing "
                                      "values; pass allow_missing=True to load them anyway")
            y = target.astype(str).to_numpy()
    if frame.shape[1] == 0:
        raise DescentlabError(f"csv: {path} has no feature column besides the target")
    text = [c for c in frame.columns if not (pd.api.types.is_numeric_dtype(frame[c])
                                             or pd.api.types.is_bool_dtype(frame[c]))]
    if text:
        sample = frame[text[0]].dropna().astype(str).iloc[:3].tolist()
        raise DescentlabError(f"csv: {path}: column {text[0]!r} is not numeric (values such "
                              f"as {sample}); encode it first (e.g. scikit-learn's "
                              "OneHotEncoder) or drop it")
    X = frame.to_numpy(dtype=np.float64)
    _check_missing(X, y, path, allow_missing)
    return X, y
