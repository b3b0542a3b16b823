"""A user's own Problem or Method, named "module:Class" in a study file.

The module is imported from ``sys.path`` (``PYTHONPATH``) or from the study file's folder,
which is appended to ``sys.path`` (in the parent and, through the runner, in every worker
process, so loky and Dask workers import the same class). A plugin's source digest is part
of its tasks' keys: editing the module recomputes its cells.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import sys
from pathlib import Path

from .._validation import did_you_mean
from ..errors import DescentlabError


def is_plugin(name: str) -> bool:
    """Whether ``name`` is "module:Class" (not a registered name)."""
    return isinstance(name, str) and ":" in name


def add_folder(folder: str | Path | None) -> None:
    """Make the modules next to the study file importable (after ``sys.path``'s own)."""
    if folder is not None and str(folder) not in sys.path:
        sys.path.append(str(folder))


def import_class(ref: str, folder: str | Path | None, *, base: type, where: str) -> type:
    """The class ``ref`` = "module:Class", a subclass of ``base`` (errors name ``where``)."""
    module_name, _, class_name = ref.partition(":")
    if not module_name or not class_name.isidentifier():
        raise DescentlabError(f"{where}: expected 'module:Class' (e.g. 'my_methods:MyGD'), "
                              f"got {ref!r}")
    add_folder(folder)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise DescentlabError(f"{where}: cannot import the module {module_name!r} of {ref!r} "
                              f"({exc}); it is looked up on PYTHONPATH and in the study "
                              f"file's folder {str(folder)!r}") from None
    except Exception as exc:  # the user's module failed while importing
        raise DescentlabError(f"{where}: importing {module_name!r} raised "
                              f"{type(exc).__name__}: {exc}") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        classes = sorted(k for k, v in vars(module).items()
                         if inspect.isclass(v) and issubclass(v, base) and v is not base)
        raise DescentlabError(f"{where}: the module {module_name!r} has no {class_name!r}"
                              f"{did_you_mean(class_name, classes)}; its {base.__name__} "
                              f"classes are {', '.join(classes) or 'none'}")
    if not (inspect.isclass(cls) and issubclass(cls, base)):
        raise DescentlabError(f"{where}: expected a descentlab {base.__name__} subclass, got "
                              f"{ref!r} = {cls!r}")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise DescentlabError(f"{where}: {ref!r} does not implement {missing} (abstract "
                              f"methods of {base.__name__})")
    return cls


def check_arguments(cls: type, params: dict, where: str) -> None:
    """``params`` are keyword arguments that ``cls(...)`` accepts (names only)."""
    signature = inspect.signature(cls)
    accepted = [p.name for p in signature.parameters.values()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values()):
        return
    for key in params:
        if key not in accepted:
            raise DescentlabError(f"{where}.{key}: unknown parameter of {cls.__name__}"
                                  f"{did_you_mean(key, accepted)}; accepted are "
                                  f"{', '.join(['name', *accepted])}")


def source_digest(cls: type) -> str:
    """sha256 of the source file of the module defining ``cls`` ('' when it has none)."""
    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", None)
    if not path:
        return ""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


__all__ = ["add_folder", "check_arguments", "import_class", "is_plugin", "source_digest"]
