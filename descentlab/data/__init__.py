"""Data: LIBSVM datasets by name, loaders for the files a user has (svmlight, NumPy, CSV,
idx, Fashion-MNIST), label helpers, and synthetic designs with a chosen spectrum."""

from . import synthetic
from .fashion_mnist import FASHION_MNIST_CLASSES, fashion_mnist_dirs, load_fashion_mnist
from .files import load_csv, load_numpy, load_svmlight
from .idx import load_idx, save_idx
from .libsvm import (
    KNOWN_DATASETS,
    binarize_labels,
    data_dirs,
    load_libsvm,
    resolve_dataset,
)

__all__ = ["FASHION_MNIST_CLASSES", "KNOWN_DATASETS", "binarize_labels", "data_dirs",
           "fashion_mnist_dirs", "load_csv", "load_fashion_mnist", "load_idx", "load_libsvm",
           "load_numpy", "load_svmlight", "resolve_dataset", "save_idx", "synthetic"]
