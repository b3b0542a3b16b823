"""`descentlab solve` end to end, compared with scikit-learn's optimum computed independently."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_svmlight_file
from sklearn.linear_model import LogisticRegression

from descentlab.cli import main
from descentlab.data import resolve_dataset
from descentlab.trace import Trace


def _sklearn_objective(name: str, lam: float, penalty: str) -> tuple[float, np.ndarray]:
    X, y = load_svmlight_file(str(resolve_dataset(name)))
    X.indices, X.indptr = X.indices.astype(np.int32), X.indptr.astype(np.int32)
    n = X.shape[0]
    kwargs = {"solver": "lbfgs", "tol": 1e-12, "max_iter": 100_000} if penalty == "l2" else \
        {"solver": "liblinear", "tol": 1e-12, "max_iter": 100_000}
    clf = LogisticRegression(l1_ratio=0.0 if penalty == "l2" else 1.0, C=1.0 / (lam * n),
                             fit_intercept=False,
                             **kwargs).fit(X, y)
    w = clf.coef_.ravel()
    margins = y * (X @ w)
    reg = 0.5 * lam * w @ w if penalty == "l2" else lam * np.abs(w).sum()
    return float(np.mean(np.logaddexp(0, -margins)) + reg), w


@pytest.mark.parametrize(("reg", "method"), [("l2", "nesterov"), ("l1", "fista")])
def test_solve_reaches_the_sklearn_optimum(tmp_path, reg, method):
    lam = 1e-3
    out, fig = tmp_path / "t.parquet", tmp_path / "conv.png"
    result = CliRunner().invoke(main, [
        "solve", "--problem", "logistic", "--data", "a1a", "--reg", reg, "--lam", str(lam),
        "--method", method, "--tol", "1e-9", "--epochs", "5000", "--out", str(out),
        "--plot", str(fig)])
    assert result.exit_code == 0, result.output
    assert "relative suboptimality" in result.output
    trace = Trace.read_parquet(out)
    assert trace.stop_reason == "tol"
    f_sklearn, w_sklearn = _sklearn_objective("a1a", lam, reg)
    f_ours = trace.final("value")
    # sklearn stops on its own tolerance: ours must be at least as good, and close
    assert f_ours <= f_sklearn + 1e-9 * f_sklearn
    assert (f_sklearn - f_ours) / f_sklearn < 1e-6
    assert fig.read_bytes()[:4] == b"\x89PNG"


def test_solve_rejects_bad_input_with_exit_code_2():
    runner = CliRunner()
    for args, fragment in [
        (["--data", "no-such-data", "--method", "gd"], "no-such-data"),
        (["--data", "a1a", "--method", "newton"], "unknown method"),
        (["--data", "a1a", "--method", "gd", "--step", "-1"], "step"),
        (["--data", "a1a", "--method", "gd", "--epochs", "0"], "--epochs"),
        (["--data", "news20", "--method", "gd"], "two classes"),
    ]:
        result = runner.invoke(main, ["solve", "--problem", "logistic", *args])
        assert result.exit_code == 2, (args, result.output)
        assert fragment in result.output, (args, result.output)
