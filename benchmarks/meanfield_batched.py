"""Batched mean-field SGD against a plain per-network NumPy loop (icm-fig3 trainings).

Both compute the same thing: for repetition ``rep`` of dimension ``d`` of the icm-fig3
grid, every width m = 1..30 trained by 10^4 published-convention SGD steps (batch 100,
lr 0.005) on the repetition's teacher and stream of fresh batches, then its risk on the
repetition's 1000 test points. The plain loop trains one network at a time, as the
published notebook does (one Python iteration per step and per network, the network's
own small matrix products); the batched code (``descentlab.experiments.icm_fig3``)
trains the 30 widths of a repetition as one array program, with its two matrix products
per step in float64 or in float32 (the experiment's default; everything else float64).
All run with one BLAS thread (as the tasks of a sweep do). The script prints the time per
training of each, the ratio measured in this run, the projected wall time of the paper
preset at d = 100 (900 trainings on 2 worker processes, assuming two free cores) and the
largest difference between the risks of the failed runs (the successful ones are
below 1e-3 and differ by rounding amplified over 10^4 steps).

    python benchmarks/meanfield_batched.py            # d = 100, 1 repetition (~1 min)
    python benchmarks/meanfield_batched.py --reps 2 --d 20
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from descentlab.data.teacher import Teacher
from descentlab.experiments.icm_fig3 import Config, IcmFig3, run_repetition
from descentlab.particles import KEY_INIT, KEY_TEACHER, KEY_TEST, KEY_TRAIN, seeded
from descentlab.problems.twolayer import init_particles


def plain_training(m: int, task: dict) -> float:
    """One network, one step at a time, in the published notebook's form; its test risk."""
    d, rep, seed = task["d"], task["rep"], task["seed"]
    bs, lr = task["batch_size"], task["lr"]
    teacher = Teacher.draw(task["m0"], d, seeded(seed, KEY_TEACHER, d, rep))
    a, b = init_particles(m, d, seeded(seed, KEY_INIT, d, rep, m))
    A, B = a / m, b.T.copy()                        # f(x) = sum_j A_j relu(B_j . x)
    Bt, At = teacher.b.T, teacher.a
    data = seeded(seed, KEY_TRAIN, d, rep)
    for _ in range(task["steps"]):
        X = data.standard_normal((bs, d))
        Y = np.maximum(X @ Bt, 0.0) @ At                # teacher output
        H = np.maximum(X @ B, 0.0)                      # activations
        G = H @ A - Y                                   # f - y
        A = A - (lr / m) * (H.T @ G) / bs               # output layer: mean over the batch
        GB = ((H > 0) * A * G[:, None]).T @ X           # hidden layer: SUM over the batch
        B = B - m * lr * GB.T
    X = seeded(seed, KEY_TEST, d, rep).standard_normal((task["n_test"], d))
    Y = np.maximum(X @ Bt, 0.0) @ At
    return float(0.5 * np.mean((np.maximum(X @ B, 0.0) @ A - Y) ** 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--reps", type=int, default=1, help="repetitions to time")
    parser.add_argument("--steps", type=int, default=10_000)
    args = parser.parse_args()
    exp = IcmFig3()
    config = exp.config("paper", dims=(args.d,), reps=args.reps, steps=args.steps)
    tasks = exp.tasks(config)
    for dtype in ("float64", "float32"):  # compile the kernels outside the timings
        run_repetition({**tasks[0], "steps": 5, "matmul_dtype": dtype})
    times = {"plain": 0.0, "float64": 0.0, "float32": 0.0}
    diff = {"float64": 0.0, "float32": 0.0}
    with threadpool_limits(limits=1):
        for task in tasks:
            t0 = time.perf_counter()
            plain = np.array([plain_training(m, task) for m in task["widths"]])
            times["plain"] += time.perf_counter() - t0
            for dtype in ("float64", "float32"):
                t0 = time.perf_counter()
                batched = run_repetition({**task, "matmul_dtype": dtype})
                times[dtype] += time.perf_counter() - t0
                rel = np.abs(batched["risk"].to_numpy() - plain) / np.maximum(plain, 1e-12)
                diff[dtype] = max(diff[dtype], float(rel[plain > 1e-3].max(initial=0.0)))
    n = len(tasks) * len(config.widths)
    full = Config().reps * len(Config().widths)
    scale = Config().steps / args.steps
    print(f"d = {args.d}, {len(tasks)} repetition(s) x {len(config.widths)} widths = {n} "
          f"trainings of {args.steps} steps, 1 BLAS thread, one process")
    labels = {"plain": "plain per-network NumPy loop", "float64": "batched, float64 products",
              "float32": "batched, float32 products"}
    labels[config.matmul_dtype] += " (default)"
    for key, label in labels.items():
        print(f"{label:40s} {times[key]:7.2f} s  ({times[key] / n:.3f} s per training; paper "
              f"preset at d = {args.d} on 2 workers ~ {times[key] / n * full * scale / 2 / 60:.1f} "
              f"min)")
    print(f"ratio plain / batched ({config.matmul_dtype} products, the default): "
          f"{times['plain'] / times[config.matmul_dtype]:.1f}x   "
          f"(float64 products: {times['plain'] / times['float64']:.1f}x)")
    print("largest relative difference to the plain loop's risk (runs with risk > 1e-3): "
          + ", ".join(f"{k} {v:.1e}" for k, v in diff.items()))


if __name__ == "__main__":
    main()
