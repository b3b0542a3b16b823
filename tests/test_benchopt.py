"""The benchopt benchmark folder (benchmarks/benchopt_logreg) run by benchopt itself.

``benchopt run`` (in the current environment, no conda) on a tiny simulated dataset with
the descentlab solver and its four methods; each one's last objective value must match the
optimum that scikit-learn's L-BFGS reaches (computed here, independently of descentlab and
of the folder's objective), with and without the unpenalized intercept. benchopt is a dev extra
(pyproject.toml), so ``make test`` runs this file.
"""

from __future__ import annotations

import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

benchopt = pytest.importorskip("benchopt")

from sklearn.linear_model import LogisticRegression  # noqa: E402

from descentlab.problems import Logistic  # noqa: E402

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "benchopt_logreg"
SOLVERS = [f"descentlab[method={m}]" for m in ("gd", "saga", "svrg", "katyusha")]
N, D, LMBD = 200, 20, 1.0
INTERCEPT_SUPPORTED = "fit_intercept" in inspect.signature(Logistic).parameters


def simulated_data():
    """The folder's dataset, built by its own make_data (a plain function)."""
    spec = importlib.util.spec_from_file_location("_bench_simulated",
                                                  BENCH / "datasets" / "simulated.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_data(N, D, 0.5, 0)


def sklearn_optimum(X, y, lmbd, fit_intercept) -> float:
    """min_beta sum_i log(1 + exp(-y_i (x_i . w + c))) + lmbd ||w||^2 / 2 by L-BFGS."""
    clf = LogisticRegression(C=1.0 / lmbd, fit_intercept=fit_intercept, tol=1e-14,
                             max_iter=10_000).fit(X, y)
    margins = y * (X @ clf.coef_.ravel() + (clf.intercept_[0] if fit_intercept else 0.0))
    w = clf.coef_.ravel()
    return float(np.logaddexp(0.0, -margins).sum() + 0.5 * lmbd * w @ w)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("benchopt") / "results.parquet"
    cmd = [sys.executable, "-m", "benchopt", "run", str(BENCH),
           "-d", f"simulated[n_samples={N},n_features={D}]",
           "-o", f"L2 Logistic Regression[lmbd={LMBD},fit_intercept=[False,True]]",
           "-n", "40", "-r", "1", "--seed", "0", "--timeout", "120",
           "--no-plot", "--no-display", "--no-html", "--no-cache", "--output", str(out)]
    cmd += ["-s", "descentlab"]  # every value of its ``method`` parameter
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"benchopt run failed:\n{proc.stdout[-3000:]}\n" \
                                 f"{proc.stderr[-3000:]}"
    import pandas as pd

    return pd.read_parquet(out), proc.stdout


def test_benchopt_solvers_reach_the_sklearn_optimum(results):
    df, _ = results
    X, y = simulated_data()
    for fit_intercept in (False, True):
        f_star = sklearn_optimum(X, y, LMBD, fit_intercept)
        rows = df[df["p_obj_fit_intercept"] == fit_intercept]
        expected = set(SOLVERS)
        if fit_intercept:  # Katyusha's defaults need mu > 0; the intercept is unpenalized
            expected = expected - {"descentlab[method=katyusha]"} if INTERCEPT_SUPPORTED \
                else set()
        assert set(rows["solver_name"]) == expected
        for name, run in rows.groupby("solver_name"):
            run = run.sort_values("stop_val")
            first, last = run["objective_value"].iloc[[0, -1]]
            # from beta = 0: F = n log 2 (the folder's objective is the sum of the losses)
            assert first == pytest.approx(N * np.log(2.0), rel=1e-12), name
            gap = (last - f_star) / f_star
            assert abs(gap) <= 1e-10, (name, fit_intercept, last, f_star)
            assert run["time"].is_monotonic_increasing, name


def test_benchopt_reports_why_a_solver_is_skipped(results):
    _, stdout = results
    if INTERCEPT_SUPPORTED:
        assert "katyusha's default parameters need a strongly convex objective" in stdout
    else:
        assert "no unpenalized intercept" in stdout
