"""Studies (descentlab.studies): plugins, rows per cell, best steps, bad files, F* cache."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import descentlab as dl
from descentlab.errors import DescentlabError
from descentlab.store import query
from descentlab.studies import parse, run_study, study, to_toml
from descentlab.studies.figures import theory_bound
from descentlab.studies.summary import summary_table
from descentlab.theory import nesterov_strongly_convex_bound

HERE = Path(__file__).parent


def plugin_study(**changes) -> dict:
    data = {"name": "plugins", "budget_epochs": 5, "record": "epochs", "seeds": [0, 1],
            "targets": [1e-2, 1e-4],
            "problems": [{"name": "study_plugins:Diagonal", "dim": 5, "kappa": [10.0, 100.0]}],
            "methods": [{"name": "gd", "step": ["theory", "x1.5"]},
                        {"name": "study_plugins:HalfStepGD"}]}
    data.update(changes)
    return data


def test_plugin_method_and_problem_rows_per_cell_and_closed_form(tmp_path):
    spec = parse(plugin_study(), folder=HERE)
    res = run_study(spec, tmp_path / "out")
    df = res.results
    # 2 problems x (2 gd steps + 1 plugin) x 2 seeds = 12 runs, each x0 + 5 epochs
    assert df.groupby(["problem_label", "method_label", "step_label", "seed"]).ngroups == 12
    assert len(df) == 12 * 6
    assert set(df["method_label"]) == {"gd", "half-gd"}
    # the plugin GD on the plugin problem against the closed form:
    # x_k - 1 = (1 - d/(2L))^k (x0 - 1), F - F* = sum d (1 - d/(2L))^(2k) / 2, F* = 1
    for kappa in (10.0, 100.0):
        d = np.geomspace(1 / kappa, 1, 5)
        rows = df[(df["method_label"] == "half-gd") & (df["seed"] == 0)
                  & (df["problem_label"] == f"Diagonal(dim=5, kappa={kappa:g})")]
        k = rows["iteration"].to_numpy()
        exact = 0.5 * np.sum(d[None, :] * (1 - d[None, :] / 2) ** (2 * k[:, None]), axis=1)
        np.testing.assert_allclose(rows["rel_subopt"], exact, rtol=1e-12)
        assert rows["step"].iloc[0] == 0.5
    # "x1.5" is 1.5 / L on the problem
    assert set(df.loc[df["step_label"] == "x1.5", "step"]) == {1.5}
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"results.parquet", "summary.csv", "steps.csv", "study.toml", "checks.json",
            "tasks"} <= files
    assert sum(name.endswith(".png") for name in files) == 2
    assert parse(__import__("tomllib").loads((tmp_path / "out" / "study.toml").read_text()),
                 folder=HERE).name == "plugins"


def test_study_api_returns_the_results_and_top_level_export(tmp_path):
    assert dl.study is study
    spec = parse(plugin_study(seeds=[0]), folder=HERE)
    df = study(spec)
    assert isinstance(df, pd.DataFrame) and len(df) == 6 * 6
    assert {"study", "problem", "problem_params", "method", "method_params", "step_label",
            "step", "seed", "iteration", "oracle_calls", "epochs", "time_s", "value",
            "rel_subopt", "grad_norm"} <= set(df.columns)


def _frame(rows):
    """A made-up results frame: (method, step, seed, [(calls, time, rel_subopt), ...])."""
    out = []
    for method, step, seed, points in rows:
        for calls, t, r in points:
            out.append({"problem_label": "p", "method_label": method, "step_label": step,
                        "seed": seed, "step": 1.0, "oracle_calls": calls, "epochs": calls / 10,
                        "time_s": t, "rel_subopt": r, "stop_reason": "budget",
                        "method": method})
    return pd.DataFrame(out)


def test_best_step_against_a_hand_computation():
    rows = [
        # step "a" reaches 1e-2 early but never 1e-4
        ("m", "a", 0, [(10, 0.1, 1e-1), (20, 0.2, 1e-3), (40, 0.4, 1e-3)]),
        ("m", "a", 1, [(10, 0.1, 1e-1), (20, 0.2, 1e-3), (40, 0.4, 1e-3)]),
        # step "b": 1e-4 at 40 calls (seed 0) and 30 calls (seed 1): median 35
        ("m", "b", 0, [(10, 0.1, 1.0), (30, 0.3, 1e-3), (40, 0.5, 1e-5)]),
        ("m", "b", 1, [(10, 0.1, 1.0), (30, 0.3, 1e-5), (40, 0.5, 1e-6)]),
        # step "c": 1e-4 at 40 calls for both seeds (median 40): slower than b
        ("m", "c", 0, [(10, 0.1, 1e-3), (40, 0.2, 1e-5)]),
        ("m", "c", 1, [(10, 0.1, 1e-3), (40, 0.2, 1e-5)]),
        # method "n": its steps tie at 20 calls for 1e-4; "y" is faster in time
        ("n", "x", 0, [(20, 0.9, 1e-5)]),
        ("n", "y", 0, [(20, 0.5, 1e-5)]),
        # method "z": never reaches 1e-2; the best final rel_subopt wins ("u")
        ("z", "t", 0, [(10, 0.1, 0.5)]),
        ("z", "u", 0, [(10, 0.1, 0.2)]),
    ]
    summary, steps = summary_table(_frame(rows), [1e-2, 1e-4])
    best = dict(zip(summary["method_label"], summary["step_label"], strict=True))
    assert best == {"m": "b", "n": "y", "z": "u"}
    m = summary.set_index("method_label")
    assert m.loc["m", "calls_to_0.0001"] == 35.0  # median of 40 and 30
    assert m.loc["m", "calls_to_0.01"] == 30.0
    assert math.isinf(m.loc["z", "calls_to_0.01"])
    # winners: calls to 1e-4: n (20) beats m (35); calls to 1e-2: n (20) beats m (30)
    assert "calls_to_0.0001" in m.loc["n", "winners"]
    assert "calls_to_0.0001" not in m.loc["m", "winners"]
    assert m.loc["z", "winners"] == ""
    assert steps["best"].sum() == 3 and len(steps) == 7


BAD = [
    ({"nmae": "x"}, "nmae: unknown key (did you mean 'name'?)"),
    ({"methods": [{"name": "sgaa"}]}, "methods[0].name: unknown method 'sgaa' (did you mean "
                                      "'saga'?)"),
    ({"methods": [{"name": "gd", "stepp": 0.1}]}, "methods[0].stepp: unknown key (did you "
                                                  "mean 'step'?)"),
    ({"methods": [{"name": "gd", "step": -0.1}]}, "methods[0].step: expected \"theory\""),
    ({"methods": [{"name": "gd", "step": "x-2"}]}, "methods[0].step: expected"),
    ({"seeds": []}, "seeds: expected a non-empty list, got an empty list"),
    ({"problems": [{"name": "study_plugins:Diagonal", "kappa": []}]},
     "problems[0].kappa: expected a value or a non-empty list"),
    ({"methods": []}, "methods: expected a non-empty list"),
    ({"problems": [{"name": "quadratic", "kapa": 3}]}, "problems[0].kapa: unknown parameter"),
    ({"problems": [{"name": "study_plugins:Nope"}]}, "has no 'Nope'"),
    ({"problems": [{"name": "logistic", "data": "a1a", "lam": "1/m"}]},
     "problems[0].lam: expected a number >= 0 or \"1/n\""),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_bad_study_files_one_clear_error_before_any_work(tmp_path, change, message):
    with pytest.raises(DescentlabError) as info:
        run_study(parse(plugin_study(**change), folder=HERE), tmp_path / "out")
    assert message in str(info.value)
    assert not (tmp_path / "out").exists()


def test_a_method_that_raises_on_a_problem_is_caught_before_any_task(tmp_path):
    data = plugin_study(methods=[{"name": "gd"}, {"name": "saga"}])  # saga needs n >= 2
    with pytest.raises(DescentlabError, match=r"methods\[1\] \(saga, step theory\) on "
                                              r"problems\[0\].*n >= 2"):
        run_study(parse(data, folder=HERE), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    lasso = {"name": "logistic", "data": "a1a", "reg": "l1", "lam": 1e-3}
    with pytest.raises(DescentlabError, match=r"methods\[0\] \(gd, step theory\).*non-smooth"):
        run_study(parse(plugin_study(problems=[lasso]), folder=HERE), tmp_path / "out")


def test_f_star_is_computed_once_then_read_from_the_disk_cache(tmp_path):
    import study_plugins

    data = plugin_study(problems=[{"name": "study_plugins:Diagonal", "dim": 7}], seeds=[0],
                        methods=[{"name": "gd"}])
    before = study_plugins.Diagonal.solves
    run_study(parse(data, folder=HERE), tmp_path / "a")
    assert study_plugins.Diagonal.solves == before + 1
    run_study(parse(data, folder=HERE), tmp_path / "b")
    assert study_plugins.Diagonal.solves == before + 1  # the cache answered


def test_results_and_report_read_a_study_out(tmp_path):
    out = tmp_path / "out"
    run_study(parse(plugin_study(seeds=[0]), folder=HERE), out)
    rows = query([out], "SELECT method_label, step_label, count(*) AS n FROM results "
                        "GROUP BY ALL ORDER BY ALL")
    assert rows.to_dict("records") == [{"method_label": "gd", "step_label": "theory", "n": 12},
                                       {"method_label": "gd", "step_label": "x1.5", "n": 12},
                                       {"method_label": "half-gd", "step_label": "theory",
                                        "n": 12}]
    from descentlab.report import write_report

    html = write_report([out], tmp_path / "r.html").read_text()
    assert "study-summary" in html and "study_plugins:HalfStepGD" in html  # the study file
    assert html.count("data:image/png;base64") == 2


def test_one_study_per_out(tmp_path):
    out = tmp_path / "out"
    run_study(parse(plugin_study(seeds=[0], methods=[{"name": "gd"}]), folder=HERE), out)
    other = parse(plugin_study(name="other", seeds=[0], methods=[{"name": "gd"}]), folder=HERE)
    with pytest.raises(DescentlabError, match="holds the results of study:plugins"):
        run_study(other, out)
    from descentlab.experiments.outdir import check_out

    with pytest.raises(DescentlabError, match="study:plugins"):
        check_out(out, "pl-example")
    # replacing it (--force) removes every file the study wrote, tables and study file too
    res = run_study(other, out, force=True)
    assert not (set(p.name for p in out.iterdir()) - {p.name for p in res.files} - {"tasks"})


def test_theory_bounds_hold_on_the_measured_runs():
    """GD at 1/L (linear bound) and Nesterov's strongly convex bound on a quadratic."""
    p = dl.problems.Quadratic.with_condition_number(20, 50.0, seed=3)
    x_star, f_star = p.solution()
    c = {"L": p.L, "mu": p.mu, "L_max": p.L, "n": 1, "nonsmooth": False, "convex": True,
         "f_star": f_star, "gap0": p.value(np.zeros(20)) - f_star,
         "dist0_sq": float(x_star @ x_star)}
    for name in ("gd", "nesterov"):
        method = dl.get_method(name).resolve(p)
        trace = dl.run(p, method, budget_calls=200, record="epochs")
        gap = trace.df["subopt"].to_numpy()
        bound = theory_bound(name, method.hyperparameters(), c, trace.df["epochs"].to_numpy())
        assert bound is not None
        meaningful = gap > 1e-12
        assert meaningful.sum() > 20 and np.all(gap[meaningful] <= bound[meaningful])
    # no bound for a step other than the theory's
    assert theory_bound("gd", {"step": 1.5 / p.L}, c, np.arange(3)) is None
    k = np.arange(4)
    np.testing.assert_allclose(nesterov_strongly_convex_bound(k, 0.25, 1.0, 2.0, 4.0),
                               0.5 ** k * 2.5)


def test_to_toml_round_trip():
    import tomllib

    data = plugin_study()
    assert tomllib.loads(to_toml(data)) == data
