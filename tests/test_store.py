"""The results store: results.parquet with provenance, DuckDB SQL over OUT directories."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from sweep_experiments import SleepyConfig, registered

from descentlab.cli import main
from descentlab.errors import DescentlabError
from descentlab.executors import SerialExecutor
from descentlab.experiments import reproduce
from descentlab.store import find_results, query, result_columns


@pytest.fixture(scope="module")
def outs(tmp_path_factory):
    """Two OUT directories of different experiments, and a parent holding both."""
    root = tmp_path_factory.mktemp("outs")
    with registered():
        sleepy = reproduce("sweep-sleepy", out=root / "sleepy", executor=SerialExecutor())
    quad = reproduce("quadratic-rates", out=root / "quad", executor=SerialExecutor())
    return root, sleepy, quad


def test_results_parquet_has_the_result_columns_then_provenance(outs):
    root, sleepy, _ = outs
    df = pd.read_parquet(root / "sleepy" / "results.parquet")
    assert result_columns(df) == ["width", "seed", "i", "value", "label"]
    pd.testing.assert_frame_equal(df[result_columns(df)], sleepy.results, check_exact=True)
    for col in ("prov_experiment", "prov_experiment_version", "prov_task_key", "prov_task",
                "prov_descentlab", "prov_git_commit", "prov_python", "prov_libraries",
                "prov_machine", "prov_finished", "prov_wall_s"):
        assert col in df.columns, col
    for col in ("prov_experiment", "prov_task_key", "prov_task", "prov_descentlab",
                "prov_python", "prov_machine", "prov_finished", "prov_wall_s"):
        assert df[col].notna().all(), col
    assert (df["prov_experiment"] == "sweep-sleepy").all() and (df["prov_wall_s"] > 0).all()
    tasks = df["prov_task"].map(json.loads)
    assert (tasks.map(lambda t: t["seed"]) == df["seed"]).all()
    assert (tasks.map(lambda t: t["width"]) == df["width"]).all()
    assert "numpy" in json.loads(df["prov_libraries"].iloc[0])


def test_sql_over_two_out_directories(outs):
    root, sleepy, quad = outs
    counts = query([root / "sleepy", root / "quad"],
                   "SELECT prov_experiment AS e, count(*) AS n, count(DISTINCT prov_task_key) "
                   "AS tasks FROM results GROUP BY e ORDER BY e")
    assert counts.to_dict("records") == [
        {"e": "quadratic-rates", "n": len(quad.results), "tasks": 9},
        {"e": "sweep-sleepy", "n": len(sleepy.results), "tasks": 6}]
    # columns are matched by name: `seed` is shared, the others are NULL where missing
    mixed = query([root / "quad", root / "sleepy"],
                  "SELECT count(seed) AS seeds, count(width) AS widths, count(kappa) AS kappas,"
                  " count(DISTINCT prov_source) AS files FROM results")
    assert mixed.iloc[0].tolist() == [len(quad.results) + len(sleepy.results),
                                      len(sleepy.results), len(quad.results), 2]


def test_a_directory_of_experiment_directories_is_searched(outs):
    root, sleepy, quad = outs
    assert sorted(p.parent.name for p in find_results([root])) == ["quad", "sleepy"]
    df = query([root])
    assert len(df) == len(sleepy.results) + len(quad.results)
    assert not [c for c in df.columns if c.startswith("prov_") and c != "prov_experiment"]


def test_csv_and_parquet_output(outs, tmp_path):
    root, sleepy, _ = outs
    sql = "SELECT width, seed, i, value FROM results WHERE prov_experiment = 'sweep-sleepy' " \
          "ORDER BY width, seed, i"
    expected = sleepy.results[["width", "seed", "i", "value"]].sort_values(
        ["width", "seed", "i"], ignore_index=True)
    csv = query([root], sql, csv=tmp_path / "r.csv")
    pd.testing.assert_frame_equal(pd.read_csv(csv), expected, check_dtype=False)
    pq_path = query([root], sql, parquet=tmp_path / "r.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(pq_path), expected, check_exact=True)


def test_cli_results_prints_a_table_and_writes_files(outs, tmp_path):
    root = outs[0]
    runner = CliRunner()
    printed = runner.invoke(main, ["results", str(root / "sleepy"), str(root / "quad"),
                                   "--sql", "SELECT prov_experiment, count(*) AS n FROM "
                                            "results GROUP BY ALL ORDER BY 1"])
    assert printed.exit_code == 0, printed.output
    assert "quadratic-rates" in printed.stdout and "sweep-sleepy" in printed.stdout
    assert "2 rows" in printed.stderr
    written = runner.invoke(main, ["results", str(root), "--csv", str(tmp_path / "a.csv")])
    assert written.exit_code == 0 and (tmp_path / "a.csv").stat().st_size > 0
    written = runner.invoke(main, ["results", str(root), "--parquet", str(tmp_path / "a.pq")])
    assert written.exit_code == 0 and len(pd.read_parquet(tmp_path / "a.pq")) > 0


def test_bad_queries_and_directories_are_clear_errors(outs, tmp_path):
    root = outs[0]
    with pytest.raises(DescentlabError, match="--sql"):
        query([root], "SELEC 1")
    with pytest.raises(DescentlabError, match="--sql"):
        query([root], "SELECT no_such_column FROM results")
    with pytest.raises(DescentlabError, match="does not exist"):
        query([tmp_path / "missing"])
    with pytest.raises(DescentlabError, match="no results.parquet"):
        query([tmp_path])
    result = CliRunner().invoke(main, ["results", str(root), "--sql", "SELECT nope FROM results"])
    assert result.exit_code == 2 and "--sql" in result.output
    result = CliRunner().invoke(main, ["results", str(root), "--csv", "a.csv",
                                       "--parquet", "b.parquet"])
    assert result.exit_code == 2 and "not both" in result.output


def test_sweep_config_changes_do_not_leak_into_results(tmp_path):
    """Stale task files of another grid stay in OUT/tasks but not in results.parquet."""
    with registered():
        reproduce("sweep-sleepy", out=tmp_path, overrides={"widths": (1, 2, 3, 4)})
        small = reproduce("sweep-sleepy", out=tmp_path, overrides={"widths": (2,)})
    assert len(list((tmp_path / "tasks").glob("*.parquet"))) == 8
    assert small.sweep.cached == 2 and small.sweep.computed == 0
    df = query([tmp_path], "SELECT DISTINCT width, seed FROM results ORDER BY ALL")
    assert df.to_dict("records") == [{"width": 2, "seed": 0}, {"width": 2, "seed": 1}]
    assert SleepyConfig().widths == (1, 2, 3)
