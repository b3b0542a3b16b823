"""The run loop and its Trace: columns, counters, stopping rules, divergence, Parquet."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import make_design, make_targets

import descentlab
from descentlab import DescentlabError, DivergenceError, Trace, get_method
from descentlab.problems import Logistic, Problem, Quadratic, ScalarNetwork

COLUMNS = ["iteration", "oracle_calls", "epochs", "time_s", "value", "subopt", "rel_subopt",
           "grad_norm", "dist_to_init", "dist_to_opt"]


@pytest.fixture(scope="module")
def logistic():
    """A small L2-logistic problem with n = 50 components (so an epoch is 50 calls)."""
    X = make_design(50, 6, sparse=False, seed=31)
    return Logistic(X, make_targets(50, loss="logistic", seed=31), reg="l2", lam=0.1)


@pytest.fixture(scope="module")
def quad():
    return Quadratic.with_condition_number(8, 20.0, seed=2)


def quad_reference(problem: Quadratic):
    x_star = np.linalg.solve(problem.A, problem.b)
    return x_star, float(-0.5 * problem.b @ x_star)


def test_trace_columns_and_first_record(quad):
    x0 = np.linspace(-1.0, 1.0, quad.dim)
    trace = descentlab.run(quad, "gd", x0=x0, budget_epochs=20)
    df = trace.df
    assert list(df.columns) == COLUMNS
    x_star, f_star = quad_reference(quad)
    first = df.iloc[0]
    f0 = 0.5 * x0 @ quad.A @ x0 - quad.b @ x0
    assert first["iteration"] == 0 and first["oracle_calls"] == 0
    assert 0.0 <= first["time_s"] < 1.0  # at most the method's set-up time
    assert first["value"] == pytest.approx(f0, rel=1e-12)
    assert first["subopt"] == pytest.approx(f0 - f_star, rel=1e-10)
    assert first["rel_subopt"] == pytest.approx((f0 - f_star) / abs(f_star), rel=1e-10)
    assert first["grad_norm"] == pytest.approx(np.linalg.norm(quad.A @ x0 - quad.b), rel=1e-12)
    assert first["dist_to_init"] == 0.0
    assert first["dist_to_opt"] == pytest.approx(np.linalg.norm(x0 - x_star), rel=1e-10)
    assert trace.meta["f_star"] == pytest.approx(f_star, rel=1e-12)
    # later records: subopt and rel_subopt are consistent with value
    np.testing.assert_allclose(df["subopt"], df["value"] - f_star, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(df["rel_subopt"], (df["value"] - f_star) / abs(f_star),
                               rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("method", ["gd", "heavy-ball", "nesterov", "ista", "fista"])
@pytest.mark.parametrize("record", ["geometric", "linear"])
def test_counters_and_clock(logistic, method, record):
    trace = descentlab.run(logistic, method, budget_epochs=30, record=record, n_records=15)
    df = trace.df
    n = logistic.n
    assert (np.diff(df["time_s"]) >= 0).all()
    assert (np.diff(df["iteration"]) > 0).all()
    # full-gradient methods: one iteration costs n oracle calls
    assert (df["oracle_calls"] == df["iteration"] * n).all()
    np.testing.assert_allclose(df["epochs"], df["oracle_calls"] / n)
    assert trace.stop_reason == "budget"
    assert df["iteration"].iloc[-1] == 30
    assert len(df) <= 16  # the start plus at most n_records recording points
    # F decreases for these methods on this well-conditioned problem (up to restarts)
    assert df["value"].iloc[-1] < df["value"].iloc[0]


def test_linear_schedule_records_at_even_budget_fractions(quad):
    trace = descentlab.run(quad, "gd", budget_calls=50, record="linear", n_records=10)
    assert trace.df["oracle_calls"].tolist() == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50]


def test_geometric_schedule_starts_at_one_epoch(logistic):
    trace = descentlab.run(logistic, "gd", budget_epochs=100, n_records=20)
    calls = trace.df["oracle_calls"].to_numpy()
    assert calls[1] == logistic.n and calls[-1] == 100 * logistic.n
    ratios = calls[2:] / calls[1:-1]
    assert (ratios > 1).all()


def test_smaller_budget_wins(logistic):
    by_calls = descentlab.run(logistic, "gd", budget_epochs=40, budget_calls=10 * 50)
    assert by_calls.final("epochs") == 10
    assert by_calls.meta["budget_calls"] == 500
    by_epochs = descentlab.run(logistic, "gd", budget_epochs=4, budget_calls=10 * 50)
    assert by_epochs.final("epochs") == 4


def test_tol_stops_at_first_record_below_tol(quad):
    x_star, f_star = quad_reference(quad)
    trace = descentlab.run(quad, "nesterov", tol=1e-6, budget_epochs=10_000)
    rel = trace.df["rel_subopt"].to_numpy()
    assert trace.stop_reason == "tol"
    assert rel[-1] <= 1e-6
    assert (rel[:-1] > 1e-6).all()
    assert trace.final("value") - f_star <= 1e-6 * abs(f_star)
    assert trace.first_reaching("rel_subopt", 1e-6) == trace.final("oracle_calls")
    assert math.isnan(trace.first_reaching("rel_subopt", -1.0))


def test_f_star_given_by_the_caller(quad):
    trace = descentlab.run(quad, "gd", budget_epochs=5, f_star=-10.0)
    assert trace.meta["f_star"] == -10.0
    np.testing.assert_allclose(trace.df["subopt"], trace.df["value"] + 10.0)
    np.testing.assert_allclose(trace.df["rel_subopt"], (trace.df["value"] + 10.0) / 10.0)
    assert trace.df["dist_to_opt"].isna().all()  # x* is unknown when only F* is given


def test_problem_without_unique_minimizer_has_no_distance_to_opt():
    problem = ScalarNetwork(np.array([1.0, -2.0, 0.5]), a0=1.0)
    trace = descentlab.run(problem, get_method("gd", step=0.1), budget_epochs=50)
    assert trace.df["dist_to_opt"].isna().all()
    np.testing.assert_allclose(trace.df["subopt"], trace.df["value"])  # F* = 0


class _NoOptimum(Problem):
    """F(x) = ||x||^2 / 2 without a reference solution."""

    dim = 3

    def value(self, x):
        return 0.5 * float(x @ x)

    def grad(self, x):
        return x.copy()

    @property
    def L(self):
        return 1.0

    def default_x0(self):
        return np.ones(3)


def test_problem_without_reference_solution():
    trace = descentlab.run(_NoOptimum(), "gd", budget_epochs=3)
    assert trace.df["subopt"].isna().all() and trace.df["rel_subopt"].isna().all()
    assert trace.final("value") == 0.0  # one step of size 1/L = 1 reaches the minimum
    with pytest.raises(DescentlabError, match="tol"):
        descentlab.run(_NoOptimum(), "gd", tol=1e-6)


def test_time_limit_stops_the_run(logistic):
    trace = descentlab.run(logistic, "gd", time_limit=1e-9, budget_epochs=1000)
    assert trace.stop_reason == "time_limit"
    assert trace.final("epochs") < 1000


def test_runs_are_reproducible(logistic):
    a = descentlab.run(logistic, "fista", budget_epochs=25)
    b = descentlab.run(logistic, "fista", budget_epochs=25)
    pd.testing.assert_frame_equal(a.df.drop(columns="time_s"), b.df.drop(columns="time_s"))


@pytest.mark.parametrize("method", ["gd", "heavy-ball", "nesterov"])
def test_divergence_raises_with_the_step_name(quad, method):
    step = 10.0 / np.linalg.eigvalsh(quad.A)[-1]
    with pytest.raises(DivergenceError, match="step") as info:
        descentlab.run(quad, get_method(method, step=step), budget_epochs=1000)
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, DescentlabError)
    assert "diverged" in str(err) and method in str(err)
    assert isinstance(err.trace, Trace)
    assert err.trace.stop_reason == "diverged"
    values = err.trace.df["value"].to_numpy()
    f0 = values[0]
    assert not np.isfinite(values[-1]) or values[-1] > f0 + 1e6 * max(abs(f0), 1.0)
    assert err.trace.final("iteration") < 1000


@pytest.mark.parametrize("budget", [{"budget_epochs": 0}, {"budget_calls": 0},
                                    {"budget_epochs": -1.0}])
def test_zero_or_negative_budget_raises(quad, budget):
    (name,) = budget
    with pytest.raises(DescentlabError, match=name):
        descentlab.run(quad, "gd", **budget)


def test_parquet_round_trip(tmp_path, logistic):
    trace = descentlab.run(logistic, get_method("fista", restart="function"),
                           budget_epochs=20, seed=3)
    path = trace.to_parquet(tmp_path / "nested" / "trace.parquet")
    assert path.is_file()
    back = Trace.read_parquet(path)
    pd.testing.assert_frame_equal(back.df, trace.df)
    assert back.meta == trace.meta
    assert back.stop_reason == "budget"
    meta = back.meta
    assert meta["method"]["name"] == "fista" and meta["method"]["restart"] == "function"
    assert meta["method"]["step"] == pytest.approx(1.0 / logistic.L)
    assert meta["problem"]["problem"] == "logistic" and meta["problem"]["n"] == 50
    assert meta["seed"] == 3 and meta["budget_calls"] == 20 * 50
    assert "environment" in meta


def test_parquet_round_trip_of_a_dataset_run(tmp_path, libsvm_logistic):
    problem = libsvm_logistic("mushrooms", "l2", 1e-3)
    trace = descentlab.run(problem, "nesterov", budget_epochs=5, f_star=0.05)
    back = Trace.read_parquet(trace.to_parquet(tmp_path / "t.parquet"))
    pd.testing.assert_frame_equal(back.df, trace.df)
    assert back.meta == trace.meta
    assert back.meta["problem"]["dataset"] == "mushrooms"


def test_read_parquet_rejects_a_foreign_file(tmp_path):
    path = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), path)
    with pytest.raises(DescentlabError, match="not a descentlab Trace"):
        Trace.read_parquet(path)


def test_trace_final_rejects_unknown_column(quad):
    trace = descentlab.run(quad, "gd", budget_epochs=2)
    assert trace.final() == trace.df["value"].iloc[-1]
    with pytest.raises(DescentlabError, match="column"):
        trace.final("loss")


def test_stop_object_is_the_shorthand_and_not_both(quad):
    a = descentlab.run(quad, "gd", descentlab.Stop(calls=300, tol=1e-6))
    b = descentlab.run(quad, "gd", budget_calls=300, tol=1e-6)
    pd.testing.assert_frame_equal(a.df.drop(columns="time_s"), b.df.drop(columns="time_s"))
    assert a.stop_reason == b.stop_reason == "tol"
    np.testing.assert_array_equal(a.x, b.x)  # the final point
    assert quad.value(a.x) == a.final("value")
    with pytest.raises(DescentlabError, match="not both"):
        descentlab.run(quad, "gd", descentlab.Stop(calls=3), tol=1e-6)


def test_gradient_rule_explicit_marks_metrics_and_no_reference(logistic):
    """Stop(grad_tol): ||G(x)||_inf <= grad_tol max(1, ||G(x0)||_inf), no optimum computed;
    one row per mark (epochs counted from the end of SAGA's first pass); extra columns."""
    seen = []

    def metrics(problem, x):
        seen.append(x.copy())
        return {"norm": float(np.linalg.norm(x))}

    trace = descentlab.run(logistic, "saga", descentlab.Stop(grad_tol=1e-6), reference=False,
                           record=logistic.n * np.arange(1, 200),
                           metrics=metrics)
    df = trace.df
    assert list(df.columns) == [*COLUMNS, "grad_inf", "norm"]
    assert trace.stop_reason == "tol" and trace.meta["f_star"] is None
    assert df["subopt"].isna().all() and df["dist_to_opt"].isna().all()
    assert df["grad_inf"].iloc[-1] <= 1e-6 * max(1.0, df["grad_inf"].iloc[0])
    assert (df["grad_inf"].iloc[:-1] > 1e-6 * max(1.0, df["grad_inf"].iloc[0])).all()
    assert df["oracle_calls"].tolist() == [logistic.n * (k + 1) for k in range(len(df))]
    np.testing.assert_allclose(df["norm"], [np.linalg.norm(x) for x in seen], rtol=0)
    # explicit oracle-call marks, capped by a budget; every epoch
    trace = descentlab.run(logistic, "gd", budget_calls=120, reference=False,
                           record=[50, 100, 150])
    assert trace.df["oracle_calls"].tolist() == [0, 50, 100]
    assert trace.stop_reason == "budget"
    trace = descentlab.run(logistic, "saga", budget_epochs=4.5, record="epochs")
    assert trace.df["oracle_calls"].tolist() == [50, 100, 150, 200]  # after the first pass
