"""Data: LIBSVM loaders and label helpers (generators come with the experiments)."""

from .libsvm import (
    KNOWN_DATASETS,
    binarize_labels,
    data_dirs,
    load_libsvm,
    resolve_dataset,
)

__all__ = ["KNOWN_DATASETS", "binarize_labels", "data_dirs", "load_libsvm", "resolve_dataset"]
