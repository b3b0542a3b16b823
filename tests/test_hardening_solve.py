"""Issue 13, solve / run / estimators: hostile input ends in one clear error, before any
expensive work; runs that diverge or make no progress say so (flag, warning, exit code 4)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.exceptions import ConvergenceWarning

import descentlab
from descentlab import DescentlabError, DivergenceError, NoProgressWarning, Trace, get_method
from descentlab.cli import EXIT_NO_PROGRESS, main
from descentlab.estimators import LeastSquaresRegressor, LogisticRegression, TwoLayerClassifier
from descentlab.methods import GD
from descentlab.problems import Logistic
from descentlab.problems.linear import LinearModel
from descentlab.run import progress_flag

NO_DATA = "no-such-dataset"  # an option checked before loading never reaches this name


def _data(seed: int = 0, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = np.where(X @ np.array([1.0, -1.0, 0.5]) + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return X, y


@pytest.fixture(scope="module")
def small():
    """A small L2-logistic problem (n = 40, d = 3)."""
    X, y = _data()
    return Logistic(X, y, reg="l2", lam=0.01)


@pytest.fixture
def svm_file(tmp_path):
    """The same data as a LIBSVM file (solve on it takes a fraction of a second)."""
    X, y = _data()
    path = tmp_path / "small.svm"
    path.write_text("".join(f"{int(yi)} " + " ".join(f"{j + 1}:{v:.6f}" for j, v in
                                                      enumerate(xi)) + "\n"
                            for xi, yi in zip(X, y, strict=True)))
    return str(path)


@pytest.fixture
def no_solution(monkeypatch):
    """Fail the test if anything computes a reference optimum of a linear model."""
    def forbidden(self):
        raise AssertionError("the reference solution was computed before the error")
    monkeypatch.setattr(LinearModel, "solution", forbidden)


def _solve(*args: str):
    return CliRunner().invoke(main, ["solve", "--problem", "logistic", *args])


# ------------------------------------------------------------------ item 4: rich markup
@pytest.mark.parametrize("data", ["[/]", "[red]x", "[bold]a[/bold]"])
def test_user_text_is_printed_verbatim_not_as_markup(data):
    result = _solve("--data", data, "--method", "gd")
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # not a MarkupError traceback
    assert data in result.output.replace("\n", "")
    assert "MarkupError" not in result.output


def test_solve_table_shows_a_markup_like_path_verbatim(tmp_path, svm_file):
    path = tmp_path / "[red]d.svm"
    path.write_text(open(svm_file).read())
    result = _solve("--data", str(path), "--method", "gd", "--epochs", "5")
    assert result.exit_code == 0, result.output
    assert "[red]d.svm" in result.output.replace("\n", "")


# ---------------------------------------------------------- item 8: --out / --plot early
@pytest.mark.parametrize(("option", "name", "fragment"), [
    ("--out", "t.txt", ".parquet"),
    ("--out", "t", ".parquet"),
    ("--plot", "conv.txt", ".png"),
    ("--plot", "conv", ".svg"),
])
def test_output_suffixes_are_checked_before_the_data(tmp_path, option, name, fragment):
    result = _solve("--data", NO_DATA, "--method", "gd", option, str(tmp_path / name))
    assert result.exit_code == 2, result.output
    assert option in result.output and fragment in result.output
    assert NO_DATA not in result.output


@pytest.mark.parametrize(("option", "name"), [("--out", "t.parquet"), ("--plot", "c.png")])
def test_output_below_a_file_is_refused_before_the_data(tmp_path, option, name):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _solve("--data", NO_DATA, "--method", "gd", option, str(blocker / "sub" / name))
    assert result.exit_code == 2, result.output
    assert option in result.output and "is a file" in result.output


def test_output_in_a_read_only_directory_is_refused(tmp_path, monkeypatch):
    """A directory the user cannot write to (simulated through os.access, since root, as in
    CI, writes anywhere) is refused before the data are read."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, *a, **k: False
                        if Path(path) == locked else real_access(path, mode, *a, **k))
    result = _solve("--data", NO_DATA, "--method", "gd", "--out", str(locked / "t.parquet"))
    assert result.exit_code == 2, result.output
    assert "--out" in result.output and "permission" in result.output


def test_outputs_go_into_new_directories(tmp_path, svm_file):
    out, fig = tmp_path / "a" / "t.parquet", tmp_path / "b" / "c" / "conv.svg"
    result = _solve("--data", svm_file, "--method", "gd", "--epochs", "5", "--out", str(out),
                    "--plot", str(fig))
    assert result.exit_code == 0, result.output
    assert Trace.read_parquet(out).stop_reason == "budget"
    assert fig.read_text().lstrip().startswith("<?xml")


# --------------------------------------------------------- item 9: the no-progress rule
@pytest.mark.parametrize(("values", "kwargs", "flag"), [
    ([1.0, 50.0, 3.0, 70.0], {}, "ended_above_start"),  # oscillates above F(x0)
    ([1.0, 0.5, 0.2, 1.5], {}, "ended_above_start"),    # went down, ended above
    ([1.0, 1.0, 1.0 + 1e-12], {}, "no_decrease"),        # never below F(x0) beyond rounding
    ([1.0, 0.9, 1.2, 0.4, 0.6, 0.3], {}, None),          # noisy (SGD), non-monotone (Katyusha)
    ([1.0, 30.0, 0.2], {}, None),                        # heavy ball's transient, then down
    ([1.0, 50.0], {"stop": "tol"}, None),                # reached the tolerance
    ([1.0, 50.0], {"samples": True}, None),              # Langevin at high temperature
    ([1.0, 1.5], {"f_star": 1.0}, None),                 # x0 already optimal
    ([1.0, 1.0], {"stationary_start": True}, None),      # x0 stationary
    ([1.0, 1.5], {"f_star": 0.5}, "ended_above_start"),
    ([1e6, 1e6 - 10.0, 1e6 + 1e-4], {}, None),           # ends within rounding of F(x0)
    ([-1e6, -1e6 - 1e-4], {}, "no_decrease"),            # a decrease within rounding
])
def test_progress_flag(values, kwargs, flag):
    assert progress_flag(values, **kwargs) == flag


def test_run_that_ends_above_the_start_is_flagged_and_warns(small):
    with pytest.warns(NoProgressWarning, match=r"made no progress.*'step' \(it was 100\)"):
        trace = descentlab.run(small, get_method("gd", step=100.0), budget_epochs=50)
    assert trace.stop_reason == "budget"
    assert trace.no_progress == "ended_above_start"
    assert trace.final("value") > trace.df["value"].iloc[0]
    assert "no_progress=ended_above_start" in repr(trace)


def test_run_that_never_decreases_is_flagged(small):
    with pytest.warns(NoProgressWarning, match="never went below"):
        trace = descentlab.run(small, get_method("gd", step=1e-300), budget_epochs=3)
    assert trace.no_progress == "no_decrease"


def test_no_progress_flag_survives_parquet(tmp_path, small):
    with pytest.warns(NoProgressWarning):
        trace = descentlab.run(small, get_method("gd", step=100.0), budget_epochs=10)
    back = Trace.read_parquet(trace.to_parquet(tmp_path / "t.parquet"))
    assert back.no_progress == "ended_above_start"


@pytest.mark.parametrize(("method", "params"), [
    ("gd", {}), ("sgd", {}), ("katyusha", {}), ("adam", {}), ("heavy-ball", {}),
    ("svrg", {}), ("langevin", {"temperature": 10.0}),
])
def test_legitimate_runs_are_not_flagged(small, method, params):
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoProgressWarning)
        trace = descentlab.run(small, get_method(method, **params), budget_epochs=30, seed=3)
    assert trace.no_progress is None
    if method == "langevin":  # it samples far above F(x0) at this temperature: not a failure
        assert trace.final("value") > trace.df["value"].iloc[0]


def test_run_from_the_optimum_is_not_flagged():
    X, y = _data()
    problem = Logistic(X, y, reg="l1", lam=10.0)  # lam >= lam_max: x = 0 is optimal
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoProgressWarning)
        trace = descentlab.run(problem, "ista", budget_epochs=5)
    assert trace.no_progress is None


def test_solve_exits_4_when_the_run_makes_no_progress(tmp_path, svm_file):
    out = tmp_path / "t.parquet"
    result = _solve("--data", svm_file, "--lam", "0.01", "--method", "gd", "--step", "100",
                    "--epochs", "50", "--out", str(out))
    assert result.exit_code == EXIT_NO_PROGRESS == 4, result.output
    assert "made no progress" in result.output
    assert "--step (it was 100)" in result.output.replace("\n", " ")
    assert "final value F" in result.output  # the table is still printed
    assert Trace.read_parquet(out).no_progress == "ended_above_start"


def test_solve_exits_4_when_the_run_diverges(tmp_path, svm_file):
    out = tmp_path / "t.parquet"
    result = _solve("--data", svm_file, "--method", "gd", "--step", "1e5", "--out", str(out))
    assert result.exit_code == 4, result.output
    assert "diverged" in result.output
    assert Trace.read_parquet(out).stop_reason == "diverged"


def test_solve_exit_code_4_is_documented():
    result = CliRunner().invoke(main, ["solve", "--help"])
    assert "4 when the run failed" in " ".join(result.output.split())


def test_estimator_without_progress_warns_once(recwarn):
    X, y = _data()
    # lam = 1 / (C n) = 0.01, the problem of test_run_that_ends_above_the_start_...
    est = LogisticRegression(C=2.5, fit_intercept=False, method="gd",
                             method_params={"step": 100.0}, max_iter=50)
    est.fit(X, y)
    messages = [str(w.message) for w in recwarn if issubclass(w.category, ConvergenceWarning)]
    assert len(messages) == 1, messages
    assert "made no progress" in messages[0] and "in method_params" in messages[0]
    assert est.trace_.no_progress == "ended_above_start"


def test_converged_estimator_is_not_flagged():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LogisticRegression(method="fista", max_iter=1000).fit(X, y)
    assert est.trace_.no_progress is None and est.trace_.stop_reason == "tol"


# --------------------------------------------------------- item 11: misleading messages
def test_twolayer_divergence_names_lr_when_the_user_set_lr():
    X, y = _data(n=30)
    with pytest.raises(DivergenceError, match=r"smaller lr \(it was 1e\+08\)") as info:
        TwoLayerClassifier(width=10, epochs=5, lr=1e8, random_state=0).fit(X * 100, y)
    assert "method_params" not in str(info.value)
    with pytest.raises(DivergenceError, match=r"'step' \(it was 1e\+09\) in method_params"):
        TwoLayerClassifier(width=10, epochs=5, method_params={"step": 1e9},
                           random_state=0).fit(X * 100, y)


def test_estimator_with_a_method_object_names_its_step():
    X, y = _data()
    with pytest.raises(DivergenceError, match="of the Method passed as method="):
        LogisticRegression(method=get_method("gd", step=1e9)).fit(X * 100, y)


def test_single_class_message_shows_a_plain_label():
    X, _ = _data()
    with pytest.raises(DescentlabError, match=r"only one class: 1\.0$") as info:
        LogisticRegression().fit(X, np.ones(len(X)))
    assert "np.float64" not in str(info.value)


def test_least_squares_regressor_names_lam():
    X, y = _data()
    with pytest.raises(DescentlabError, match=r"^lam: expected a number >= 0, got -1"):
        LeastSquaresRegressor(lam=-1).fit(X, y)


# ----------------------------------------------- item 13: every option before the data
@pytest.mark.parametrize(("args", "fragment"), [
    (["--tol", "0"], "--tol: expected a positive"),
    (["--tol", "nan"], "--tol: expected a positive"),
    (["--epochs", "0"], "--epochs: expected a positive"),
    (["--epochs", "inf"], "--epochs: expected a positive"),
    (["--epochs", "1e300"], "--epochs: expected at most"),
    (["--time-limit", "-1"], "--time-limit: expected a positive"),
    (["--lam", "-1"], "--lam: expected a non-negative"),
    (["--lam", "nan"], "--lam: expected a non-negative"),
    (["--reg", "elasticnet", "--l1-ratio", "1.5"], "--l1-ratio: expected a number in [0, 1]"),
    (["--reg", "elasticnet", "--l1-ratio", "-0.5"], "--l1-ratio: expected a non-negative"),
    (["--seed", "-1"], "--seed: expected an integer >= 0"),
    (["--step", "0"], "--step: expected a positive"),
    (["--step", "nan"], "--step: expected a positive"),
    (["--positive-class", "nan"], "--positive-class: expected a finite label"),
    (["--reg", "none", "--lam", "0.1"], "--lam: expected no --lam"),
    (["--l1-ratio", "0.5"], "--l1-ratio: only used with --reg elasticnet"),
    (["--reg", "elasticnet"], "--l1-ratio: expected a number in [0, 1] with --reg elasticnet"),
    (["--step", "1", "--param", "step=2"], "--step: given twice"),
    (["--param", "step=-1"], "gd: step: expected a positive"),
    (["--param", "momentum=0.5"], "valid ones are step"),
    (["--param", "=3"], "expected KEY=VALUE, got '=3'"),
    (["--reg", "l1"], "gd: the problem has a non-smooth term"),
])
def test_solve_options_are_checked_before_the_data(args, fragment):
    result = _solve("--data", NO_DATA, "--method", "gd", *args)
    assert result.exit_code == 2, (args, result.output)
    assert fragment in " ".join(result.output.split()), (args, result.output)
    assert NO_DATA not in result.output


def test_method_typo_suggests_the_closest_name():
    result = _solve("--data", NO_DATA, "--method", "fsta")
    assert result.exit_code == 2
    assert "did you mean 'fista'?" in result.output
    with pytest.raises(DescentlabError, match="did you mean 'momentum'"):
        get_method("heavy-ball", momentom=0.5)
    with pytest.raises(DescentlabError, match="expected a method name, got 3"):
        get_method(3)


def test_method_problem_mismatch_is_found_before_the_reference_solution(svm_file,
                                                                          no_solution):
    result = _solve("--data", svm_file, "--reg", "none", "--method", "katyusha")
    assert result.exit_code == 2, result.output
    assert "katyusha" in result.output and "mu > 0" in result.output


# -------------------------------------------------------------- hostile input to run()
@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"x0": np.zeros(2)}, "x0: expected a vector of length 3"),
    ({"x0": [np.nan, 0.0, 0.0]}, "x0: expected finite values"),
    ({"budget_calls": 0}, "budget_calls: expected an integer >= 1"),
    ({"budget_calls": 10**30}, "budget_calls: expected at most 2^53"),
    ({"budget_epochs": 1e300}, "budget_epochs: expected at most"),
    ({"n_records": 0}, "n_records: expected an integer >= 1"),
    ({"record": "x"}, "record: expected one of"),
    ({"f_star": float("nan")}, "f_star: expected a finite number"),
    ({"f_star": "0.1"}, "f_star: expected a finite number"),
])
def test_run_rejects_bad_arguments_before_the_reference_solution(small, no_solution, kwargs,
                                                                 fragment):
    with pytest.raises(DescentlabError, match=None) as info:
        descentlab.run(small, "gd", **kwargs)
    assert str(info.value).startswith(fragment), str(info.value)


def test_run_method_checks_come_before_the_reference_solution(no_solution):
    X, y = _data()
    with pytest.raises(DescentlabError, match="mu > 0"):
        descentlab.run(Logistic(X, y), "katyusha")


def test_run_rejects_a_method_class_and_suggests_names(small):
    with pytest.raises(DescentlabError, match=r"got the class GD; pass an instance, e\.g\. GD\(\)"):
        descentlab.run(small, GD)
    with pytest.raises(DescentlabError, match="did you mean 'nesterov'"):
        descentlab.run(small, "nesterv")


def test_run_with_more_records_than_calls_records_each_call_once(small):
    trace = descentlab.run(small, "gd", budget_calls=200, n_records=10**12)
    assert len(trace.df) <= 200 + 1
    assert trace.df["oracle_calls"].is_monotonic_increasing


def test_catalyst_names_its_inner_method_when_the_name_is_unknown():
    with pytest.raises(DescentlabError, match=r"^catalyst: inner: method: unknown method 'foo'"):
        get_method("catalyst", inner="foo")


def test_stop_errors_name_the_argument_the_user_wrote():
    """Stop(epochs=...) names 'epochs'; run's shorthand budget_epochs= names 'budget_epochs'."""
    problem = Logistic(*_data())
    with pytest.raises(DescentlabError, match=r"^epochs: expected a positive"):
        descentlab.Stop(epochs=-1)
    with pytest.raises(DescentlabError, match=r"^calls: expected an integer >= 1"):
        descentlab.Stop(calls=0)
    with pytest.raises(DescentlabError, match=r"^budget_epochs: expected a positive"):
        descentlab.run(problem, "gd", budget_epochs=-1)
    with pytest.raises(DescentlabError, match=r"^epochs: expected at most"):
        descentlab.run(problem, "gd", descentlab.Stop(epochs=1e300))


@pytest.mark.parametrize(("record", "fragment"), [
    ([], "increasing positive"), ([-5, 10], "increasing positive"),
    ([10, 5], "increasing positive"), ([1.5], "increasing positive"), ("nosuch", "record:")])
def test_explicit_record_marks_are_checked(record, fragment):
    problem = Logistic(*_data())
    with pytest.raises(DescentlabError, match=fragment):
        descentlab.run(problem, "gd", record=record)


@pytest.mark.parametrize(("metrics", "fragment"), [
    (lambda problem, x: 3, "returning a dict"),
    (lambda problem, x: {"value": 0.0}, "run's own")])
def test_metrics_must_add_new_columns(metrics, fragment):
    problem = Logistic(*_data())
    with pytest.raises(DescentlabError, match=fragment):
        descentlab.run(problem, "gd", budget_epochs=2, metrics=metrics)
