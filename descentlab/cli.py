"""The ``descentlab`` command line: list, reproduce, results, report, solve."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from .data import KNOWN_DATASETS
from .errors import DescentlabError
from .executors import BACKENDS
from .methods import ALIASES, METHODS, proximal_methods
from .problems import LeastSquares, Logistic
from .problems.regularizers import REGULARIZERS

console = Console()
err_console = Console(stderr=True)

EXIT_CLAIM_FAILED = 3


def _parse_pairs(pairs: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
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
        except DescentlabError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
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
    table = Table(title=f"{rep.experiment} ({rep.preset}): claims")
    table.add_column("claim")
    table.add_column("expected")
    table.add_column("measured")
    table.add_column("result")
    for c in rep.claims:
        table.add_row(c.name, c.expected, c.measured,
                      "[green]PASS[/]" if c.passed else "[bold red]FAIL[/]")
    return table


@main.command()
@click.argument("name")
@click.option("--preset", default="quick", show_default=True,
              help="Named configuration: quick (minutes) or paper (the published settings).")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Output directory [default: results/NAME]; with NAME=all, one "
                   "subdirectory per experiment.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a setting of the configuration (repeatable).")
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
              help="Recompute every task, even those already finished in OUT/tasks.")
@click.option("--quiet", "-q", is_flag=True,
              help="No progress bar: one log line when a sweep starts and one when it ends.")
def reproduce(name: str, preset: str, out: str | None, overrides: tuple[str, ...],
              backend: str, jobs: int | None, address: str | None, force: bool, quiet: bool):
    """Run experiment NAME (or 'all'), check its claims, write results, figures, checks.json.

    The grid runs as a sweep: each finished task is stored in OUT/tasks/ at once, and
    running the same command again computes only the tasks that are not finished.
    Exits 0 when every claim passes, 3 when one fails and 2 on bad input.
    """
    from .executors import make_executor
    from .experiments import experiment_names, get_experiment
    from .experiments import reproduce as run_experiment

    names = experiment_names() if name == "all" else [name]
    settings = _parse_pairs(overrides, "--set")
    if name == "all" and settings:
        raise click.BadParameter("--set applies to one experiment, not to 'all'")
    for exp_name in names:  # validate names, presets and settings before running anything
        get_experiment(exp_name).config(preset, **settings)
    failed = []
    with make_executor(backend, jobs=jobs, address=address) as executor:
        for exp_name in names:
            out_dir = Path(out or "results") / exp_name if (name == "all" or out is None) \
                else Path(out)
            rep = run_experiment(exp_name, preset=preset, out=out_dir, executor=executor,
                                 overrides=settings, force=force,
                                 progress="quiet" if quiet else "auto")
            console.print(_claims_table(rep))
            console.print(f"{sum(c.passed for c in rep.claims)}/{len(rep.claims)} claims pass; "
                          f"run {rep.timings['run_s']:.1f} s; wrote {out_dir}/", highlight=False)
            if not rep.passed:
                failed.append(exp_name)
    if failed:
        err_console.print(f"[bold red]claims failed in: {', '.join(failed)}[/]")
        sys.exit(EXIT_CLAIM_FAILED)


@main.command()
@click.argument("outs", nargs=-1, required=True, metavar="OUT [OUT ...]")
@click.option("--sql", default=None,
              help="SQL over the view 'results' [default: every result column, without "
                   "the prov_* provenance columns].")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="Write the rows to this CSV file instead of printing them.")
@click.option("--parquet", "parquet_path", type=click.Path(dir_okay=False), default=None,
              help="Write the rows to this Parquet file instead of printing them.")
@click.option("--max-rows", type=int, default=40, show_default=True,
              help="Rows printed (the first and last halves); 0 prints all.")
def results(outs: tuple[str, ...], sql: str | None, csv_path: str | None,
            parquet_path: str | None, max_rows: int):
    """Query the results of one or several OUT directories with DuckDB.

    The rows of every OUT/results.parquet (or OUT/*/results.parquet) form a view named
    'results'; provenance columns start with prov_ (prov_experiment, prov_task,
    prov_git_commit, prov_machine, prov_wall_s, ...).
    """
    import pandas as pd

    from .store import query

    answer = query(outs, sql, csv=csv_path, parquet=parquet_path)
    if not isinstance(answer, pd.DataFrame):
        console.print(f"wrote {answer}", highlight=False)
        return
    with pd.option_context("display.max_rows", max_rows or None,
                           "display.min_rows", max_rows or None,
                           "display.max_columns", None, "display.width", 200,
                           "display.max_colwidth", 60):
        click.echo(answer.to_string(max_rows=max_rows or None))
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
    from .report import find_experiments, write_report

    path = write_report(outs, output, title=title)
    records = find_experiments(outs)
    n_pass = sum(r.passed for r in records)
    err_console.print(f"report of {len(records)} experiments ({n_pass} with every claim "
                      f"passing):", highlight=False)
    click.echo(str(path.resolve()))


@main.command()
@click.option("--problem", "problem_name",
              type=click.Choice([Logistic.loss_name, LeastSquares.loss_name]),
              required=True)
@click.option("--data", required=True,
              help=f"Dataset name ({', '.join(KNOWN_DATASETS)}) or LIBSVM file path.")
@click.option("--reg", type=click.Choice([r or "none" for r in REGULARIZERS]), default="l2",
              show_default=True)
@click.option("--lam", type=float, default=None, help="Regularization weight [default: 1/n].")
@click.option("--l1-ratio", type=float, default=None, help="Elastic-net mixing in [0, 1].")
@click.option("--positive-class", type=float, default=None,
              help="One vs rest: this label is +1, all others -1 (multiclass data).")
@click.option("--method", "method_name", required=True,
              help=f"{', '.join(METHODS)} (aliases {', '.join(ALIASES)}); for reg l1 or "
                   f"elasticnet: {', '.join(proximal_methods())}.")
@click.option("--step", type=float, default=None, help="Step size [default: the theory's].")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Any other hyperparameter of the method (repeatable).")
@click.option("--epochs", type=float, default=None, help="Budget in epochs [default: 100; "
              "10^4 with --tol].")
@click.option("--tol", type=float, default=None, help="Stop at this relative suboptimality.")
@click.option("--time-limit", type=float, default=None, help="Stop after this many seconds.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the Trace to this Parquet file.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Write a convergence figure (PNG).")
def solve(problem_name, data, reg, lam, l1_ratio, positive_class, method_name, step, params,
          epochs, tol, time_limit, seed, out, plot):
    """Run one method on a linear model and print the final value and suboptimality."""
    from .data import load_libsvm
    from .methods import get_method
    from .problems import LeastSquares, Logistic
    from .run import run

    cls = Logistic if problem_name == "logistic" else LeastSquares
    reg = None if reg == "none" else reg
    hyper = {k: _number(v) for k, v in _parse_pairs(params, "--param").items()}
    if step is not None:
        hyper["step"] = step
    method = get_method(method_name, **hyper)  # validate before loading data
    t0 = time.perf_counter()
    if reg is None:
        lam = lam or 0.0
    elif lam is None:
        lam = 1.0 / load_libsvm(data)[0].shape[0]
    problem = cls.from_libsvm(data, reg=reg, lam=lam, l1_ratio=l1_ratio,
                              positive_class=positive_class)
    console.print(f"{problem!r}", highlight=False)
    with console.status("computing the reference optimum (scipy)"):
        x_star, f_star = problem.solution()
    t_ref = time.perf_counter() - t0
    with console.status(f"running {method}"):
        trace = run(problem, method, budget_epochs=epochs, tol=tol, time_limit=time_limit,
                    seed=seed)
    table = Table(title=f"{method_name} on {problem_name} / {data}", show_header=False)
    for key, value in [("final value F", f"{trace.final('value'):.15g}"),
                       ("reference F*", f"{f_star:.15g}  (scipy, {t_ref:.1f} s incl. loading)"),
                       ("relative suboptimality", f"{trace.final('rel_subopt'):.3e}"),
                       ("gradient-mapping norm", f"{trace.final('grad_norm'):.3e}"),
                       ("epochs", f"{trace.final('epochs'):g}"),
                       ("iterations", f"{trace.final('iteration')}"),
                       ("time (s)", f"{trace.final('time_s'):.3f}"),
                       ("stopped by", trace.stop_reason)]:
        table.add_row(key, value)
    console.print(table)
    if out:
        trace.to_parquet(out)
        console.print(f"trace written to {out}")
    if plot:
        from .plot import convergence_figure

        fig = convergence_figure([trace], labels=[str(method)])
        fig.savefig(plot, dpi=120)
        console.print(f"figure written to {plot}")


if __name__ == "__main__":  # pragma: no cover
    main()
