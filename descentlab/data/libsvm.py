"""LIBSVM/svmlight datasets: name resolution, loading, label mapping.

A bare name (``a9a``, ``w8a``, ``mushrooms``, ``a1a``, ``news20``) resolves in the
directory named by the environment variable ``DESCENTLAB_DATA``, else in
``../shared/datasets`` next to the project root (then next to the working directory).
Any other string is taken as a path. Files ending in ``.bz2`` are decompressed on the fly.
Parsing is scikit-learn's ``load_svmlight_file``; parsed matrices are memoized per process.
"""

from __future__ import annotations

import bz2
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

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


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> tuple[sp.csr_matrix, np.ndarray]:
    from sklearn.datasets import load_svmlight_file

    opener = bz2.open if path.endswith(".bz2") else open
    try:
        with opener(path, "rb") as fh:
            X, y = load_svmlight_file(fh, dtype=np.float64)
    except (ValueError, OSError, EOFError) as exc:
        raise DescentlabError(f"data: {path} is not a readable LIBSVM file ({exc})") from exc
    X = sp.csr_matrix(X)
    if X.nnz < np.iinfo(np.int32).max:  # int32 indices: half the memory, and what peers expect
        X.indices = X.indices.astype(np.int32)
        X.indptr = X.indptr.astype(np.int32)
    X.sum_duplicates()
    X.sort_indices()
    X.data.setflags(write=False)
    y.setflags(write=False)
    return X, y


def load_libsvm(name_or_path) -> tuple[sp.csr_matrix, np.ndarray]:
    """(X, y) of a LIBSVM file: X is CSR float64, y the raw labels (read-only arrays)."""
    path = resolve_dataset(name_or_path)
    return _load_cached(str(path), path.stat().st_mtime)


def binarize_labels(y: np.ndarray, positive_class=None, *, name: str = "y") -> np.ndarray:
    """Map labels to -1/+1.

    With ``positive_class`` the labels equal to it become +1 and all others -1 (one vs
    rest). Without it the labels must take exactly two values; the larger becomes +1.
    """
    y = np.asarray(y)
    classes = np.unique(y)
    if positive_class is not None:
        if positive_class not in classes:
            shown = ", ".join(f"{c:g}" for c in classes[:20])
            raise DescentlabError(f"positive_class: {positive_class!r} is not a label of the "
                                  f"data; labels are {shown}")
        return np.where(y == positive_class, 1.0, -1.0)
    if classes.size != 2:
        shown = ", ".join(f"{c:g}" for c in classes[:20])
        raise DescentlabError(f"{name}: expected two classes, got {classes.size} labels "
                              f"({shown}{', ...' if classes.size > 20 else ''}); pass "
                              "positive_class=<label> for one vs rest")
    return np.where(y == classes[1], 1.0, -1.0)
