"""Semilocal PL on the toy network H(a, w) = a w (seed 003), flow and GD with step 1/L.

Seed 003 ("A simple example"): f(a, w) = ||a w - y*||^2 / 2, x = (a, w) in R^(1+d), started at
x0 = (a0, 0). With r = |a0|/2 and sigma_r = |a0| - r = |a0|/2, sigma_min(J_H) >= sigma_r on
B(x0, r) and, when r sigma_r = a0^2/4 >= ||y*||, y* in B(H(x0), r sigma_r): the semilocal PL
certificate holds with mu = sigma_r^2 = a0^2/4 (m = M = 1 for l = ||. - y*||^2/2). Then
(seed 003, "Semilocal convergence" and Appendix II):

* the gradient flow stays in B(x0, sqrt(2 (f(x0) - f*)/mu)) (inside B(x0, r)) and
  f(x(t)) - f* <= exp(-2 mu t)(f(x0) - f*);
* GD with step 1/L stays in B(x0, sqrt(8 (f(x0) - f*)/mu)) and
  f(x_k) - f* <= (1 - mu/L)^k (f(x0) - f*), provided PL holds on that larger ball; with the
  bounds above this needs sqrt(8 ||y*||^2/2)/sigma_r <= r, i.e. ||y*|| <= a0^2/8 (for
  a0^2/8 < ||y*|| <= a0^2/4 only the flow is certified);
* "artificially increasing mu (or sigma_r) implies increasing the Lipschitz constant of
  grad f: critical issue for discrete algorithms".

Here f* = 0 (y* is reached when a0 != 0), L = ``ScalarNetwork.L`` is the closed-form bound of
||Hess f|| on B(x0, r) (it grows like 3 a0^2: (s + a^2)/2 + sqrt(((a^2 - s)/2)^2 + c^2) with
s = a0^2/4, a^2 = 9 a0^2/4, c = 3 a0^2/2 + ||y*||), and GD runs with its default step 1/L.
The certificate is computed by ``descentlab.theory.scalar_network_certificate`` (Weyl bound
with Lip(J_H) = 1, and the sampled minimum of sigma_min over the ball as a cross-check).
The flow is integrated with scipy's DOP853 (rtol 1e-10, atol 1e-14) until
f <= 1e-15 f(x0); its limit is known in closed form (balancedness, a^2 - ||w||^2 = a0^2):
a^2 = (a0^2 + sqrt(a0^4 + 4 ||y*||^2))/2, w = y*/a.

**Checks**, for each a0 of the grid (||y*|| = 1):

* certified a0 (a0^2/4 >= ||y*||): the certificate holds with r = sigma_r = |a0|/2 (the
  sampled minimum agrees with the Weyl bound to 1e-9); the flow stays in its ball
  (max ||x(t) - x0|| <= sqrt(2 f(x0)/mu), to 1e-9 relative: integration error) and satisfies
  f(x(t)) <= exp(-2 mu t) f(x0) at every output time (factor 1 + 1e-6 for the integration
  error); the flow's end point is the closed-form limit (to 1e-6; stopping at f = 1e-15 f(x0)
  leaves a distance ~1e-8);
* GD-certified a0 (a0^2/8 >= ||y*||): GD stays in B(x0, sqrt(8 f(x0)/mu)) and satisfies
  f(x_k) <= (1 - mu/L)^k f(x0) at every step until f reaches the rounding floor
  (``GAP_FLOOR`` f(x0) = 1e-20 f(x0));
* the seed's warning: over the certified a0, L grows like a0^2 (fitted exponent 2 +- 0.2),
  and so does the largest Hessian norm met by GD (power iteration on the iterates), while the
  number of GD steps to f <= ``eps`` f(x0) does not decrease (exponent in a0 within +- 0.2 of
  0) and the flow time to the same accuracy does, like a0^-2 (exponent -2 +- 0.2). The Hessian
  norm along the path is max |eigenvalue| of the Hessian assembled from Hessian-vector
  products (``hessian_extremes``). mu/L tends
  to a constant (about 1/12), so the certified step count log(1/eps)/(-log(1 - mu/L)) is flat
  too. The tolerance 0.2 absorbs the ||y*|| terms of L and of the rates, which are
  O(1/a0^2) relative on a0 >= 2.5;
* uncertified a0 (a0^2/4 < ||y*||, e.g. a0 = 0.1): no radius certifies (max_r r sigma_r =
  a0^2/4 < ||y*||); GD must leave B(x0, r), since no minimizer lies in it (|a| ||w|| <=
  3 a0^2/4 < ||y*|| there); when the Hessian norm at the flow's (closed-form) limit exceeds
  L, GD meets curvature above L (so 1/L is no longer a safe step by the descent lemma); and
  it still converges, near the flow's limit, with the local rate set by
  the sharpness at its limit: the fitted contraction of f in the tail equals
  (1 - lambda_max(Hess f(x_K))/L)^2 to 1e-3 (the only non-zero Hessian eigenvalue in the
  directions GD moves in: the minimizers form a curve, flat along it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.integrate import solve_ivp

from ..errors import DescentlabError
from ..problems import ScalarNetwork
from ..run import run
from ..theory import (
    fit_linear_rate,
    hessian_extremes,
    linear_bound,
    loglog_slope,
    plot_with_bound,
    scalar_network_certificate,
    scalar_network_flow_limit,
)
from .base import SEED, Claim, Experiment, Int, Items, Real

FLOW_STOP = 1e-15
SLOPE_TOL = 0.2
#: records with f < GAP_FLOOR f(x0) are rounding (f = ||r||^2/2 with r accurate to ~1e-16):
#: the bound comparisons stop there
GAP_FLOOR = 1e-20


def gradient_flow(problem, x0, t_max: float, *, stop: float = FLOW_STOP, n_eval: int = 400):
    """Integrate dx/dt = -grad f(x) from x0 (DOP853, rtol 1e-10, atol 1e-14) until
    f <= stop f(x0) or t_max. Returns (t, X) at ``n_eval`` geometrically spaced times
    plus the end time."""
    f0 = problem.value(x0)

    def done(t, x):
        return problem.value(x) - stop * f0

    done.terminal = True
    sol = solve_ivp(lambda t, x: -problem.grad(x), (0.0, t_max), np.asarray(x0, float),
                    method="DOP853", rtol=1e-10, atol=1e-14, dense_output=True, events=done)
    t_end = float(sol.t[-1])
    t = np.unique(np.concatenate([[0.0], np.geomspace(1e-4 * t_end, t_end, n_eval)]))
    return t, sol.sol(t).T


@dataclass(frozen=True)
class Config:
    a0s: tuple[float, ...] = (0.1, 0.5, 2.5, 3.0, 4.0, 8.0)
    y_star: tuple[float, ...] = (0.6, 0.8)
    eps: float = 1e-10
    gd_iters: int = 3000
    n_samples: int = 256
    seed: int = 0


def _case(a0: float, y_norm: float) -> str:
    if a0 * a0 / 8 >= y_norm:
        return "gd-certified"
    if a0 * a0 / 4 >= y_norm:
        return "flow-certified"
    return "uncertified"


class SemilocalPL(Experiment):
    name = "semilocal-pl"
    title = "Semilocal PL on the toy network a w: certificate, flow, GD with step 1/L"
    source = "003 (Labarriere et al., SIAM OP26: semilocal PL, the a*w example, Appendix II)"
    description = ("The semilocal PL certificate of H(a, w) = a w at (a0, 0) (r = sigma_r = "
                   "|a0|/2), the flow and GD staying in their balls at the certified rates, "
                   "L growing like a0^2, and what GD does when the certificate fails.")
    Config = Config
    presets = {"quick": Config(),
               "paper": Config(a0s=(0.05, 0.1, 0.5, 1.0, 2.5, 3.0, 4.0, 6.0, 8.0, 16.0),
                               y_star=(0.2, -0.4, 0.4, 0.8, 0.0), gd_iters=5000,
                               n_samples=2048)}
    # a0 > 0: the fits are in log a0; GD's path is kept and a Hessian assembled per iterate
    limits = {"a0s": Items(Real(0.0, 1e3, lo_open=True)),
              "y_star": Items(Real(-1e3, 1e3), max_len=100),
              "eps": Real(0.0, 1.0, lo_open=True, hi_open=True), "gd_iters": Int(1, 100_000),
              "n_samples": Int(1, 10**6), "seed": SEED}

    def constraints(self, config):
        if not any(config.y_star):
            raise DescentlabError(f"y_star: expected a non-zero target (f(x0) = ||y*||^2/2 "
                                  f"scales every relative gap), got {config.y_star}")

    def tasks(self, config):
        return [{"a0": float(a0), "y_star": [float(v) for v in config.y_star],
                 "eps": config.eps, "gd_iters": config.gd_iters,
                 "n_samples": config.n_samples, "seed": config.seed} for a0 in config.a0s]

    def run_task(self, task):
        y = np.asarray(task["y_star"], dtype=float)
        a0 = task["a0"]
        problem = ScalarNetwork(y, a0)
        x0 = problem.default_x0()
        f0 = problem.value(x0)
        cert = scalar_network_certificate(problem, n_samples=task["n_samples"],
                                          seed=task["seed"])
        x_inf = scalar_network_flow_limit(a0, y)
        y_hat = y / np.linalg.norm(y)
        L = problem.L
        # gradient flow, up to a time long enough for the slowest (uncertified) case
        t_max = 50.0 / min(cert.mu, 1.0) if cert.mu > 0 else 1e5
        t, X = gradient_flow(problem, x0, t_max)
        fl = pd.DataFrame({"kind": "flow", "t": t,
                           "gap": [problem.value(x) for x in X],
                           "dist": np.linalg.norm(X - x0, axis=1),
                           "a": X[:, 0], "s": X[:, 1:] @ y_hat, "hess": np.nan})
        # GD with step 1/L (n = 1: one iteration per oracle call), every iterate recorded
        # and kept for the Hessian norm along the path
        path = []

        def keep(_problem, x) -> dict:
            path.append(x.copy())
            return {}

        trace = run(problem, "gd", budget_calls=task["gd_iters"], record="linear",
                    n_records=task["gd_iters"], metrics=keep)
        tr = trace.df
        path = np.array(path)
        hess = [max(abs(v) for v in hessian_extremes(problem, x)) for x in path[: len(tr)]]
        gd = pd.DataFrame({"kind": "gd", "t": tr["iteration"].astype(float),
                           "gap": tr["subopt"], "dist": tr["dist_to_init"],
                           "a": path[: len(tr), 0], "s": path[: len(tr), 1:] @ y_hat,
                           "hess": hess})
        df = pd.concat([fl, gd], ignore_index=True)
        scalars = {
            "a0": a0, "y_norm": float(np.linalg.norm(y)), "d": y.size, "case": None,
            "L": L, "f0": f0, "r": cert.r, "sigma_r": cert.sigma_r,
            "sigma_r_sampled": cert.sigma_r_sampled, "mu": cert.mu, "residual": cert.residual,
            "target": cert.target, "holds": cert.holds, "flow_radius": cert.flow_radius,
            "gd_radius": cert.gd_radius, "flow_inside": cert.flow_inside,
            "gd_inside": cert.gd_inside, "flow_limit_error": float(np.linalg.norm(X[-1] - x_inf)),
            "flow_limit_dist": float(np.linalg.norm(x_inf - x0)),
            "hess_at_limit": max(abs(v) for v in hessian_extremes(problem, path[-1])),
            "hess_flow_limit": max(abs(v) for v in hessian_extremes(problem, x_inf)),
            "step": 1.0 / L,
        }
        scalars["case"] = _case(a0, scalars["y_norm"])
        for k, v in scalars.items():
            df[k] = v
        return df

    # ---------------------------------------------------------------- analysis
    @staticmethod
    def summary(results: pd.DataFrame, eps: float) -> pd.DataFrame:
        rows = []
        for a0, g in results.groupby("a0"):
            c = g.iloc[0]
            fl = g[g["kind"] == "flow"].sort_values("t")
            gd = g[g["kind"] == "gd"].sort_values("t")
            rel_f, rel_g = fl["gap"] / c["f0"], gd["gap"] / c["f0"]
            t_flow = float(np.interp(-math.log(eps), -np.log(np.maximum(rel_f, 1e-300)),
                                     fl["t"])) if (rel_f <= eps).any() else np.nan
            hit = gd.loc[rel_g <= eps, "t"]
            rows.append({"a0": a0, "case": c["case"], "L": c["L"], "mu": c["mu"],
                         "max_hess_gd": float(gd["hess"].max()),
                         "gd_steps": float(hit.iloc[0]) if len(hit) else np.nan,
                         # the certified counts, where the certificate covers the dynamics
                         "gd_steps_bound": math.log(1 / eps) / -math.log(1 - c["mu"] / c["L"])
                         if c["case"] == "gd-certified" else np.nan,
                         "flow_time": t_flow,
                         "flow_time_bound": math.log(1 / eps) / (2 * c["mu"])
                         if c["case"] != "uncertified" else np.nan,
                         "max_dist_flow": float(fl["dist"].max()),
                         "max_dist_gd": float(gd["dist"].max())})
        return pd.DataFrame(rows)

    def check(self, results, config):
        claims = []
        summ = self.summary(results, config.eps).set_index("a0")
        for a0, g in results.groupby("a0"):
            c = g.iloc[0]
            fl = g[g["kind"] == "flow"]
            gd = g[g["kind"] == "gd"]
            tag = f"a0={a0:g}"
            y_norm = c["y_norm"]
            if c["case"] in ("gd-certified", "flow-certified"):
                claims.append(Claim(
                    f"{tag}: certificate holds", f"||y*|| = {y_norm:g} <= r sigma_r = a0^2/4 "
                    f"= {a0 * a0 / 4:g} with r = sigma_r = |a0|/2 = {abs(a0) / 2:g}",
                    f"sigma_r = {c['sigma_r']:.6g} (Weyl), sampled min {c['sigma_r_sampled']:.6g};"
                    f" residual {c['residual']:.4g} <= {c['target']:.4g}: {c['holds']}",
                    bool(c["holds"] and abs(c["sigma_r"] - abs(a0) / 2) <= 1e-12
                         and abs(c["sigma_r_sampled"] - c["sigma_r"]) <= 1e-9 * abs(a0))))
                worst_d = float(fl["dist"].max())
                claims.append(Claim(
                    f"{tag}: the flow stays in its ball",
                    f"max ||x(t) - x0|| <= sqrt(2 f(x0)/mu) = {c['flow_radius']:.5g} <= r",
                    f"{worst_d:.5g}", bool(worst_d <= c["flow_radius"] * (1 + 1e-9)
                                           and c["flow_inside"])))
                bound = np.exp(-2 * c["mu"] * fl["t"]) * c["f0"]
                ratio = float((fl["gap"] / bound).max())
                claims.append(Claim(
                    f"{tag}: the flow converges at the certified rate",
                    f"f(x(t)) <= exp(-2 mu t) f(x0), mu = {c['mu']:g} (x (1 + 1e-6))",
                    f"max ratio {ratio:.4g} over {len(fl)} times; end point at "
                    f"{c['flow_limit_error']:.1e} from the closed-form limit",
                    bool(ratio <= 1 + 1e-6 and c["flow_limit_error"] <= 1e-6)))
            if c["case"] == "gd-certified":
                worst_d = float(gd["dist"].max())
                k = gd["t"].to_numpy()
                gap = gd["gap"].to_numpy()
                bound = linear_bound(k, c["mu"], c["L"], c["f0"])
                keep = (k > 0) & (gap > GAP_FLOOR * c["f0"])
                ratio = float((gap[keep] / bound[keep]).max())
                claims.append(Claim(
                    f"{tag}: GD (step 1/L) stays in its ball and converges at (1 - mu/L)^k",
                    f"max ||x_k - x0|| <= sqrt(8 f(x0)/mu) = {c['gd_radius']:.5g} <= r; "
                    f"f(x_k) <= (1 - mu/L)^k f(x0), 1 - mu/L = {1 - c['mu'] / c['L']:.4f}",
                    f"max dist {worst_d:.5g}; max f(x_k)/bound {ratio:.3g} over the "
                    f"{int(keep.sum())} steps above {GAP_FLOOR:g} f(x0)",
                    bool(worst_d <= c["gd_radius"] * (1 + 1e-12) and c["gd_inside"]
                         and ratio <= 1.0)))
            if c["case"] == "uncertified":
                s = summ.loc[a0]
                claims.append(Claim(
                    f"{tag} (uncertified): no radius certifies",
                    f"max_r r sigma_r = a0^2/4 = {a0 * a0 / 4:g} < ||y*|| = {y_norm:g}",
                    f"certificate at r = |a0|/2: residual {c['residual']:.4g} > "
                    f"{c['target']:.4g}", bool(not c["holds"] and a0 * a0 / 4 < y_norm)))
                claims.append(Claim(
                    f"{tag} (uncertified): GD leaves the ball B(x0, r)",
                    f"no minimizer in the ball (|a| ||w|| <= 3 a0^2/4 = {0.75 * a0 * a0:.4g} "
                    f"< ||y*||): max ||x_k - x0|| > r = {c['r']:g}; the flow's limit is at "
                    f"{c['flow_limit_dist']:.4g}",
                    f"max ||x_k - x0|| = {s['max_dist_gd']:.4g}",
                    bool(s["max_dist_gd"] > c["r"])))
                if c["hess_flow_limit"] > c["L"]:  # predicted by the closed-form limit
                    claims.append(Claim(
                        f"{tag} (uncertified): GD meets curvature above L",
                        f"max_k ||Hess f(x_k)|| > L = {c['L']:.4g} (L only bounds the ball; "
                        f"at the flow's limit ||Hess f|| = {c['hess_flow_limit']:.4g})",
                        f"max ||Hess f(x_k)|| = {s['max_hess_gd']:.4g} (2/step = "
                        f"{2 * c['L']:.4g})", bool(s["max_hess_gd"] > c["L"])))
                gap = gd.sort_values("t")["gap"].to_numpy() / c["f0"]
                converged = bool(gap[-1] <= config.eps)
                pred = (1 - c["hess_at_limit"] / c["L"]) ** 2
                try:
                    fit = fit_linear_rate(np.arange(len(gap)), gap, low=1e-14, high=1e-6,
                                          min_points=3)
                    rho, window = fit.rho, f"k in [{fit.k_first:g}, {fit.k_last:g}]"
                except ValueError:
                    rho, window = np.nan, "no window"
                claims.append(Claim(
                    f"{tag} (uncertified): GD still converges, at the rate of its limit",
                    f"f(x_K) <= {config.eps:g} f(x0) and tail contraction = (1 - "
                    f"lambda_max(x_K)/L)^2 = {pred:.5f} (+- 1e-3)",
                    f"{s['gd_steps']:.0f} steps to f <= eps f(x0); tail rho = {rho:.5f} "
                    f"({window}); ||Hess f(x_K)|| = {c['hess_at_limit']:.4f}"
                    if np.isfinite(s["gd_steps"]) else f"not converged: f/f0 = {gap[-1]:.3g}",
                    bool(converged and np.isfinite(rho) and abs(rho - pred) <= 1e-3)))
        cert = summ[summ["case"] != "uncertified"]
        if len(cert) >= 2:
            ratio = cert["mu"] / cert["L"]
            fit_L = loglog_slope(cert.index, cert["L"])
            fit_h = loglog_slope(cert.index, cert["max_hess_gd"])
            claims.append(Claim(
                "smoothness grows with a0 (seed 003: increasing mu increases L)",
                f"L ~ a0^p and max ||Hess f|| on GD's path ~ a0^p, p = 2 +- {SLOPE_TOL}",
                f"p(L) = {fit_L.slope:.3f}, p(path) = {fit_h.slope:.3f} on a0 in "
                f"[{fit_L.x_first:g}, {fit_L.x_last:g}]; mu/L from {ratio.iloc[0]:.4f} to "
                f"{ratio.iloc[-1]:.4f}",
                bool(abs(fit_L.slope - 2) <= SLOPE_TOL and abs(fit_h.slope - 2) <= SLOPE_TOL)))
            fit_s = loglog_slope(cert.index, cert["gd_steps"])
            bounds = ", ".join(f"{v:.0f}" if np.isfinite(v) else "-"
                               for v in cert["gd_steps_bound"])
            fit_t = loglog_slope(cert.index, cert["flow_time"])
            claims.append(Claim(
                "discrete steps do not benefit from a larger mu",
                f"GD steps to eps = {config.eps:g} ~ a0^p with p = 0 +- {SLOPE_TOL}, while the "
                f"flow time ~ a0^q with q = -2 +- {SLOPE_TOL}",
                f"p = {fit_s.slope:.3f} (steps {', '.join(f'{v:.0f}' for v in cert['gd_steps'])}"
                f"; certified bound {bounds}"
                f" where GD is certified); "
                f"q = {fit_t.slope:.3f}",
                bool(abs(fit_s.slope) <= SLOPE_TOL and abs(fit_t.slope + 2) <= SLOPE_TOL)))
        return claims

    # ----------------------------------------------------------------- figures
    def plot(self, results, config):
        summ = self.summary(results, config.eps)
        figs = {}
        # 1. trajectories in the plane (a, w . y*/||y*||)
        cases = [a for a in summ["a0"] if _case(a, results["y_norm"].iloc[0]) == "gd-certified"]
        uncert = [a for a in summ["a0"] if _case(a, results["y_norm"].iloc[0]) == "uncertified"]
        show = ([cases[0]] if cases else []) + ([uncert[0]] if uncert else [])
        fig, axes = plt.subplots(1, max(len(show), 1), figsize=(5.6 * max(len(show), 1), 4.6),
                                 squeeze=False, constrained_layout=True)
        for ax, a0 in zip(axes[0], show, strict=False):
            g = results[results["a0"] == a0]
            c = g.iloc[0]
            for kind, style, color in (("flow", "-", "C0"), ("gd", ".-", "C1")):
                p = g[g["kind"] == kind].sort_values("t")
                ax.plot(p["a"], p["s"], style, color=color, ms=3, lw=1,
                        label="gradient flow" if kind == "flow" else "GD, step 1/L")
            th = np.linspace(0, 2 * np.pi, 400)
            balls = [(c["r"], f"B(x0, r), r = |a0|/2 = {c['r']:g}", "-")]
            if c["case"] != "uncertified":
                balls += [(c["flow_radius"], "flow ball sqrt(2 f0/mu)", "--"),
                          (c["gd_radius"], "GD ball sqrt(8 f0/mu)", ":")]
            for rad, lab, ls in balls:
                ax.plot(a0 + rad * np.cos(th), rad * np.sin(th), ls, color="0.4", lw=1,
                        label=lab)
            if c["case"] == "uncertified":  # frame x0 and the flow's limit
                a_inf = math.sqrt((a0 ** 2 + math.sqrt(a0 ** 4 + 4 * c["y_norm"] ** 2)) / 2)
                ca, cs = (a0 + a_inf) / 2, c["y_norm"] / a_inf / 2
                span = 0.65 * c["flow_limit_dist"] + 2 * c["r"]
            else:  # frame the balls around x0
                ca, cs = a0, 0.0
                span = 1.1 * max(c["r"], c["gd_radius"] if c["case"] == "gd-certified"
                                 else c["flow_radius"])
            ax.set_xlim(ca - span, ca + span)
            ax.set_ylim(cs - span, cs + span)
            a = np.linspace(max(1e-3, ca - span), ca + span, 400)
            ax.plot(a, c["y_norm"] / a, color="C2", lw=1, label="minimizers a s = ||y*||")
            ax.plot([a0], [0], "k^", label="x0 = (a0, 0)")
            ax.set_aspect("equal")
            ax.set_xlabel("a")
            ax.set_ylabel("w . y*/||y*||")
            ax.set_title(f"a0 = {a0:g} ({_case(a0, c['y_norm'])})", fontsize=10)
            ax.legend(fontsize=7, loc="lower left")
        figs["trajectories"] = fig

        # 2. convergence against the certified bounds
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True)
        for i, (a0, g) in enumerate(results.groupby("a0")):
            c = g.iloc[0]
            color = f"C{i}"
            fl = g[g["kind"] == "flow"].sort_values("t")
            gd = g[g["kind"] == "gd"].sort_values("t")
            certified = c["case"] != "uncertified"
            keep = fl["gap"] / c["f0"] > 1e-15
            if certified:
                plot_with_bound(axes[0], fl["t"][keep], fl["gap"][keep] / c["f0"],
                                np.exp(-2 * c["mu"] * fl["t"][keep]), label=f"a0 = {a0:g}",
                                bound_label="_", color=color)
            else:
                axes[0].plot(fl["t"][keep], fl["gap"][keep] / c["f0"], color=color, lw=1,
                             alpha=0.6, label=f"a0 = {a0:g} (uncertified)")
            keep = gd["gap"] / c["f0"] > 1e-15
            k = gd["t"][keep]
            if c["case"] == "gd-certified":
                plot_with_bound(axes[1], k, gd["gap"][keep] / c["f0"],
                                linear_bound(k, c["mu"], c["L"], 1.0), label=f"a0 = {a0:g}",
                                bound_label="_", color=color)
            else:
                axes[1].plot(k, gd["gap"][keep] / c["f0"], color=color, lw=1, alpha=0.6,
                             label=f"a0 = {a0:g} ({c['case']})")
        axes[0].set_xscale("log")
        axes[0].set_xlabel("time t")
        axes[0].set_ylabel("f(x(t)) / f(x0)")
        axes[0].set_title("gradient flow vs exp(-2 mu t) (dashed, certified a0)", fontsize=10)
        axes[1].set_xlabel("GD iteration k (step 1/L)")
        axes[1].set_ylabel("f(x_k) / f(x0)")
        axes[1].set_title("GD vs (1 - mu/L)^k (dashed, GD-certified a0)", fontsize=10)
        axes[1].set_xlim(0, min(400, float(results.loc[results["kind"] == "gd", "t"].max())))
        for ax in axes:
            ax.set_yscale("log")
            ax.set_ylim(1e-16, 2)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        figs["convergence"] = fig

        # 3. versus a0: constants and costs
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True)
        s = summ.sort_values("a0")
        ax = axes[0]
        ax.loglog(s["a0"], s["L"], "o-", label="L (bound on B(x0, r))")
        ax.loglog(s["a0"], s["max_hess_gd"], "s-", label="max ||Hess f|| on GD's path")
        ax.loglog(s["a0"], s["mu"], "^-", label="mu = sigma_r^2 = a0^2/4")
        ax.set_xlabel("a0")
        ax.set_title("constants vs a0 (seed 003: larger mu, larger L)", fontsize=10)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, which="both")
        ax = axes[1]
        ax.loglog(s["a0"], s["gd_steps"], "o-", color="C1", label="GD steps to eps (measured)")
        ax.loglog(s["a0"], s["gd_steps_bound"], "o--", color="C1",
                  label="certified: log(1/eps)/-log(1 - mu/L)")
        ax.loglog(s["a0"], s["flow_time"], "s-", color="C0", label="flow time to eps (measured)")
        ax.loglog(s["a0"], s["flow_time_bound"], "s--", color="C0",
                  label="certified: log(1/eps)/(2 mu)")
        ax.axvspan(s["a0"].min() / 1.2, 2 * math.sqrt(results["y_norm"].iloc[0]), color="0.9",
                   label="uncertified (a0^2/4 < ||y*||)")
        ax.set_xlabel("a0")
        ax.set_title(f"cost to f <= {config.eps:g} f(x0)", fontsize=10)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, which="both")
        figs["versus-a0"] = fig
        return figs


__all__ = ["Config", "SemilocalPL", "gradient_flow"]
