"""The 'published' preset of weakly-correlated (Dana, Bach, Pillaud-Vivien protocol): data and
initialisation laws, the network, loss and gradients against direct numpy code and finite
differences, the epoch formula, the early-stop rule, the rows, the logistic fit against
scikit-learn, the claims on a tiny grid and the --set errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

from descentlab.cli import main
from descentlab.data.weakly import published_inputs, published_network
from descentlab.errors import DescentlabError
from descentlab.experiments.weakly_correlated import WeaklyCorrelated
from descentlab.experiments.weakly_published import default_ns, logistic_transition
from descentlab.particles import seeded
from descentlab.particles.float32_gd import (
    float32_gd,
    gradients,
    network_output,
    published_epochs,
    published_threshold,
)


# ------------------------------------------------------------------ the laws of the draws
def test_inputs_have_the_published_law():
    d = 12
    X, y = published_inputs(4000, d, seeded(0, 1))
    assert X.dtype == np.float32 and y.dtype == np.float32 and X.shape == (4000, d)
    X, y = X.astype(np.float64), y.astype(np.float64)
    r = np.linalg.norm(X, axis=1)
    assert r.min() >= 1 - 1e-6 and r.max() <= 2 + 1e-6
    assert stats.kstest(r, stats.uniform(1, 1).cdf).pvalue > 1e-3           # r ~ U[1, 2]
    u = X / r[:, None]                         # uniform direction: E u = 0, E u u^T = I / d
    np.testing.assert_allclose(u.mean(0), 0, atol=5 * (1 / math.sqrt(d)) / math.sqrt(4000))
    np.testing.assert_allclose(u.T @ u / 4000, np.eye(d) / d, atol=0.012)
    # u_1^2 ~ Beta(1/2, (d-1)/2) on the sphere
    assert stats.kstest(u[:, 0] ** 2, stats.beta(0.5, (d - 1) / 2).cdf).pvalue > 1e-3
    assert stats.kstest(np.abs(y), stats.uniform(1, 1).cdf).pvalue > 1e-3   # u_i ~ U[1, 2]
    assert stats.binomtest(int((y > 0).sum()), 4000).pvalue > 1e-3          # Rademacher sign
    # independent of the inputs' norm
    assert abs(stats.pearsonr(np.abs(y), r).statistic) < 0.06


def test_initialisation_has_the_published_law():
    d, p = 25, 4000
    W, a = published_network(p, d, seeded(0, 2))
    assert W.dtype == np.float32 and a.dtype == np.float32 and W.shape == (p, d)
    W, a = W.astype(np.float64), a.astype(np.float64)
    b = 1 / math.sqrt(d)                       # PyTorch nn.Linear: U(-1/sqrt(fan_in), ...)
    assert np.abs(W).max() <= b * (1 + 1e-6)
    assert stats.kstest(W.ravel()[:20000], stats.uniform(-b, 2 * b).cdf).pvalue > 1e-3
    excess = np.abs(a) - np.linalg.norm(W, axis=1)      # e_j ~ Exp(1)
    assert stats.kstest(excess, stats.expon.cdf).pvalue > 1e-3
    assert stats.binomtest(int((a > 0).sum()), p).pvalue > 1e-3


def test_draws_are_reproducible_per_stream():
    X1, y1 = published_inputs(5, 3, seeded(4, 2))
    X2, y2 = published_inputs(5, 3, seeded(4, 2))
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, published_inputs(5, 3, seeded(5, 2))[0])


# ------------------------------------------------------------------ model, loss, gradients
def _small(R=3, n=7, d=5, p=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((R, n, d))
    y = rng.choice([-1.0, 1.0], (R, n)) * rng.uniform(1, 2, (R, n))
    W = rng.standard_normal((R, p, d)) / math.sqrt(d)
    a = rng.standard_normal((R, p)) * 2
    return tuple(v.astype(dtype) for v in (X, y, W, a))


def _direct_loss(X, y, W, a):
    """p mean_i (y_i - (1/p) sum_j a_j relu(w_j . x_i))^2 / 2 by loops (one network)."""
    n, p = len(y), len(a)
    total = 0.0
    for i in range(n):
        f = sum(a[j] * max(float(W[j] @ X[i]), 0.0) for j in range(p)) / p
        total += (y[i] - f) ** 2
    return p * total / n / 2


def test_network_output_and_loss_match_direct_loops():
    X, y, W, a = _small()
    f = network_output(X, W, a)
    loss, _, _ = gradients(X, y, W, a)
    for r in range(3):
        f_ref = [sum(a[r, j] * max(W[r, j] @ X[r, i], 0) for j in range(4)) / 4
                 for i in range(7)]
        np.testing.assert_allclose(f[r], f_ref, rtol=1e-13)
        assert loss[r] == pytest.approx(_direct_loss(X[r], y[r], W[r], a[r]), rel=1e-13)


def test_gradients_match_finite_differences(fd_grad):
    X, y, W, a = _small(R=2)
    _, gW, ga = gradients(X, y, W, a)
    for r in range(2):
        def loss(theta, r=r):
            return _direct_loss(X[r], y[r], theta[4:].reshape(4, 5), theta[:4])
        fd = fd_grad(loss, np.concatenate([a[r], W[r].ravel()]))
        np.testing.assert_allclose(np.concatenate([ga[r], gW[r].ravel()]), fd, atol=1e-7)


def test_float32_gradients_agree_with_float64():
    X, y, W, a = _small(R=4, n=50, d=20, p=30, seed=2)
    l64, gW64, ga64 = gradients(X, y, W, a)
    l32, gW32, ga32 = gradients(*(v.astype(np.float32) for v in (X, y, W, a)))
    assert l32.dtype == gW32.dtype == ga32.dtype == np.float32
    np.testing.assert_allclose(l32, l64, rtol=1e-6)
    np.testing.assert_allclose(gW32, gW64, rtol=1e-4, atol=1e-5 * np.abs(gW64).max())
    np.testing.assert_allclose(ga32, ga64, rtol=1e-4, atol=1e-5 * np.abs(ga64).max())


def _manual_gd(X, y, W, a, lr, steps):
    """GD written out with the PyTorch chain rule (dL/df_i = p (f_i - y_i) / n, then
    through f = (1/p) relu(X W^T) a): the losses before each step and the iterates."""
    n, p = len(y), len(a)
    losses, iterates = [], [(W.copy(), a.copy())]
    for _ in range(steps):
        Z = X @ W.T
        H = np.maximum(Z, 0)
        f = H @ a / p
        losses.append(p * np.mean((y - f) ** 2) / 2)
        dLdf = p * (f - y) / n
        ga = H.T @ dLdf / p
        gW = ((Z > 0) * np.outer(dLdf, a) / p).T @ X
        W, a = W - lr * gW, a - lr * ga
        iterates.append((W.copy(), a.copy()))
    return np.array(losses), iterates


def test_gradient_descent_steps_and_early_stop_rule():
    X, y, W, a = _small(R=3, n=6, d=8, p=5, seed=5)
    epochs = 60
    ref = [_manual_gd(X[r], y[r], W[r], a[r], 0.7, epochs) for r in range(3)]
    # a threshold that network 0 crosses at a known epoch; the others may differ
    losses0 = ref[0][0]
    threshold = float(np.sort(losses0)[len(losses0) // 2])
    res = float32_gd(X, y, W, a, lr=0.7, epochs=epochs, threshold=threshold)
    for r, (losses, iterates) in enumerate(ref):
        below = np.flatnonzero(losses < threshold)
        k = int(below[0]) if below.size else epochs
        assert res.epochs_run[r] == k
        # the loss that stopped the run, or the one computed before the last step
        assert res.final_loss[r] == pytest.approx(losses[min(k, epochs - 1)], rel=1e-12)
        assert res.converged[r] == (losses[min(k, epochs - 1)] <= threshold)
        np.testing.assert_allclose(res.W[r], iterates[k][0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(res.a[r], iterates[k][1], rtol=1e-10, atol=1e-12)
    assert res.epochs_run[0] < epochs and res.converged[0]
    # the inputs are not modified
    assert np.array_equal(W, _small(R=3, n=6, d=8, p=5, seed=5)[2])


def test_a_run_that_never_reaches_the_threshold_uses_every_epoch():
    X, y, W, a = _small(R=2, n=6, d=3, p=2, seed=1)
    res = float32_gd(X, y, W, a, lr=0.5, epochs=7, threshold=0.0)
    losses, _ = _manual_gd(X[1], y[1], W[1], a[1], 0.5, 7)
    assert list(res.epochs_run) == [7, 7] and not res.converged.any()
    assert res.final_loss[1] == pytest.approx(losses[-1], rel=1e-12)


def test_epoch_formula_and_threshold():
    # floor(1.5 sqrt(np) log(np) / 4) + 1, values worked out by hand
    assert published_epochs(10, 30) == 38       # 1.5 * 17.3205 * 5.7038 / 4 = 37.05
    assert published_epochs(2800, 30) == 1233   # 1232.34
    assert published_epochs(450, 400) == 1926   # 1925.21
    assert published_epochs(1, 1) == 1          # log 1 = 0
    assert published_threshold(100, 30) == 0.15
    assert default_ns("i", 10) == list(range(10, 101, 10))
    assert default_ns("i", 100)[-1] == 2800 and len(default_ns("i", 30)) == 23
    assert default_ns("ii", 30) == list(range(20, 451, 10))


def test_bad_arrays():
    X, y, W, a = _small()
    with pytest.raises(DescentlabError, match="dtype"):
        float32_gd(X.astype(np.float32), y, W, a)
    with pytest.raises(DescentlabError, match="shapes"):
        float32_gd(X, y[:, :3], W, a)
    with pytest.raises(DescentlabError, match="epochs"):
        float32_gd(X, y, W, a, epochs=0)


# ------------------------------------------------------------------ analysis
def test_logistic_fit_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(0)
    n = np.repeat(np.arange(10, 200, 10), 20)
    p = 1 / (1 + np.exp(3.0 * (np.log(n) - np.log(60))))
    c = rng.random(n.size) < p
    n_star, k = logistic_transition(n, c)
    model = LogisticRegression(C=1e12, tol=1e-12, max_iter=10_000).fit(np.log(n)[:, None], c)
    b1, b0 = model.coef_[0, 0], model.intercept_[0]
    assert k == pytest.approx(-b1, rel=1e-4)
    assert n_star == pytest.approx(math.exp(-b0 / b1), rel=1e-4)
    assert 45 < n_star < 80 and 2 < k < 4.5        # and it recovers the law it came from
    assert logistic_transition([10, 20], [True, True]) == (math.inf, pytest.approx(math.nan,
                                                                                   nan_ok=True))
    assert math.isnan(logistic_transition([10, 20], [False, False])[0])
    assert logistic_transition([10, 10, 40], [True, True, False])[0] == pytest.approx(20.0)


# ------------------------------------------------------------------ the preset
def _tiny(**overrides):
    exp = WeaklyCorrelated()
    settings = {"dims": (10, 20), "ns": (10, 20, 150, 300), "reps": 8, "widths": (20, 50),
                "n_boot": 10} | overrides
    return exp, exp.config("published", **settings)


def test_rows_one_per_training():
    exp, config = _tiny(grids=("i",), dims=(10,), ns=(10, 40), reps=3)
    tasks = exp.tasks(config)
    assert len(tasks) == 2 and all(t["protocol"] == "published" for t in tasks)
    results = exp.run(config)
    assert len(results) == 6
    assert {"grid", "d", "n", "p", "width", "rep", "converged", "final_loss",
            "epochs_run"} <= set(results.columns)
    assert results["converged"].dtype == bool and (results["p"] == results["width"]).all()
    assert (results["converged"] == (results["final_loss"] <= results["threshold"])).all()
    assert (results["epochs_run"] <= results["epochs"]).all()
    assert sorted(results["rep"]) == [0, 0, 1, 1, 2, 2]
    # the runs are their own streams: the same point in another batch gives the same rows
    again = exp.run(exp.config("published", grids=("i",), dims=(10,), ns=(40,), reps=3))
    mine = results[results["n"] == 40].reset_index(drop=True)
    assert np.array_equal(again["final_loss"], mine["final_loss"])


def test_claims_on_a_tiny_grid():
    exp, config = _tiny()
    results = exp.run(config)
    assert len(results) == (2 + 2) * 4 * 8
    claims = exp.check(results, config)
    names = [c.name for c in claims]
    assert len(claims) == 7 and any("exponent" in n for n in names)
    passed = {c.name: c.passed for c in claims}
    assert passed["grid (i): convergence at small n for every d"]
    assert passed["grid (i): no convergence at large n for every d"]
    assert passed["grid (i): the transition n* increases with d"]
    assert passed["grid (i): growth exponent of n*(d)"]
    assert set(exp.plot(results, config)) == {"published_vs_n_dims", "published_vs_n_widths",
                                              "published_transition",
                                              "published_transition_widths"}
    # the claims have teeth: swapping the outcomes of small and large n fails them
    flipped = results.copy()
    flipped["converged"] = ~flipped["converged"]
    after = {c.name: c.passed for c in exp.check(flipped, config)}
    assert not after["grid (i): convergence at small n for every d"]
    assert not after["grid (i): no convergence at large n for every d"]
    # n* shrinking with d fails the ordering and the exponent claims
    shrunk = results.copy()
    shrunk.loc[shrunk["grid"] == "i", "n"] = (shrunk["n"] * 400 / shrunk["d"] ** 2).round()
    after = {c.name: c.passed for c in exp.check(shrunk[shrunk["grid"] == "i"], config)}
    assert not after["grid (i): the transition n* increases with d"]
    assert not after["grid (i): growth exponent of n*(d)"]


@pytest.mark.parametrize("setting, value, message", [
    ("dims", "5", "dims: expected every d >= 7"),
    ("dims", "", "dims: expected a non-empty list"),
    ("grids", "iii", "grids: expected"),
    ("grids", "i,i", "grids: expected"),
    ("ns", "0,10", "ns: expected"),
    ("ns", "5000000", "ns: expected reps x n x"),
    ("reps", "0", "reps: expected an integer"),
    ("widths", "-3", "widths: expected"),
    ("lr", "-1", "lr: expected"),
    ("protocol", "torch", "protocol: expected one of"),
])
def test_set_validation(setting, value, message):
    with pytest.raises(DescentlabError, match=message):
        WeaklyCorrelated().config("published", **{setting: value})


def test_cli_refuses_a_bad_setting_before_running(tmp_path):
    out = CliRunner().invoke(main, ["reproduce", "weakly-correlated", "--preset", "published",
                                    "--set", "dims=3", "--out", str(tmp_path / "o")])
    assert out.exit_code == 2 and "dims: expected every d >= 7" in out.output
    assert not (tmp_path / "o" / "results.parquet").exists()
