"""LIBSVM/svmlight datasets: name resolution, loading, label mapping.

A bare name (``a9a``, ``w8a``, ``mushrooms``, ``a1a``, ``news20``) resolves in the
directory named by the environment variable ``DESCENTLAB_DATA``, else in
``../shared/datasets`` next to the project root (then next to the working directory).
Any other string is taken as a path. Files ending in ``.bz2`` are decompressed on the fly.
Parsing is scikit-learn's ``load_svmlight_file``; parsed matrices are memoized per process.

Right after parsing, a file is refused (``DescentlabError``) when it has no samples, no
stored entries, a non-finite label or value, or a number of features out of proportion:
the number of features is the largest feature index, and one wrong index (``2000000000:1``)
would make every method allocate dense vectors of that length (15 GiB). Unless allowed, a
file may declare at most max(10^7, 10 x its stored entries) features, and a dense float64
iterate of that length must take at most 1/16 of the machine's memory (news20: 1.35 million
features for 9 million entries, 10 MiB, loads as is). To allow more, pass
``max_features=<limit>`` (``load_libsvm``, ``load_svmlight``, ``from_libsvm``) or set the
environment variable ``DESCENTLAB_MAX_FEATURES=<limit>`` (both loaders, and the CLI's
``--data``); with a limit, only the limit applies. ``load_svmlight(path, n_features=d)``
declares the width itself and is allowed up to ``d``.
"""

from __future__ import annotations

import bz2
import numbers
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .._validation import check_n_features, max_features_allowed
from ..errors import DatasetNotFoundError, DescentlabError

#: datasets shipped in ../shared/datasets, with the file name to look for
KNOWN_DATASETS = {
    "a1a": "a1a",
    "a9a": "a9a",
    "w8a": "w8a",
    "mushrooms": "mushrooms",
    "news20": "news20.bz2",
}

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_dirs() -> list[Path]:
    """Directories searched for bare dataset names, in order."""
    env = os.environ.get("DESCENTLAB_DATA")
    if env:
        return [Path(env).expanduser()]
    dirs = [_PROJECT_ROOT.parent / "shared" / "datasets",
            Path.cwd().parent / "shared" / "datasets",
            Path.cwd() / "shared" / "datasets"]
    return list(dict.fromkeys(d.resolve() for d in dirs))


def resolve_dataset(name_or_path: str | os.PathLike) -> Path:
    """Path of a dataset given by a known name or a file path."""
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if path.is_file():
        return path
    if os.sep not in text and "/" not in text:
        file_name = KNOWN_DATASETS.get(text, text)
        for d in data_dirs():
            for candidate in (d / file_name, d / f"{file_name}.bz2"):
                if candidate.is_file():
                    return candidate
        looked = ", ".join(str(d) for d in data_dirs())
        known = ", ".join(KNOWN_DATASETS)
        raise DatasetNotFoundError(
            f"data: no dataset named {text!r} in {looked}; known names are {known} "
            "(set DESCENTLAB_DATA to the directory that holds them), or give a file path")
    raise DatasetNotFoundError(f"data: no file at {path}")


def check_parsed(X: sp.csr_matrix, y: np.ndarray, name: str, source: str, *,
                 allow_missing: bool = False, allow_no_entries: bool = False) -> None:
    """Refuse a parsed file without samples, without any stored entry, or (unless
    ``allow_missing``) with a non-finite label or value; ``name: source ...`` messages."""
    if X.shape[0] == 0:
        raise DescentlabError(f"{name}: {source} has no samples (an empty file, or only "
                              "comments); expected lines '<label> <index>:<value> ...'")
    if X.nnz == 0 and not allow_no_entries:
        raise DescentlabError(f"{name}: {source} has {X.shape[0]} samples but no feature "
                              "values (every line is a bare label); expected lines "
                              "'<label> <index>:<value> ...'")
    if allow_missing:
        return
    bad_y = np.flatnonzero(~np.isfinite(y))
    if bad_y.size:
        raise DescentlabError(f"{name}: {source} has a non-finite label ({y[bad_y[0]]}) at "
                              f"sample {bad_y[0]}; expected finite numbers")
    bad = np.flatnonzero(~np.isfinite(X.data))
    if bad.size:
        row = int(np.searchsorted(X.indptr, bad[0], side="right")) - 1
        raise DescentlabError(f"{name}: {source} has a non-finite value "
                              f"({X.data[bad[0]]}) at sample {row}; expected finite numbers")


def canonical_csr(X) -> sp.csr_matrix:
    """CSR with sorted, unique indices, int32 when every index and offset fits (half the
    memory, and what liblinear and the compiled kernels expect)."""
    X = sp.csr_matrix(X)
    if max(X.nnz, X.shape[1]) < np.iinfo(np.int32).max:
        X.indices = X.indices.astype(np.int32)
        X.indptr = X.indptr.astype(np.int32)
    X.sum_duplicates()
    X.sort_indices()
    return X


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int, size: int) -> tuple[sp.csr_matrix, np.ndarray]:
    from sklearn.datasets import load_svmlight_file

    opener = bz2.open if path.endswith(".bz2") else open
    try:
        with opener(path, "rb") as fh:
            X, y = load_svmlight_file(fh, dtype=np.float64)
    except (ValueError, OverflowError, OSError, EOFError, RuntimeError) as exc:
        raise DescentlabError(f"data: {path} is not a readable LIBSVM file ({exc})") from exc
    check_parsed(X, y, "data", path)
    X = canonical_csr(X)
    X.data.setflags(write=False)
    y.setflags(write=False)
    return X, y


def load_libsvm(name_or_path, *, max_features: int | None = None
                ) -> tuple[sp.csr_matrix, np.ndarray]:
    """(X, y) of a LIBSVM file: X is CSR float64, y the raw labels (read-only arrays).

    Refused right after parsing: no samples, no stored entry, non-finite labels or values,
    and more features than the file's entries justify (see the module docstring;
    ``max_features`` or ``DESCENTLAB_MAX_FEATURES`` allow them).
    """
    max_features_allowed(max_features)  # a bad limit fails before the parsing
    path = resolve_dataset(name_or_path)
    stat = path.stat()
    X, y = _load_cached(str(path), stat.st_mtime_ns, stat.st_size)
    check_n_features("data", str(path), X.shape[1], X.nnz, max_features=max_features)
    return X, y


def _shown(classes: np.ndarray, limit: int = 20) -> str:
    """The first ``limit`` labels, numbers in %g form."""
    text = ", ".join(f"{c:g}" if isinstance(c, numbers.Real) else str(c)
                     for c in classes[:limit].tolist())
    return text + (", ..." if classes.size > limit else "")


def binarize_labels(y: np.ndarray, positive_class=None, *, name: str = "y") -> np.ndarray:
    """Map labels to -1/+1.

    With ``positive_class`` the labels equal to it become +1 and all others -1 (one vs
    rest). Without it the labels must take exactly two values; the larger becomes +1.
    Non-finite (NaN, Inf) and complex labels are refused.
    """
    y = np.asarray(y)
    if y.dtype.kind == "c":
        raise DescentlabError(f"{name}: expected real labels, got {y.dtype.name}")
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise DescentlabError(f"{name}: expected finite labels, got {y[bad[0]]} at "
                                  f"sample {bad[0]} ({bad.size} non-finite in all)")
    classes = np.unique(y)
    if positive_class is not None:
        if positive_class not in classes:
            raise DescentlabError(f"positive_class: {positive_class!r} is not a label of the "
                                  f"data; labels are {_shown(classes)}")
        return np.where(y == positive_class, 1.0, -1.0)
    if classes.size != 2:
        raise DescentlabError(f"{name}: expected two classes, got {classes.size} labels "
                              f"({_shown(classes)}); pass positive_class=<label> for one vs "
                              "rest")
    return np.where(y == classes[1], 1.0, -1.0)
