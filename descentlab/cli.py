"""The ``descentlab`` command line: list, reproduce, results, report, solve."""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._validation import check_int, check_positive
from .data import KNOWN_DATASETS
from .errors import DescentlabError, DivergenceError, NoProgressWarning
from .executors import BACKENDS
from .methods import ALIASES, METHODS, proximal_methods
from .problems import LeastSquares, Logistic
from .problems.regularizers import REGULARIZERS
from .run import MAX_BUDGET_CALLS

console = Console()
err_console = Console(stderr=True)

EXIT_CLAIM_FAILED = 3
EXIT_NO_PROGRESS = 4


def _parse_pairs(pairs: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair or not pair.split("=", 1)[0].strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=what)
        key, value = pair.split("=", 1)
        out[key.strip().replace("-", "_")] = value.strip()
    return out


def _number(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    if text.lower() in ("none", "null"):
        return None
    return text


class _Group(click.Group):
    """Turns descentlab's input errors into one clear line and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DescentlabError as exc:  # user text in the message is not rich markup
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="descentlab")
def main():
    """descentlab: first-order optimization for machine learning, measured against theory."""


@main.command("list")
@click.option("--names", is_flag=True, help="Print only the names, one per line.")
def list_experiments(names: bool):
    """List the reproducible experiments."""
    from .experiments import experiment_names, get_experiment

    if names:
        for name in experiment_names():
            click.echo(name)
        return
    table = Table(title="descentlab experiments", show_lines=False)
    table.add_column("name", style="bold")
    table.add_column("reproduces")
    table.add_column("source")
    for name in experiment_names():
        exp = get_experiment(name)
        table.add_row(name, exp.title, exp.source)
    console.print(table)


def _claims_table(rep) -> Table:
    table = Table(title=escape(f"{rep.experiment} ({rep.preset}): claims"))
    table.add_column("claim")
    table.add_column("expected")
    table.add_column("measured")
    table.add_column("result")
    for c in rep.claims:
        table.add_row(escape(c.name), escape(c.expected), escape(c.measured),
                      "[green]PASS[/]" if c.passed else "[bold red]FAIL[/]")
    return table


@main.command()
@click.argument("name")
@click.option("--preset", default="quick", show_default=True,
              help="Named configuration: quick (minutes) or paper (the published settings).")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Output directory [default: results/NAME]; with NAME=all, one "
                   "subdirectory per experiment. It must not hold another experiment "
                   "(see --force).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a setting of the configuration (repeatable); lists are "
                   "comma-separated (--set kappas=10,100).")
@click.option("--backend", type=click.Choice(BACKENDS, case_sensitive=False), default="local",
              show_default=True,
              help="Where the tasks run: local/joblib (loky processes on this machine), "
                   "serial (in this process) or dask (a Dask cluster).")
@click.option("--jobs", "-j", type=int, default=None,
              help="Worker processes (local backend, or a Dask LocalCluster) "
                   "[default: all cores].")
@click.option("--address", default=None, metavar="tcp://HOST:PORT",
              help="Scheduler of a running Dask cluster (with --backend dask); without it "
                   "a LocalCluster is started.")
@click.option("--force", is_flag=True,
              help="Recompute every task, even those already finished in OUT/tasks. If OUT "
                   "holds another experiment, first delete that experiment's files there "
                   "(its results.parquet, checks.json, figures and task files; nothing "
                   "else), so that OUT holds only NAME; without --force that is an error.")
@click.option("--quiet", "-q", is_flag=True,
              help="No progress bar: one log line when a sweep starts and one when it ends.")
def reproduce(name: str, preset: str, out: str | None, overrides: tuple[str, ...],
              backend: str, jobs: int | None, address: str | None, force: bool, quiet: bool):
    """Run experiment NAME (or 'all'), check its claims, write results, figures, checks.json.

    The grid runs as a sweep: each finished task is stored in OUT/tasks/ at once, and
    running the same command again computes only the tasks that are not finished.
    Everything is checked before the first task runs: NAME, --preset, every --set value,
    the backend, and that OUT is writable and holds no other experiment.
    Exits 0 when every claim passes, 3 when one fails and 2 on bad input.
    """
    try:
        _reproduce(name, preset, out, overrides, backend, jobs, address, force, quiet)
    except DescentlabError as exc:  # the message may quote user text: no markup
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(2)


def _reproduce(name: str, preset: str, out: str | None, overrides: tuple[str, ...],
               backend: str, jobs: int | None, address: str | None, force: bool,
               quiet: bool) -> None:
    from .executors import make_executor
    from .experiments import experiment_names, get_experiment
    from .experiments import reproduce as run_experiment
    from .experiments.outdir import check_out, check_path, make_writable

    names = experiment_names() if name == "all" else [name]
    settings = _parse_pairs(overrides, "--set")
    if name == "all" and settings:
        raise click.BadParameter("--set applies to one experiment, not to 'all'")
    for exp_name in names:  # validate names, presets and settings before running anything
        get_experiment(exp_name).config(preset, **settings)
    if out is not None:
        check_path(out, arg="--out")
    dirs = {exp_name: Path(out or "results") / exp_name if (name == "all" or out is None)
            else Path(out) for exp_name in names}
    if name == "all" and out is not None:
        check_out(out, name, arg="--out", layout="all")
    for exp_name, out_dir in dirs.items():
        check_out(out_dir, exp_name, force=force, arg="--out")
    failed = []
    with make_executor(backend, jobs=jobs, address=address) as executor:
        if address is not None:
            _ = executor.client  # connect now: a bad address fails before any work
        for out_dir in dirs.values():
            make_writable(out_dir, arg="--out")
        for exp_name, out_dir in dirs.items():
            rep = run_experiment(exp_name, preset=preset, out=out_dir, executor=executor,
                                 overrides=settings, force=force,
                                 progress="quiet" if quiet else "auto")
            console.print(_claims_table(rep))
            console.print(f"{sum(c.passed for c in rep.claims)}/{len(rep.claims)} claims pass; "
                          f"run {rep.timings['run_s']:.1f} s; wrote {escape(str(out_dir))}/",
                          highlight=False)
            if not rep.passed:
                failed.append(exp_name)
    if failed:
        err_console.print(f"[bold red]claims failed in: {escape(', '.join(failed))}[/]")
        sys.exit(EXIT_CLAIM_FAILED)


def _summary_rich(summary, targets) -> Table:
    """The study's summary as a rich table, the winner of each column in bold green."""
    table = Table(title="study summary (best step of each method, median over seeds)",
                  caption="* the best of the column on its problem; - not reached")
    cols = ["problem", "method", "best step"]
    for t in sorted(targets, reverse=True):
        cols += [f"calls to {t:g}", f"time to {t:g}"]
    cols.append("final rel_subopt")
    for c in cols:
        table.add_column(c, justify="left" if c in ("problem", "method", "best step")
                         else "right")
    for row in summary.to_dict("records"):
        wins = set(filter(None, str(row["winners"]).split(", ")))
        step = row["step_label"] + (f" ({row['step']:.3g})" if row["step_label"] !=
                                    f"{row['step']:g}" and math.isfinite(row["step"]) else "")
        cells = [escape(str(row["problem_label"])), escape(str(row["method_label"])),
                 escape(step)]
        for t in sorted(targets, reverse=True):
            for what, fmt in (("calls", "{:.4g}"), ("time", "{:.3g} s")):
                key = f"{what}_to_{t:g}"
                v = row[key]
                text = fmt.format(v) if math.isfinite(v) else "-"
                cells.append(f"[bold green]{text} *[/]" if key in wins else text)
        cells.append(f"{row['final_rel_subopt']:.2e}")
        table.add_row(*cells)
    return table


@main.command()
@click.argument("study_file", metavar="STUDY.toml", type=click.Path(dir_okay=False))
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Output directory [default: results/<study name>]. It must not hold "
                   "another study or experiment (see --force).")
@click.option("--backend", type=click.Choice(BACKENDS, case_sensitive=False), default="local",
              show_default=True,
              help="Where the cells run: local/joblib (loky processes), serial (in this "
                   "process) or dask (a Dask cluster).")
@click.option("--jobs", "-j", type=int, default=None,
              help="Worker processes (local backend, or a Dask LocalCluster) "
                   "[default: all cores].")
@click.option("--address", default=None, metavar="tcp://HOST:PORT",
              help="Scheduler of a running Dask cluster (with --backend dask).")
@click.option("--force", is_flag=True,
              help="Recompute every cell, even those finished in OUT/tasks; if OUT holds "
                   "another study or experiment, delete its files there first.")
@click.option("--quiet", "-q", is_flag=True,
              help="No progress bar: one log line when the sweep starts and one at the end.")
@click.option("--all-steps", is_flag=True,
              help="Figures show every step of each method, not only the best one.")
def study(study_file: str, out: str | None, backend: str, jobs: int | None,
          address: str | None, force: bool, quiet: bool, all_steps: bool):
    """Compare methods on problems as the study file STUDY.toml describes.

    The grid problems x methods x hyperparameters x steps x seeds runs as a resumable
    sweep (each finished cell in OUT/tasks/; running the command again computes only the
    missing cells). Everything is checked before the first cell runs: every key of the
    file, every method on every problem. Writes OUT/results.parquet, OUT/summary.csv,
    OUT/steps.csv, OUT/study-<problem>.png, OUT/study.toml and OUT/checks.json, and prints
    the summary (the winner of each column marked *). Exits 0, or 2 on bad input.
    """
    from .executors import make_executor
    from .experiments.outdir import check_out, check_path
    from .studies import load, run_study

    spec = load(study_file)
    out_dir = Path(out) if out is not None else Path("results") / spec.name
    check_path(out_dir, arg="--out")
    check_out(out_dir, "study:" + spec.name, force=force, arg="--out")
    with make_executor(backend, jobs=jobs, address=address) as executor:
        if address is not None:
            _ = executor.client  # connect now: a bad address fails before any work
        res = run_study(spec, out_dir, executor=executor, force=force,
                        progress="quiet" if quiet else "auto", all_steps=all_steps,
                        arg="--out")
    console.print(_summary_rich(res.summary, spec.targets))
    diverged = int(res.steps["diverged"].sum())
    if diverged:
        err_console.print(f"[yellow]warning:[/] {diverged} runs diverged (their rows end at "
                          f"the divergence; stop_reason = 'diverged')", highlight=False)
    sweep = res.sweep
    console.print(f"{len(sweep.results)} cells ({sweep.computed} computed, {sweep.cached} "
                  f"finished before); run {res.timings['run_s']:.1f} s; wrote "
                  f"{escape(str(out_dir))}/", highlight=False)


@main.command()
@click.argument("outs", nargs=-1, required=True, metavar="OUT [OUT ...]")
@click.option("--sql", default=None,
              help="SQL over the view 'results' [default: every result column, without "
                   "the prov_* provenance columns].")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="Write the rows to this CSV file instead of printing them.")
@click.option("--parquet", "parquet_path", type=click.Path(dir_okay=False), default=None,
              help="Write the rows to this Parquet file instead of printing them.")
@click.option("--max-rows", type=click.IntRange(min=0), default=40, show_default=True,
              help="Rows printed (the first and last halves); 0 prints all.")
def results(outs: tuple[str, ...], sql: str | None, csv_path: str | None,
            parquet_path: str | None, max_rows: int):
    """Query the results of one or several OUT directories with DuckDB.

    The rows of every OUT/results.parquet (or OUT/*/results.parquet) form a table named
    'results'; provenance columns start with prov_ (prov_experiment, prov_task,
    prov_git_commit, prov_machine, prov_wall_s, ...). --sql is one SELECT query, which
    reads that table and no file; --csv / --parquet write its rows.
    """
    import pandas as pd
    from rich.markup import escape

    from .store import query

    try:
        answer = query(outs, sql, csv=csv_path, parquet=parquet_path)
    except DescentlabError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(2)
    if not isinstance(answer, pd.DataFrame):
        err_console.print(f"wrote {escape(str(answer))}", highlight=False)
        return
    shown = None if max_rows == 0 or max_rows >= len(answer) else max_rows
    with pd.option_context("display.max_rows", shown, "display.min_rows", shown,
                           "display.max_columns", None, "display.width", 200,
                           "display.max_colwidth", 60):
        click.echo(answer.to_string(max_rows=shown))
    err_console.print(f"{len(answer)} rows", highlight=False)


@main.command()
@click.argument("outs", nargs=-1, required=True, metavar="OUT [OUT ...]")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="report.html",
              show_default=True, help="The HTML file to write.")
@click.option("--title", default="descentlab report", show_default=True)
def report(outs: tuple[str, ...], output: str, title: str):
    """Write one self-contained HTML report of the experiments in OUT directories.

    Per experiment: what it reproduces and from which seed, figures, claims with
    PASS/FAIL and measured values, configuration, timings and provenance. Prints the
    absolute path of the report.
    """
    from rich.markup import escape

    from .report import find_experiments, save_report

    try:
        records = find_experiments(outs)
        path = save_report(records, output, title=title)
    except DescentlabError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(2)
    for rec in records:
        for name in rec.refused:
            err_console.print(f"[yellow]warning:[/] {escape(rec.name)}: figure "
                              f"{escape(repr(name))} not embedded: it is not a file inside "
                              f"{escape(str(rec.directory))}", highlight=False)
    n_pass = sum(r.passed for r in records)
    err_console.print(f"report of {len(records)} experiments ({n_pass} with every claim "
                      f"passing):", highlight=False)
    click.echo(str(path.resolve()))


def _check_solve_numbers(*, lam, l1_ratio, positive_class, step, epochs, tol, time_limit,
                         seed, gap_tol=None) -> None:
    """The numeric options of ``solve``, checked before any data is read."""
    check_positive("--lam", lam, allow_none=True, strict=False)
    if l1_ratio is not None and check_positive("--l1-ratio", l1_ratio, strict=False) > 1:
        raise DescentlabError(f"--l1-ratio: expected a number in [0, 1], got {l1_ratio}")
    if positive_class is not None and not math.isfinite(positive_class):
        raise DescentlabError(f"--positive-class: expected a finite label, got {positive_class}")
    check_positive("--step", step, allow_none=True)
    if check_positive("--epochs", epochs, allow_none=True) is not None \
            and epochs > MAX_BUDGET_CALLS:  # the bound for n = 1, checked again once n is known
        raise DescentlabError(f"--epochs: expected at most 2^53 oracle calls, got {epochs:g}")
    check_positive("--tol", tol, allow_none=True)
    check_positive("--gap-tol", gap_tol, allow_none=True)
    check_positive("--time-limit", time_limit, allow_none=True)
    check_int("--seed", seed, minimum=0)


def _check_solve_regularization(reg: str, lam: float | None, l1_ratio: float | None) -> None:
    """--lam and --l1-ratio must mean something with --reg (nothing is silently ignored)."""
    if reg == "none" and lam:
        raise DescentlabError(f"--lam: expected no --lam (or 0) with --reg none, got {lam:g}; "
                              "pass --reg l2, l1 or elasticnet to regularize")
    if reg == "elasticnet" and l1_ratio is None:
        raise DescentlabError("--l1-ratio: expected a number in [0, 1] with --reg elasticnet, "
                              "got none")
    if reg != "elasticnet" and l1_ratio is not None:
        raise DescentlabError(f"--l1-ratio: only used with --reg elasticnet, got --l1-ratio "
                              f"{l1_ratio:g} with --reg {reg}")


def _figure_suffixes() -> list[str]:
    """The file suffixes matplotlib can write here (pgf only when its TeX is installed)."""
    import shutil

    import matplotlib
    from matplotlib.backend_bases import FigureCanvasBase

    suffixes = sorted(FigureCanvasBase.get_supported_filetypes())
    if shutil.which(matplotlib.rcParams["pgf.texsystem"]) is None:
        suffixes.remove("pgf")
    return suffixes


def _check_output_file(option: str, path: str | None, suffixes: list[str]) -> None:
    """Fail now, not after the run, if ``path`` could not be written at the end.

    The suffix must be one of ``suffixes``; the parent directory must exist or be creatable
    (no file on the way) and be writable, and an existing file must be writable.
    """
    if path is None:
        return
    target = Path(path)
    if target.suffix.lower().lstrip(".") not in suffixes:
        listed = ", ".join(f".{s}" for s in suffixes)
        raise DescentlabError(f"{option}: expected a file name ending in {listed}, got "
                              f"{path!r}")
    if target.is_dir():
        raise DescentlabError(f"{option}: expected a file, got the directory {path!r}")
    existing = target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise DescentlabError(f"{option}: cannot create the directory {str(target.parent)!r}: "
                              f"{str(existing)!r} is a file")
    if target.exists() and not os.access(target, os.W_OK):
        raise DescentlabError(f"{option}: cannot overwrite {path!r} (no write permission)")
    if not target.exists() and not os.access(existing, os.W_OK | os.X_OK):
        raise DescentlabError(f"{option}: cannot write in the directory {str(existing)!r} "
                              "(no write permission)")


def _step_option(method, trace) -> str:
    """The option that sets the method's step size, with the value the run used."""
    name = "--step" if method.step_param == "step" else f"--param {method.step_param}"
    value = trace.meta["method"].get(method.step_param)
    return f"{name} (it was {value:.3g})" if isinstance(value, float) else name


@main.command()
@click.option("--problem", "problem_name",
              type=click.Choice([Logistic.loss_name, LeastSquares.loss_name]),
              required=True)
@click.option("--data", required=True,
              help=f"Dataset name ({', '.join(KNOWN_DATASETS)}) or LIBSVM file path.")
@click.option("--reg", type=click.Choice([r or "none" for r in REGULARIZERS]), default="l2",
              show_default=True)
@click.option("--lam", type=float, default=None,
              help="Regularization weight >= 0 [default: 1/n; 0 with --reg none].")
@click.option("--l1-ratio", type=float, default=None,
              help="Elastic-net mixing in [0, 1] (with --reg elasticnet only, and required).")
@click.option("--positive-class", type=float, default=None,
              help="One vs rest: this label is +1, all others -1 (multiclass data).")
@click.option("--method", "method_name", required=True,
              help=f"{', '.join(METHODS)} (aliases {', '.join(ALIASES)}); for reg l1 or "
                   f"elasticnet: {', '.join(proximal_methods())}.")
@click.option("--step", type=float, default=None,
              help="Step size > 0 [default: the theory's].")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Any other hyperparameter of the method (repeatable).")
@click.option("--epochs", type=float, default=None, help="Budget in epochs > 0 [default: 100; "
              "10^4 with --tol].")
@click.option("--tol", type=float, default=None,
              help="Stop at this relative suboptimality (> 0).")
@click.option("--gap-tol", type=float, default=None,
              help="Stop at this relative duality gap, gap / abs(F) (> 0; a certificate, needs "
                   "--reg l2, l1 or elasticnet).")
@click.option("--time-limit", type=float, default=None,
              help="Stop after this many seconds (> 0).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed (>= 0).")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the Trace to this Parquet file (.parquet).")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Write a convergence figure (.png, .pdf, .svg, ...).")
def solve(problem_name, data, reg, lam, l1_ratio, positive_class, method_name, step, params,
          epochs, tol, gap_tol, time_limit, seed, out, plot):
    """Run one method on a linear model and print the final value and suboptimality.

    Every option is checked before the data are read. Exits 0 on success, 2 on bad input,
    4 when the run failed: it diverged (F not finite or above F(x0) + 1e6 max(|F(x0)|, 1))
    or made no progress (F ended above F(x0), or never went below it; the table, --out and
    --plot are still written).
    """

    from .methods import get_method
    from .problems import build as build_problem
    from .problems.regularizers import Regularizer
    from .run import run

    # ---- every check before the data are read
    _check_solve_numbers(lam=lam, l1_ratio=l1_ratio, positive_class=positive_class, step=step,
                         epochs=epochs, tol=tol, time_limit=time_limit, seed=seed,
                         gap_tol=gap_tol)
    _check_solve_regularization(reg, lam, l1_ratio)
    if gap_tol is not None and (reg == "none" or lam == 0):
        raise DescentlabError("--gap-tol: the duality gap needs a penalty (--reg l2, l1 or "
                              "elasticnet with --lam > 0), got --reg "
                              f"{reg}{'' if lam is None else f' --lam {lam:g}'}")
    hyper = {k: _number(v) for k, v in _parse_pairs(params, "--param").items()}
    if step is not None:
        if "step" in hyper:
            raise DescentlabError("--step: given twice, as --step and as --param step=; "
                                  "keep one")
        hyper["step"] = step
    method = get_method(method_name, **hyper)
    reg = None if reg == "none" else reg
    # is there a prox to apply? (lam's value does not matter: the default 1/n is > 0)
    regularizer = Regularizer(reg, 1.0 if lam is None and reg else lam or 0.0, l1_ratio)
    method.check_problem(regularizer)  # reads only .nonsmooth
    _check_output_file("--out", out, ["parquet"])
    _check_output_file("--plot", plot, _figure_suffixes())

    t0 = time.perf_counter()
    problem = build_problem(problem_name, data=data, reg=reg or "none",
                            lam=(0.0 if reg is None else "1/n" if lam is None else lam),
                            l1_ratio=l1_ratio, positive_class=positive_class)
    console.print(escape(repr(problem)), highlight=False)
    if epochs is not None and epochs * problem.n > MAX_BUDGET_CALLS:
        most = MAX_BUDGET_CALLS / problem.n
        raise DescentlabError(f"--epochs: expected at most {most:.3g} epochs (2^53 oracle calls "
                              f"of n = {problem.n}), got {epochs:g}")
    # the method's own checks against the problem (e.g. Katyusha's mu > 0) before the optimum
    method.resolve(problem)
    with console.status("computing the reference optimum (scipy)"):
        x_star, f_star = problem.solution()
    t_ref = time.perf_counter() - t0
    try:
        with console.status(f"running {escape(str(method))}"), warnings.catch_warnings():
            warnings.simplefilter("ignore", NoProgressWarning)  # reported below, once
            trace = run(problem, method, budget_epochs=epochs, tol=tol, gap_tol=gap_tol,
                        time_limit=time_limit, seed=seed)
    except DivergenceError as exc:
        if out:
            exc.trace.to_parquet(out)
            err_console.print(f"trace up to the divergence written to {escape(out)}",
                              highlight=False)
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(EXIT_NO_PROGRESS)
    ran = trace.meta.get("method", {}).get("name", method_name)
    shown = ran if ran == method_name else f"{method_name} ({ran})"
    table = Table(title=escape(f"{shown} on {problem_name} / {data}"), show_header=False)
    for key, value in [("final value F", f"{trace.final('value'):.15g}"),
                       ("reference F*", f"{f_star:.15g}  (scipy, {t_ref:.1f} s incl. loading)"),
                       ("relative suboptimality", f"{trace.final('rel_subopt'):.3e}"),
                       ("gradient-mapping norm", f"{trace.final('grad_norm'):.3e}"),
                       *([("relative duality gap", f"{trace.final('rel_gap'):.3e}")]
                         if gap_tol is not None else []),
                       ("epochs", f"{trace.final('epochs'):g}"),
                       ("iterations", f"{trace.final('iteration')}"),
                       ("time (s)", f"{trace.final('time_s'):.3f}"),
                       ("stopped by", trace.stop_reason)]:
        table.add_row(key, value)
    console.print(table)
    if out:
        trace.to_parquet(out)
        console.print(f"trace written to {escape(out)}", highlight=False)
    if plot:
        from .plot import convergence_figure

        fig = convergence_figure([trace], labels=[str(method)])
        Path(plot).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(plot, dpi=120)
        console.print(f"figure written to {escape(plot)}", highlight=False)
    if trace.no_progress:
        from .run import no_progress_message

        message = no_progress_message(trace.no_progress, trace.df["value"].tolist(),
                                      method.name, _step_option(method, trace))
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
        sys.exit(EXIT_NO_PROGRESS)


if __name__ == "__main__":  # pragma: no cover
    main()
