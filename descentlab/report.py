"""The HTML report: one self-contained file for the experiments of one or more OUT dirs.

``write_report(paths, output)`` reads what ``reproduce`` wrote (OUT/checks.json and the
figures it lists; OUT may also hold one subdirectory per experiment, as written by
``descentlab reproduce all``) and writes a single HTML file with

* a summary table with one row per experiment (claims passed, PASS/FAIL);
* per study (``descentlab study``, checks.json with "kind": "study"): its figures, the
  summary table (best step of each method, winners marked), the problems' constants, the
  study file itself, settings, timings and provenance;
* per experiment: title, what it reproduces and from which seed document, its figures,
  the claims table (expected, measured, PASS/FAIL), the configuration, the timings and
  sweep counts, and the provenance (versions, git commit, machine).

The file needs no network and no JavaScript: the CSS is inline, the figures are PNG (or GIF) data
URIs, and there is no external reference at all (even the favicon is an empty data URI).

checks.json is untrusted input: its shape is checked where it is read (a clear error naming
the file otherwise), and only figures that resolve inside the experiment's directory are
read and embedded; any other path (absolute, ``..``, a symbolic link leading out) is listed
as refused in the report. An OUT given twice is reported once, and the report never
overwrites a file that ``reproduce`` wrote.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DescentlabError
from .provenance import environment
from .store import (
    CHECKS_FILE,
    check_output,
    out_files,
    printable,
    protected_files,
    write_output,
)

# key of checks.json -> (JSON type it must have, how to say it); absent keys are allowed
_SHAPE: dict[str, tuple[type, str]] = {
    "claims": (list, "a list of objects"),
    "figures": (list, "a list of file names"),
    "config": (dict, "an object"),
    "timings": (dict, "an object"),
    "sweep": (dict, "an object"),
    "environment": (dict, "an object"),
    "summary": (list, "a list of objects"),
    "problems": (list, "a list of objects"),
}

CSS = """
:root { --fg: #1d232a; --muted: #5b6570; --line: #d7dde3; --pass: #17663a;
        --pass-bg: #e3f4e8; --fail: #a4161a; --fail-bg: #fbe4e4; --head: #f2f5f8; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--fg); margin: 0 auto; max-width: 1180px; padding: 24px 28px 64px; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.35em; margin: 0 0 6px; }
h3 { font-size: 1.05em; margin: 22px 0 8px; color: var(--muted); text-transform: uppercase;
     letter-spacing: .04em; }
p.meta, .muted { color: var(--muted); font-size: .92em; }
section.experiment { border-top: 3px solid var(--line); margin-top: 36px; padding-top: 18px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: .92em; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left;
         vertical-align: top; }
thead th { background: var(--head); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.pass, span.pass { color: var(--pass); background: var(--pass-bg); font-weight: 600; }
td.fail, span.fail { color: var(--fail); background: var(--fail-bg); font-weight: 600; }
span.pass, span.fail { padding: 2px 8px; border-radius: 4px; }
tr.fail td { background: #fff6f6; }
table.kv { width: auto; min-width: 50%; }
table.kv th { background: var(--head); font-weight: 600; white-space: nowrap; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
              font-size: .9em; }
dl.about { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 8px 0; }
dl.about dt { font-weight: 600; color: var(--muted); }
dl.about dd { margin: 0; }
figure { margin: 10px 0 18px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .88em; }
.missing { color: var(--fail); }
"""


@dataclass
class ExperimentRecord:
    """What ``reproduce`` wrote for one experiment: its checks.json and its directory."""

    directory: Path
    checks: dict
    figures: list[Path] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # figure paths that lead out of directory

    @property
    def name(self) -> str:
        return str(self.checks.get("experiment", self.directory.name))

    @property
    def claims(self) -> list[dict]:
        return list(self.checks.get("claims", []))

    @property
    def passed(self) -> bool:
        return all(bool(c.get("passed")) for c in self.claims)


def _kind(value) -> str:
    """How a JSON value is described in messages: its type and a short excerpt."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    text = json.dumps(value, default=str)
    return f"{names.get(type(value), type(value).__name__)} ({text[:60]}" \
           f"{'...' if len(text) > 60 else ''})"


def check_checks(path: Path, checks) -> dict:
    """``checks`` (the parsed ``path``) after checking it has the shape ``reproduce`` writes."""
    def bad(what: str, expected: str, got) -> DescentlabError:
        return DescentlabError(f"{path}: expected {what} to be {expected}, got {_kind(got)}; "
                               f"rerun `descentlab reproduce ... --out {path.parent}`")

    if not isinstance(checks, dict):
        raise bad("the file", "a JSON object (as written by `descentlab reproduce`)", checks)
    for key, (kind, expected) in _SHAPE.items():
        if key in checks and not isinstance(checks[key], kind):
            raise bad(f'"{key}"', expected, checks[key])
    for i, claim in enumerate(checks.get("claims", [])):
        if not isinstance(claim, dict):
            raise bad(f'"claims"[{i}]', "an object", claim)
        if not isinstance(claim.get("passed", False), bool):
            raise bad(f'"claims"[{i}]["passed"]', "true or false", claim["passed"])
    for i, name in enumerate(checks.get("figures", [])):
        if not isinstance(name, str):
            raise bad(f'"figures"[{i}]', "a file name (a string)", name)
    libraries = checks.get("environment", {}).get("libraries", {})
    if not isinstance(libraries, dict):
        raise bad('"environment"["libraries"]', "an object", libraries)
    return checks


def _read_checks(directory: Path) -> dict:
    path = directory / CHECKS_FILE
    try:
        checks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise DescentlabError(f"OUT: cannot read {path} ({exc})") from None
    return check_checks(path, checks)


def _split_figures(directory: Path, names: list[str]) -> tuple[list[Path], list[str]]:
    """(figures inside ``directory``, resolved; names of the others), in their order."""
    root = directory.resolve()
    inside, refused = [], []
    for name in names:
        path = (directory / name).resolve()
        if path != root and path.is_relative_to(root):
            inside.append(path)
        else:
            refused.append(name)
    return inside, refused


def find_experiments(paths: Sequence[str | os.PathLike]) -> list[ExperimentRecord]:
    """The experiments of output directories (OUT/checks.json or OUT/*/checks.json), each
    directory once however often it is named."""
    if not paths:
        raise DescentlabError("OUT: expected at least one output directory")
    records, seen = [], set()
    for raw in paths:
        for d in (f.parent for f in out_files(Path(raw), CHECKS_FILE)):
            if (key := d.resolve()) in seen:
                continue
            seen.add(key)
            checks = _read_checks(d)
            figures, refused = _split_figures(d, checks.get("figures", []))
            records.append(ExperimentRecord(d, checks, figures, refused))
    return records


# ------------------------------------------------------------------------- pieces
def _e(value) -> str:
    return html.escape("" if value is None else printable(value), quote=True)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    return str(value)


def _seconds(value) -> str:
    return f"{value:.2f} s" if isinstance(value, (int, float)) else _fmt(value)


def _kv_table(rows: list[tuple[str, object]], css: str = "kv") -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td class=\"mono\">{_e(v)}</td></tr>"
                   for k, v in rows)
    return f'<table class="{css}"><tbody>{body}</tbody></table>'


def _verdict(passed: bool, tag: str = "td") -> str:
    css, word = ("pass", "PASS") if passed else ("fail", "FAIL")
    return f'<{tag} class="{css}">{word}</{tag}>'


def _image_size(data: bytes) -> tuple[str, int, int] | None:
    """(mime type, width, height) of a PNG or GIF file, None for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return ("image/png", *struct.unpack(">II", data[16:24]))
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return ("image/gif", *struct.unpack("<HH", data[6:10]))
    return None


def _figure(path: Path, name: str) -> str:
    caption = f"{name}: {path.name}"
    if not path.is_file():
        return f'<p class="missing">figure {_e(path.name)} is missing from {_e(path.parent)}</p>'
    try:
        with path.open("rb") as fh:
            head = fh.read(24)
            info = _image_size(head)
            data = head + fh.read() if info is not None else b""
    except OSError as exc:
        return f'<p class="missing">figure {_e(path.name)} cannot be read ({_e(exc)})</p>'
    if info is None:
        return f'<p class="missing">figure {_e(path.name)} is not a PNG or GIF file</p>'
    mime, width, height = info
    uri = f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
    return (f'<figure><img src="{uri}" width="{width}" height="{height}" '
            f'alt="{_e(caption)}"><figcaption>{_e(caption)}</figcaption></figure>')


def _refused(name: str, directory: Path) -> str:
    return (f'<p class="missing">figure {_e(name)} refused: it is not a file inside '
            f'{_e(directory)} (only figures inside the experiment\'s directory are embedded)'
            f'</p>')


def _claims_table(claims: list[dict]) -> str:
    if not claims:
        return '<p class="muted">This experiment states no claims.</p>'
    rows = []
    for c in claims:
        ok = bool(c.get("passed"))
        rows.append(f'<tr class="{"pass" if ok else "fail"}"><td>{_e(c.get("name"))}</td>'
                    f'<td>{_e(c.get("expected"))}</td><td>{_e(c.get("measured"))}</td>'
                    f'{_verdict(ok)}</tr>')
    return ('<table class="claims"><thead><tr><th>claim</th><th>expected</th>'
            '<th>measured</th><th>result</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _timings(checks: dict) -> str:
    t, s = checks.get("timings", {}), checks.get("sweep", {})
    rows: list[tuple[str, object]] = []
    if "run_s" in t:
        rows.append(("sweep (wall)", _seconds(t["run_s"])))
    if "task_wall_s" in t:
        rows.append(("sum of task wall times", _seconds(t["task_wall_s"])))
    if "check_and_plot_s" in t:
        rows.append(("checks and figures", _seconds(t["check_and_plot_s"])))
    if s:
        rows.append(("tasks", f"{s.get('tasks')} ({s.get('computed')} computed in this run, "
                              f"{s.get('cached')} finished before, "
                              f"{s.get('corrupt_recomputed', 0)} corrupt files recomputed)"))
        rows.append(("executor", s.get("executor")))
    return _kv_table(rows) if rows else '<p class="muted">no timings recorded</p>'


def _provenance(env: dict) -> str:
    rows: list[tuple[str, object]] = [
        ("descentlab", env.get("descentlab")),
        ("git commit", env.get("git_commit") or "not available"),
        ("python", env.get("python")),
        ("machine", env.get("machine")),
    ]
    rows += [(name, version) for name, version in sorted(env.get("libraries", {}).items())]
    return _kv_table(rows)


def _study_summary(c: dict) -> str:
    """The summary rows of a study (best step per method), winners marked."""
    rows = c.get("summary")
    targets = c.get("targets")
    if not isinstance(rows, list) or not isinstance(targets, list):
        return '<p class="muted">no summary recorded</p>'
    targets = sorted((t for t in targets if isinstance(t, (int, float))), reverse=True)
    head = "".join(f"<th>calls to {t:g}</th><th>time to {t:g}</th>" for t in targets)
    body = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        wins = set(str(row.get("winners") or "").split(", "))
        cells = [f"<td>{_e(row.get('problem_label'))}</td>",
                 f"<td>{_e(row.get('method_label'))}</td>",
                 f"<td>{_e(row.get('step_label'))} ({_e(_fmt(row.get('step')))})</td>"]
        for t in targets:
            for what in ("calls", "time"):
                key = f"{what}_to_{t:g}"
                value = row.get(key)
                text = "not reached" if value is None or value == float("inf") \
                    else _fmt(value)
                css = ' class="num pass"' if key in wins else ' class="num"'
                cells.append(f"<td{css}>{_e(text)}</td>")
        cells.append(f'<td class="num">{_e(_fmt(row.get("final_rel_subopt")))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return ('<table class="study-summary"><thead><tr><th>problem</th><th>method</th>'
            f'<th>best step</th>{head}<th>final rel_subopt</th></tr></thead><tbody>'
            + "".join(body) + "</tbody></table>"
            '<p class="muted">Median over seeds at the best step of each method; '
            'highlighted: the best of the column on its problem.</p>')


def _study_file(rec: ExperimentRecord) -> str:
    name = rec.checks.get("study_file")
    path = rec.directory / name if isinstance(name, str) else None
    if path is None or not path.is_file() or not path.resolve().is_relative_to(
            rec.directory.resolve()):
        return '<p class="missing">the study file is missing</p>'
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f'<p class="missing">the study file cannot be read ({_e(exc)})</p>'
    return f'<pre class="mono">{_e(text)}</pre>'


def _study_section(index: int, rec: ExperimentRecord) -> str:
    c = rec.checks
    figures = "".join(_figure(f, rec.name) for f in rec.figures) + \
        "".join(_refused(name, rec.directory) for name in rec.refused) or \
        '<p class="muted">no figures</p>'
    problems = c.get("problems") if isinstance(c.get("problems"), list) else []
    constants = "".join(
        "<tr>" + "".join(f"<td>{_e(_fmt(p.get(k)))}</td>" for k in
                         ("problem", "n", "dim", "L", "L_max", "mu", "f_star")) + "</tr>"
        for p in problems if isinstance(p, dict))
    return f"""
<section class="experiment study" id="exp-{index}" data-experiment="{_e(rec.name)}">
  <h2>{_e(c.get("title", rec.name))}</h2>
  <p class="meta"><code>{_e(rec.name)}</code>: a study</p>
  <dl class="about">
    <dt>Description</dt><dd>{_e(c.get("description") or "")}</dd>
    <dt>Results</dt><dd><code>{_e(rec.directory)}</code></dd>
  </dl>
  <h3>Figures</h3>
  {figures}
  <h3>Summary</h3>
  {_study_summary(c)}
  <h3>Problems</h3>
  <table><thead><tr><th>problem</th><th>n</th><th>dim</th><th>L</th><th>L_max</th>
  <th>mu</th><th>F*</th></tr></thead><tbody>{constants}</tbody></table>
  <h3>Study file</h3>
  {_study_file(rec)}
  <h3>Settings</h3>
  {_kv_table([(k, _fmt(v)) for k, v in c.get("config", {}).items()]
             + [("code version", c.get("version"))])}
  <h3>Timings</h3>
  {_timings(c)}
  <h3>Provenance</h3>
  {_provenance(c.get("environment", {}))}
</section>"""


def _section(index: int, rec: ExperimentRecord) -> str:
    c = rec.checks
    if c.get("kind") == "study":
        return _study_section(index, rec)
    claims = rec.claims
    n_pass = sum(bool(x.get("passed")) for x in claims)
    config = c.get("config", {})
    figures = "".join(_figure(f, rec.name) for f in rec.figures) + \
        "".join(_refused(name, rec.directory) for name in rec.refused) or \
        '<p class="muted">no figures</p>'
    return f"""
<section class="experiment" id="exp-{index}" data-experiment="{_e(rec.name)}">
  <h2>{_e(c.get("title", rec.name))}</h2>
  <p class="meta"><code>{_e(rec.name)}</code>, preset <code>{_e(c.get("preset"))}</code>,
     {_verdict(rec.passed, "span")} {n_pass}/{len(claims)} claims pass</p>
  <dl class="about">
    <dt>Reproduces</dt><dd>{_e(c.get("description") or c.get("title"))}</dd>
    <dt>Source</dt><dd>seed {_e(c.get("source"))}</dd>
    <dt>Results</dt><dd><code>{_e(rec.directory)}</code></dd>
  </dl>
  <h3>Figures</h3>
  {figures}
  <h3>Claims</h3>
  {_claims_table(claims)}
  <h3>Configuration</h3>
  {_kv_table([(k, _fmt(v)) for k, v in config.items()] + [("code version", c.get("version"))])}
  <h3>Timings</h3>
  {_timings(c)}
  <h3>Provenance</h3>
  {_provenance(c.get("environment", {}))}
</section>"""


def _summary(records: list[ExperimentRecord]) -> str:
    rows = []
    for i, rec in enumerate(records):
        claims = rec.claims
        n_pass = sum(bool(x.get("passed")) for x in claims)
        study = rec.checks.get("kind") == "study"
        rows.append(f'<tr data-experiment="{_e(rec.name)}"><td><a href="#exp-{i}">'
                    f'<code>{_e(rec.name)}</code></a></td>'
                    f'<td>{_e(rec.checks.get("title"))}</td>'
                    f'<td>{_e(rec.checks.get("source"))}</td>'
                    f'<td>{_e(rec.checks.get("preset"))}</td>'
                    + ('<td class="num">-</td><td>study</td></tr>' if study else
                       f'<td class="num">{n_pass}/{len(claims)}</td>{_verdict(rec.passed)}'
                       '</tr>'))
    return ('<table id="claims-summary" class="summary"><thead><tr><th>experiment</th>'
            '<th>reproduces</th><th>seed document</th><th>preset</th><th>claims passed</th>'
            '<th>result</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")


def render_report(records: list[ExperimentRecord], title: str = "descentlab report") -> str:
    """The HTML text of the report."""
    env = environment()
    n_pass = sum(rec.passed for rec in records)
    when = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    sections = "".join(_section(i, rec) for i, rec in enumerate(records))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<link rel="icon" href="data:,">
<style>{CSS}</style>
</head>
<body>
<header>
  <h1>{_e(title)}</h1>
  <p class="meta">{len(records)} experiment{"s" if len(records) != 1 else ""},
    {n_pass} with every claim passing. Generated {_e(when)} by descentlab
    {_e(env.get("descentlab"))} (commit {_e(env.get("git_commit") or "n/a")}).</p>
</header>
<section id="summary">
  <h2>Claims by experiment</h2>
  {_summary(records)}
</section>
{sections}
</body>
</html>
"""


def save_report(records: list[ExperimentRecord], output: str | os.PathLike,
                title: str = "descentlab report") -> Path:
    """Write the report of ``records`` to ``output`` (option ``-o``), which must not be a file
    that ``reproduce`` wrote for them (checks.json, results.parquet, a figure, tasks/)."""
    files: list[Path] = []
    dirs: list[Path] = []
    for rec in records:
        fs, ds = protected_files(rec.directory)
        files += fs + rec.figures
        dirs += ds
    target = check_output("-o", output, files, dirs)
    text = render_report(records, title)
    return write_output("-o", target, lambda p: p.write_text(text, encoding="utf-8"))


def write_report(paths: Sequence[str | os.PathLike], output: str | os.PathLike,
                 title: str = "descentlab report") -> Path:
    """Write the report of the experiments under ``paths`` to ``output``; returns its path."""
    return save_report(find_experiments(paths), output, title)


__all__ = ["ExperimentRecord", "check_checks", "find_experiments", "render_report",
           "save_report", "write_report"]
