"""Test-only experiments for the sweep, store and report tests.

They are not registered on import: tests register them temporarily (``registered``
below), and subprocesses through the plugin module ``sweep_plugin``
(``DESCENTLAB_PLUGINS=sweep_plugin`` with this directory on ``PYTHONPATH``).

``sweep-sleepy``: each task sleeps ``sleep`` seconds, optionally appends a line to the
file named by ``$SWEEP_TEST_COUNTER`` (so tests can count how often a task ran), and
returns a few seeded random numbers pushed through a BLAS matrix product. With
``$SWEEP_TEST_HOLD_ABOVE`` set to a width, the tasks of larger widths never finish (they
wait to be killed, before counting themselves): a sweep stuck mid-way, whatever the load.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from descentlab.experiments import EXPERIMENTS, Claim, Experiment

COUNTER_ENV = "SWEEP_TEST_COUNTER"
HOLD_ENV = "SWEEP_TEST_HOLD_ABOVE"


@dataclass(frozen=True)
class SleepyConfig:
    widths: tuple[int, ...] = (1, 2, 3)
    seeds: tuple[int, ...] = (0, 1)
    sleep: float = 0.0
    fail: bool = False


class SleepyExperiment(Experiment):
    name = "sweep-sleepy"
    title = "Sleepy test sweep"
    source = "none (test-only experiment of the sweep tests)"
    description = "Seeded random numbers through a matrix product, after a short sleep."
    Config = SleepyConfig
    presets = {"quick": SleepyConfig(), "paper": SleepyConfig(widths=tuple(range(1, 31)))}
    version = "1"

    def tasks(self, config):
        return [{"width": int(w), "seed": int(s), "sleep": float(config.sleep)}
                for w in config.widths for s in config.seeds]

    def run_task(self, task):
        time.sleep(task["sleep"])
        hold = os.environ.get(HOLD_ENV)
        while hold is not None and task["width"] > int(hold):
            time.sleep(0.05)  # until the process is killed
        counter = os.environ.get(COUNTER_ENV)
        if counter:
            with open(counter, "a") as fh:
                fh.write(f"{task['width']} {task['seed']}\n")
        rng = np.random.default_rng([task["seed"], task["width"]])
        a = rng.standard_normal((40, 40))
        v = a @ a.T @ rng.standard_normal(40)
        return pd.DataFrame({"width": task["width"], "seed": task["seed"],
                             "i": np.arange(5), "value": v[:5] / task["width"],
                             "label": [f"w{task['width']}"] * 5})

    def check(self, results, config):
        expected = len(config.widths) * len(config.seeds)
        n = results.groupby(["width", "seed"]).ngroups
        return [Claim("one result per grid point", f"{expected} (width, seed) groups",
                      f"{n} groups", n == expected),
                Claim("values are finite <and> escaped", "all finite",
                      f"{int(np.isfinite(results['value']).sum())} finite",
                      bool(np.isfinite(results["value"]).all()) and not config.fail)]

    def plot(self, results, config):
        fig, ax = plt.subplots(figsize=(4, 3))
        for seed, g in results.groupby("seed"):
            ax.plot(g["width"], g["value"], "o", label=f"seed {seed}")
        ax.legend()
        return {"values": fig}


TEST_EXPERIMENTS = (SleepyExperiment,)


@contextlib.contextmanager
def registered() -> Iterator[None]:
    """Register the test experiments for the duration of the block."""
    saved = {cls.name: EXPERIMENTS.get(cls.name) for cls in TEST_EXPERIMENTS}
    for cls in TEST_EXPERIMENTS:
        EXPERIMENTS[cls.name] = cls
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                EXPERIMENTS.pop(name, None)
            else:
                EXPERIMENTS[name] = old
