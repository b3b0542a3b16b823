"""The study's summary: cost to each target, the best step of each method, the winners.

For one run (problem, method, step, seed) the cost to a target t is read at the first
record with rel_subopt <= t (record resolution, no interpolation): its oracle calls, epochs
and time; a run that never gets there costs +inf. Over the seeds the cost is the median
(+inf when more than half of the seeds never reach t).

**Best step** of a method on a problem: among its steps, consider the tightest target that
at least one step reaches (median over seeds); the best step reaches it with the fewest
median oracle calls; a tie in calls goes to the smaller median time, then to the first step
of the grid. When no step reaches even the loosest target, the best step is the one with
the smallest median final rel_subopt (diverged runs count as +inf).

**Winners**: in each problem, each cost column (calls and time to each target) is won by the
method (at its best step) with the smallest finite value; equal values all win; a column
that no method reaches has no winner.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

RUN = ["problem_label", "method_label", "step_label", "seed"]
CELL = ["problem_label", "method_label", "step_label"]


def target_name(what: str, target: float) -> str:
    """Column name, e.g. ``calls_to_1e-06``."""
    return f"{what}_to_{target:g}"


def run_costs(results: pd.DataFrame, targets) -> pd.DataFrame:
    """One row per run: its cost to each target and its final rel_subopt."""
    rows = []
    for key, run in results.groupby(RUN, sort=False):
        run = run.sort_values("oracle_calls", kind="stable")
        sub = run["rel_subopt"].to_numpy(dtype=float)
        diverged = bool((run["stop_reason"] == "diverged").any()) \
            if "stop_reason" in run else False
        row = dict(zip(RUN, key, strict=True))
        row["step"] = float(run["step"].iloc[0]) if "step" in run else math.nan
        row["final_rel_subopt"] = math.inf if diverged else float(sub[-1])
        row["diverged"] = diverged
        for t in targets:
            hit = np.flatnonzero(sub <= t)
            first = run.iloc[hit[0]] if hit.size else None
            row[target_name("calls", t)] = math.inf if first is None else \
                float(first["oracle_calls"])
            row[target_name("epochs", t)] = math.inf if first is None else \
                float(first["epochs"])
            row[target_name("time", t)] = math.inf if first is None else float(first["time_s"])
        rows.append(row)
    return pd.DataFrame(rows)


def cell_costs(results: pd.DataFrame, targets) -> pd.DataFrame:
    """One row per (problem, method, step): medians over the seeds."""
    runs = run_costs(results, targets)
    value_cols = [c for c in runs.columns if c not in RUN and c not in ("diverged",)]
    rows = []
    for key, group in runs.groupby(CELL, sort=False):
        row = dict(zip(CELL, key, strict=True))
        row["seeds"] = len(group)
        row["diverged"] = int(group["diverged"].sum())
        for c in value_cols:
            row[c] = float(np.median(group[c].to_numpy(dtype=float)))
        rows.append(row)
    return pd.DataFrame(rows)


def best_steps(cells: pd.DataFrame, targets) -> pd.DataFrame:
    """``cells`` with a boolean column ``best``: the best step of each problem x method."""
    cells = cells.copy()
    cells["best"] = False
    ordered = sorted(targets)  # tightest first
    for _, group in cells.groupby(["problem_label", "method_label"], sort=False):
        chosen = None
        for t in ordered:
            calls = group[target_name("calls", t)]
            if np.isfinite(calls).any():
                times = group[target_name("time", t)]
                # fewest calls, then least time, then the grid's order (stable sort)
                order = np.lexsort((np.arange(len(group)), times.to_numpy(),
                                    calls.to_numpy()))
                chosen = group.index[order[0]]
                break
        if chosen is None:
            final = group["final_rel_subopt"].to_numpy(dtype=float)
            final = np.where(np.isnan(final), np.inf, final)
            chosen = group.index[int(np.argmin(final))]
        cells.loc[chosen, "best"] = True
    return cells


def summary_table(results: pd.DataFrame, targets) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary: the best step of each problem x method with its costs and the columns it
    wins, ``winners``; steps: every step with its costs and ``best``)."""
    steps = best_steps(cell_costs(results, targets), targets)
    summary = steps[steps["best"]].drop(columns=["best"]).reset_index(drop=True)
    cost_cols = [target_name(w, t) for t in sorted(targets, reverse=True)
                 for w in ("calls", "time")]
    winners: list[list[str]] = [[] for _ in range(len(summary))]
    for _, group in summary.groupby("problem_label", sort=False):
        for col in cost_cols:
            values = group[col].to_numpy(dtype=float)
            if not np.isfinite(values).any():
                continue
            best = np.min(values)
            for i, v in zip(group.index, values, strict=True):
                if v == best:
                    winners[i].append(col)
    summary["winners"] = [", ".join(w) for w in winners]
    columns = ["problem_label", "method_label", "step_label", "step", "seeds", "diverged",
               "final_rel_subopt", *[target_name(w, t) for t in sorted(targets, reverse=True)
                                     for w in ("calls", "epochs", "time")], "winners"]
    return summary[columns], steps


__all__ = ["best_steps", "cell_costs", "run_costs", "summary_table", "target_name"]
