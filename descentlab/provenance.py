"""Provenance stored with every result: versions, git commit, machine."""

from __future__ import annotations

import functools
import platform
import subprocess
from importlib import metadata
from pathlib import Path

_LIBRARIES = ("numpy", "scipy", "pandas", "pyarrow", "scikit-learn", "matplotlib", "numba")


def package_version() -> str:
    try:
        return metadata.version("descentlab")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


@functools.cache
def git_commit() -> str | None:
    """The commit of the source tree descentlab runs from (None outside a git checkout)."""
    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--",
                                "descentlab"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


@functools.cache
def environment() -> dict:
    """Versions of descentlab, Python and the numerical libraries, and the machine."""
    libs = {}
    for name in _LIBRARIES:
        try:
            libs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"descentlab": package_version(), "git_commit": git_commit(),
            "python": platform.python_version(), "libraries": libs,
            "machine": f"{platform.node()} {platform.machine()} {platform.system()}"}
