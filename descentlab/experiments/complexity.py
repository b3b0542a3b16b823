"""The complexity table of seed 000: oracle calls to reach eps, theory vs measured.

Seed 000 ("Stochastic gradient with exponential convergence"), number of component
gradients to reach error eps on a strongly convex finite sum with condition number kappa:

    gradient descent          n kappa          x log(1/eps)
    stochastic gradient       kappa            x 1/eps
    variance reduction        (n + kappa)      x log(1/eps)        (SAG, SVRG, SAGA)
    acceleration              (n + sqrt(n kappa)) x log(1/eps)     (Katyusha, Catalyst, ...)

kappa is L/mu for GD (one full gradient per step, rate 1 - mu/L) and L_max/mu for the
stochastic rows (the seed's kappa = R^2/mu with R^2 a bound on ||x_i||^2: each step uses one
f_i, L_max = max_i L_i). The methods are descentlab's with their theory-default steps:
``GD`` (1/L), ``SGD`` with the decreasing ``inverse`` schedule (step 2/(mu (t + t0)),
t0 = 4 L_max/mu: the schedule of the kappa/eps row; a constant step would stall at a noise
floor), ``SAGA`` (1/(3 L_max)), ``SVRG`` (1/(10 L_max), snapshot every 2n steps) and
``Katyusha`` (L-Katyusha, Kovalev et al. 2020, the paper's theta1, theta2, p = 1/n).
Oracle calls are the Trace's ``oracle_calls`` (a full gradient costs n).

**What eps is.** For the log(1/eps) rows eps is the *relative distance*
||x_k - x*|| / ||x0 - x*|| (first crossing, log-interpolated between records; levels ``eps``
and ``eps_loose``, the second to show the log dependence). The distance is used because the
fraction of the initial error carried by the slowest eigen-direction is then fixed (here 1/d
on average) and the log factor does not change along a kappa grid; with the suboptimality
that fraction shrinks like 1/kappa and the measured kappa-exponent would drift below 1. Runs
stop once ||x - x*|| <= eps ||x0 - x*|| is certain (F - F* <= mu (eps ||x0 - x*||)^2 / 2).
For SGD eps is the *relative expected suboptimality* E[F(x_t) - F*] / |F*| (descentlab's
``rel_subopt``; levels ``sgd_eps``), estimated by the mean over ``sgd_seeds`` runs averaged
over the records within a factor 1.2 in t (``smooth_in_time``). With the inverse schedule
(step ~ a/t, a = 2/mu) and gradient noise of covariance ~ sigma^2 X^T X / n at x*, each
eigen-direction with lambda_j >> mu contributes a sigma^2 lambda_j / (4t) to E[F - F*], so
E[F - F*] ~ sigma^2 tr(X^T X / n) / (2 mu t) = sigma^2 L_max / (2 mu t) (tr = L_max on these
designs), and F* ~ sigma^2 / 2: the calls to reach eps are ~ kappa_max / eps, the table's row
with constant 1, independent of n. (In distance SGD would need ~1/(mu^2 eps) calls: the row
is a statement about the suboptimality.)

**Designs.** Synthetic ridge least squares (``descentlab.data.synthetic``): X^T X / n has the
spectrum geometric from 1 to 1/kappa in dimension d (L = 1, mu = 1/kappa exactly) and every
row has ||x_i||^2 = sum of the spectrum (L_max = 6.1 at kappa = 3, 4.1 at kappa = 10, 1.9 at
kappa = 1000, 1.5 at kappa = 1e5, whatever n), y = X theta + noise with a fixed unit theta,
x0 = 0; F* is the noise level (about noise^2 / 2). Real data: L2-logistic regression on a9a
(n = 32561, d = 123, L_max = 3.5 + lam, mu = lam) on row subsamples of size n, kappa varied
through lam (eps = relative distance ``a9a_eps``).

**Sweeps and what each row predicts** (exponents of calls in the swept variable):

* synthetic ``n@small-kappa`` (kappa fixed, kappa_max << n): GD 1, SGD 0, VR 1, Katyusha 1;
* synthetic ``kappa@large-n`` (n fixed, kappa_max << n): GD 1, SGD 1, VR 0, Katyusha 0
  ("SAGA calls stay flat in kappa while kappa < n");
* synthetic ``kappa@small-n`` (n fixed, kappa >> n): GD 1, VR 1, Katyusha 1/2;
* synthetic ``n@large-kappa`` (kappa fixed, n << kappa): GD 1, VR 0, Katyusha 1/2;
* a9a ``n@lam`` and ``lam@n``: the same formulas with a9a's constants.

The theory exponent of a row on a sweep is the least-squares slope of log(formula) on the
same grid (so that a partial crossover of n + kappa is accounted for), the measured one the
slope of log(calls) (``descentlab.theory.loglog_slope``; calls averaged over ``seeds``).

**Tolerance** ``slope_tol`` = 0.2 on |measured - theory|. The theory slope is computed from
the actual constants of every grid point (kappa_L = L/mu for GD, kappa_max = L_max/mu for the
others, so the drift of L_max along a kappa grid is in it), but the seed's formulas hold up to
constants that differ between methods and regimes: SAGA's theorem gives max(4n, 3 kappa),
SVRG's (step 1/(10 L_max), m = 2n) about 2n + 15 kappa calls per e-fold, L-Katyusha switches
to its accelerated regime at kappa = 8n/3. On the grids (kappa_max 6 to 50 times smaller
than n on the "small kappa" sweeps, kappa 8 to 300 times larger than n on the "large kappa"
ones) such a constant moves a slope by up to ~0.15 for SVRG (whose crossover 2n = 15 kappa_max
falls near n = 300 at kappa = 10: its n-exponent is a little below 1 there) and ~0.05 for the
others; one run of a stochastic method crosses eps at a time that fluctuates by a few percent
(< 0.05 in slope over a decade); for SGD, three disjoint sets of 4 seeds gave calls differing
by up to 25% at one (n, kappa), so the mean over the 8 seeds of the quick preset is good to
~10%, i.e. ~0.07 in slope over a factor 8 in n. A slope error of 0.2 is also what separates
the rows: 0 vs 1/2 vs 1.

The eps-dependence: a log(1/eps) method needs at most ``log_ratio_max`` = 3 times more
calls for eps = 1e-6 than for 1e-3 (theory: 2, plus the transient), and SGD's calls grow
like 1/eps: the fitted slope of log calls on log(1/eps) over ``sgd_eps`` is within 0.3 of
1 (the transient t0 ~ 4 kappa_max adds a constant that lowers the slope at the loosest eps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import NullFormatter

from ..data.libsvm import binarize_labels, load_libsvm, resolve_dataset
from ..data.synthetic import geometric_spectrum, subsample_rows
from ..errors import DescentlabError
from ..methods import get_method
from ..problems import LeastSquares, Logistic
from ..run import run
from ..theory import (
    COMPLEXITY_FORMULAS,
    COMPLEXITY_ROWS,
    calls_to_reach,
    linear_bound,
    loglog_slope,
    oracle_complexity,
    plot_with_bound,
    saga_bound,
    svrg_bound,
    svrg_factor,
)
from .base import SEED, SEEDS, Choice, Claim, Experiment, Flag, Int, Items, Real

METHOD_LABELS = {"gd": "GD", "sgd": "SGD", "saga": "SAGA", "svrg": "SVRG",
                 "katyusha": "Katyusha"}
COLORS = {"gd": "C0", "sgd": "C3", "saga": "C1", "svrg": "C2", "katyusha": "C4"}
#: budget caps, as multiples of the theory formula times log(1/eps) (a task that hits its cap
#: reports calls = NaN, "not reached"); generous: measured constants are 2-60
CAP_FACTOR = {"gd": 20.0, "saga": 200.0, "svrg": 500.0, "katyusha": 300.0}
PLOT_FLOOR = 1e-15
SGD_MAX_DOUBLINGS = 6
SGD_RECORDS = 1000
#: E[F - F*] of SGD is averaged over the records with calls in [t / w, t w]
SGD_WINDOW = 1.2
#: the synthetic designs need n a power of two above d (Hadamard columns); n x d floats
MAX_SYNTHETIC_N, MAX_D = 2**20, 128
A9A_ROWS = 32561
SYNTHETIC_NS = ("n_sweep_ns", "kappa_sweep_n", "small_n", "large_kappa_ns", "bounds_n")


def smooth_in_time(t, values, window: float) -> np.ndarray:
    """Mean of ``values`` over the records with t_j in [t_i / window, t_i window].

    For a curve decreasing like c/t the window average is biased by less than 1% at
    window = 1.2 (the mean of 1/t over [t/1.2, 1.2 t] is 0.994/t) once the window holds
    tens of records (with 1000 linear records the loosest SGD level is crossed near record 50,
    a window of ~20 records: a few percent of discretization error), while it averages the
    fluctuations of SGD's last iterate, whose correlation time t/(2 a lambda) is short.
    Records whose window extends past the last record are NaN (a one-sided window would be
    biased by up to 9%); a level reached only there counts as not reached (the budget grows).
    """
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    csum = np.concatenate([[0.0], np.cumsum(v)])
    lo = np.searchsorted(t, t / window, side="left")
    hi = np.searchsorted(t, t * window, side="right")
    out = (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)
    out[t <= 0] = v[t <= 0]
    out[t * window > t[-1]] = np.nan  # the window is cut by the end of the run: biased
    return out


@dataclass(frozen=True)
class Config:
    methods: tuple[str, ...] = ("gd", "sgd", "saga", "svrg", "katyusha")
    d: int = 10
    noise: float = 0.1
    eps: float = 1e-6
    eps_loose: float = 1e-3
    sgd_eps: tuple[float, ...] = (3e-2, 1e-2, 3e-3)
    seeds: tuple[int, ...] = (0,)
    sgd_seeds: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7)
    data_seed: int = 0
    # synthetic sweeps
    n_sweep_kappa: float = 10.0
    n_sweep_ns: tuple[int, ...] = (256, 512, 1024, 2048)
    kappa_sweep_n: int = 4096
    kappa_sweep_kappas: tuple[float, ...] = (3.0, 9.0, 27.0)
    small_n: int = 128
    small_n_kappas: tuple[float, ...] = (3000.0, 10000.0, 30000.0)
    large_kappa: float = 10000.0
    large_kappa_ns: tuple[int, ...] = (32, 64, 128, 256)
    # a9a (L2-logistic)
    a9a: bool = True
    a9a_methods: tuple[str, ...] = ("gd", "saga", "svrg")
    a9a_eps: float = 1e-4
    a9a_n_lam: float = 1e-2
    a9a_ns: tuple[int, ...] = (4096, 8192, 16384)
    a9a_lam_n: int = 16384
    a9a_lams: tuple[float, ...] = (1e-1, 3e-2, 1e-2)
    # the instance of the bounds figure
    bounds_n: int = 1024
    bounds_kappa: float = 10.0
    slope_tol: float = 0.2
    log_ratio_max: float = 3.0
    sgd_eps_slope_tol: float = 0.3


def _sweeps(config: Config) -> list[dict]:
    """The sweeps: name, part, swept variable, the fixed value (text), grid of (n, kappa/lam)."""
    sw = [
        {"name": "n@small-kappa", "part": "synthetic", "var": "n",
         "fixed": f"kappa = {config.n_sweep_kappa:g}",
         "points": [(int(n), float(config.n_sweep_kappa)) for n in config.n_sweep_ns]},
        {"name": "kappa@large-n", "part": "synthetic", "var": "kappa",
         "fixed": f"n = {config.kappa_sweep_n}",
         "points": [(int(config.kappa_sweep_n), float(k)) for k in config.kappa_sweep_kappas]},
        {"name": "kappa@small-n", "part": "synthetic", "var": "kappa", "sgd": False,
         "fixed": f"n = {config.small_n}",
         "points": [(int(config.small_n), float(k)) for k in config.small_n_kappas]},
        {"name": "n@large-kappa", "part": "synthetic", "var": "n", "sgd": False,
         "fixed": f"kappa = {config.large_kappa:g}",
         "points": [(int(n), float(config.large_kappa)) for n in config.large_kappa_ns]},
    ]
    if config.a9a:
        sw += [
            {"name": "a9a n@lam", "part": "a9a", "var": "n",
             "fixed": f"lam = {config.a9a_n_lam:g}",
             "points": [(int(n), float(config.a9a_n_lam)) for n in config.a9a_ns]},
            {"name": "a9a lam@n", "part": "a9a", "var": "kappa",
             "fixed": f"n = {config.a9a_lam_n}",
             "points": [(int(config.a9a_lam_n), float(lam)) for lam in config.a9a_lams]},
        ]
    return [s for s in sw if len(s["points"]) >= 2]


def _methods_for(config: Config, sweep: dict) -> list[str]:
    methods = config.a9a_methods if sweep["part"] == "a9a" else config.methods
    return [m for m in methods if m != "sgd" or sweep.get("sgd", True)]


# ----------------------------------------------------------------------- problems
def _synthetic(task: dict):
    return LeastSquares.with_spectrum(task["n"], geometric_spectrum(task["d"], task["kappa"]),
                                      noise=task["noise"], seed=task["data_seed"])


def _a9a(task: dict):
    X, y = load_libsvm("a9a")
    X, y = subsample_rows(X, binarize_labels(y), task["n"], seed=task["data_seed"])
    problem = Logistic(X, y, reg="l2", lam=task["lam"])
    problem.dataset = "a9a"
    return problem


def _problem(task: dict):
    return _synthetic(task) if task["part"] == "synthetic" else _a9a(task)


def _constants(problem) -> dict:
    L, L_max, mu = float(problem.L), float(problem.L_max), float(problem.mu)
    return {"n": int(problem.n), "L": L, "L_max": L_max, "mu": mu, "kappa_L": L / mu,
            "kappa_max": L_max / mu}


# -------------------------------------------------------------------------- runs
def _linear_method_rows(task: dict, problem) -> list[dict]:
    """GD / SAGA / SVRG / Katyusha: calls to relative distance eps (per seed)."""
    x_star, f_star = problem.solution()
    c = _constants(problem)
    d0 = float(np.linalg.norm(problem.default_x0() - x_star))
    levels = sorted(task["eps"], reverse=True)
    eps_min = levels[-1]
    # stop once the distance is certainly below eps_min: ||x - x*||^2 <= 2 (F - F*)/mu
    tol = c["mu"] * (eps_min * d0) ** 2 / 2.0 / max(abs(f_star), 1e-12)
    log_term = math.log(1.0 / eps_min)
    formula = oracle_complexity(task["method"], c["n"], c["kappa_L"], c["kappa_max"])
    cap = CAP_FACTOR[task["method"]] * formula * log_term
    cap = int(max(cap, 50 * c["n"]))
    rows = []
    seeds = [0] if task["method"] == "gd" else task["seeds"]
    for seed in seeds:
        trace = run(problem, get_method(task["method"]), budget_calls=cap, tol=tol,
                    record="geometric", n_records=task["records"], seed=int(seed))
        df = trace.df
        rel = (df["dist_to_opt"] / df["dist_to_opt"].iloc[0]).to_numpy()
        for eps in levels:
            hit = calls_to_reach(df["oracle_calls"].to_numpy(), rel, eps)
            rows.append({**c, "seed": int(seed), "eps": eps, "measure": "distance",
                         "calls": hit, "reached": bool(np.isfinite(hit)), "budget": cap,
                         "stop": trace.stop_reason})
    return rows


def _sgd_rows(task: dict, problem) -> list[dict]:
    """SGD: calls to relative expected suboptimality E[F - F*]/|F*| <= eps (mean of seeds)."""
    x_star, f_star = problem.solution()
    c = _constants(problem)
    levels = sorted(task["eps"], reverse=True)
    # first budget: 2x the asymptotic prediction sigma^2 / (2 mu eps |F*|) plus the transient
    # t0 = 4 kappa_max of the schedule, sigma^2 = E||grad f_i(x*)||^2 (computed exactly)
    sigma_sq = float(np.mean([np.sum(problem.batch_grad(x_star, np.array([i])) ** 2)
                              for i in range(problem.n)]))
    predicted = sigma_sq / (2.0 * c["mu"] * levels[-1] * abs(f_star)) + 4.0 * c["kappa_max"]
    budget = int(2 * predicted) + problem.n
    for _ in range(SGD_MAX_DOUBLINGS + 1):
        curves = []
        for seed in task["seeds"]:
            trace = run(problem, get_method("sgd", schedule="inverse"), budget_calls=budget,
                        record="linear", n_records=SGD_RECORDS, seed=int(seed), f_star=f_star)
            curves.append(trace.df["rel_subopt"].to_numpy())
            calls = trace.df["oracle_calls"].to_numpy()
        mean = smooth_in_time(calls, np.mean(curves, axis=0), SGD_WINDOW)
        hits = [calls_to_reach(calls, mean, eps) for eps in levels]
        if np.isfinite(hits[-1]):
            break
        budget *= 2
    return [{**c, "seed": -1, "eps": eps, "measure": "rel_subopt", "calls": hit,
             "reached": bool(np.isfinite(hit)), "budget": budget, "stop": "budget",
             "sigma_sq": sigma_sq, "f_star": f_star}
            for eps, hit in zip(levels, hits, strict=True)]


def _curves(task: dict) -> pd.DataFrame:
    """Traces of GD, SAGA and SVRG on one instance, for the bounds figure."""
    problem = _problem(task)
    x_star, f_star = problem.solution()
    c = _constants(problem)
    frames = []
    for method in task["curve_methods"]:
        seeds = [0] if method == "gd" else task["seeds"]
        for seed in seeds:
            # GD: 30 kappa iterations (the bound falls to e^-30); VR: curve_epochs passes
            epochs = math.ceil(30 * c["kappa_L"]) if method == "gd" else task["curve_epochs"]
            trace = run(problem, get_method(method), budget_calls=int(epochs * problem.n),
                        record="linear", n_records=200, seed=int(seed))
            df = trace.df
            frames.append(pd.DataFrame({
                "part": "curves", "method": method, "seed": int(seed),
                "n": c["n"], "kappa": task["kappa"], "L": c["L"], "L_max": c["L_max"],
                "mu": c["mu"], "kappa_L": c["kappa_L"], "kappa_max": c["kappa_max"],
                "iteration": df["iteration"].astype(float), "calls": df["oracle_calls"],
                "dist_sq": df["dist_to_opt"] ** 2, "gap": df["subopt"],
                "step": float(trace.meta["method"].get("step", np.nan))}))
    return pd.concat(frames, ignore_index=True)


class Complexity(Experiment):
    name = "complexity"
    title = "Oracle complexity: GD n kappa, SGD kappa/eps, VR n + kappa, acceleration"
    source = "000 (F. Bach, COLT 2025 slides: 'Stochastic gradient with exponential " \
             "convergence', the complexity table; acceleration)"
    description = ("Oracle calls to reach eps for GD, SGD, SAGA, SVRG and Katyusha on ridge "
                   "least squares with a controlled spectrum and on L2-logistic a9a, across "
                   "n and kappa; fitted log-log exponents against the table's.")
    Config = Config
    presets = {
        "quick": Config(),
        "paper": Config(
            seeds=(0, 1), sgd_seeds=tuple(range(12)),
            n_sweep_ns=(256, 512, 1024, 2048, 4096, 8192),
            kappa_sweep_n=8192, kappa_sweep_kappas=(3.0, 9.0, 27.0, 81.0),
            small_n_kappas=(1000.0, 3000.0, 10000.0, 30000.0, 100000.0),
            large_kappa=30000.0, large_kappa_ns=(32, 64, 128, 256, 512),
            a9a_methods=("gd", "saga", "svrg", "katyusha"),
            a9a_ns=(4096, 8192, 16384, 32561), a9a_lam_n=32561,
            a9a_lams=(1e-1, 3e-2, 1e-2, 3e-3), bounds_n=4096),
    }
    limits = {
        "methods": Items(Choice(METHOD_LABELS)), "d": Int(1, MAX_D),
        # noise > 0: F* (about noise^2 / 2) is the scale of SGD's relative suboptimality
        "noise": Real(0.0, 1e3, lo_open=True),
        "eps": Real(0.0, 1.0, lo_open=True, hi_open=True),
        "eps_loose": Real(0.0, 1.0, lo_open=True, hi_open=True),
        "sgd_eps": Items(Real(0.0, 1.0, lo_open=True, hi_open=True)),
        "seeds": SEEDS, "sgd_seeds": SEEDS, "data_seed": SEED,
        "n_sweep_kappa": Real(1.0, 1e8), "n_sweep_ns": Items(Int(2, MAX_SYNTHETIC_N)),
        "kappa_sweep_n": Int(2, MAX_SYNTHETIC_N), "kappa_sweep_kappas": Items(Real(1.0, 1e8)),
        "small_n": Int(2, MAX_SYNTHETIC_N), "small_n_kappas": Items(Real(1.0, 1e8)),
        "large_kappa": Real(1.0, 1e8), "large_kappa_ns": Items(Int(2, MAX_SYNTHETIC_N)),
        "a9a": Flag(), "a9a_methods": Items(Choice([m for m in METHOD_LABELS if m != "sgd"])),
        "a9a_eps": Real(0.0, 1.0, lo_open=True, hi_open=True),
        # lam = mu > 0: kappa = L_max / lam
        "a9a_n_lam": Real(0.0, 1e3, lo_open=True), "a9a_ns": Items(Int(2, A9A_ROWS)),
        "a9a_lam_n": Int(2, A9A_ROWS), "a9a_lams": Items(Real(0.0, 1e3, lo_open=True)),
        "bounds_n": Int(2, MAX_SYNTHETIC_N), "bounds_kappa": Real(1.0, 1e8),
        "slope_tol": Real(0.0, lo_open=True), "log_ratio_max": Real(1.0, lo_open=True),
        "sgd_eps_slope_tol": Real(0.0, lo_open=True)}

    def constraints(self, config):
        if config.eps >= config.eps_loose:
            raise DescentlabError(f"eps: expected a level below eps_loose = "
                                  f"{config.eps_loose:g}, got {config.eps:g}")
        for name in SYNTHETIC_NS:
            value = getattr(config, name)
            for n in value if isinstance(value, tuple) else (value,):
                if n & (n - 1) or n <= config.d:
                    raise DescentlabError(f"{name}: expected powers of two larger than d = "
                                          f"{config.d} (Hadamard designs), got {value}")
        if config.a9a:
            resolve_dataset("a9a")  # DatasetNotFoundError (says where it looked) if missing

    # ------------------------------------------------------------------- tasks
    def tasks(self, config):
        seen, tasks = set(), []
        for sweep in _sweeps(config):
            for method in _methods_for(config, sweep):
                for n, k in sweep["points"]:
                    key = (sweep["part"], method, n, k)
                    if key in seen:
                        continue
                    seen.add(key)
                    task = {"part": sweep["part"], "method": method, "n": n,
                            "data_seed": config.data_seed, "records": 300}
                    if sweep["part"] == "synthetic":
                        task.update(kappa=k, d=config.d, noise=config.noise)
                        eps = ([float(e) for e in config.sgd_eps] if method == "sgd"
                               else [config.eps_loose, config.eps])
                    else:
                        task.update(lam=k)
                        eps = [config.a9a_eps]
                    task["eps"] = eps
                    task["seeds"] = [int(s) for s in (config.sgd_seeds if method == "sgd"
                                                      else config.seeds)]
                    tasks.append(task)
        curve_methods = [m for m in ("gd", "saga", "svrg") if m in config.methods]
        if curve_methods:  # the bounds figure
            tasks.append({"part": "curves", "n": int(config.bounds_n),
                          "kappa": float(config.bounds_kappa), "d": config.d,
                          "noise": config.noise, "data_seed": config.data_seed,
                          "seeds": [int(s) for s in config.seeds],
                          "curve_methods": curve_methods, "curve_epochs": 40})
        return tasks

    def run_task(self, task):
        if task["part"] == "curves":
            t = dict(task, part="synthetic")
            return _curves(t)
        problem = _problem(task)
        rows = (_sgd_rows(task, problem) if task["method"] == "sgd"
                else _linear_method_rows(task, problem))
        df = pd.DataFrame(rows)
        df.insert(0, "part", task["part"])
        df.insert(1, "method", task["method"])
        df["design_kappa"] = float(task.get("kappa", np.nan))
        df["lam"] = float(task.get("lam", np.nan))
        return df

    # ---------------------------------------------------------------- analysis
    @staticmethod
    def points(results: pd.DataFrame) -> pd.DataFrame:
        """Mean calls over seeds per (part, method, n, design kappa or lam, eps)."""
        res = results[results["part"] != "curves"]
        keys = ["part", "method", "n", "design_kappa", "lam", "eps"]
        return res.groupby(keys, dropna=False).agg(
            calls=("calls", "mean"), reached=("reached", "all"), kappa_L=("kappa_L", "first"),
            kappa_max=("kappa_max", "first"), runs=("calls", "size")).reset_index()

    def slopes(self, results: pd.DataFrame, config) -> pd.DataFrame:
        """Theory and measured log-log slopes per sweep and method (at the main eps)."""
        pts = self.points(results)
        rows = []
        for sweep in _sweeps(config):
            for method in _methods_for(config, sweep):
                if method == "sgd":
                    eps = min(config.sgd_eps)
                elif sweep["part"] == "a9a":
                    eps = config.a9a_eps
                else:
                    eps = config.eps
                xs, meas, theo = [], [], []
                for n, k in sweep["points"]:
                    sel = pts[(pts["part"] == sweep["part"]) & (pts["method"] == method)
                              & np.isclose(pts["eps"], eps)]
                    col = "design_kappa" if sweep["part"] == "synthetic" else "lam"
                    sel = sel[(sel["n"] == n) & np.isclose(sel[col], k)]
                    if sel.empty:
                        continue
                    r = sel.iloc[0]
                    x = r["n"] if sweep["var"] == "n" else (
                        r["design_kappa"] if sweep["part"] == "synthetic" else r["kappa_max"])
                    xs.append(float(x))
                    meas.append(float(r["calls"]) if r["reached"] else np.nan)
                    theo.append(oracle_complexity(method, r["n"], r["kappa_L"], r["kappa_max"]))
                if len(xs) < 2:
                    continue
                th = loglog_slope(xs, theo)
                ok = np.isfinite(meas)
                me = loglog_slope(np.array(xs)[ok], np.array(meas)[ok]) if ok.sum() >= 2 \
                    else None
                rows.append({"sweep": sweep["name"], "part": sweep["part"],
                             "var": sweep["var"], "fixed": sweep["fixed"], "method": method,
                             "eps": eps,
                             "theory_slope": th.slope,
                             "measured_slope": me.slope if me else np.nan,
                             "x_first": min(xs), "x_last": max(xs), "points": int(ok.sum()),
                             "missing": int((~ok).sum()), "xs": xs, "calls": meas,
                             "theory": theo})
        return pd.DataFrame(rows)

    def check(self, results, config):
        claims = []
        slopes = self.slopes(results, config)
        for _, r in slopes.iterrows():
            var = "n" if r["var"] == "n" else "kappa"
            diff = abs(r["measured_slope"] - r["theory_slope"])
            claims.append(Claim(
                f"{METHOD_LABELS[r['method']]}: exponent in {var}, {r['sweep']} ({r['fixed']})",
                f"calls ~ {var}^p with p = {r['theory_slope']:.2f} "
                f"({COMPLEXITY_FORMULAS[r['method']]} on this grid) +- {config.slope_tol}",
                f"p = {r['measured_slope']:.2f} on {var} in [{r['x_first']:g}, "
                f"{r['x_last']:g}] ({r['points']} points"
                + (f", {r['missing']} not reached" if r["missing"] else "") + ")",
                bool(np.isfinite(diff) and diff <= config.slope_tol and r["missing"] == 0)))
        claims += self._eps_claims(results, config)
        claims += self._bound_claims(results[results["part"] == "curves"])
        return claims

    @staticmethod
    def _bound_claims(curves: pd.DataFrame) -> list[Claim]:
        """GD and SAGA on the bounds-figure instance stay below their theorems' bounds."""
        claims = []
        if curves.empty:
            return claims
        first = curves.iloc[0]
        n, L, L_max, mu = int(first["n"]), first["L"], first["L_max"], first["mu"]
        g = curves[curves["method"] == "gd"]
        if not g.empty:
            rel = (g["gap"] / g["gap"].iloc[0]).to_numpy()
            k = g["iteration"].to_numpy()
            keep = (k > 0) & (rel > PLOT_FLOOR)
            ratio = float((rel[keep] / linear_bound(k[keep], mu, L, 1.0)).max())
            claims.append(Claim(
                f"GD below (1 - mu/L)^k (n={n}, kappa={L / mu:.3g})",
                "(F(x_k) - F*)/(F(x0) - F*) <= (1 - mu/L)^k at every record",
                f"max ratio {ratio:.3g} over {int(keep.sum())} records", bool(ratio <= 1.0)))
        s = curves[curves["method"] == "saga"]
        if not s.empty:
            mean = s.groupby("calls")[["dist_sq", "gap"]].mean().reset_index()
            dist0, gap0 = mean["dist_sq"].iloc[0], mean["gap"].iloc[0]
            k = (mean["calls"] - n).clip(lower=0).to_numpy()
            rel = (mean["dist_sq"] / dist0).to_numpy()
            keep = (k > 0) & (rel > PLOT_FLOOR)
            bound = saga_bound(k[keep], n, L_max, mu, dist0, gap0) / dist0
            ratio = float((rel[keep] / bound).max())
            claims.append(Claim(
                f"SAGA below Defazio et al.'s bound (n={n}, kappa_max={L_max / mu:.3g})",
                "E||x_k - x*||^2 <= (1 - min(1/4n, mu/3L_max))^k (||x0 - x*||^2 + "
                "2n/(3 L_max) (F0 - F*)) (mean of the runs)",
                f"max ratio {ratio:.3g} over {int(keep.sum())} records", bool(ratio <= 1.0)))
        return claims

    def _eps_claims(self, results, config) -> list[Claim]:
        pts = self.points(results)
        pts = pts[pts["part"] == "synthetic"]
        claims = []
        ref_n, ref_k = int(config.n_sweep_ns[0]), float(config.n_sweep_kappa)
        at_ref = pts[(pts["n"] == ref_n) & np.isclose(pts["design_kappa"], ref_k)]
        for method in [m for m in config.methods if m != "sgd"]:
            sel = at_ref[at_ref["method"] == method].set_index("eps")["calls"]
            if config.eps in sel.index and config.eps_loose in sel.index:
                ratio = sel[config.eps] / sel[config.eps_loose]
                claims.append(Claim(
                    f"{METHOD_LABELS[method]}: log(1/eps) dependence (n={ref_n}, "
                    f"kappa={ref_k:g})",
                    f"calls(eps={config.eps:g}) / calls(eps={config.eps_loose:g}) <= "
                    f"{config.log_ratio_max:g} (log ratio: "
                    f"{math.log(config.eps) / math.log(config.eps_loose):.1f})",
                    f"{sel[config.eps]:.4g} / {sel[config.eps_loose]:.4g} = {ratio:.2f}",
                    bool(np.isfinite(ratio) and ratio <= config.log_ratio_max)))
        sgd = pts[(pts["method"] == "sgd") & np.isclose(pts["eps"], min(config.sgd_eps))]
        if not sgd.empty:
            ratio = (sgd["calls"] * sgd["eps"] / sgd["kappa_max"]).to_numpy()
            claims.append(Claim(
                "SGD: calls ~ kappa_max / eps with constant ~1",
                f"calls(eps) * eps / kappa_max in [0.5, 2] at eps = {min(config.sgd_eps):g} "
                "(asymptotics of the inverse schedule on these designs)",
                f"ratios {', '.join(f'{r:.2f}' for r in ratio)} over {len(ratio)} (n, kappa)",
                bool(np.all(np.isfinite(ratio)) and ratio.min() >= 0.5 and ratio.max() <= 2)))
        if "sgd" in config.methods and len(config.sgd_eps) >= 2:
            for (n, k), g in pts[pts["method"] == "sgd"].groupby(["n", "design_kappa"]):
                if not (n == ref_n and np.isclose(k, ref_k)):
                    continue
                fit = loglog_slope(1.0 / g["eps"].to_numpy(), g["calls"].to_numpy())
                claims.append(Claim(
                    f"SGD: 1/eps dependence (n={n}, kappa={k:g})",
                    f"calls ~ (1/eps)^q with q = 1 +- {config.sgd_eps_slope_tol} (eps = "
                    f"relative expected suboptimality in {sorted(config.sgd_eps)})",
                    f"q = {fit.slope:.2f} (calls {', '.join(f'{c:.3g}' for c in g['calls'])})",
                    bool(abs(fit.slope - 1.0) <= config.sgd_eps_slope_tol)))
        return claims

    # ---------------------------------------------------------------- figures
    def plot(self, results, config):
        slopes = self.slopes(results, config)
        figs = {"scaling": self._scaling_figure(slopes), "table": self._table_figure(slopes)}
        curves = results[results["part"] == "curves"]
        if not curves.empty:
            figs["bounds"] = self._bounds_figure(curves)
        return figs

    @staticmethod
    def _scaling_figure(slopes: pd.DataFrame):
        sweeps = list(dict.fromkeys(slopes["sweep"]))
        ncol = 2
        nrow = math.ceil(len(sweeps) / ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(10.5, 3.9 * nrow), squeeze=False,
                                 constrained_layout=True)
        for ax, name in zip(axes.flat, sweeps, strict=False):
            sub = slopes[slopes["sweep"] == name]
            for _, r in sub.iterrows():
                x = np.array(r["xs"], dtype=float)
                y = np.array(r["calls"], dtype=float)
                th = np.array(r["theory"], dtype=float)
                color = COLORS[r["method"]]
                ax.loglog(x, y, "o-", color=color, ms=4,
                          label=f"{METHOD_LABELS[r['method']]}: p={r['measured_slope']:.2f}"
                                f" (theory {r['theory_slope']:.2f})")
                ok = np.isfinite(y)
                if ok.any():  # the formula, scaled to the measured points (log least squares)
                    scale = np.exp(np.mean(np.log(y[ok]) - np.log(th[ok])))
                    ax.loglog(x, scale * th, "--", color=color, lw=1)
            var = sub["var"].iloc[0]
            ax.set_xlabel("n" if var == "n" else ("kappa = L/mu" if "a9a" not in name
                                                   else "kappa_max = L_max/lam"))
            ax.set_ylabel("oracle calls to eps")
            grid = np.array(sub["xs"].iloc[0], dtype=float)  # label the grid points only
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xticks(grid)
            ax.set_xticklabels([f"{v:.4g}" for v in grid], fontsize=7)
            ax.set_title(f"{name} ({sub['fixed'].iloc[0]})")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=7)
        for ax in list(axes.flat)[len(sweeps):]:
            ax.axis("off")
        fig.suptitle("Oracle calls to reach eps (markers) and the seed-000 formula up to a "
                     "constant (dashed)", fontsize=10)
        return fig

    @staticmethod
    def _table_figure(slopes: pd.DataFrame):
        sweeps = list(dict.fromkeys(slopes["sweep"]))
        methods = list(dict.fromkeys(slopes["method"]))
        cells = []
        for m in methods:
            row = [COMPLEXITY_ROWS[m], COMPLEXITY_FORMULAS[m]]
            for s in sweeps:
                r = slopes[(slopes["sweep"] == s) & (slopes["method"] == m)]
                row.append("-" if r.empty else
                           f"{r['theory_slope'].iloc[0]:.2f} / {r['measured_slope'].iloc[0]:.2f}")
            cells.append(row)
        fixed = {s: slopes.loc[slopes["sweep"] == s, "fixed"].iloc[0] for s in sweeps}
        cols = ["row", "formula"] + [f"{s}, {fixed[s]}\n(theory / measured)" for s in sweeps]
        fig, ax = plt.subplots(figsize=(2.0 + 1.75 * len(cols), 0.5 + 0.45 * len(methods)),
                               constrained_layout=True)
        ax.axis("off")
        table = ax.table(cellText=cells, colLabels=cols,
                         rowLabels=[METHOD_LABELS[m] for m in methods], loc="center",
                         cellLoc="center")
        table.auto_set_font_size(False)
        table.set_fontsize(7)
        table.scale(1.0, 1.6)
        ax.set_title("Exponent of the oracle calls in the swept variable: seed 000's table "
                     "vs measured", fontsize=9)
        return fig

    @staticmethod
    def _bounds_figure(curves: pd.DataFrame):
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
        first = curves.iloc[0]
        n, L, L_max, mu = int(first["n"]), first["L"], first["L_max"], first["mu"]

        def cut(x, y, bound):
            """Stop the curves where the measured one reaches the rounding floor."""
            y = np.asarray(y, dtype=float)
            above = y > PLOT_FLOOR
            end = len(y) if above.all() else int(np.argmin(above)) + 1
            return np.asarray(x)[:end], y[:end].clip(min=PLOT_FLOOR), np.asarray(bound)[:end]

        g = curves[curves["method"] == "gd"]
        if not g.empty:  # F - F* <= (1 - mu/L)^k (F0 - F*)
            gap0 = g["gap"].iloc[0]
            x, y, b = cut(g["iteration"], g["gap"] / gap0,
                          linear_bound(g["iteration"], mu, L, 1.0))
            plot_with_bound(axes[0], x, y, b, label="GD, step 1/L",
                            bound_label="(1 - mu/L)^k", color=COLORS["gd"])
            axes[0].set_xlabel("iteration k")
            axes[0].set_ylabel("(F(x_k) - F*) / (F(x_0) - F*)")
        s = curves[curves["method"] == "saga"]
        if not s.empty:  # E||x_k - x*||^2 <= rho^k (||x0 - x*||^2 + 2n/(3 L_max)(F0 - F*))
            mean = s.groupby("calls")[["dist_sq", "gap"]].mean().reset_index()
            k = (mean["calls"] - n).clip(lower=0)  # SAGA iterations after the initial pass
            dist0, gap0 = mean["dist_sq"].iloc[0], mean["gap"].iloc[0]
            x, y, b = cut(mean["calls"], mean["dist_sq"] / dist0,
                          saga_bound(k, n, L_max, mu, dist0, gap0) / dist0)
            plot_with_bound(axes[1], x, y, b,
                            label=f"SAGA, step 1/(3 L_max) (mean of {s['seed'].nunique()})",
                            bound_label="Defazio et al. 2014, Thm 1", color=COLORS["saga"])
            axes[1].set_xlabel("oracle calls")
            axes[1].set_ylabel("E||x_k - x*||^2 / ||x_0 - x*||^2")
        v = curves[curves["method"] == "svrg"]
        if not v.empty:  # E F(w_s) - F* <= alpha^s (F0 - F*), s snapshots of 3n calls
            mean = v.groupby("calls")[["gap"]].mean().reset_index()
            step = float(v["step"].iloc[0])
            m = 2 * n
            epochs = np.floor(((mean["calls"] - n) / (3 * n)).clip(lower=0))
            alpha = svrg_factor(L_max, mu, step, m)
            x, y, b = cut(mean["calls"], mean["gap"] / mean["gap"].iloc[0],
                          svrg_bound(epochs, L_max, mu, step, m, 1.0))
            plot_with_bound(axes[2], x, y, b,
                            label=f"SVRG, step 1/(10 L_max) (mean of {v['seed'].nunique()})",
                            bound_label=f"Johnson-Zhang Thm 1 (snapshots), alpha={alpha:.2f}",
                            color=COLORS["svrg"])
            axes[2].set_xlabel("oracle calls")
            axes[2].set_ylabel("(E F(x) - F*) / (F(x_0) - F*)")
        for ax in axes:
            ax.set_yscale("log")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="upper right")
        fig.suptitle(f"Measured (solid) vs bound (dashed): ridge least squares, n={n}, "
                     f"kappa=L/mu={L / mu:.3g}, kappa_max={L_max / mu:.3g}", fontsize=10)
        return fig


__all__ = ["Complexity", "Config"]
