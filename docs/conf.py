"""Sphinx configuration of the descentlab documentation site (built offline: no intersphinx,
no downloads). ``make docs`` builds it with the gallery executed and the experiments' quick
presets run first; ``tests/test_docs.py`` builds it with ``-W -D plot_gallery=0``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(ROOT))

import descentlab  # noqa: E402

project = "descentlab"
author = "the descentlab authors"
copyright = "descentlab authors"  # noqa: A001
release = descentlab.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_click",
    "sphinx_copybutton",
    "sphinx_gallery.gen_gallery",
    "descentlab_docs",
]

exclude_patterns = ["_build", "papers/notes/*", "sg_execution_times.rst"]
templates_path = []
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
nitpicky = False
suppress_warnings = []

# ------------------------------------------------------------------ autodoc / numpydoc
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autosummary_generate = False
# the docstrings are prose (numpydoc's parser accepts it): no section is demanded
numpydoc_validation_checks: set[str] = set()
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# ------------------------------------------------------------------ MathJax, offline
# MathJax is the only script that a page could fetch from outside; the pages say what they
# need in LaTeX, rendered by the browser's MathJax when it can be loaded, readable as text
# otherwise. Set DESCENTLAB_MATHJAX to a local copy of tex-chtml.js to render offline.
if os.environ.get("DESCENTLAB_MATHJAX"):
    mathjax_path = os.environ["DESCENTLAB_MATHJAX"]

# ------------------------------------------------------------------ sphinx-gallery
sphinx_gallery_conf = {
    "examples_dirs": [str(ROOT / "examples" / "gallery")],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "plot_gallery": "True",            # `-D plot_gallery=0` builds without running them
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "show_memory": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "image_scrapers": ("matplotlib",),
    "reference_url": {},               # no remote lookups
    "binder": {},
    "line_numbers": False,
}

# ------------------------------------------------------------------ HTML
html_theme = "pydata_sphinx_theme"
html_title = f"descentlab {release}"
html_static_path = [p for p in ["_static"] if (Path(__file__).parent / p).is_dir()]
html_theme_options = {
    "navbar_end": ["navbar-icon-links"],
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False
html_copy_source = False

# ------------------------------------------------------------------ generated pages
#: output of `descentlab reproduce all --preset quick --out DIR` (figures, claims, times);
#: the experiment pages show them when the directory exists
descentlab_results = os.environ.get("DESCENTLAB_DOCS_RESULTS", str(HERE / "_build" / "reproduce"))
