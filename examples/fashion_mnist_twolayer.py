"""A wide two-layer ReLU network in mean-field scaling on two Fashion-MNIST classes.

    h(x) = (alpha/m) sum_j a_j relu(b_j . x),    alpha = 1 (mean field, seed 002 Eq. 3.1)

trained by particle SGD with the mean-field step scaling (Eq. 3.3 of seed 002:
W <- W - gamma m grad G(W), minibatches drawn with replacement, logistic loss, labels
-1/+1) through ``descentlab.particles`` (ParticleBatch, FixedSample, Dynamics, train).
The images (Debian's ``dataset-fashion-mnist``, read with
``descentlab.data.load_fashion_mnist``) are average-pooled (``--pool``), centred with the
training mean, scaled so that E||x||^2 = 1, and get a constant bias coordinate.

Prints the train/test accuracy along training, a linear baseline (scikit-learn's
LogisticRegression on the same features) and how far the input weights moved
(mean ||b_j(T) - b_j(0)|| / ||b_j(0)||: order one in the mean-field regime, ~1/alpha in
the lazy one, try ``--alpha 30``), and writes to ``--out``:

* ``learning_curve.png``: logistic loss and accuracy, train and test, against the steps;
* ``particles.png``: left, the particles' trajectories |a_j| b_j projected on the top-2
  principal directions of the final weighted input weights (radius tanh(|p|/(2 s)), s the
  median final |a_j| ||b_j||; the circle is |p| = 1, the size of the initial particles; red
  a_j > 0 votes for the second class, blue for the first); right, the input weights of the
  particles with the largest |a_j| ||b_j|| as images (what the network learned to look at);
* ``summary.json``: the settings and the measured numbers.

Usage (the defaults: ~65 s of CPU, 1 core; 3 min wall on a busy 2-core machine)::

    python examples/fashion_mnist_twolayer.py --classes Pullover Coat --n 4000 \\
        --width 1000 --steps 4000 --out fashion_out

Needs the Fashion-MNIST idx files: ``sudo apt-get install dataset-fashion-mnist`` (or
``--data <directory>`` with the four files of the Fashion-MNIST repository).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from descentlab.data import FASHION_MNIST_CLASSES, load_fashion_mnist  # noqa: E402
from descentlab.data.fashion_mnist import class_index  # noqa: E402
from descentlab.data.teacher import add_bias  # noqa: E402
from descentlab.errors import DescentlabError  # noqa: E402
from descentlab.particles import (  # noqa: E402
    KEY_INIT,
    KEY_TEST,
    KEY_TRAIN,
    Dynamics,
    FixedSample,
    ParticleBatch,
    plot_particles,
    seeded,
    train,
)

KEY_SUBSET = 0  # stream of the training subset (seeded(seed, KEY_SUBSET))


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--classes", nargs=2, default=["Pullover", "Coat"], metavar="CLASS",
                   help="the two classes (names or numbers 0-9); the first gets label -1")
    p.add_argument("--n", type=int, default=4000, help="training images (random subset)")
    p.add_argument("--n-test", type=int, default=None,
                   help="test images (default: all test images of the two classes)")
    p.add_argument("--width", type=int, default=1000, help="number of hidden units m")
    p.add_argument("--alpha", type=float, default=1.0,
                   help="output scale: 1 is the mean-field scaling, large is lazy")
    p.add_argument("--steps", type=int, default=4000, help="SGD steps")
    p.add_argument("--batch-size", type=int, default=100,
                   help="minibatch size (0: full batch gradient descent)")
    p.add_argument("--lr", type=float, default=0.5,
                   help="gamma of Eq. (3.3) (the mean-field step)")
    p.add_argument("--pool", type=int, default=2, choices=[1, 2, 4],
                   help="average-pool the 28x28 images by this factor")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--records", type=int, default=25, help="points of the learning curve")
    p.add_argument("--data", default=None, help="directory of the Fashion-MNIST idx files")
    p.add_argument("--out", default="fashion_mnist_out", help="output directory")
    return p.parse_args(argv)


# ------------------------------------------------------------------------------ data
def pool_images(X: np.ndarray, k: int) -> np.ndarray:
    """Average k x k blocks of the 28 x 28 images (rows of X)."""
    if k == 1:
        return X
    side = 28 // k
    return X.reshape(len(X), side, k, side, k).mean(axis=(2, 4)).reshape(len(X), -1)


def load_pair(args) -> dict:
    """Standardized two-class train/test sets with labels -1 (first class) / +1."""
    first, second = (class_index(int(c) if str(c).isdigit() else c) for c in args.classes)
    if first == second:
        raise DescentlabError("classes: expected two different classes")
    X, y = load_fashion_mnist("train", classes=(first, second), path=args.data)
    Xt, yt = load_fashion_mnist("test", classes=(first, second), path=args.data)
    if args.n > len(y):
        raise DescentlabError(f"n: the two classes have {len(y)} training images, "
                              f"asked for {args.n}")
    keep = np.sort(seeded(args.seed, KEY_SUBSET).choice(len(y), args.n, replace=False))
    X, y = X[keep], y[keep]
    if args.n_test is not None and args.n_test < len(yt):
        keep = np.sort(seeded(args.seed, KEY_TEST).choice(len(yt), args.n_test,
                                                          replace=False))
        Xt, yt = Xt[keep], yt[keep]
    X, Xt = pool_images(X, args.pool), pool_images(Xt, args.pool)
    mean = X.mean(axis=0)
    scale = math.sqrt(np.mean(np.sum((X - mean) ** 2, axis=1)))
    return {"X": add_bias((X - mean) / scale), "y": np.where(y == second, 1.0, -1.0),
            "Xt": add_bias((Xt - mean) / scale), "yt": np.where(yt == second, 1.0, -1.0),
            "names": (FASHION_MNIST_CLASSES[first], FASHION_MNIST_CLASSES[second]),
            "side": 28 // args.pool}


# -------------------------------------------------------------------------- training
def metrics(batch: ParticleBatch, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean logistic loss, accuracy) of the network on (X, y)."""
    h = batch.predict(X)[0, :, 0]
    return float(np.mean(np.logaddexp(0.0, -y * h))), float(np.mean(np.sign(h) == y))


def run(args) -> dict:
    data = load_pair(args)
    X, y, Xt, yt = data["X"], data["y"], data["Xt"], data["yt"]
    dim = X.shape[1]
    batch = ParticleBatch.init((args.width,), dim, lambda s, r: seeded(args.seed, KEY_INIT, s, r),
                               alpha=args.alpha, activation="relu")
    b0 = batch.b[0].copy()
    sample = FixedSample(X, y, loss="logistic",
                         batch_size=args.batch_size or None,
                         rng=seeded(args.seed, KEY_TRAIN) if args.batch_size else None)
    dynamics = Dynamics(args.lr)
    checkpoints = np.unique(np.concatenate([[0], np.geomspace(1, args.steps, args.records)
                                            .round().astype(int)]))
    history = {k: [] for k in ("step", "train_loss", "train_acc", "test_loss", "test_acc",
                               "seconds")}
    clock = {"start": time.perf_counter(), "metrics": 0.0}  # training time: without metrics

    def observe(batch):
        t0, done = time.perf_counter(), int(checkpoints[len(history["step"])])
        seconds = t0 - clock["start"] - clock["metrics"]
        tr, te = metrics(batch, X, y), metrics(batch, Xt, yt)
        for key, value in zip(history, (done, *tr, *te, seconds), strict=True):
            history[key].append(value)
        print(f"step {done:6d}  train loss {tr[0]:.4f} acc {tr[1]:.4f}  "
              f"test loss {te[0]:.4f} acc {te[1]:.4f}  ({seconds:.1f} s)", flush=True)
        clock["metrics"] += time.perf_counter() - t0
        return {"a": batch.a[0].copy(), "b": batch.b[0].copy()}  # b reduced to 2D later

    res = train(batch, sample, dynamics, args.steps, record_at=checkpoints, observe=observe,
                matmul_dtype="float32")
    traj_a, traj_b, seconds = res.records["a"], res.records["b"], history["seconds"][-1]
    b = res.batch.b[0]
    moved = np.linalg.norm(b - b0, axis=1) / np.linalg.norm(b0, axis=1)
    baseline = linear_baseline(X, y, Xt, yt)
    summary = {"classes": list(data["names"]), "n_train": int(len(y)), "n_test": int(len(yt)),
               "input_dim": int(dim), "width": args.width, "alpha": args.alpha,
               "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
               "seed": args.seed, "train_accuracy": history["train_acc"][-1],
               "test_accuracy": history["test_acc"][-1],
               "test_loss": history["test_loss"][-1],
               "linear_baseline_test_accuracy": baseline,
               "mean_relative_displacement_b": float(moved.mean()),
               "train_seconds": seconds, "history": history}
    return {"summary": summary, "traj_a": traj_a, "traj_b": traj_b,
            "side": data["side"], "names": data["names"]}


def linear_baseline(X, y, Xt, yt) -> float:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=2000).fit(X, y)
    return float(clf.score(Xt, yt))


# -------------------------------------------------------------------------- figures
def learning_curve(summary: dict):
    h = summary["history"]
    steps = np.maximum(np.asarray(h["step"]), 0.5)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key, label in ((ax_loss, "loss", "logistic loss"), (ax_acc, "acc", "accuracy")):
        ax.plot(steps, h[f"train_{key}"], "o-", ms=3, label="train")
        ax.plot(steps, h[f"test_{key}"], "s-", ms=3, label="test")
        ax.set_xscale("log")
        ax.set_xlabel("SGD steps (step 0 drawn at 0.5)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    ax_acc.axhline(summary["linear_baseline_test_accuracy"], color="k", ls=":", lw=1,
                   label="linear baseline (test)")
    ax_acc.legend()
    a, b = summary["classes"]
    fig.suptitle(f"{a} vs {b}: width {summary['width']}, alpha = {summary['alpha']:g}, "
                 f"n = {summary['n_train']}; test accuracy {summary['test_accuracy']:.3f}")
    fig.tight_layout()
    return fig


def particle_picture(result: dict, n_images: int = 8):
    traj_a, traj_b = result["traj_a"], result["traj_b"][:, :, :-1]  # drop the bias weight
    side, names = result["side"], result["names"]
    a_T, b_T = traj_a[-1], traj_b[-1]
    # top-2 principal directions of the final weighted input weights |a_j| b_j
    _, _, Vt = np.linalg.svd(np.abs(a_T)[:, None] * b_T, full_matrices=False)
    U = Vt[:2].T
    fig = plt.figure(figsize=(12, 5.2))
    grid = fig.add_gridspec(2, 2 + n_images // 2, width_ratios=[2.4, 2.4] + [1] * (n_images // 2))
    ax = fig.add_subplot(grid[:, :2])
    # radius tanh(|p| / (2 s)), s = the median final |a_j| ||b_j||
    radial = float(np.median(np.abs(a_T) * np.linalg.norm(b_T, axis=1)))
    plot_particles(ax, traj_a, traj_b @ U, size=2.0, scale=2.0 * radial,
                   title=f"particles |a_j| b_j on the top-2 principal directions\n"
                         f"red: a_j > 0 ({names[1]}), blue: a_j < 0 ({names[0]})")
    weight = np.abs(a_T) * np.linalg.norm(b_T, axis=1)
    top = np.argsort(weight)[::-1][:n_images]
    for k, j in enumerate(top):
        axk = fig.add_subplot(grid[k % 2, 2 + k // 2])
        img = b_T[j].reshape(side, side)
        lim = np.abs(img).max()
        axk.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim)
        axk.set_title(f"a = {a_T[j]:+.2f}", fontsize=9,
                      color="C3" if a_T[j] > 0 else "C0")
        axk.axis("off")
    fig.text(0.79, 0.96, f"input weights b_j of the {n_images} particles with the largest "
             "|a_j| ||b_j||", ha="center", fontsize=10)
    return fig


def main(argv=None) -> dict:
    args = parse_args(argv)
    t0 = time.perf_counter()
    try:
        result = run(args)
    except DescentlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    summary = result["summary"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    learning_curve(summary).savefig(out / "learning_curve.png", dpi=120)
    particle_picture(result).savefig(out / "particles.png", dpi=120)
    plt.close("all")
    summary["total_seconds"] = time.perf_counter() - t0
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\n{summary['classes'][0]} vs {summary['classes'][1]}: test accuracy "
          f"{summary['test_accuracy']:.4f} (train {summary['train_accuracy']:.4f}; linear "
          f"baseline {summary['linear_baseline_test_accuracy']:.4f}); input weights moved "
          f"by {summary['mean_relative_displacement_b']:.2f} of their initial norm on "
          f"average; {summary['total_seconds']:.0f} s in all; figures in {out}/")
    return summary


if __name__ == "__main__":
    main()
