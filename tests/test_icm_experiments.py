"""The ICM teacher-student experiments (icm-fig2, icm-fig3): presets, tasks, claims, files.

Importing the modules registers the experiments (their names are added to
``descentlab/experiments/_load_all.py`` separately).
"""

from __future__ import annotations

import dataclasses
import functools
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from descentlab import DescentlabError
from descentlab.data.teacher import Teacher
from descentlab.executors import JoblibExecutor, SerialExecutor
from descentlab.experiments import get_experiment, icm_fig2, reproduce
from descentlab.experiments.icm_fig2 import IcmFig2, aligned_weights, draw_teacher
from descentlab.experiments.icm_fig3 import IcmFig3
from descentlab.sweep import canonical_json, run_sweep


@pytest.fixture(scope="module")
def fig3_quick():
    exp = IcmFig3()
    config = exp.config("quick")
    return exp, config, exp.run(config)


@pytest.fixture(scope="module")
def fig2_quick():
    exp = IcmFig2()
    config = exp.config("quick")
    return exp, config, exp.run(config)


def test_experiments_are_registered():
    assert isinstance(get_experiment("icm-fig2"), IcmFig2)
    assert isinstance(get_experiment("icm-fig3"), IcmFig3)


def test_paper_presets_follow_the_published_settings():
    c3 = IcmFig3().config("paper")
    assert (c3.dims, c3.m0, c3.widths, c3.reps) == ((20, 100), 10, tuple(range(1, 31)), 30)
    assert (c3.steps, c3.batch_size, c3.lr, c3.n_test, c3.threshold) == \
        (10_000, 100, 0.005, 1000, 1e-3)
    assert c3.matmul_dtype == "float32"  # the products only; see the module docstring
    with pytest.raises(DescentlabError, match="^matmul_dtype:"):
        IcmFig3().tasks(IcmFig3().config("paper", matmul_dtype="float16"))
    c2 = IcmFig2().config("paper")
    assert (c2.m0, c2.widths, c2.steps, c2.batch_size, c2.lr) == \
        (4, (5, 20, 100, 1000), 200_000, 100, 0.002)
    tasks = IcmFig3().tasks(c3)
    assert len(tasks) == 60 and {t["d"] for t in tasks[:30]} == {100}  # long tasks first
    for t in tasks + IcmFig2().tasks(c2):
        assert json.loads(canonical_json(t)) == t  # plain JSON data


def test_fig3_quick_preset_passes_its_checks(fig3_quick):
    exp, config, results = fig3_quick
    assert list(results.columns[:5]) == ["d", "m", "rep", "risk", "success"]
    assert len(results) == len(config.widths) * config.reps
    assert results["success"].equals(results["risk"] <= config.threshold)
    claims = exp.check(results, config)
    assert len(claims) == 3
    assert all(c.passed for c in claims), [c for c in claims if not c.passed]
    # the 1000-point estimate tracks the exact population risk of the trained network
    ratio = results["risk"] / results["risk_exact"]
    assert ratio[results["risk_exact"] > 1e-3].between(0.7, 1.4).all()
    figures = exp.plot(results, config)
    assert set(figures) == {"d20"}


def test_fig3_claims_fail_when_the_results_say_otherwise(fig3_quick):
    exp, config, results = fig3_quick
    bad = results.copy()
    bad.loc[bad["m"] == 4, "success"] = True           # successes below m0
    bad.loc[bad["m"] >= 20, "success"] = False         # and none from 2 m0
    failed = {c.name.split(": ")[1] for c in exp.check(bad, config) if not c.passed}
    assert failed == {"no success below m0 = 10", "success rate rises with m",
                      "success from m >= 2 m0 = 20"}


def test_fig3_task_is_deterministic_and_executor_independent():
    exp = IcmFig3()
    config = exp.config("quick", widths=(4, 12), reps=2, steps=300)
    tasks = exp.tasks(config)
    serial = run_sweep(exp, tasks, executor=SerialExecutor()).frame()
    with JoblibExecutor(n_jobs=2) as ex:
        pooled = run_sweep(exp, tasks, executor=ex).frame()
    pd.testing.assert_frame_equal(serial, pooled, check_exact=True)
    again = exp.run_task(tasks[0])
    pd.testing.assert_frame_equal(again, serial.iloc[:2].reset_index(drop=True),
                                  check_exact=True)
    other_seed = exp.run_task({**tasks[0], "seed": 1})
    assert not np.array_equal(other_seed["risk"], again["risk"])


def test_fig2_quick_preset_passes_its_checks(fig2_quick):
    exp, config, results = fig2_quick
    claims = exp.check(results, config)
    checked = [c for c in claims if "reported" not in c.name]
    assert [c.name for c in checked] == ["m=100: population risk vanishes",
                                         "m=100: particles gather on every teacher neuron"]
    assert all(c.passed for c in claims), [c for c in claims if not c.passed]
    state = exp.final_state(results, config).set_index("m")
    assert state.loc[5, "risk"] > 1e-2  # the selected m = 5 run stops at a bad point
    figures = exp.plot(results, config)
    assert set(figures) == {"particles", "risk"}


def test_fig2_claims_fail_before_training(fig2_quick):
    exp, config, results = fig2_quick
    start = results[results["step"] == 0].copy()
    start["step"] = config.steps  # the initial particles presented as final
    bad = pd.concat([results[results["step"] < config.steps], start])
    failed = [c for c in exp.check(bad, config) if not c.passed]
    assert {c.name for c in failed} == {"m=100: population risk vanishes",
                                        "m=100: particles gather on every teacher neuron"}


def test_aligned_weights():
    teacher = Teacher(np.array([1.0, -1.0]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    a = np.array([2.0, 2.0, -4.0, 2.0])
    b = np.array([[1.0, 0.01], [0.5, 0.0], [0.0, 0.5], [0.0, 1.0]])  # the last: wrong sign
    w = aligned_weights(a, b, teacher, angle_deg=5.0)
    np.testing.assert_allclose(w, [(2 * np.hypot(1, 0.01) + 1.0) / 4, 0.5])
    assert np.all(aligned_weights(a, b, teacher, angle_deg=0.1) <= w)


def test_fig2_snapshots_and_animation(fig2_quick, tmp_path, monkeypatch):
    """The GIF with 6 frames instead of GIF_FRAMES = 48 (0.8 s instead of 4.7 s); its size
    per frame bounds the default GIF's (1.2 MB measured)."""
    exp, config, results = fig2_quick
    assert set(results.columns) == {"m", "step", "neuron", "a", "b0", "b1"}
    first = results[(results["m"] == 100) & (results["step"] == 0)]
    np.testing.assert_allclose(np.hypot(first["b0"], first["b1"]), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(np.abs(first["a"]), 1.0)  # A_j = +-1/m
    teacher = draw_teacher(config.m0, config.teacher_seed)
    assert np.array_equal(teacher.b, draw_teacher(config.m0, config.teacher_seed).b)
    frames = 6
    monkeypatch.setattr(icm_fig2, "write_animation",
                        functools.partial(icm_fig2.write_animation, frames=frames))
    (gif,) = exp.extra_files(results, config, tmp_path)
    assert gif.name == "icm-fig2-flow.gif"
    with Image.open(gif) as image:
        assert image.n_frames == frames and image.size[0] > 3 * image.size[1]  # 3 panels
    assert 0 < gif.stat().st_size / frames * icm_fig2.GIF_FRAMES < 3e6


def test_reproduce_writes_results_figures_and_checks(tmp_path):
    rep = reproduce("icm-fig3", "quick", tmp_path, overrides={"reps": 2, "steps": 200,
                                                              "widths": "5,25"})
    assert (tmp_path / "results.parquet").exists()
    assert (tmp_path / "icm-fig3-d20.png").exists()
    checks = json.loads((tmp_path / "checks.json").read_text())
    assert checks["config"] == json.loads(json.dumps(dataclasses.asdict(rep.config)))
    assert checks["config"]["widths"] == [5, 25]
