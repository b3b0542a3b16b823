"""The rates, pl-example, semilocal-pl and complexity experiments: quick presets pass their
claims, the claims cover the grid, and they fail when the results contradict the theory.

Each quick preset runs once per session (module-scoped fixtures); the "teeth" tests feed the
checks with results altered in the way a wrong theory or a broken method would alter them.
complexity's quick preset (~45 s: SGD and Katyusha on the generic numpy path) is a `paper`
test (``make check-paper``); ``make test`` runs its compiled methods on smaller grids.
"""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from descentlab.cli import main
from descentlab.experiments import complexity, pl_example, rates, semilocal_pl
from descentlab.experiments.registry import BUILTIN, PLUGINS_ENV, get_experiment
from descentlab.problems import ScalarNetwork

PLUGINS = ",".join(f"descentlab.experiments.{m}" for m in
                   ("rates", "pl_example", "semilocal_pl", "complexity"))


def _quick(cls):
    exp = cls()
    config = exp.config("quick")
    return exp, config, exp.run(config)


def _failed(claims):
    return [c for c in claims if not c.passed]


def _close(figs):
    assert figs and all(hasattr(f, "savefig") for f in figs.values())
    for f in figs.values():
        plt.close(f)


@pytest.fixture(scope="module")
def rates_run():
    return _quick(rates.Rates)


@pytest.fixture(scope="module")
def pl_run():
    return _quick(pl_example.PLExampleExperiment)


@pytest.fixture(scope="module")
def semilocal_run():
    return _quick(semilocal_pl.SemilocalPL)


@pytest.fixture(scope="module")
def complexity_run():
    return _quick(complexity.Complexity)


#: complexity on the compiled methods (GD, SAGA, SVRG) and smaller grids: ~3 s instead of
#: ~45 s. The two large-kappa sweeps keep kappa_max / n >= 30 (kappa_max = 1.9 kappa here).
#: Measured |slope - theory| <= 0.08 with data seeds 0, 1, 2 (tolerance 0.2); the noisy SGD
#: and Katyusha rows (their slopes moved by up to 0.24 between data seeds on small grids)
#: and the a9a sweeps (SVRG's n-exponent needs n >= 4096 there) stay in the quick preset.
COMPLEXITY_SMALL = {"methods": ("gd", "saga", "svrg"), "a9a": False, "small_n": 64,
                    "small_n_kappas": (1000.0, 3000.0, 10000.0), "large_kappa": 3000.0,
                    "large_kappa_ns": (16, 32, 64)}


@pytest.fixture(scope="module")
def complexity_small_run():
    exp = complexity.Complexity()
    config = exp.config("quick", **COMPLEXITY_SMALL)
    return exp, config, exp.run(config)


def test_experiments_are_registered():
    for name in ("rates", "pl-example", "semilocal-pl", "complexity"):
        assert name in BUILTIN
        exp = get_experiment(name)
        assert exp.name == name
        assert set(exp.presets) == {"quick", "paper"}
        assert exp.source.startswith(("003", "004", "000"))


# --------------------------------------------------------------------------- rates
def test_rates_quick_passes(rates_run):
    exp, config, results = rates_run
    claims = exp.check(results, config)
    assert not _failed(claims), _failed(claims)
    names = " ".join(c.name for c in claims)
    for panel in rates.PANELS:
        assert f"{panel}: measured curve below the bound" in names
    assert "acceleration" in names and "pl: every GD step" in names
    fits = exp.fits(results, config)
    assert fits["convex"].exponent == pytest.approx(1.0, abs=0.02)
    assert fits["nonconvex"].exponent == pytest.approx(1.5, abs=0.1)  # ||grad|| ~ x^3 ~ t^-3/2
    assert 0.2 <= fits["sgd"].exponent <= 0.35
    _close(exp.plot(results, config))


def test_rates_claims_have_teeth(rates_run):
    exp, config, results = rates_run
    bad = results.copy()
    # Nesterov no faster than GD: the exponent and acceleration claims must fail
    gd = bad[bad["panel"] == "convex"]["measured"].to_numpy()
    bad.loc[bad["panel"] == "nesterov", "measured"] = gd
    # SGD 20x above its bound
    bad.loc[bad["panel"] == "sgd", "measured"] *= 20
    failed = {c.name for c in _failed(exp.check(bad, config))}
    assert "nesterov: fitted exponent respects the bound" in failed
    assert "acceleration: Nesterov's exponent exceeds GD's" in failed
    assert "sgd: measured curve below the bound" in failed
    assert "convex: fitted exponent respects the bound" not in failed


# ---------------------------------------------------------------------- pl-example
def test_pl_example_quick_passes(pl_run):
    exp, config, results = pl_run
    claims = exp.check(results, config)
    assert not _failed(claims), _failed(claims)
    land = results[results["kind"] == "landscape"].iloc[0]
    # independent: the PL ratio written out in numpy on a finer grid
    x = np.linspace(0.01, 10, 2_000_001)
    ratio = (2 * x + 3 * np.sin(2 * x)) ** 2 / (2 * (x * x + 3 * np.sin(x) ** 2))
    assert land["alpha"] == pytest.approx(ratio.min(), rel=1e-9)
    assert land["alpha"] == pytest.approx(0.1755309859, rel=1e-8)
    assert land["min_f2"] == pytest.approx(-4.0, abs=1e-6)
    assert sum("GD from x0" in c.name for c in claims) == 2 * len(config.x0s)
    _close(exp.plot(results, config))


def test_pl_example_claims_have_teeth(pl_run):
    exp, config, results = pl_run
    # a landscape whose PL constant would be below the seed's 1/32
    bad = results.copy()
    bad.loc[bad["kind"] == "landscape", "alpha"] = 0.02
    failed = {c.name for c in _failed(exp.check(bad, config))}
    assert failed == {"PL constant at least the seed's 1/32"}
    # a method contracting by 0.99 per step from x0 = 10 is slower than 1 - alpha/beta
    bad = results.copy()
    sel = (bad["kind"] == "gd") & (bad["x0"] == 10.0)
    k = bad.loc[sel, "k"].to_numpy()
    bad.loc[sel, "gap"] = bad.loc[sel, "gap"].iloc[0] * 0.99 ** k
    failed = {c.name for c in _failed(exp.check(bad, config))}
    assert failed == {"GD from x0 = 10: linear convergence at least 1 - alpha/beta"}


# -------------------------------------------------------------------- semilocal-pl
def test_semilocal_quick_passes(semilocal_run):
    exp, config, results = semilocal_run
    claims = exp.check(results, config)
    assert not _failed(claims), _failed(claims)
    names = [c.name for c in claims]
    y = np.linalg.norm(config.y_star)
    for a0 in config.a0s:
        case = semilocal_pl._case(a0, y)
        if case != "uncertified":
            assert f"a0={a0:g}: certificate holds" in names
            assert f"a0={a0:g}: the flow converges at the certified rate" in names
        if case == "gd-certified":
            assert any(n.startswith(f"a0={a0:g}: GD (step 1/L)") for n in names)
        if case == "uncertified":
            assert f"a0={a0:g} (uncertified): GD still converges, at the rate of its limit" \
                in names
    summ = exp.summary(results, config.eps)
    cert = summ[summ["case"] == "gd-certified"]
    assert cert["gd_steps"].nunique() <= 2  # the same number of steps whatever a0
    _close(exp.plot(results, config))


def test_gradient_flow_reaches_the_closed_form_limit():
    y = np.array([0.6, 0.8])
    p = ScalarNetwork(y, a0=0.4)
    t, X = semilocal_pl.gradient_flow(p, p.default_x0(), 1e4)
    from descentlab.theory import scalar_network_flow_limit

    np.testing.assert_allclose(X[-1], scalar_network_flow_limit(0.4, y), atol=1e-6)
    assert p.value(X[-1]) <= 1e-15 * p.value(p.default_x0()) * 1.01
    assert np.all(np.diff([p.value(x) for x in X]) <= 1e-15)  # the flow decreases f


def test_semilocal_claims_have_teeth(semilocal_run):
    exp, config, results = semilocal_run
    bad = results.copy()
    # a flow that wanders out of its ball, and a GD 10x above (1 - mu/L)^k at a0 = 4
    sel = (bad["a0"] == 3.0) & (bad["kind"] == "flow")
    bad.loc[sel, "dist"] = bad.loc[sel, "dist"] * 3
    sel = (bad["a0"] == 4.0) & (bad["kind"] == "gd") & (bad["t"] > 0)
    bad.loc[sel, "gap"] = bad.loc[sel, "gap"] * 10
    failed = {c.name for c in _failed(exp.check(bad, config))}
    assert "a0=3: the flow stays in its ball" in failed
    assert "a0=4: GD (step 1/L) stays in its ball and converges at (1 - mu/L)^k" in failed
    assert len(failed) == 2


# ---------------------------------------------------------------------- complexity
def _check_complexity(exp, config, results):
    """All claims pass, one exponent claim per (sweep, method) pair, the three figures."""
    claims = exp.check(results, config)
    assert not _failed(claims), _failed(claims)
    slopes = exp.slopes(results, config)
    assert len([c for c in claims if "exponent in" in c.name]) == len(slopes)
    assert sum("log(1/eps) dependence" in c.name for c in claims) == \
        len([m for m in config.methods if m != "sgd"])
    sub = slopes.set_index(["sweep", "method"])
    assert abs(sub.loc[("kappa@large-n", "saga"), "measured_slope"]) <= 0.2  # flat in kappa
    figs = exp.plot(results, config)
    assert set(figs) == {"scaling", "table", "bounds"}
    _close(figs)
    return sub


def test_complexity_small_grids_pass(complexity_small_run):
    exp, config, results = complexity_small_run
    sub = _check_complexity(exp, config, results)
    assert set(sub.index.get_level_values("method")) == {"gd", "saga", "svrg"}
    assert len(sub) == 4 * 3  # the four synthetic sweeps


@pytest.mark.paper
def test_complexity_quick_passes(complexity_run):
    exp, config, results = complexity_run
    sub = _check_complexity(exp, config, results)
    # SGD only on the small-kappa sweeps; Katyusha accelerated when kappa >> n
    assert sub.loc[("kappa@small-n", "katyusha"), "measured_slope"] == pytest.approx(0.5,
                                                                                   abs=0.1)
    assert ("kappa@small-n", "sgd") not in sub.index


def _saga_pays_kappa(results, config):
    """SAGA paying kappa like GD on the kappa << n sweep."""
    bad = results.copy()
    sel = (bad["method"] == "saga") & (bad["n"] == config.kappa_sweep_n) \
        & (bad["part"] == "synthetic")
    bad.loc[sel, "calls"] = bad.loc[sel, "calls"] * bad.loc[sel, "design_kappa"]
    return bad


def _failed_names(exp, results, config) -> set[str]:
    return {c.name.split(" (")[0] for c in _failed(exp.check(results, config))}


def test_complexity_claims_have_teeth(complexity_small_run):
    exp, config, results = complexity_small_run
    failed = _failed_names(exp, _saga_pays_kappa(results, config), config)
    assert failed == {"SAGA: exponent in kappa, kappa@large-n"}


@pytest.mark.paper
def test_complexity_sgd_claims_have_teeth(complexity_run):
    exp, config, results = complexity_run
    bad = _saga_pays_kappa(results, config)
    # SGD paying n on the n sweep
    sel = (bad["method"] == "sgd") & np.isclose(bad["design_kappa"], config.n_sweep_kappa)
    bad.loc[sel, "calls"] = bad.loc[sel, "calls"] * bad.loc[sel, "n"] / 256
    failed = _failed_names(exp, bad, config)
    assert "SAGA: exponent in kappa, kappa@large-n" in failed
    assert "SGD: exponent in n, n@small-kappa" in failed
    assert "GD: exponent in kappa, kappa@large-n" not in failed


def test_smooth_in_time_bias_on_a_one_over_t_curve():
    t = np.linspace(0, 1e5, 1001)
    v = np.where(t > 0, 1.0 / np.maximum(t, 1e-300), 1.0)
    s = complexity.smooth_in_time(t, v, 1.2)
    # with >= 20 records on each side of the window (linear records, 100 apart)
    late = (t >= 1e4) & (t * 1.2 <= t[-1])
    assert np.all(np.abs(s[late] * t[late] - 1) < 0.01)
    assert np.all(np.isnan(s[t * 1.2 > t[-1]]))  # one-sided windows are not used


# ------------------------------------------------------------------------------ CLI
def test_cli_reproduce_through_the_plugin_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(PLUGINS_ENV, PLUGINS)
    out = tmp_path / "sl"
    result = CliRunner().invoke(main, ["reproduce", "semilocal-pl", "--preset", "quick",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    checks = json.loads((out / "checks.json").read_text())
    assert checks["passed"] is True and checks["experiment"] == "semilocal-pl"
    for fig in ("trajectories", "convergence", "versus-a0"):
        png = out / f"semilocal-pl-{fig}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not pd.read_parquet(out / "results.parquet").empty


def test_builtin_map_names_each_experiment_class_by_its_own_name():
    """The static registry's keys are the classes' ``name`` (one line per experiment)."""
    for name in BUILTIN:
        assert get_experiment(name).name == name
