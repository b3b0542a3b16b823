"""Data: LIBSVM loaders, label helpers, and synthetic designs with a chosen spectrum."""

from . import synthetic
from .libsvm import (
    KNOWN_DATASETS,
    binarize_labels,
    data_dirs,
    load_libsvm,
    resolve_dataset,
)

__all__ = ["KNOWN_DATASETS", "binarize_labels", "data_dirs", "load_libsvm", "resolve_dataset",
           "synthetic"]
