"""The on-disk cache: its folder follows the environment, and a cached call runs once."""

from __future__ import annotations

import numpy as np

from descentlab import cache


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "c"))
    assert cache.cache_dir() == tmp_path / "c"
    monkeypatch.delenv(cache.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "descentlab"


def test_memory_computes_once_per_input(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    calls = []

    def norm(a):
        calls.append(1)
        return float(np.linalg.norm(a))

    cached = cache.memory("test").cache(norm)
    a = np.arange(5.0)
    assert cached(a) == cached(a.copy()) == np.linalg.norm(a)
    assert len(calls) == 1
    assert cached(a + 1) == np.linalg.norm(a + 1)
    assert len(calls) == 2
    assert (tmp_path / "test").is_dir()
