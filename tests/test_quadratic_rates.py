"""The quadratic-rates experiment: theory factors, claims with teeth, the CLI end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from descentlab.cli import main
from descentlab.experiments import get_experiment
from descentlab.experiments.quadratic_rates import theory_factor
from descentlab.methods import GD
from descentlab.problems import Quadratic
from descentlab.run import run


def _spectral_radius(step: float, momentum: float, lam: float, nesterov: bool) -> float:
    """Spectral radius of the 2x2 linear recursion of one eigen-direction (independent check)."""
    q = 1.0 - step * lam
    if nesterov:  # x+ = (1 + b) q x - b q x-
        M = np.array([[(1 + momentum) * q, -momentum * q], [1.0, 0.0]])
    else:  # heavy ball: x+ = (1 + b - step lam) x - b x-
        M = np.array([[1 + momentum - step * lam, -momentum], [1.0, 0.0]])
    return float(np.max(np.abs(np.linalg.eigvals(M))))


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_theory_factors_match_the_iteration_matrices(kappa):
    L, mu = 1.0, 1.0 / kappa
    lams = np.linspace(mu, L, 2001)
    # GD with step 1/L: the worst eigen-direction contracts by max |1 - lam/L|
    assert np.max(np.abs(1 - lams / L)) == pytest.approx(theory_factor("gd", kappa), rel=1e-12)
    # heavy ball with Polyak's tuning: every direction has spectral radius sqrt(momentum)
    sk = math.sqrt(kappa)
    step, b = 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2, ((sk - 1) / (sk + 1)) ** 2
    radii = [_spectral_radius(step, b, lam, nesterov=False) for lam in lams]
    assert max(radii) == pytest.approx(theory_factor("heavy-ball", kappa), rel=1e-6)
    # Nesterov, strongly convex variant: the slowest direction (lam = mu) has radius 1 - 1/sqrt k
    beta = (sk - 1) / (sk + 1)
    radii = [_spectral_radius(1 / L, beta, lam, nesterov=True) for lam in lams]
    assert max(radii) == pytest.approx(theory_factor("nesterov", kappa), rel=1e-6)


def test_quick_preset_passes_and_claims_cover_the_grid():
    exp = get_experiment("quadratic-rates")
    config = exp.config("quick")
    results = exp.run(config)
    claims = exp.check(results, config)
    rate_claims = [c for c in claims if " rate, " in c.name]
    assert len(rate_claims) == len(config.kappas) * len(config.methods) * len(config.seeds)
    assert all(c.passed for c in claims), [c for c in claims if not c.passed]


def test_the_rate_claim_fails_for_a_slower_method():
    """Feeding GD with half the step as if it were GD must fail the GD claim."""
    exp = get_experiment("quadratic-rates")
    kappa = 30.0
    problem = Quadratic.with_condition_number(20, kappa, seed=1)
    trace = run(problem, GD(step=0.5 / problem.L), budget_calls=3000, record="linear",
                n_records=600)
    df = trace.df
    fake = pd.DataFrame({"kappa": kappa, "method": "gd", "seed": 1,
                         "iteration": df["iteration"],
                         "rel_dist": df["dist_to_opt"] / df["dist_to_opt"].iloc[0],
                         "rel_subopt": df["subopt"] / df["subopt"].iloc[0], "step": 0.5})
    claims = exp.check(fake, exp.config("quick"))
    (gd_claim,) = [c for c in claims if c.name.startswith("GD rate")]
    assert not gd_claim.passed
    measured = float(gd_claim.measured.split("=")[1].split()[0])
    assert measured == pytest.approx(1 - 0.5 / kappa, abs=2e-3)


def test_cli_reproduce_writes_results_figures_and_checks(tmp_path):
    out = tmp_path / "qr"
    result = CliRunner().invoke(main, ["reproduce", "quadratic-rates", "--preset", "quick",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output and "FAIL" not in result.output
    checks = json.loads((out / "checks.json").read_text())
    assert checks["passed"] is True and checks["claims"]
    assert (out / "results.parquet").stat().st_size > 0
    png = out / "quadratic-rates-suboptimality.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_reproduce_exits_3_when_a_claim_fails(tmp_path, monkeypatch):
    """With a (wrong) theory twice as fast as reality, the rate claims fail: exit code 3."""
    import descentlab.experiments.quadratic_rates as qr

    real = qr.theory_factor
    monkeypatch.setattr(qr, "theory_factor", lambda method, kappa: real(method, kappa) ** 2)
    result = CliRunner().invoke(main, ["reproduce", "quadratic-rates", "--out",
                                       str(tmp_path / "x"), "--set", "kappas=10,100"])
    assert result.exit_code == 3, result.output
    assert "FAIL" in result.output


def test_cli_reproduce_rejects_unknown_settings_and_experiments(tmp_path):
    runner = CliRunner()
    bad_key = runner.invoke(main, ["reproduce", "quadratic-rates", "--set", "nosuch=1",
                                   "--out", str(tmp_path / "a")])
    assert bad_key.exit_code == 2 and "nosuch" in bad_key.output
    bad_value = runner.invoke(main, ["reproduce", "quadratic-rates", "--set", "dim=abc",
                                     "--out", str(tmp_path / "b")])
    assert bad_value.exit_code == 2 and "dim" in bad_value.output
    unknown = runner.invoke(main, ["reproduce", "no-such-experiment"])
    assert unknown.exit_code == 2 and "quadratic-rates" in unknown.output
