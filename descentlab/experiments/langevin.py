"""Mean-field Langevin dynamics on a teacher-student regression (seed 000, "Idea 1").

Seed 000: W_k = W_{k-1} - gamma grad F(W_{k-1}) + sqrt(2 gamma tau) N(0, I) "allows for
global quantitative convergence guarantees" with "slow convergence as a function of
temperature tau" (Mei et al. 2018; Chizat 2022; Nitanda, Wu, Suzuki 2022).

**Model** (seed 002, Eq. 3.1 with alpha = 1): h(x) = (1/m) sum_j a_j relu(b_j . x), particles
w_j = (a_j, b_j) in R^(1+d); a ReLU teacher with m0 unit neurons and output weights +-1
(``Teacher.draw``), x ~ N(0, I_d) without bias, n training points, R(W) = (1/n) sum_i
(h(x_i) - y_i)^2 / 2 the training risk (the population risk of the final network is also
reported, in closed form: ``population_risk``).

**Dynamics** (the convention of ``descentlab.methods.Langevin`` with scale = m, the
mean-field step of Eq. 3.3): for every particle

    w_j <- w_j - gamma (m grad_{w_j} R + lam_k w_j) + sqrt(2 gamma tau_k) xi_j,

the Euler-Maruyama scheme of dw_j = -(m grad_{w_j} R + lam w_j) dt + sqrt(2 tau) dB_j,
whose m -> infinity limit is the Wasserstein gradient flow of the free energy
R(mu) + (lam/2) int ||w||^2 dmu + tau int mu log mu. Confinement: lam = kappa tau, i.e. the
entropy is taken relative to the Gaussian prior N(0, I/kappa) (tau KL(mu | N(0, I/kappa)) =
tau int mu log mu + (tau kappa/2) int ||w||^2 + const), the form in which the log-Sobolev
argument gives a rate that degrades as tau decreases: the prior has log-Sobolev constant
kappa, so the exponential rate of the free energy is at least of order tau kappa exp(-c/tau)
(Holley-Stroock perturbation; Chizat 2022, Nitanda et al. 2022). A fixed weight decay is one
setting away (``confinement="fixed"``, lam = ``weight_decay``); with it the large-tau rate is
~2 lam and the ordering of the rates is not monotone (seen while building this experiment).
Each task runs ``repeats`` independent replicas (same data and initialisation distribution,
own noise) as the streams of one ``ParticleBatch``, trained by the particle engine
(``descentlab.particles.train`` with ``Dynamics(gamma, temperature=tau_k, kappa=...)``);
``tests/test_langevin.py`` checks that a step equals the generic ``Langevin`` method's on
``TwoLayerProblem``.

**Tracked quantity.** The entropy of an empirical measure is not computable, so the curve
is the regularized objective *without* its entropy term, V_k = R(W_k) + (lam/2) mean_j
||w_j||^2 (averaged over the replicas). Started from a wide initialisation (``init_scale``),
V_k relaxes to a stationary level; its rate is fitted by nonlinear least squares on
V(t) = V_inf + C exp(-r t), t = gamma k (mean-field time), over t >= ``burn_time``, then
refitted on the window [burn_time, burn_time + ``window_efolds`` / r] so that the fit is
not dominated by stationary fluctuations; the goodness of fit is R^2 on that window.

**Annealing.** The same dynamics with tau_k following a schedule from tau_max
(``temperature_at``): geometric decay reaching ``tau_min`` at half the run, and the
logarithmic schedule tau_max / log(e + k); lam_k = kappa tau_k.

**Checks.** (1) for every fixed tau the fitted rate is positive and R^2 >= ``min_r2``;
(2) the rate decreases with tau: strictly monotone along the grid; (3) each annealed run
ends with a lower unregularized training risk R than the fixed largest tau (means over the
replicas, last ``tail`` of the records).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from .._validation import check_choice
from ..data.teacher import Teacher
from ..errors import DescentlabError
from ..methods.langevin import temperature_at
from ..particles.batch import KEY_INIT, KEY_TEACHER, KEY_TRAIN, ParticleBatch, seeded
from ..particles.engine import Dynamics, train
from ..particles.samples import FixedSample
from ..theory.kernels import population_risk
from .base import SEEDS, Choice, Claim, Experiment, Int, Items, Real

KEY_NOISE = 5
CONFINEMENTS = ("relative", "fixed")
ANNEALING = ("geometric", "log")
MIN_FIT_RECORDS = 8  # fit_relaxation's min_points
MAX_ACTIVATIONS = 10**8  # repeats x m x n pre-activations (800 MB of float64)


# ------------------------------------------------------------------------ analysis
def fit_relaxation(t, v, *, burn_time: float, window_efolds: float = 8.0,
                   min_points: int = 8) -> dict:
    """Fit v(t) = v_inf + C exp(-r t) on t >= burn_time, then on the window
    [burn_time, burn_time + window_efolds / r]; returns v_inf, C, rate, r2, t_end, points."""
    t, v = np.asarray(t, dtype=np.float64), np.asarray(v, dtype=np.float64)

    def model(s, v_inf, c, r):
        return v_inf + c * np.exp(-r * (s - burn_time))

    def fit(mask):
        ts, vs = t[mask], v[mask]
        if ts.size < min_points:
            raise DescentlabError(f"fit_relaxation: only {ts.size} records in the fit window; "
                                  f"need {min_points} (record more often or run longer)")
        span = max(ts[-1] - ts[0], 1e-12)
        p0 = (vs[-max(3, ts.size // 5):].mean(), vs[0] - vs[-1], 3.0 / span)
        p, _ = curve_fit(model, ts, vs, p0=p0, maxfev=20000)
        res = vs - model(ts, *p)
        r2 = 1.0 - float(np.sum(res**2)) / max(float(np.sum((vs - vs.mean()) ** 2)), 1e-300)
        return p, r2, ts

    p, r2, ts = fit(t >= burn_time)
    if p[2] > 0:
        end = burn_time + window_efolds / p[2]
        mask = (t >= burn_time) & (t <= end)
        if mask.sum() >= min_points and end < t[-1]:
            p, r2, ts = fit(mask)
    return {"v_inf": float(p[0]), "amplitude": float(p[1]), "rate": float(p[2]),
            "r2": float(r2), "t_end": float(ts[-1]), "points": int(ts.size)}


# --------------------------------------------------------------------- experiment
@dataclass(frozen=True)
class Config:
    taus: tuple[float, ...] = (0.3, 0.1, 0.03, 0.01)
    schedules: tuple[str, ...] = ("geometric", "log")
    tau_min: float = 0.003
    kappa: float = 1.0
    confinement: str = "relative"
    weight_decay: float = 0.1
    seeds: tuple[int, ...] = (0,)
    repeats: int = 4
    d: int = 5
    m0: int = 3
    n: int = 100
    m: int = 128
    init_scale: float = 3.0
    gamma: float = 0.05
    steps: int = 3000
    record_every: int = 10
    burn_time: float = 2.0
    window_efolds: float = 8.0
    min_r2: float = 0.8
    tail: float = 0.1


class LangevinExperiment(Experiment):
    name = "langevin"
    title = "Mean-field Langevin: exponential convergence, slower at low temperature; annealing"
    source = ("000 (Idea 1: adding noise to the dynamics; Mei et al. 2018, Chizat 2022, "
              "Nitanda et al. 2022); 002 (Eq. 3.3, mean-field step)")
    description = ("Two-layer ReLU network in mean-field scaling, teacher-student regression, "
                   "noisy particle GD with confinement lam = kappa tau; the regularized "
                   "objective without entropy vs time for several temperatures (fitted "
                   "exponential rate), and annealed schedules vs the largest fixed tau.")
    Config = Config
    presets = {"quick": Config(),
               "paper": Config(taus=(0.3, 0.17, 0.1, 0.056, 0.03, 0.017, 0.01),
                               seeds=(0, 1), repeats=8, n=200, m=256, steps=6000)}
    limits = {"taus": Items(Real(0.0, 100.0, lo_open=True)),
              "schedules": Items(Choice(ANNEALING)), "tau_min": Real(0.0, lo_open=True),
              "kappa": Real(0.0, 1e6, lo_open=True), "confinement": Choice(CONFINEMENTS),
              # 0: no confinement (with confinement="fixed"; unused with "relative")
              "weight_decay": Real(0.0, 1e6), "seeds": SEEDS, "repeats": Int(1, 1000),
              "d": Int(1, 1000), "m0": Int(1, 1000), "n": Int(1, 100_000),
              "m": Int(1, 100_000), "init_scale": Real(0.0, 1e3, lo_open=True),
              "gamma": Real(0.0, 10.0, lo_open=True), "steps": Int(1, 10**6),
              "record_every": Int(1, 10**6),
              "burn_time": Real(0.0), "window_efolds": Real(0.0, lo_open=True),
              "min_r2": Real(0.0, 1.0, lo_open=True), "tail": Real(0.0, 1.0, lo_open=True)}

    def constraints(self, config):
        if config.tau_min >= max(config.taus):
            raise DescentlabError(f"tau_min: expected a temperature below the largest of "
                                  f"taus ({max(config.taus):g}), where the annealed runs "
                                  f"start, got {config.tau_min:g}")
        size = config.repeats * config.m * config.n
        if size > MAX_ACTIVATIONS:
            raise DescentlabError(f"m: expected repeats x m x n <= {MAX_ACTIVATIONS:.0e} "
                                  f"(memory of one step), got {size:.3g}")
        after_burn = (config.steps * config.gamma - config.burn_time) / (
            config.record_every * config.gamma)
        if after_burn < MIN_FIT_RECORDS:
            raise DescentlabError(f"steps: expected at least {MIN_FIT_RECORDS} records after "
                                  f"burn_time = {config.burn_time:g} (the rate fit), got "
                                  f"{max(after_burn, 0):.0f} with steps = {config.steps}, "
                                  f"gamma = {config.gamma:g}, record_every = "
                                  f"{config.record_every}")

    def tasks(self, config):
        check_choice("confinement", config.confinement, CONFINEMENTS)
        common = {k: getattr(config, k) for k in ("kappa", "confinement", "weight_decay",
                                                  "repeats", "d", "m0", "n", "m",
                                                  "init_scale", "gamma", "steps",
                                                  "record_every")}
        out = []
        for s in config.seeds:
            for i, tau in enumerate(config.taus):
                out.append({"seed": int(s), "run": i, "schedule": "constant",
                            "tau0": float(tau), "tau_min": float(tau), **common})
            for j, sched in enumerate(config.schedules):
                check_choice("schedules", sched, ANNEALING)
                out.append({"seed": int(s), "run": len(config.taus) + j, "schedule": sched,
                            "tau0": float(max(config.taus)), "tau_min": config.tau_min,
                            **common})
        return out

    @staticmethod
    def schedule_of(task: dict) -> np.ndarray:
        """tau_k for k = 0..steps-1."""
        k = np.arange(task["steps"])
        if task["schedule"] == "geometric":
            half = max(task["steps"] // 2, 1)
            decay = (task["tau_min"] / task["tau0"]) ** (1.0 / half)
            return temperature_at("geometric", task["tau0"], k, decay=decay,
                                  tau_min=task["tau_min"])
        return np.asarray(temperature_at(task["schedule"], task["tau0"], k), dtype=np.float64)

    def run_task(self, task):
        seed, reps = task["seed"], task["repeats"]
        d, m, n = task["d"], task["m"], task["n"]
        teacher = Teacher.draw(task["m0"], d, seeded(seed, KEY_TEACHER))
        X = seeded(seed, KEY_TRAIN).standard_normal((n, d))
        y = teacher(X)
        a = np.empty((reps, m))
        b = np.empty((reps, m, d))
        for r in range(reps):  # same initial particles for every temperature
            g = seeded(seed, KEY_INIT, r)
            a[r] = task["init_scale"] * g.standard_normal(m)
            b[r] = task["init_scale"] * g.standard_normal((m, d)) / math.sqrt(d)
        relative = task["confinement"] == "relative"
        dynamics = Dynamics(task["gamma"], temperature=self.schedule_of(task).__getitem__,
                            weight_decay=0.0 if relative else task["weight_decay"],
                            kappa=task["kappa"] if relative else 0.0)
        steps = task["steps"]
        res = train(ParticleBatch((m,), a, b), FixedSample(X, y), dynamics, steps,
                    record_at=[*range(0, steps, task["record_every"]), steps],
                    observe=_second_moment, rng=seeded(seed, KEY_NOISE, task["run"]))
        rows = []
        for i, k in enumerate(res.record_steps):
            tau, lam = dynamics.temperature_at(min(k, steps - 1))
            risk, sq = res.loss[i, :, 0], res.records["sq"][i]
            v = risk + 0.5 * lam * sq
            rows.append({"step": int(k), "t": k * task["gamma"], "tau": tau, "lam": lam,
                         "V": float(v.mean()), "V_sd": float(v.std(ddof=0)),
                         "risk": float(risk.mean()), "second_moment": float(sq.mean())})
        a, b = res.batch.a, res.batch.b
        df = pd.DataFrame(rows)
        df["pop_risk_final"] = float(np.mean([population_risk(a[r], b[r], teacher)
                                              for r in range(reps)]))
        df["seed"], df["run"], df["schedule"] = seed, task["run"], task["schedule"]
        df["tau0"], df["tau_min"] = task["tau0"], task["tau_min"]
        return df

    # ------------------------------------------------------------------ analysis
    @staticmethod
    def fits(results: pd.DataFrame, config) -> pd.DataFrame:
        rows = []
        fixed = results[results["schedule"] == "constant"]
        for (seed, tau), g in fixed.groupby(["seed", "tau0"]):
            f = fit_relaxation(g["t"], g["V"], burn_time=config.burn_time,
                               window_efolds=config.window_efolds)
            rows.append({"seed": seed, "tau": tau, **f})
        return pd.DataFrame(rows).sort_values(["seed", "tau"], ascending=[True, False],
                                              ignore_index=True)

    @staticmethod
    def final_risk(results: pd.DataFrame, tail: float) -> pd.DataFrame:
        rows = []
        for (seed, run), g in results.groupby(["seed", "run"]):
            last = g[g["step"] >= (1.0 - tail) * g["step"].max()]
            rows.append({"seed": seed, "run": run, "schedule": g["schedule"].iloc[0],
                         "tau0": g["tau0"].iloc[0], "risk": float(last["risk"].mean()),
                         "pop_risk": float(g["pop_risk_final"].iloc[0]),
                         "tau_end": float(g["tau"].iloc[-1])})
        return pd.DataFrame(rows)

    def check(self, results, config):
        fits = self.fits(results, config)
        claims = []
        txt = "; ".join(f"tau={r.tau:g}: rate {r.rate:.4f} (R^2 {r.r2:.3f})"
                        for r in fits.itertuples())
        claims.append(Claim(
            "fixed tau: exponential convergence of the regularized objective",
            f"V(t) = V_inf + C exp(-r t) fitted (entropy term left out): r > 0 and "
            f"R^2 >= {config.min_r2:g} for every tau",
            txt, bool(((fits["rate"] > 0) & (fits["r2"] >= config.min_r2)).all())))
        mono = []
        for _, g in fits.groupby("seed"):
            rates = g.sort_values("tau", ascending=False)["rate"].to_numpy()
            mono.append(bool(np.all(np.diff(rates) < 0)))
        claims.append(Claim(
            "the rate slows as tau decreases",
            "fitted rate strictly decreasing along the decreasing temperature grid "
            f"(confinement: {config.confinement})",
            ", ".join(f"{r.rate:.3g}" for r in fits.itertuples()) + " for tau = "
            + ", ".join(f"{t:g}" for t in fits["tau"]),
            all(mono)))
        fr = self.final_risk(results, config.tail)
        ok, parts = True, []
        for _, g in fr.groupby("seed"):
            ref = g[(g["schedule"] == "constant") & (g["tau0"] == g["tau0"].max())]
            ref_risk = float(ref["risk"].iloc[0])
            for r in g[g["schedule"] != "constant"].itertuples():
                ok &= r.risk < ref_risk
                parts.append(f"{r.schedule} {r.risk:.4f} (pop {r.pop_risk:.4f})")
            parts.append(f"fixed tau={ref['tau0'].iloc[0]:g}: {ref_risk:.4f} "
                         f"(pop {float(ref['pop_risk'].iloc[0]):.4f})")
        claims.append(Claim(
            "annealing beats a fixed large temperature",
            "final unregularized training risk of each annealed run < that of the largest "
            "fixed tau (replica means)",
            "; ".join(parts), bool(ok and len(parts))))
        return claims

    def plot(self, results, config):
        figs = {}
        fits = self.fits(results, config)
        seed0 = results[results["seed"] == results["seed"].min()]
        fixed = seed0[seed0["schedule"] == "constant"]
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)
        cmap = plt.get_cmap("plasma")
        taus = sorted(fixed["tau0"].unique(), reverse=True)
        for i, tau in enumerate(taus):
            g = fixed[fixed["tau0"] == tau]
            f = fits[(fits["seed"] == seed0["seed"].iloc[0]) & (fits["tau"] == tau)].iloc[0]
            c = cmap(i / max(len(taus), 1))
            axes[0].plot(g["t"], g["V"], color=c, lw=1, label=f"tau = {tau:g}")
            gap = (g["V"] - f["v_inf"]).abs()
            axes[1].semilogy(g["t"], gap + 1e-12, color=c, lw=0.8)
            tt = np.linspace(config.burn_time, f["t_end"], 50)
            fitted = abs(f["amplitude"]) * np.exp(-f["rate"] * (tt - config.burn_time))
            axes[1].semilogy(tt, fitted, "--", color=c, lw=1.5)
        axes[0].set_ylabel("V = R + (lam/2) mean ||w_j||^2 (no entropy)")
        axes[0].set_xlabel("t = gamma k")
        axes[0].set_title("regularized objective, fixed temperatures")
        axes[0].legend(fontsize=8)
        axes[1].set_ylabel("|V(t) - V_inf| (dashed: fitted C exp(-r t))")
        axes[1].set_xlabel("t = gamma k")
        axes[1].set_title("exponential relaxation")
        for seed, g in fits.groupby("seed"):
            axes[2].loglog(g["tau"], g["rate"], "o-", label=f"seed {seed}")
        tt = np.array(sorted(fits["tau"].unique()))
        if config.confinement == "relative":
            axes[2].loglog(tt, 2 * config.kappa * tt, "k--", lw=1,
                           label="2 kappa tau (Gaussian prior)")
        axes[2].set_xlabel("temperature tau")
        axes[2].set_ylabel("fitted rate r")
        axes[2].set_title("rate vs temperature")
        axes[2].legend(fontsize=8)
        figs["fixed_temperatures"] = fig

        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
        top = max(taus)
        for sched, g in seed0.groupby("schedule"):
            if sched == "constant":
                for tau in (top, min(taus)):
                    h = g[g["tau0"] == tau]
                    axes[0].semilogy(h["t"], h["risk"], lw=1, label=f"fixed tau = {tau:g}")
                    axes[1].semilogy(h["t"], h["tau"], lw=1, label=f"fixed tau = {tau:g}")
            else:
                axes[0].semilogy(g["t"], g["risk"], lw=1.5, label=f"annealed ({sched})")
                axes[1].semilogy(g["t"], g["tau"], lw=1.5, label=f"annealed ({sched})")
        axes[0].set_ylabel("unregularized training risk R")
        axes[1].set_ylabel("temperature tau_k")
        for ax in axes:
            ax.set_xlabel("t = gamma k")
            ax.legend(fontsize=8)
        axes[0].set_title("annealing vs fixed temperature")
        figs["annealing"] = fig
        return figs


def _second_moment(batch: ParticleBatch) -> dict[str, np.ndarray]:
    """mean_j ||w_j||^2 of every replica (stream)."""
    return {"sq": (np.sum(batch.a * batch.a, axis=1) + np.sum(batch.b * batch.b, axis=(1, 2)))
            / batch.n_particles}


__all__ = ["Config", "LangevinExperiment", "fit_relaxation"]
