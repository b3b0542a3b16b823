"""descentlab side by side with the solvers people pick for regularized logistic regression.

Issue 16's table in one process: time to reach a relative suboptimality (F - F*) / |F*| on
F(w) = (1/n) sum_i log(1 + exp(-y_i x_i . w)) + lam Omega(w) (no intercept), for the cases
a9a, w8a, news20 (label 1 against the rest) x {L2 lam = 1/n, L2 lam = 1e-4, L1 lam = 1e-4}
(``peers_cases.py``; F* is descentlab's certified optimum, cached on disk), against
scikit-learn, skglm, celer, cyanure and snapml mapped onto the same F (``peers_solvers.py``;
the ``bench`` extra installs them; a missing one is skipped with a note).

Protocol (benchopt's):

* a peer is fitted from scratch for max_iter = 1, 2, 3, 5, 8, 12, ... (``--grid-factor``;
  the tolerance 10^-0.5, 10^-1, ... for the working-set solvers of skglm and celer), each
  fit timed alone (the layout conversion, e.g. CSR to CSC for coordinate solvers, is
  done once before); its time to a target is the time of the first fit whose coefficients
  reach it (the shortest such fit, when timing noise made a longer one faster); the grid
  stops at the first fit reaching the smallest target, when the fits together have spent
  ``--time-cap`` seconds (a fit is not interrupted: the last one may overrun the cap), or
  after ``PATIENCE`` fits of a max_iter grid without progress;
* a descentlab method runs once through ``descentlab.run`` with ``tol`` = the smallest
  target and ``time_limit`` = the cap; its time to a target is the Trace's ``time_s`` (the
  timed section: set-up and iterations, no measurements) at the first of ``--records``
  geometric records below it;
* every solver gets one BLAS / OpenMP thread (threadpoolctl, and n_jobs / n_threads = 1);
* compilation is warmed up first: descentlab's numba loops on a small dense and a small
  sparse problem (numba caches per layout), the peers on a small problem of their layout
  (skglm compiles its numba code at its first fit); both one-off costs are printed.

Which descentlab methods: every registered method that applies to the case (its
``resolve`` accepts the problem) except those in ``SKIPPED`` (known hopeless or dominated);
``--methods`` overrides the list (``--methods all`` takes every registered method).

    python benchmarks/peers.py                          # the issue's table (long)
    python benchmarks/peers.py --quick                  # a9a, targets 1e-4 and 1e-6, ~2 min
    python benchmarks/peers.py --cases w8a:l1-1e-4 --peers sklearn,skglm --time-cap 20 \\
        --csv out.csv
    python benchmarks/peers.py --cases news20 --csv news20.csv      # one process per dataset
    python benchmarks/peers.py --summarize a9a.csv w8a.csv news20.csv   # their joint table

The one-off compilation makes a process's first seconds slow (skglm: tens of seconds), so
several datasets can be run in parallel processes and joined with ``--summarize``; times
are comparable only within one process (the same load).
"""
# ruff: noqa: E402 (one thread per pool, set before numpy is imported)

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
              "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse
import dataclasses
import itertools
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers_cases import Case, make_problem, optimum, parse_cases
from peers_solvers import Peer, select_peers

import descentlab as dl
from descentlab.errors import DescentlabError
from descentlab.methods import METHODS, get_method
from descentlab.problems import Logistic
from descentlab.run import relative_subopt

#: descentlab methods left out by default (``--methods`` overrides): name -> why
SKIPPED = {
    "gd": "dominated by nesterov (same oracle, no acceleration)",
    "heavy-ball": "dominated by nesterov (Polyak's tuning is for quadratics)",
    "ista": "dominated by fista",
    "langevin": "a sampler, not a minimizer",
    "rmsprop": "a constant-step adaptive method: stalls at a noise floor",
    "storm": "variance reduction for non-convex problems (eps^-3/2 rate)",
    "spiderboost": "variance reduction for non-convex problems (eps^-2 rate)",
}
TARGETS = (1e-4, 1e-8)
QUICK_TARGETS = (1e-4, 1e-6)
TIME_CAP = 60.0
QUICK_TIME_CAP = 2.0
#: a peer's max_iter grid stops after this many fits without a decrease of F (not a
#: tolerance grid: celer's solution can stay the same over several tolerances)
PATIENCE = 4
#: descentlab's budget in epochs (the time cap and tol end the runs before)
MAX_EPOCHS = 10_000


# ----------------------------------------------------------------------------- protocol
@dataclasses.dataclass(frozen=True)
class Point:
    """One timed fit (a peer: its max_iter or tol) or one record (descentlab: its oracle
    calls)."""

    setting: float
    seconds: float
    rel_subopt: float


def peer_curve(fit: Callable[[float], np.ndarray], rel_subopt: Callable[[np.ndarray], float],
               target: float, time_cap: float, grid: Iterable[float], *,
               clock: Callable[[], float] = time.perf_counter, patience: int | None = PATIENCE,
               max_fits: int = 60) -> list[Point]:
    """benchopt's protocol: ``fit(setting)`` from scratch for each setting of ``grid``, each
    fit timed with ``clock``, until a fit reaches ``target``, the fits have spent
    ``time_cap`` seconds, ``patience`` fits in a row bring no decrease of the best
    suboptimality (None: no such rule), the grid ends, or ``max_fits`` fits."""
    points: list[Point] = []
    spent, best, stalled = 0.0, math.inf, 0
    for setting in itertools.islice(grid, max_fits):
        t0 = clock()
        coef = fit(setting)
        seconds = clock() - t0
        rel = rel_subopt(coef)
        rel = rel if np.isfinite(rel) else math.inf
        points.append(Point(setting, seconds, rel))
        spent += seconds
        improved = rel < best - 1e-3 * abs(best) if math.isfinite(best) else rel < best
        stalled = 0 if improved else stalled + 1
        best = min(best, rel)
        if rel <= target or spent >= time_cap or (patience is not None and stalled >= patience):
            break
    return points


def patience_of(peer: Peer) -> int | None:
    """The patience rule of a peer's grid: ``PATIENCE`` fits for max_iter, none for tol."""
    return PATIENCE if peer.knob == "max_iter" else None


def time_to_targets(points: Sequence[Point], targets: Sequence[float]) -> dict[float, float]:
    """The seconds to each target: the shortest of the points reaching it (NaN when none
    does). For a descentlab run, whose times grow along the records, that is the first
    record below the target; for a peer, whose fits are timed one by one, a longer fit that
    took less time than the first one reaching the target shows that timing noise, not the
    solver, made the difference (milliseconds on small cases)."""
    out = {}
    for target in targets:
        hits = [p.seconds for p in points if p.rel_subopt <= target]
        out[target] = min(hits) if hits else math.nan
    return out


def ours_curve(problem: Logistic, name: str, f_star: float, target: float, time_cap: float,
               records: int) -> list[Point]:
    """One ``descentlab.run`` of method ``name`` (its records as points)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trace = dl.run(problem, name, tol=target, time_limit=time_cap,
                       budget_epochs=MAX_EPOCHS, n_records=records, f_star=f_star, seed=0)
    df = trace.df
    return [Point(float(c), float(t), float(r)) for c, t, r in
            zip(df["oracle_calls"], df["time_s"], df["rel_subopt"], strict=True)]


# ----------------------------------------------------------------------------- selection
def applicable_methods(problem: Logistic, names: Sequence[str]) -> tuple[list[str], dict]:
    """The methods of ``names`` whose ``resolve`` accepts ``problem``, and why the others
    do not ({name: reason})."""
    runs, notes = [], {}
    for name in names:
        try:
            method = get_method(name)
            if method.samples:
                notes[name] = "a sampler, not a minimizer"
                continue
            method.resolve(problem)
        except (DescentlabError, NotImplementedError) as exc:
            notes[name] = str(exc).split("\n")[0]
            continue
        runs.append(name)
    return runs, notes


def default_methods() -> list[str]:
    return [name for name in METHODS if name not in SKIPPED]


def parse_methods(spec: str | None) -> list[str]:
    if spec is None:
        return default_methods()
    if spec.strip() == "all":
        return list(METHODS)
    names = [s.strip() for s in spec.split(",") if s.strip()]
    for name in names:
        get_method(name)  # an unknown name raises, naming the known ones
    return names


# ----------------------------------------------------------------------------- warm-up
def _small_problems(reg: str) -> list[Logistic]:
    rng = np.random.default_rng(0)
    X = sp.random(60, 12, density=0.4, random_state=0, format="csr", dtype=np.float64)
    X.indices, X.indptr = X.indices.astype(np.int32), X.indptr.astype(np.int32)
    y = np.where(rng.standard_normal(60) > 0, 1.0, -1.0)
    return [Logistic(X.toarray(), y, reg=reg, lam=0.05), Logistic(X, y, reg=reg, lam=0.05)]


def warm_up_ours(names: Sequence[str], regs: Sequence[str]) -> float:
    """Run every method briefly on a small dense and a small sparse problem per penalty
    (numba compiles, or loads its on-disk cache); the seconds it took."""
    t0 = time.perf_counter()
    for reg in regs:
        for problem in _small_problems(reg):
            for name in applicable_methods(problem, names)[0]:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        dl.run(problem, name, budget_epochs=3, reference=False)
                    except DescentlabError:
                        pass
    return time.perf_counter() - t0


def warm_up_peers(peers: Sequence[Peer], regs: Sequence[str], log=print) -> dict[str, float]:
    """Fit every peer that runs on a penalty once on the small sparse problem; the seconds
    per library (a failure is printed; the peer fails again, as a note, on the cases)."""
    costs: dict[str, float] = {}
    for reg in regs:
        problem = _small_problems(reg)[1]
        for peer in peers:
            if peer.skip_reason(reg, problem.dim) is not None:
                continue
            t0 = time.perf_counter()
            try:
                setting = next(itertools.islice(peer.grid(), 3, None))  # max_iter 5, tol 1e-2
                peer.prepare(problem.X, problem.y, reg, problem.regularizer.lam)(setting)
            except Exception as exc:  # noqa: BLE001 (a peer's failure is a note)
                log(f"  warm-up of {peer.name} ({reg}) failed: {type(exc).__name__}: {exc}")
            costs[peer.library] = costs.get(peer.library, 0.0) + time.perf_counter() - t0
    return costs


# ----------------------------------------------------------------------------- the run
@dataclasses.dataclass
class Settings:
    targets: tuple[float, ...]
    time_cap: float
    grid_factor: float
    records: int
    verbose: bool = False


def run_case(case: Case, methods: Sequence[str], peers: Sequence[Peer], settings: Settings,
             log=print) -> list[dict]:
    """Every solver on one case: the raw rows (case, side, solver, target, seconds,
    reached, note)."""
    problem = make_problem(case)
    t0 = time.perf_counter()
    f_star = optimum(problem)
    problem.L, problem.L_max  # noqa: B018 (constants computed before timing, like F*)
    # the layouts the compiled loops read (CSR rows, CSC columns), built once per problem and
    # cached on it, before timing: the peers also get their input in its layout beforehand,
    # and otherwise the first method timed on a case pays for them (method="auto", first in
    # the list, ran up to 1.45x slower than the same method timed after it)
    problem.linear_view(), problem.csc_arrays()
    log(f"\n{case.name}: n={problem.n} d={problem.dim} nnz={_nnz(problem.X)} "
        f"lam={problem.regularizer.lam:.4g} F*={f_star:.12g} "
        f"(F* and constants {time.perf_counter() - t0:.1f} s)")
    target = min(settings.targets)
    rows: list[dict] = []

    def add(side, solver, points, note=""):
        hits = time_to_targets(points, settings.targets)
        for t in settings.targets:
            rows.append({"case": case.name, "side": side, "solver": solver, "target": t,
                         "seconds": hits[t], "reached": bool(np.isfinite(hits[t])),
                         "note": note})
        best = min((p.rel_subopt for p in points), default=math.nan)
        shown = "  ".join(f"{t:g}: {hits[t]:.3f}s" if np.isfinite(hits[t]) else f"{t:g}: -"
                          for t in settings.targets)
        log(f"  {solver:28s} {shown}   (best {best:.1e}{'; ' + note if note else ''})")

    runs, notes = applicable_methods(problem, methods)
    for name in runs:
        try:
            points = ours_curve(problem, name, f_star, target, settings.time_cap,
                                settings.records)
            add("descentlab", f"descentlab:{name}", points)
        except DescentlabError as exc:  # e.g. a divergence
            add("descentlab", f"descentlab:{name}", [], note=str(exc).split("\n")[0])
    for name, why in notes.items():
        log(f"  descentlab:{name:17s} skipped: {why}")
    for peer in peers:
        why = peer.skip_reason(case.reg, problem.dim)
        if why is not None:
            log(f"  {peer.name:28s} skipped: {why}")
            continue
        fit = peer.prepare(problem.X, problem.y, case.reg, problem.regularizer.lam)

        def rel(coef):
            with np.errstate(all="ignore"):  # a diverged peer: inf, reported as not reached
                return relative_subopt(problem.value(np.asarray(coef, dtype=np.float64)),
                                       f_star)
        try:
            points = peer_curve(fit, rel, target, settings.time_cap,
                                peer.grid(settings.grid_factor), patience=patience_of(peer))
            add("peer", peer.name, points)
            if settings.verbose:
                log("    fits (" + peer.knob + ", s, rel): " + ", ".join(
                    f"({p.setting:.3g}, {p.seconds:.3f}, {p.rel_subopt:.1e})" for p in points))
        except Exception as exc:  # noqa: BLE001 (a peer's failure is a note, not an error)
            add("peer", peer.name, [], note=f"failed: {type(exc).__name__}: {exc}"[:200])
    return rows


def _nnz(X) -> int:
    return int(X.nnz) if sp.issparse(X) else int(np.count_nonzero(X))


TABLE_HEADER = ("seconds to the relative suboptimality; ratio = descentlab's best / the best "
                "peer (< 1: descentlab faster); saga / sklearn saga on the L2 cases (issue's "
                "target <= 0.5)")


def format_table(table: pd.DataFrame) -> str:
    return table.to_string(index=False, float_format=lambda v: f"{v:.2f}")


def summary(raw: pd.DataFrame) -> pd.DataFrame:
    """Per (case, target): descentlab's best, the best peer, their ratio, and SAGA against
    scikit-learn's SAGA (L2 cases)."""
    out = []
    for (case, target), g in raw.groupby(["case", "target"], sort=False):
        row = {"case": case, "target": f"{target:g}"}
        for side, label in (("descentlab", "descentlab best"), ("peer", "best peer")):
            s = g[(g.side == side) & g.reached]
            best = s.loc[s.seconds.idxmin()] if len(s) else None
            row[label] = "-" if best is None else \
                f"{best.solver.split(':', 1)[-1] if side == 'descentlab' else best.solver} " \
                f"{best.seconds:.3f} s"
            row[side] = math.nan if best is None else best.seconds
        row["ratio"] = row.pop("descentlab") / row.pop("peer")
        times = g.set_index("solver").seconds
        row["saga / sklearn saga"] = (times.get("descentlab:saga", math.nan)
                                      / times.get("sklearn:saga", math.nan)) \
            if ":l2" in case else math.nan
        out.append(row)
    return pd.DataFrame(out)


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", help="comma-separated DATA or DATA:PENALTY (data: a9a, "
                        "w8a, news20, tiny; penalty: l2-1/n, l2-1e-4, l1-1e-4); default "
                        "a9a,w8a,news20 (a9a with --quick)")
    parser.add_argument("--targets", help="comma-separated relative suboptimalities "
                        "(default 1e-4,1e-8; 1e-4,1e-6 with --quick)")
    parser.add_argument("--methods", help="comma-separated descentlab methods, or 'all' "
                        "(default: every registered method that applies, except SKIPPED)")
    parser.add_argument("--peers", help="comma-separated peers or libraries (sklearn, "
                        "skglm, celer, cyanure, snapml), 'all' (default) or 'none'")
    parser.add_argument("--quick", action="store_true",
                        help="a9a, targets 1e-4 and 1e-6, a 2 s cap per solver (~2 min)")
    parser.add_argument("--time-cap", type=float, help=f"seconds per solver and case "
                        f"(default {TIME_CAP:g}; {QUICK_TIME_CAP:g} with --quick)")
    parser.add_argument("--grid-factor", type=float, default=1.5,
                        help="growth of a peer's max_iter grid (default 1.5)")
    parser.add_argument("--records", type=int, default=400,
                        help="geometric records of a descentlab run (default 400)")
    parser.add_argument("--csv", type=Path, help="write every raw row to this CSV file")
    parser.add_argument("--table", type=Path, help="also write the printed text here")
    parser.add_argument("--verbose", action="store_true", help="print every fit of a peer")
    parser.add_argument("--summarize", type=Path, nargs="+", metavar="CSV",
                        help="run nothing: print the table of raw rows saved by --csv "
                        "(several files, e.g. one per dataset run, are concatenated)")
    args = parser.parse_args(argv)
    if args.summarize:
        missing = [str(f) for f in args.summarize if not f.is_file()]
        if missing:
            parser.error(f"--summarize: expected CSV files written by --csv, got "
                         f"{', '.join(missing)} (not found)")
        raw = pd.concat([pd.read_csv(f, keep_default_na=False, na_values=[""])
                         for f in args.summarize], ignore_index=True)
        print(TABLE_HEADER)
        print(format_table(summary(raw)))
        return raw

    try:
        settings = _settings(args)
        cases = parse_cases(args.cases if args.cases or not args.quick else "a9a")
        methods = parse_methods(args.methods)
        peers = select_peers(args.peers)
    except DescentlabError as exc:
        parser.error(str(exc))  # exit status 2

    with threadpool_limits(limits=1):
        return _run(cases, methods, peers, settings, args)


def _settings(args) -> Settings:
    if args.targets is None:
        targets = QUICK_TARGETS if args.quick else TARGETS
    else:
        try:
            targets = tuple(float(t) for t in args.targets.split(","))
        except ValueError:
            targets = ()
        if not targets or not all(0 < t < 1 for t in targets):
            raise DescentlabError(f"--targets: expected comma-separated numbers in (0, 1), "
                                  f"got {args.targets!r}")
    time_cap = args.time_cap if args.time_cap is not None else \
        QUICK_TIME_CAP if args.quick else TIME_CAP
    if not time_cap > 0:
        raise DescentlabError(f"--time-cap: expected a positive number, got {time_cap}")
    if not args.grid_factor > 1:
        raise DescentlabError(f"--grid-factor: expected a number > 1, got {args.grid_factor}")
    if args.records < 10:
        raise DescentlabError(f"--records: expected at least 10, got {args.records}")
    return Settings(tuple(sorted(set(targets), reverse=True)), float(time_cap),
                    float(args.grid_factor), int(args.records), bool(args.verbose))


COLUMNS = ["case", "side", "solver", "target", "seconds", "reached", "note"]


def _run(cases, methods, peers, settings: Settings, args) -> pd.DataFrame:
    lines: list[str] = []

    def log(text=""):
        print(text, flush=True)
        lines.append(text)

    regs = sorted({c.reg for c in cases})
    log(f"one thread per BLAS/OpenMP pool; targets {', '.join(f'{t:g}' for t in settings.targets)}"
        f"; time cap {settings.time_cap:g} s per solver and case")
    log(f"descentlab methods: {', '.join(methods) or 'none'}")
    log(f"peers: {', '.join(p.name for p in peers) or 'none'}")
    missing = sorted({p.module for p in peers if not p.installed()})
    if missing:
        log(f"not installed (skipped): {', '.join(missing)}; pip install '.[bench]'")
    ours_s = warm_up_ours(methods, regs)
    peers_s = warm_up_peers(peers, regs, log)
    log(f"warm-up, one-off: descentlab's numba loops {ours_s:.1f} s; "
        + ", ".join(f"{lib} {s:.1f} s" for lib, s in peers_s.items()))
    rows = []
    for case in cases:
        rows += run_case(case, methods, peers, settings, log)
        raw = pd.DataFrame(rows, columns=COLUMNS)
        if args.csv:  # after every case: a long run interrupted keeps its finished cases
            raw.to_csv(args.csv, index=False)
    log("\n" + TABLE_HEADER)
    log(format_table(summary(raw)))
    if args.table:
        args.table.write_text("\n".join(lines) + "\n")
    return raw


if __name__ == "__main__":
    main()
