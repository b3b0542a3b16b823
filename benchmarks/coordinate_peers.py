"""Time to relative suboptimality 1e-4 / 1e-8: descentlab's coordinate methods vs the peers.

One process, same data, same objective F(w) = (1/n) sum_i log(1 + exp(-y_i x_i . w))
+ lam1 ||w||_1 (+ lam2 ||w||^2 / 2 for the L2 cases), no intercept; F* is descentlab's
certified reference. Peers (benchopt's protocol: fitted from scratch on a geometric max_iter
grid, each fit timed, the first fit reaching a target gives its time):

* scikit-learn liblinear: LogisticRegression(C = 1/(lam n), solver="liblinear");
* skglm ProxNewton and AndersonCD (L1) on the same datafit (skglm's Logistic is the mean
  log-loss), CSC input;
* celer (L1): celer.LogisticRegression(C = 1/(lam n)).

descentlab's methods are timed by their own trace (``time_s``: set-up plus iterations) at
the first record below the target. Compilation (numba, ours and skglm's) is warmed up first.

    python benchmarks/coordinate_peers.py              # w8a and a9a, L1 lam = 1e-4
    python benchmarks/coordinate_peers.py --l2         # also L2 lam = 1e-4 and 1/n
    python benchmarks/coordinate_peers.py --data a9a
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp

import descentlab as dl
from descentlab.problems import Logistic
from descentlab.run import relative_subopt

TARGETS = (1e-4, 1e-8)
OURS = (("prox-newton", {}), ("cd", {}), ("cd", {"anderson": False}), ("cd", {"ws": False}))


def warm_up() -> float:
    """Compile our loops and skglm's on a tiny dense and a tiny sparse problem."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 6))
    y = np.where(rng.standard_normal(30) > 0, 1.0, -1.0)
    t0 = time.perf_counter()
    for design in (X, sp.csr_matrix(X)):
        for reg in ("l1", "l2"):
            problem = Logistic(design, y, reg=reg, lam=0.05)
            for name, params in OURS:
                dl.run(problem, dl.methods.get_method(name, **params), budget_epochs=3,
                       f_star=0.0)
            for peer in PEERS:
                PEERS[peer](problem, 2)
    return time.perf_counter() - t0


def _liblinear(problem, max_iter):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    r = problem.regularizer
    clf = LogisticRegression(l1_ratio=1.0 if r.reg == "l1" else 0.0,
                             C=1.0 / (r.lam * problem.n), solver="liblinear",
                             fit_intercept=False, tol=1e-300, max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(problem.X, problem.y)
    return clf.coef_.ravel()


def _skglm(solver_name):
    def fit(problem, max_iter):
        from skglm import GeneralizedLinearEstimator
        from skglm.datafits import Logistic as LogDatafit
        from skglm.penalties import L1
        from skglm.solvers import AndersonCD, ProxNewton

        r = problem.regularizer
        if r.reg != "l1":  # skglm's L2 has no prox_1d: its CD solvers refuse it
            return None
        penalty = L1(alpha=r.lam)
        solver = (ProxNewton if solver_name == "prox-newton" else AndersonCD)(
            max_iter=max_iter, tol=1e-14, fit_intercept=False,
            ws_strategy="subdiff")
        est = GeneralizedLinearEstimator(LogDatafit(), penalty, solver)
        X = problem.X
        if problem.sparse:  # CSC built outside the timing for the benchmark problems
            X = getattr(problem, "csc_X", None)
            X = sp.csc_matrix(problem.X) if X is None else X
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, problem.y)
        return est.coef_.ravel()
    return fit


def _celer(problem, max_iter):
    from celer import LogisticRegression

    r = problem.regularizer
    if r.reg != "l1":
        return None
    clf = LogisticRegression(C=1.0 / (r.lam * problem.n), max_iter=max_iter, tol=1e-14,
                             fit_intercept=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(problem.X, problem.y)
    return clf.coef_.ravel()


PEERS = {"liblinear": _liblinear, "skglm prox-newton": _skglm("prox-newton"),
         "skglm anderson-cd": _skglm("anderson-cd"), "celer": _celer}


def time_to_targets(times, subopts) -> dict[float, float]:
    times, subopts = np.asarray(times), np.asarray(subopts)
    out = {}
    for target in TARGETS:
        hit = np.flatnonzero(subopts <= target)
        out[target] = float(times[hit[0]]) if hit.size else np.nan
    return out


def peer(problem, fit, f_star, time_cap):
    times, subopts, max_iter, spent = [], [], 1, 0.0
    while spent < time_cap:
        t0 = time.perf_counter()
        coef = fit(problem, max_iter)
        elapsed = time.perf_counter() - t0
        if coef is None:
            return None
        spent += elapsed
        rel = relative_subopt(problem.value(coef), f_star)
        times.append(elapsed)
        subopts.append(rel)
        if rel <= min(TARGETS) or max_iter >= 5000:
            break
        max_iter = max(max_iter + 1, int(max_iter * 1.5))
    return time_to_targets(times, subopts)


def ours(problem, name, params, f_star, time_cap):
    method = dl.methods.get_method(name, **params)
    trace = dl.run(problem, method, tol=min(TARGETS), budget_epochs=5000, time_limit=time_cap,
                   n_records=400, f_star=f_star)
    return time_to_targets(trace.df["time_s"], trace.df["rel_subopt"])


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", default=["w8a", "a9a"])
    parser.add_argument("--l2", action="store_true", help="also L2 lam = 1e-4 and 1/n")
    parser.add_argument("--time-cap", type=float, default=30.0)
    args = parser.parse_args(argv)
    print(f"one-off compilation (ours and skglm's): {warm_up():.2f} s\n", flush=True)
    rows = []
    for data in args.data:
        base = Logistic.from_libsvm(data)
        penalties = [("l1", 1e-4)] + ([("l2", 1e-4), ("l2", 1.0 / base.n)] if args.l2 else [])
        for reg, lam in penalties:
            problem = Logistic(base.X, base.y, reg=reg, lam=lam)
            _, f_star = problem.solution()
            problem.csc_X = sp.csc_matrix(problem.X) if problem.sparse else None
            case = f"{data} {reg} {lam:.3g}"
            print(case, flush=True)
            for name, params in OURS:
                label = name + "".join(f" {k}={v}" for k, v in params.items())
                rows.append({"case": case, "solver": label, "side": "descentlab",
                             **ours(problem, name, params, f_star, args.time_cap)})
            for label, fit in PEERS.items():
                hits = peer(problem, fit, f_star, args.time_cap)
                if hits is not None:
                    rows.append({"case": case, "solver": label, "side": "peer", **hits})
    table = pd.DataFrame(rows).rename(columns={t: f"t({t:g})" for t in TARGETS})
    pd.set_option("display.width", 200)
    print("\nseconds to reach the relative suboptimality (NaN: not reached within the cap)")
    print(table.pivot(index=["side", "solver"], columns="case",
                      values=[f"t({t:g})" for t in TARGETS]).round(3).to_string())
    summary = []
    for case, g in table.groupby("case", sort=False):
        for t in TARGETS:
            col = f"t({t:g})"
            mine, theirs = g[g.side == "descentlab"], g[g.side == "peer"]
            if mine[col].isna().all() or theirs[col].isna().all():
                continue
            a, b = mine.loc[mine[col].idxmin()], theirs.loc[theirs[col].idxmin()]
            summary.append({"case": case, "target": f"{t:g}", "ours": f"{a.solver} {a[col]:.3f}",
                            "best peer": f"{b.solver} {b[col]:.3f}", "ratio": a[col] / b[col]})
    print("\nratio = descentlab's best / best peer (< 1: descentlab faster)")
    print(pd.DataFrame(summary).round(3).to_string(index=False))
    return table


if __name__ == "__main__":
    main()
