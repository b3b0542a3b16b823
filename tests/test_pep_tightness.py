"""The pep-tightness experiment end to end on a small grid, its claims and their teeth."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from descentlab.errors import DescentlabError
from descentlab.experiments.registry import BUILTIN, get_experiment


@pytest.fixture(scope="module")
def small_run():
    exp = get_experiment("pep-tightness")
    config = exp.config("quick", n_max=4, a9a=False, dim=20, step_n=3, step_points=7)
    return exp, config, exp.run(config)


def test_registered_with_presets():
    assert "pep-tightness" in BUILTIN
    exp = get_experiment("pep-tightness")
    assert exp.config("quick").n_max == 8 and exp.config("paper").n_max == 30
    with pytest.raises(DescentlabError, match="n_max: expected an integer in"):
        exp.config("quick", n_max=0)
    with pytest.raises(DescentlabError, match="methods: expected"):
        exp.config("quick", methods="gd,svrg")


def test_small_grid_claims_pass(small_run):
    exp, config, results = small_run
    claims = exp.check(results, config)
    assert [c for c in claims if not c.passed] == []
    names = " ".join(c.name for c in claims)
    for needle in ("GD: PEP = L R^2/(4N + 2)", "textbook / PEP = 2 + 1/N",
                   "Nesterov: PEP <= textbook", "FISTA: PEP <= textbook",
                   "heavy ball: the PEP over quadratics is attained", "best constant step"):
        assert needle in names
    curves = results[results["panel"] == "curve"]
    assert set(curves["instance"]) == {"worst-case instance", "quadratic"}
    assert set(curves["N"]) == {1, 2, 3, 4}
    figs = exp.plot(results, config)
    assert set(figs) == {"curves", "step-size"}
    for f in figs.values():
        plt.close(f)


def test_claims_have_teeth(small_run):
    exp, config, results = small_run
    bad = results.copy()
    row = bad.index[(bad["method"] == "nesterov") & (bad["instance"] == "quadratic")][0]
    bad.loc[row, "measured"] = bad.loc[row, "pep"] * 1.01  # a run above the worst case
    failed = [c.name for c in exp.check(bad, config) if not c.passed]
    assert failed == ["Nesterov: measured <= PEP on quadratic, N = 1..4"]
    bad = results.copy()
    bad.loc[bad["panel"] == "step", "pep"] *= 1.001  # a PEP off the closed form
    failed = [c.name for c in exp.check(bad, config) if not c.passed]
    assert any("step study" in name for name in failed)
