"""The on-disk cache of expensive, deterministic results (certified optima, PEP worst cases).

One place, ``cache_dir()``: ``$DESCENTLAB_CACHE`` when set, else ``$XDG_CACHE_HOME/descentlab``
(``~/.cache/descentlab``). ``memory(kind)`` is a :class:`joblib.Memory` in its subfolder
``kind``: a function wrapped with ``memory(kind).cache`` is keyed by the hash of its code and
arguments (numpy and scipy.sparse arrays are hashed by content), so a result is computed once
per input and reused by every later process. Deleting the folder is always safe.
"""

from __future__ import annotations

import os
from pathlib import Path

import joblib

#: environment variable naming the cache folder
CACHE_ENV = "DESCENTLAB_CACHE"


def cache_dir() -> Path:
    """The cache folder (not created here)."""
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "descentlab"


def memory(kind: str) -> joblib.Memory:
    """A joblib ``Memory`` caching into ``cache_dir() / kind`` (quiet)."""
    return joblib.Memory(location=cache_dir() / kind, verbose=0)
