"""Time to relative suboptimality 1e-4 and 1e-8 on L2-logistic: descentlab's dual methods
(SDCA, MISO) against the dual solvers of the field, in one process.

Same data (CSR float64), same objective F(w) = (1/n) sum_i log(1 + exp(-y_i x_i . w))
+ lam ||w||^2 / 2 without intercept, same certified F* (descentlab's ``solution()``).

* descentlab: ``descentlab.run(problem, method, tol=1e-8)``; time to a target = the timed
  section at the first record below it (300 geometric records).
* peers, each fitted from scratch with max_iter = 1, 2, 3, 5, 8, ... and its tolerance at 0
  (benchopt's protocol; the time to a target is that of the first fit that reaches it):
  scikit-learn's liblinear in its dual (``dual=True``, C = 1/(lam n)), snapml's
  LogisticRegression (SDCA, ``regularizer`` = lam n, one thread), cyanure's Classifier with
  solver "miso" (``lambda_1`` = lam, one thread).
Compilation is warmed up first (its one-off cost printed). Needs ``pip install snapml
cyanure`` (scikit-learn is a dependency of descentlab).

    OPENBLAS_NUM_THREADS=1 python benchmarks/dual_vs_peers.py [--cases a9a w8a] [--time-cap 30]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import descentlab as dl
from descentlab.problems import Logistic
from descentlab.run import relative_subopt

TARGETS = (1e-4, 1e-8)
OURS = ("sdca", "miso", "saga")


def warm_up() -> float:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 5))
    y = np.where(rng.standard_normal(50) > 0, 1.0, -1.0)
    t0 = time.perf_counter()
    import scipy.sparse as sp

    for design in (X, sp.csr_matrix(X)):
        problem = Logistic(design, y, reg="l2", lam=0.1)
        for name in OURS:
            dl.run(problem, name, budget_epochs=2, f_star=0.0)
    return time.perf_counter() - t0


def hits(times, subopts) -> dict:
    times, subopts = np.asarray(times), np.asarray(subopts)
    out = {}
    for target in TARGETS:
        ok = np.flatnonzero(subopts <= target)
        out[f"t({target:g})"] = float(times[ok[0]]) if ok.size else np.nan
    return out


def ours(problem, name, f_star, time_cap):
    trace = dl.run(problem, name, tol=min(TARGETS), budget_epochs=2000, time_limit=time_cap,
                   n_records=300, f_star=f_star)
    return hits(trace.df["time_s"], trace.df["rel_subopt"])


def _liblinear(problem, max_iter):
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1.0 / (problem.regularizer.lam * problem.n), solver="liblinear",
                             dual=True, fit_intercept=False, tol=1e-300, max_iter=max_iter)
    clf.fit(problem.X, problem.y)
    return clf.coef_.ravel()


def _snapml(problem, max_iter):
    import snapml

    clf = snapml.LogisticRegression(regularizer=problem.regularizer.lam * problem.n,
                                    max_iter=max_iter, tol=1e-300, dual=True, n_jobs=1,
                                    fit_intercept=False)
    clf.fit(problem.X, problem.y)
    return np.asarray(clf.coef_).ravel()


def _cyanure(problem, max_iter):
    from cyanure.estimators import Classifier

    clf = Classifier(loss="logistic", penalty="l2", lambda_1=problem.regularizer.lam,
                     fit_intercept=False, solver="miso", tol=1e-300, max_iter=max_iter,
                     n_threads=1, verbose=False, duality_gap_interval=10**9)
    clf.fit(problem.X, problem.y)
    return np.asarray(clf.coef_).ravel()


PEERS = {"liblinear (dual)": _liblinear, "snapml sdca": _snapml, "cyanure miso": _cyanure}


def peer(problem, fit, f_star, time_cap):
    times, subopts, max_iter, spent = [], [], 1, 0.0
    while spent < time_cap:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            w = fit(problem, max_iter)
            elapsed = time.perf_counter() - t0
        spent += elapsed
        rel = relative_subopt(problem.value(w), f_star)
        times.append(elapsed)
        subopts.append(rel)
        if rel <= min(TARGETS) or max_iter >= 5000:
            break
        max_iter = max(max_iter + 1, int(max_iter * 1.6))
    return hits(times, subopts)


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", default=["a9a", "w8a"])
    parser.add_argument("--time-cap", type=float, default=30.0)
    args = parser.parse_args(argv)
    print(f"one-off compilation: {warm_up():.2f} s", flush=True)
    rows = []
    for data in args.cases:
        base = Logistic.from_libsvm(data)
        for lam_name, lam in (("1/n", 1.0 / base.n), ("1e-4", 1e-4)):
            problem = Logistic(base.X, base.y, reg="l2", lam=lam)
            _, f_star = problem.solution()
            problem.L, problem.L_max  # noqa: B018  (cached before timing, like F*)
            case = f"{data} lam={lam_name}"
            print(case, flush=True)
            for name in OURS:
                rows.append({"case": case, "side": "descentlab", "solver": name,
                             **ours(problem, name, f_star, args.time_cap)})
            for name, fit in PEERS.items():
                rows.append({"case": case, "side": "peer", "solver": name,
                             **peer(problem, fit, f_star, args.time_cap)})
            print(pd.DataFrame(rows[-len(OURS) - len(PEERS):]).round(3).to_string(index=False),
                  flush=True)
    table = pd.DataFrame(rows)
    summary = []
    for case, g in table.groupby("case", sort=False):
        for col in (f"t({t:g})" for t in TARGETS):
            mine, theirs = g[g.side == "descentlab"], g[g.side == "peer"]
            a = mine.loc[mine[col].idxmin()] if mine[col].notna().any() else None
            b = theirs.loc[theirs[col].idxmin()] if theirs[col].notna().any() else None
            summary.append({"case": case, "target": col,
                            "ours": "-" if a is None else f"{a.solver} {a[col]:.3f}",
                            "peer": "-" if b is None else f"{b.solver} {b[col]:.3f}",
                            "ratio": np.nan if a is None or b is None else a[col] / b[col]})
    print("\nratio = descentlab's best / the best peer (< 1: descentlab faster)")
    print(pd.DataFrame(summary).round(3).to_string(index=False))
    return table


if __name__ == "__main__":
    main()
