"""How tight are the textbook bounds? Performance estimation (PEP) against theory and practice.

For GD (step 1/L), Nesterov (convex variant, beta_k = (k - 1)/(k + 2), step 1/L), FISTA
(no restart, step 1/L; composite smooth + l1) and heavy ball (Polyak's tuning, kappa = 10),
at every N = 1..``n_max``: the PEP worst case (``descentlab.theory.pep``, L = 1,
||x0 - x*||^2 <= 1), the textbook bound, and measured values normalized the same way
(f(x_N) - f*) / (L ||x0 - x*||^2) (heavy ball: ||x_N - x*||^2 / ||x0 - x*||^2) on

(i) the worst-case instances, rebuilt as explicit functions: for GD the 1D Huber function of
    Drori and Teboulle (2014), f(x) = L tau |x| - L tau^2/2 (|x| >= tau), L x^2/2 otherwise,
    tau = R/(2 N L h + 1), x0 = R, where GD's f(x_N) - f* = L R^2/(4 N L h + 2) exactly; for
    Nesterov, FISTA and heavy ball the worst 1D quadratic lambda x^2/2 (lambda on a grid of
    4001 points of [0, L], of [mu, L] for heavy ball), i.e. the worst case over quadratics.
    These 1D runs use ``pep.iterate``, the iteration code that the tests prove identical to
    ``descentlab.methods``;
(ii) the lab's problems, run with ``descentlab.methods``: a9a logistic (l2, lam = 1e-4; l1
    for FISTA), from x0 = 0 with the certified optimum, and random quadratics
    (``Quadratic.with_condition_number``, kappa = 1e4 for the convex methods, 10 for heavy
    ball), x0 = 0.

Textbook bounds: GD L R^2/(2N) (seed 004), Nesterov and FISTA 2 L R^2/(N + 1)^2 (Nesterov
1983; Beck and Teboulle 2009); heavy ball has none (Polyak's rate is asymptotic and local:
Lessard, Recht, Packard 2016), so its panel compares PEP over quadratics with PEP over all
smooth strongly convex functions.

Step-size study: GD's PEP worst case at N = ``step_n`` for h L on a grid of (0, 2), against
the tight bound L R^2 max(1/(4 N L h + 2), (1 - L h)^(2N)/2) (Taylor, Hendrickx, Glineur 2017;
proved for every h in (0, 2/L) by Rotaru, Glineur, Patrinos 2024). The best constant step is
where the two terms cross, h* L in (1, 2): not the textbook 1/L (see also Teboulle and
Vaisbourd 2022).

Claims: measured <= PEP (every instance, every N) and PEP <= textbook (every N), both up to
the SDP tolerance ``SDP_RTOL`` = 1e-4 relative (Clarabel's duality gaps here are ~1e-8; its
"inaccurate" solutions stay within 1e-6); GD's PEP equals L/(4N + 2) and is attained by the
Huber instance, so textbook/PEP = (4N + 2)/(2N) -> 2 (checked: 2 + 1/N at every N, hence
the limit 2; for Nesterov and FISTA the ratio is reported, the claim is only >= 1); heavy
ball's PEP over quadratics is attained by a 1D quadratic and is far below its PEP over
smooth strongly convex functions (the worst case is not quadratic); the step study matches
the closed form and its best step exceeds 1/L.

Measured time: with n_max = 10, cold PEP cache, 8 helpers sharing 2 cores: 121 s wall,
37 s CPU, of which ~16 s CPU for heavy ball's N = 10 SDP alone (Clarabel inaccurate, solved
again with SCS): hence the quick preset's n_max = 8 (not re-timed; SDPs ~8 s CPU there). The
small grid of tests/test_pep_tightness.py runs in ~6 s. The paper preset (N <= 30) takes
minutes (FISTA N = 30 alone ~30 s CPU).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..methods import FISTA, GD, HeavyBall, Nesterov
from ..problems import Logistic, Quadratic
from ..theory import pep
from ..theory.bounds import gd_convex_bound, nesterov_bound
from .base import Choice, Claim, Experiment, Flag, Int, Items

METHODS = ("gd", "heavy-ball", "nesterov", "fista")
LABELS = {"gd": "GD", "heavy-ball": "heavy ball", "nesterov": "Nesterov", "fista": "FISTA"}
#: relative tolerance of the SDP solver's value in the claims
SDP_RTOL = 1e-4
#: heavy ball's condition: mu / L
HB_MU = 0.1
#: lambda grid size of the worst 1D quadratic
LAMBDA_GRID = 4001


@dataclass(frozen=True)
class Config:
    n_max: int = 8
    methods: tuple[str, ...] = METHODS
    a9a: bool = True
    dim: int = 100
    step_n: int = 5
    step_points: int = 25


def _settings(method: str) -> dict:
    """The PEP arguments of each panel (L = 1)."""
    if method == "heavy-ball":
        return {"L": 1.0, "mu": HB_MU, "performance": "dist2"}
    return {"L": 1.0, "mu": 0.0, "performance": "f-fstar"}


def textbook(method: str, N: np.ndarray) -> np.ndarray:
    """The textbook bound at L = 1, R = 1 (NaN for heavy ball: none exists)."""
    if method == "gd":
        return gd_convex_bound(N, 1.0, 1.0)
    if method in ("nesterov", "fista"):
        return nesterov_bound(N, 1.0, 1.0)
    return np.full(len(N), np.nan)


def gd_tight(hL: np.ndarray, N: int) -> np.ndarray:
    """max(1/(4 N h L + 2), (1 - h L)^(2N)/2): GD's tight f - f* (L = R = 1)."""
    hL = np.asarray(hL, dtype=float)
    return np.maximum(1.0 / (4 * N * hL + 2), (1 - hL) ** (2 * N) / 2)


def _descentlab_method(method: str):
    return {"gd": GD(), "heavy-ball": HeavyBall(), "nesterov": Nesterov(variant="convex"),
            "fista": FISTA(restart=None)}[method]


# ----------------------------------------------------------------- measured values
def _huber_gd(N: int) -> float:
    """GD (h = 1/L, L = R = 1) on Drori and Teboulle's Huber worst case for horizon N."""
    tau = 1.0 / (2 * N + 1)

    def value(x):
        return tau * abs(x) - tau * tau / 2 if abs(x) >= tau else x * x / 2

    def grad(x):
        return tau * math.copysign(1.0, x) if abs(x) >= tau else x

    x = pep.iterate("gd", (1.0,), 1.0, N, grad)
    return value(x)


def _worst_quadratic(method: str, N: int) -> float:
    """Worst 1D quadratic lambda x^2/2 over the lambda grid (x0 = 1, L = 1)."""
    kind, params = pep.pep_spec(_descentlab_method(method), **{
        k: v for k, v in _settings(method).items() if k in ("L", "mu")})
    lo = HB_MU if method == "heavy-ball" else 0.0
    lam = np.linspace(lo, 1.0, LAMBDA_GRID)
    prox = (lambda y, h: y) if kind in ("ista", "fista") else None
    x = pep.iterate(kind, params, np.ones_like(lam), N, lambda z: lam * z, prox)
    return float(np.max(x * x if method == "heavy-ball" else lam * x * x / 2))


def _problem(method: str, instance: str, dim: int):
    if instance == "a9a":
        reg = "l1" if method == "fista" else "l2"
        return Logistic.from_libsvm("a9a", reg=reg, lam=1e-4)
    kappa = 1.0 / HB_MU if method == "heavy-ball" else 1e4
    return Quadratic.with_condition_number(dim, kappa, 0)


def _measured_on_problem(method: str, instance: str, n_max: int, dim: int) -> np.ndarray:
    """Normalized measure at N = 1..n_max of descentlab's method on a lab problem, x0 = 0."""
    problem = _problem(method, instance, dim)
    x_star, f_star = problem.solution()
    x0 = np.zeros(problem.dim)
    r2 = float(np.sum((x0 - x_star) ** 2))
    m = _descentlab_method(method).resolve(problem)
    state = m.init(problem, x0.copy(), None)
    out = []
    for _ in range(n_max):
        state = m.advance(problem, state, None, problem.n)
        if method == "heavy-ball":
            out.append(float(np.sum((state.x - x_star) ** 2)) / r2)
        else:
            out.append((problem.value(state.x) - f_star) / (problem.L * r2))
    return np.array(out)


class PEPTightness(Experiment):
    name = "pep-tightness"
    title = "Tight worst cases (PEP) against textbook bounds and measured runs"
    source = ("004 (the GD and Nesterov rates); Drori-Teboulle 2014, Taylor-Hendrickx-Glineur "
              "2017 (performance estimation)")
    description = ("PEP worst case, textbook bound and measured values (worst-case instances, "
                   "a9a logistic, quadratics) for GD, heavy ball, Nesterov and FISTA at "
                   "N = 1..n_max, and GD's worst case as a function of the step.")
    Config = Config
    presets = {"quick": Config(),
               "paper": Config(n_max=30, step_n=10, step_points=60)}
    limits = {"n_max": Int(1, 40), "methods": Items(Choice(METHODS), distinct=True),
              "a9a": Flag(), "dim": Int(2, 2000), "step_n": Int(1, 30),
              "step_points": Int(3, 200)}

    def tasks(self, config):
        out = [{"kind": "curve", "method": m, "n_max": config.n_max, "a9a": config.a9a,
                "dim": config.dim} for m in config.methods]
        if "gd" in config.methods:
            out.append({"kind": "step", "step_n": config.step_n,
                        "step_points": config.step_points})
        return out

    def run_task(self, task):
        if task["kind"] == "step":
            return self._step_task(task)
        method, n_max = task["method"], task["n_max"]
        settings = _settings(method)
        N = np.arange(1, n_max + 1)
        worst = pep.worst_case_curve(method, n_steps=n_max, **settings)
        rows = {"worst-case instance": [
            _huber_gd(int(k)) if method == "gd" else _worst_quadratic(method, int(k))
            for k in N]}
        instances = ["quadratic"] + (["a9a"] if task["a9a"] and method != "heavy-ball" else [])
        for inst in instances:
            rows[inst] = _measured_on_problem(method, inst, n_max, task["dim"])
        frames = []
        quad_pep = pep.worst_case_curve(method, n_steps=n_max, function_class="quadratic",
                                        **settings) if method == "heavy-ball" else np.nan
        for inst, values in rows.items():
            frames.append(pd.DataFrame({
                "panel": "curve", "method": method, "instance": inst, "N": N, "h": 1.0,
                "pep": worst, "pep_quadratic": quad_pep, "textbook": textbook(method, N),
                "closed_form": 1.0 / (4 * N + 2) if method == "gd" else np.nan,
                "measured": values}))
        return pd.concat(frames, ignore_index=True)

    @staticmethod
    def _step_task(task):
        N, k = task["step_n"], task["step_points"]
        hL = np.linspace(2.0 / (k + 1), 2.0 * k / (k + 1), k)
        hL = np.unique(np.append(hL, 1.0))
        worst = np.array([pep.worst_case("gd", L=1.0, step=float(h), n_steps=N) for h in hL])
        return pd.DataFrame({"panel": "step", "method": "gd", "instance": "pep", "N": N,
                             "h": hL, "pep": worst, "pep_quadratic": np.nan,
                             "textbook": np.where(hL == 1.0, 1.0 / (2 * N), np.nan),
                             "closed_form": gd_tight(hL, N), "measured": np.nan})

    # ------------------------------------------------------------------ analysis
    def check(self, results, config):
        claims = []
        curves = results[results["panel"] == "curve"]
        for (method, inst), g in curves.groupby(["method", "instance"], sort=False):
            excess = (g["measured"] - g["pep"] * (1 + SDP_RTOL)).max()
            worst_ratio = (g["measured"] / g["pep"]).max()
            claims.append(Claim(
                f"{LABELS[method]}: measured <= PEP on {inst}, N = 1..{g['N'].max()}",
                f"measured / PEP <= 1 + {SDP_RTOL:g} at every N",
                f"max measured / PEP = {worst_ratio:.6f}", bool(excess <= 1e-12)))
        for method, g in curves[curves["instance"] == "worst-case instance"].groupby("method"):
            if method == "heavy-ball":
                continue
            ratio = g["textbook"] / g["pep"]
            claims.append(Claim(
                f"{LABELS[method]}: PEP <= textbook, N = 1..{g['N'].max()}",
                f"textbook / PEP >= 1 - {SDP_RTOL:g} at every N",
                f"textbook / PEP from {ratio.min():.3f} to {ratio.max():.3f} "
                f"(at N = {g['N'].max()}: {ratio.iloc[-1]:.3f})",
                bool(ratio.min() >= 1 - SDP_RTOL)))
        gd = curves[(curves["method"] == "gd") & (curves["instance"] == "worst-case instance")]
        if len(gd):
            N = gd["N"].to_numpy()
            pep_err = np.max(np.abs(gd["pep"] / gd["closed_form"] - 1))
            att = np.max(np.abs(gd["measured"] / gd["pep"] - 1))
            ratio = (gd["textbook"] / gd["pep"]).to_numpy()
            ratio_err = np.max(np.abs(ratio / (2 + 1 / N) - 1))
            claims.append(Claim(
                "GD: PEP = L R^2/(4N + 2) (Drori-Teboulle), attained by the Huber instance",
                f"|PEP/closed form - 1| and |Huber/PEP - 1| <= {SDP_RTOL:g} at every N",
                f"{pep_err:.1e} and {att:.1e}", bool(max(pep_err, att) <= SDP_RTOL)))
            claims.append(Claim(
                "GD: textbook / PEP = 2 + 1/N -> 2",
                f"|ratio / (2 + 1/N) - 1| <= {SDP_RTOL:g}; at N = {N.max()} ratio - 2 <= "
                f"1/N = {1 / N.max():.3f}",
                f"{ratio_err:.1e}; ratio at N = {N.max()}: {ratio[-1]:.4f}",
                bool(ratio_err <= SDP_RTOL and ratio[-1] - 2 <= 1 / N.max() + 2 * SDP_RTOL)))
        hb = curves[(curves["method"] == "heavy-ball")
                    & (curves["instance"] == "worst-case instance")]
        if len(hb):
            att = np.max(np.abs(hb["measured"] / hb["pep_quadratic"] - 1))
            last = hb.iloc[-1]
            claims.append(Claim(
                "heavy ball: the PEP over quadratics is attained by a 1D quadratic",
                f"|worst 1D quadratic / PEP(quadratics) - 1| <= {SDP_RTOL:g} at every N",
                f"{att:.1e}", bool(att <= SDP_RTOL)))
            claims.append(Claim(
                f"heavy ball (Polyak's tuning, mu/L = {HB_MU:g}): the worst case is not "
                "quadratic",
                f"PEP(smooth strongly convex) >= 2 PEP(quadratics) at N = {int(last['N'])}",
                f"{last['pep']:.3g} vs {last['pep_quadratic']:.3g}",
                bool(last["pep"] >= 2 * last["pep_quadratic"])))
        step = results[results["panel"] == "step"]
        if len(step):
            err = np.max(np.abs(step["pep"] / step["closed_form"] - 1))
            N = int(step["N"].iloc[0])
            claims.append(Claim(
                f"GD step study (N = {N}): PEP = max(1/(4Nh+2), (1-h)^(2N)/2) (Taylor et al.)",
                f"|PEP / closed form - 1| <= {SDP_RTOL:g} on the h grid",
                f"{err:.1e} over {len(step)} steps", bool(err <= SDP_RTOL)))
            best = step.loc[step["pep"].idxmin()]
            at_one = step.loc[step["h"] == 1.0, "pep"].iloc[0]
            claims.append(Claim(
                f"GD step study (N = {N}): the best constant step is not 1/L",
                "argmin_h PEP(h) L > 1 and PEP(h*) < PEP(1/L)",
                f"h* L = {best['h']:.3f}, PEP(h*) = {best['pep']:.4f} vs PEP(1/L) = "
                f"{at_one:.4f}", bool(best["h"] > 1.0 and best["pep"] < at_one)))
        return claims

    def plot(self, results, config):
        curves = results[results["panel"] == "curve"]
        methods = [m for m in config.methods if m in set(curves["method"])]
        figs = {}
        if methods:
            fig, axes = plt.subplots(1, len(methods), figsize=(4.3 * len(methods), 3.8),
                                     squeeze=False, constrained_layout=True)
            markers = {"worst-case instance": "o", "quadratic": "s", "a9a": "^"}
            for ax, method in zip(axes[0], methods, strict=True):
                g = curves[curves["method"] == method]
                first = g[g["instance"] == "worst-case instance"]
                ax.loglog(first["N"], first["pep"], "-", color="k", lw=1.8,
                          label="PEP worst case")
                if method == "heavy-ball":
                    ax.loglog(first["N"], first["pep_quadratic"], "-.", color="0.4",
                              label="PEP over quadratics")
                else:
                    ax.loglog(first["N"], first["textbook"], "--", color="C3",
                              label="textbook bound")
                for i, (inst, sub) in enumerate(g.groupby("instance", sort=False)):
                    ax.loglog(sub["N"], sub["measured"].clip(lower=1e-16),
                              markers.get(inst, "x"), color=f"C{i}", ms=4, mfc="none",
                              label=f"measured: {inst}")
                ax.set_title(LABELS[method])
                ax.set_xlabel("iteration N")
                ax.set_ylabel("||x_N - x*||^2 / ||x0 - x*||^2" if method == "heavy-ball"
                              else "(f(x_N) - f*) / (L ||x0 - x*||^2)")
                ax.grid(alpha=0.3, which="both")
                ax.legend(fontsize=7)
            figs["curves"] = fig
        step = results[results["panel"] == "step"]
        if len(step):
            fig, ax = plt.subplots(figsize=(5.2, 3.8), constrained_layout=True)
            hh = np.linspace(0.02, 1.98, 400)
            N = int(step["N"].iloc[0])
            ax.semilogy(hh, gd_tight(hh, N), "-", color="0.6",
                        label="max(1/(4Nh+2), (1-h)^2N/2)")
            ax.semilogy(step["h"], step["pep"], "o", color="k", ms=4, label="PEP")
            best = step.loc[step["pep"].idxmin()]
            ax.axvline(1.0, ls="--", color="C3", lw=1, label="textbook step 1/L")
            ax.axvline(best["h"], ls=":", color="C0", lw=1,
                       label=f"best step on the grid {best['h']:.2f}/L")
            ax.set_xlabel("step h L")
            ax.set_ylabel(f"worst-case f(x_{N}) - f* (L = R = 1)")
            ax.set_title(f"GD, N = {N}: worst case against the step")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=7)
            figs["step-size"] = fig
        return figs


__all__ = ["Config", "PEPTightness", "gd_tight", "textbook"]
