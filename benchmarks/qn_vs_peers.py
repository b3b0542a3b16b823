"""Time to relative suboptimality 1e-4 / 1e-8: descentlab's (quasi-)Newton methods vs
scikit-learn's lbfgs, newton-cg and liblinear, side by side in one process.

Same data (CSR float64, int32 indices) and objective
F(w) = (1/n) sum_i log(1 + exp(-y_i x_i . w)) + lam2 ||w||^2 / 2 + lam1 ||w||_1, i.e.
scikit-learn's LogisticRegression(C = 1/(lam n), fit_intercept=False); F* is descentlab's
certified reference. descentlab is timed by its own trace (set-up plus iterations, 300
geometric records); each scikit-learn solver is fitted from scratch with tol=0 on a
geometric max_iter grid and timed per fit (benchopt's protocol). Compilation is warmed up
on a small dense and a small sparse problem first (its one-off cost is printed).
Run with OPENBLAS_NUM_THREADS=1:

    python benchmarks/qn_vs_peers.py                 # a9a, w8a x {L2 1/n, L2 1e-4, L1 1e-4}
    python benchmarks/qn_vs_peers.py --data news20   # news20 (class 1 vs rest)
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

import descentlab as dl
from descentlab.methods import get_method
from descentlab.problems import Logistic
from descentlab.run import relative_subopt

TARGETS = (1e-4, 1e-8)
OURS_L2 = (("lbfgs", {}), ("newton-cg", {}), ("newton-cg", {"precondition": False}))
OURS_L1 = (("owlqn", {}),)
PEERS_L2 = ("lbfgs", "newton-cg", "liblinear")
PEERS_L1 = ("liblinear",)
POSITIVE = {"news20": 1}


def warm_up() -> float:
    """Compile every kernel once on a small dense and a small sparse problem."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 5))
    y = np.where(rng.standard_normal(50) > 0, 1.0, -1.0)
    t0 = time.perf_counter()
    for design in (X, sp.csr_matrix(X)):
        for reg, methods in (("l2", OURS_L2), ("l1", OURS_L1)):
            problem = Logistic(design, y, reg=reg, lam=0.1)
            for name, params in methods:
                dl.run(problem, get_method(name, **params), budget_epochs=5, f_star=0.0)
    return time.perf_counter() - t0


def time_to_targets(times, subopts) -> dict[float, float]:
    times, subopts = np.asarray(times), np.asarray(subopts)
    out = {}
    for target in TARGETS:
        hit = np.flatnonzero(subopts <= target)
        out[target] = float(times[hit[0]]) if hit.size else np.nan
    return out


def ours(problem, name, params, f_star, time_cap):
    trace = dl.run(problem, get_method(name, **params), tol=min(TARGETS), budget_epochs=5000,
                   time_limit=time_cap, n_records=300, f_star=f_star)
    df = trace.df
    return time_to_targets(df["time_s"], df["rel_subopt"])


def peer(problem, solver, f_star, time_cap):
    r = problem.regularizer
    lam, n = r.lam, problem.n
    times, subopts, max_iter, spent = [], [], 1, 0.0
    while spent < time_cap:
        clf = LogisticRegression(C=1.0 / (lam * n), fit_intercept=False, solver=solver,
                                 l1_ratio=1.0 if r.lam1 else 0.0,
                                 tol=1e-300 if solver == "liblinear" else 0.0,
                                 max_iter=max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)
            t0 = time.perf_counter()
            clf.fit(problem.X, problem.y)
            elapsed = time.perf_counter() - t0
        spent += elapsed
        rel = relative_subopt(problem.value(clf.coef_.ravel()), f_star)
        times.append(elapsed)
        subopts.append(rel)
        if rel <= min(TARGETS) or max_iter >= 5000:
            break
        max_iter = max(max_iter + 1, int(max_iter * 1.5))
    return time_to_targets(times, subopts)


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", default=["a9a", "w8a"])
    parser.add_argument("--time-cap", type=float, default=30.0,
                        help="seconds per solver and case (default 30)")
    args = parser.parse_args(argv)
    print(f"one-off compilation (numba, cached on disk afterwards): {warm_up():.2f} s\n")
    rows = []
    for data in args.data:
        base = Logistic.from_libsvm(data, positive_class=POSITIVE.get(data))
        X = sp.csr_matrix((base.X.data, base.X.indices.astype(np.int32),
                           base.X.indptr.astype(np.int32)), shape=base.X.shape)
        for reg, lam_name, lam in (("l2", "1/n", 1.0 / base.n), ("l2", "1e-4", 1e-4),
                                   ("l1", "1e-4", 1e-4)):
            problem = Logistic(X, base.y, reg=reg, lam=lam)
            _, f_star = problem.solution()
            case = f"{data} {reg} {lam_name}"
            print(f"{case}: n={problem.n} d={problem.dim} nnz={problem.X.nnz}", flush=True)
            for name, params in (OURS_L2 if reg == "l2" else OURS_L1):
                label = name + ("-plain" if params.get("precondition") is False else "")
                rows.append({"case": case, "side": "descentlab", "solver": label,
                             **ours(problem, name, params, f_star, args.time_cap)})
            for solver in (PEERS_L2 if reg == "l2" else PEERS_L1):
                rows.append({"case": case, "side": "scikit-learn", "solver": solver,
                             **peer(problem, solver, f_star, args.time_cap)})
    table = pd.DataFrame(rows).rename(columns={t: f"t({t:g})" for t in TARGETS})
    pd.set_option("display.width", 200)
    print("\nseconds to reach the relative suboptimality (NaN: not reached within the cap)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    summary = []
    for case, g in table.groupby("case", sort=False):
        for t in TARGETS:
            col = f"t({t:g})"
            best = {}
            for side in ("descentlab", "scikit-learn"):
                g_side = g[(g.side == side) & g[col].notna()]
                best[side] = g_side.loc[g_side[col].idxmin()] if len(g_side) else None
            a, b = best["descentlab"], best["scikit-learn"]
            summary.append({"case": case, "target": f"{t:g}",
                            "ours best": f"{a.solver} {a[col]:.3f}" if a is not None else "-",
                            "peer best": f"{b.solver} {b[col]:.3f}" if b is not None else "-",
                            "ratio": a[col] / b[col] if a is not None and b is not None
                            else np.nan})
    print("\nratio = descentlab best / scikit-learn best (< 1: descentlab faster)")
    print(pd.DataFrame(summary).round(3).to_string(index=False))
    return table


if __name__ == "__main__":
    main()
