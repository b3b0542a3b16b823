"""The HTML report: self-contained, complete, and checked in a real headless Chromium."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_browser import inspect_page, install_chromium
from sweep_experiments import registered

from descentlab.cli import main
from descentlab.errors import DescentlabError
from descentlab.executors import SerialExecutor
from descentlab.experiments import reproduce
from descentlab.report import find_experiments, write_report

EXPERIMENTS = ["quadratic-rates", "sweep-sleepy", "sweep-sleepy"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, list[Path]]:
    """A report of two OUT dirs: one in the `reproduce all` layout, one single experiment
    whose claims fail."""
    root = tmp_path_factory.mktemp("report")
    all_dir, failing = root / "all", root / "failing"
    reproduce("quadratic-rates", out=all_dir / "quadratic-rates", executor=SerialExecutor())
    with registered():
        reproduce("sweep-sleepy", out=all_dir / "sweep-sleepy")
        reproduce("sweep-sleepy", out=failing, overrides={"fail": True})
    html = write_report([all_dir, failing], root / "site" / "report.html")
    return html, [all_dir, failing]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(path: Path) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tags


def test_report_is_self_contained(report):
    html, _ = report
    tags = _tags(html)
    assert not [t for t, _ in tags if t in ("script", "iframe", "object", "embed")]
    for tag, attrs in tags:
        for name in ("src", "href", "srcset", "poster", "data"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("data:", "#")), (tag, name, value[:80])
    assert not re.search(r"url\(\s*['\"]?(?!data:)", html.read_text()), "CSS fetches a URL"
    assert "@import" not in html.read_text()


def test_report_has_every_experiment_its_figures_and_claims(report):
    html, outs = report
    text = html.read_text(encoding="utf-8")
    tags = _tags(html)
    rows = [a["data-experiment"] for t, a in tags if t == "tr" and "data-experiment" in a]
    assert rows == EXPERIMENTS
    sections = [a["data-experiment"] for t, a in tags
                if t == "section" and "experiment" in a.get("class", "")]
    assert sections == EXPERIMENTS
    figures = sum(len(r.figures) for r in find_experiments(outs))
    images = [a for t, a in tags if t == "img"]
    assert len(images) == figures == 3
    assert all(a["src"].startswith("data:image/png;base64,") and int(a["width"]) > 0
               for a in images)
    assert "Linear rates of GD, heavy ball and Nesterov" in text  # what it reproduces
    assert "seed 004 (NYU Foundations of Deep Learning" in text  # from which seed
    assert "rho = 0." in text  # measured values of the claims
    assert text.count(">PASS<") >= 15 + 2 + 1 and text.count(">FAIL<") >= 2
    assert "values are finite &lt;and&gt; escaped" in text  # claim text is escaped
    for word in ("Configuration", "Timings", "Provenance", "kappas", "sum of task wall times",
                 "git commit", "numpy"):
        assert word in text, word


def test_cli_report_prints_the_absolute_path(report, tmp_path):
    _, outs = report
    result = CliRunner().invoke(main, ["report", *map(str, outs), "-o",
                                       str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str((tmp_path / "r.html").resolve())
    empty = CliRunner().invoke(main, ["report", str(tmp_path), "-o", str(tmp_path / "x.html")])
    assert empty.exit_code == 2 and "checks.json" in empty.output
    with pytest.raises(DescentlabError, match="does not exist"):
        write_report([tmp_path / "nope"], tmp_path / "y.html")


# ---------------------------------------------------------------- real browser
@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium from Debian's `chromium` package, installed with apt-get when missing."""
    path, reason = install_chromium()
    if path is None:
        pytest.skip(f"browser test skipped: {reason}")
    return path


def test_report_renders_in_chromium(chromium, report):
    html, _ = report
    page = inspect_page(chromium, html)
    assert page.console_errors == []
    assert page.external_requests == []
    assert page.probe["scripts"] == 0
    assert len(page.images) == 3 and page.broken_images == []
    assert all(i["naturalWidth"] > 100 and i["naturalHeight"] > 100 for i in page.images)
    assert page.summary_experiments == EXPERIMENTS
    verdicts = [row["cells"][-1] for row in page.probe["summary"]]
    assert verdicts == ["PASS", "PASS", "FAIL"]


def test_browser_harness_sees_broken_pages(chromium, tmp_path):
    """The checks above have teeth: a missing image and a console error are reported."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
                   '<img src="missing.png" alt="x"><script>console.error("boom")</script>'
                   '<img src="https://example.invalid/a.png" alt="y"></body></html>')
    page = inspect_page(chromium, bad)
    assert any("boom" in e for e in page.console_errors)
    assert any("ERR_FILE_NOT_FOUND" in e or "missing.png" in e for e in page.console_errors)
    assert len(page.broken_images) == 2
    assert sorted(page.external_requests) == [(tmp_path / "missing.png").as_uri(),
                                              "https://example.invalid/a.png"]
    assert page.summary_experiments == []
