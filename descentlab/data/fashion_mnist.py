"""Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017) from the idx files a user already has.

Debian's package ``dataset-fashion-mnist`` installs the four files

    /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz

(60000 training and 10000 test images of 28 x 28 grey levels, labels 0-9). The files are
looked for in ``path`` when given, else in the directory named by the environment
variable ``DESCENTLAB_FASHION_MNIST``, else in Debian's directory, else in a
``fashion-mnist`` folder of the dataset directories of ``descentlab.data.data_dirs()``;
each file with or without ``.gz``. Nothing is downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._validation import check_choice
from ..errors import DatasetNotFoundError, DescentlabError
from .idx import load_idx
from .libsvm import data_dirs

#: the ten classes, in label order
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")
#: where Debian's dataset-fashion-mnist package puts the files
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
INSTALL_HINT = ("install Debian's package (sudo apt-get install dataset-fashion-mnist, "
                f"which puts the files in {DEBIAN_DIR}), or pass path=<directory> holding "
                "the four idx files of https://github.com/zalandoresearch/fashion-mnist "
                "(or set DESCENTLAB_FASHION_MNIST to that directory)")


def fashion_mnist_dirs(path: str | os.PathLike | None = None) -> list[Path]:
    """Directories searched for the idx files, in order."""
    if path is not None:
        return [Path(os.fspath(path)).expanduser()]
    env = os.environ.get("DESCENTLAB_FASHION_MNIST")
    if env:
        return [Path(env).expanduser()]
    return [DEBIAN_DIR] + [d / "fashion-mnist" for d in data_dirs()]


def _find(name: str, dirs: list[Path]) -> Path:
    for d in dirs:
        for candidate in (d / f"{name}.gz", d / name):
            if candidate.is_file():
                return candidate
    looked = ", ".join(str(d) for d in dirs)
    raise DatasetNotFoundError(f"fashion-mnist: no {name}(.gz) in {looked}; {INSTALL_HINT}")


def class_index(label) -> int:
    """A class given by its number (0-9) or its name (case-insensitive) -> its number."""
    if isinstance(label, str):
        lowered = [c.lower() for c in FASHION_MNIST_CLASSES]
        if label.lower() in lowered:
            return lowered.index(label.lower())
        raise DescentlabError(f"classes: unknown Fashion-MNIST class {label!r}; the classes "
                              f"are {', '.join(FASHION_MNIST_CLASSES)} (or their numbers 0-9)")
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool) \
            and 0 <= int(label) < len(FASHION_MNIST_CLASSES):
        return int(label)
    raise DescentlabError(f"classes: expected class numbers 0-9 or class names, got {label!r}")


def load_fashion_mnist(subset: str = "train", classes: Sequence | None = None,
                       path: str | os.PathLike | None = None, *, scale: bool = True
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of Fashion-MNIST: X of shape (n, 784), y the labels 0-9 (int64).

    subset: "train" (60000 images) or "test" (10000).
    classes: keep only these classes (numbers or names, e.g. ``("Pullover", "Coat")``),
        in the files' order; None keeps all ten.
    path: directory of the idx files (default: see the module docstring).
    scale: X as float64 in [0, 1] (pixel / 255); False keeps the uint8 grey levels.
    """
    check_choice("subset", subset, tuple(_FILES))
    dirs = fashion_mnist_dirs(path)
    image_file, label_file = (_find(name, dirs) for name in _FILES[subset])
    images, labels = load_idx(image_file), load_idx(label_file)
    if images.ndim != 3 or images.dtype != np.uint8 or labels.ndim != 1 \
            or labels.shape[0] != images.shape[0]:
        raise DescentlabError(f"fashion-mnist: {image_file} and {label_file} do not hold "
                              f"(n, rows, cols) uint8 images and n labels (got "
                              f"{images.dtype} {images.shape} and {labels.dtype} "
                              f"{labels.shape})")
    y = labels.astype(np.int64)
    X = images.reshape(images.shape[0], -1)
    if classes is not None:
        if isinstance(classes, (str, int, np.integer)):
            classes = [classes]
        wanted = sorted({class_index(c) for c in classes})
        if not wanted:
            raise DescentlabError("classes: expected at least one class")
        keep = np.isin(y, wanted)
        X, y = X[keep], y[keep]
    X = X.astype(np.float64) / 255.0 if scale else X.copy()
    return X, y
