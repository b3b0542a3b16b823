"""The documentation cannot rot: the site builds with warnings as errors, the README's Python
blocks and the user guide's worked examples run, and so do the two fastest gallery scripts.

The site is built once per session (``sphinx-build -W``, gallery execution off, no
experiment results: the experiment pages say how to get them); ``make docs`` builds the
full site with the gallery executed and every quick preset run first.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDE_EXAMPLES = sorted((DOCS / "guide" / "examples").glob("*.py"))
#: the two fastest gallery scripts (5-8 s each here); `make docs` runs them all
FAST_GALLERY = ["plot_quadratic_rates.py", "plot_pl_example.py"]
#: ceiling for one subprocess: catches a hang, not a slow machine
TIMEOUT = 600


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    env.setdefault("DESCENTLAB_CACHE", str(tmp_path / "cache"))
    return env


def _python(args, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The HTML site built with ``sphinx-build -W`` (gallery not executed)."""
    import sphinx  # noqa: F401  (a dev dependency: an ImportError fails, it does not skip)

    tmp = tmp_path_factory.mktemp("docs")
    out = tmp / "html"
    env = _env(tmp)
    env["DESCENTLAB_DOCS_RESULTS"] = str(tmp / "no-results")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-D", "plot_gallery=0", "-d", str(tmp / "doctrees"), str(DOCS), str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, f"sphinx-build -W failed:\n{proc.stderr[-5000:]}"
    return out


def _text(path: Path) -> str:
    """The page's text: tags removed, entities of quotes decoded, whitespace collapsed."""
    text = re.sub(r"<[^>]+>", "", path.read_text())
    text = text.replace("&#8212;", "-").replace("&#8217;", "'").replace("’", "'")
    text = text.replace("&quot;", '"')
    return re.sub(r"\s+", " ", text)


def test_site_builds_with_every_page(site):
    assert (site / "index.html").is_file()
    for page in ["guide/getting_started", "guide/concepts", "guide/adding_a_method",
                 "guide/adding_a_problem", "guide/adding_an_experiment", "guide/dask",
                 "guide/results", "cli", "generated/api/index", "generated/papers/index",
                 "auto_examples/index"]:
        assert (site / f"{page}.html").is_file(), page


def test_methods_table_lists_every_registered_method(site):
    from descentlab.methods import METHODS

    text = _text(site / "guide" / "adding_a_method.html")
    for name, cls in METHODS.items():
        assert name in text and cls.__name__ in text, name
    api = (site / "generated" / "api" / "methods.html").read_text()
    for cls in METHODS.values():  # each class documented (its docstring: the update rule)
        assert f'id="{cls.__module__}.{cls.__qualname__}"' in api, cls.__name__


def test_one_page_per_registered_experiment(site):
    from descentlab.experiments import experiment_names, get_experiment

    for name in experiment_names():
        exp = get_experiment(name)
        page = site / "generated" / "papers" / f"{name}.html"
        assert page.is_file(), name
        text = _text(page)
        assert exp.title.split(":")[0] in text
        for field in exp.presets["paper"].__dataclass_fields__:  # both presets' settings
            assert field in text, (name, field)
        assert "make docs" in text  # built without results: says how to get them


def test_every_public_module_has_an_api_section(site):
    import importlib
    import pkgutil

    import descentlab

    pages = "".join(p.read_text() for p in (site / "generated" / "api").glob("*.html"))
    for info in pkgutil.walk_packages(descentlab.__path__, prefix="descentlab."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]) \
                or info.name.startswith("descentlab.cli"):
            continue
        importlib.import_module(info.name)
        assert f'id="module-{info.name}"' in pages, info.name


def test_cli_page_is_generated_from_the_click_group(site):
    from descentlab.cli import main

    text = _text(site / "cli.html")
    for name, command in main.commands.items():
        assert f"descentlab {name}" in text, name
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt in text, (name, opt)


def test_experiment_page_shows_measured_claims(tmp_path):
    """With the output of ``reproduce`` the page shows the figure, claims and time."""
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import descentlab_docs
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    from descentlab.experiments import reproduce

    results = tmp_path / "results"
    rep = reproduce("quadratic-rates", preset="quick", out=results / "quadratic-rates",
                    overrides={"kappas": (10.0,), "dim": 10})
    text = descentlab_docs.experiment_page("quadratic-rates", tmp_path / "gen", results,
                                           DOCS / "papers" / "notes")
    assert f"**{sum(c.passed for c in rep.claims)} of {len(rep.claims)} claims hold.**" in text
    for claim in rep.claims:
        assert descentlab_docs._escape(claim.measured) in text
    figure = "quadratic-rates-suboptimality.png"
    assert f"figures/{figure}" in text and (tmp_path / "gen" / "papers" / "figures" /
                                            figure).is_file()
    assert "s** of compute" in text
    assert "papers/notes/quadratic-rates.rst" in text  # the hand-written differences


def test_docstring_taming_keeps_math_and_markup():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from descentlab_docs import tame_docstring
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    lines = ["A display is", "", "    x+ = x - s |g|", "        continued", "",
             "* a bullet with |x|, a*_k, prov_ and *emphasis*, ``|x|``, :math:`|x|`"]
    out = tame_docstring(lines)
    assert out[:4] == ["A display is", "", "::", ""]          # a literal block, untouched
    assert "    x+ = x - s |g|" in out
    assert out[-1] == ("* a bullet with \\|x\\|, a\\*_k, prov\\_ and *emphasis*, ``|x|``, "
                       ":math:`|x|`")


def _readme_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_has_python_blocks():
    assert len(_readme_blocks()) >= 3


@pytest.mark.parametrize("index", range(len(_readme_blocks())))
def test_readme_python_block_runs(index, tmp_path):
    """Each ```python block of the README runs as written, from a scratch directory (its
    relative paths, e.g. ../shared/datasets/a9a, are resolved from the project root)."""
    code = _readme_blocks()[index]
    work = tmp_path / "work"
    work.mkdir()
    # the README is read from the project directory: ../shared/... is next to it
    code = code.replace('"../shared/', f'"{ROOT.parent}/shared/')
    (work / "block.py").write_text(code)
    proc = _python(["block.py"], work, _env(tmp_path))
    assert proc.returncode == 0, f"README block {index} failed:\n{code}\n{proc.stderr[-3000:]}"


@pytest.mark.parametrize("example", GUIDE_EXAMPLES, ids=lambda p: p.name)
def test_user_guide_worked_example_runs(example, tmp_path):
    proc = _python([str(example)], tmp_path, _env(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_user_guide_experiment_runs_as_a_plugin_from_the_cli(tmp_path):
    env = _env(tmp_path)
    env["PYTHONPATH"] = os.pathsep.join([str(DOCS / "guide" / "examples"), str(ROOT)])
    env["DESCENTLAB_PLUGINS"] = "step_sizes"
    proc = subprocess.run([sys.executable, "-m", "descentlab.cli", "reproduce",
                           "gd-step-sizes", "--out", str(tmp_path / "out"), "--quiet",
                           "--backend", "serial"],
                          cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "5/5 claims pass" in proc.stdout
    assert (tmp_path / "out" / "gd-step-sizes-rates.png").is_file()


@pytest.mark.parametrize("script", FAST_GALLERY)
def test_fast_gallery_script_runs(script, tmp_path):
    proc = _python([str(ROOT / "examples" / "gallery" / script)], tmp_path, _env(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_gallery_scripts_follow_the_convention():
    scripts = sorted((ROOT / "examples" / "gallery").glob("plot_*.py"))
    assert 8 <= len(scripts) <= 12
    for script in scripts:
        doc = script.read_text().split('"""')[1]
        title = doc.strip().splitlines()
        assert len(title) >= 3 and set(title[1]) == {"="}, script.name  # a titled docstring
