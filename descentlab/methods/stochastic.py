"""Stochastic methods on the generic path: any problem, through ``problem.batch_grad``.

Notation (seeds 000 and 004): F = g + h, g = (1/n) sum_i f_i smooth, h handled by its prox;
L is the smoothness of g, L_max the largest smoothness of one f_i, mu the strong convexity
of F, kappa = L/mu. A batch B is a vector of indices (repeats allowed) and
g_B(x) = (1/|B|) sum_{i in B} grad f_i(x) = ``problem.batch_grad(x, B)`` costs |B| oracle
calls; a full gradient costs n. ``advance(state, calls)`` runs whole iterations until at
least ``calls`` more oracle calls have been spent (at least one iteration).

* ``SGD``   x+ = x - s_t g_B(x) (Robbins and Monro 1951), optionally heavy-ball or
  Nesterov momentum, Polyak-Ruppert averaging and the prox of h (proximal SGD).
  Default constant step s = 1/(2 Lb), Lb = L_max/b + (1 - 1/b) L the expected smoothness
  of a batch of b indices drawn with replacement; then (Gower, Loizou, Qian, Sailanbayev,
  Shulgin, Richtarik 2019, "SGD: general analysis and improved rates", Thm 3.1)
  E||x_t - x*||^2 <= (1 - s mu)^t ||x_0 - x*||^2 + 2 s sigma_b^2 / mu,
  sigma_b^2 = E||g_B(x*)||^2: linear convergence to a noise ball, kappa/eps calls overall
  with decreasing steps (the complexity table of seed 000).
* ``Adam``  (Kingma and Ba 2014), ``AdaGrad`` (Duchi, Hazan, Singer 2011, diagonal),
  ``RMSProp`` (Tieleman and Hinton 2012): coordinate-wise rescaled steps.
* ``STORM`` (Cutkosky and Orabona 2019): recursive momentum d_t = g_t(x_t) +
  (1 - a_t)(d_{t-1} - g_t(x_{t-1})) with the same batch at x_t and x_{t-1}, adaptive step.
* ``SpiderBoost`` (Wang, Ji, Zhou, Liang, Tarokh 2019): SARAH/SPIDER estimator with a full
  gradient every q iterations, constant step 1/(2 L_max); Prox-SpiderBoost when h != 0.
* ``Katyusha``: loopless Katyusha, L-Katyusha (Kovalev, Horvath, Richtarik 2020, "Don't
  jump through hoops and remove those loops", Algorithm 2), accelerated variance
  reduction in O((n + sqrt(n L_max / mu)) log(1/eps)) iterations of 3 expected calls.

Randomness. Every random choice comes from the numpy Generator handed to ``init``, kept
in ``state.params["rng"]``. Index batches are drawn in blocks, so that the sequence does
not depend on how ``advance`` is called: with replacement, one block is
``rng.integers(0, n, size=b * ceil(n / b))`` (about one epoch), consumed b indices per
iteration in order; with ``sampling="permutation"`` the stream is the concatenation of
``rng.permutation(n)`` draws, cut into consecutive batches of b (a batch may straddle two
epochs). Katyusha draws blocks of n iterations: ``rng.integers(0, n, size=n)`` then
``rng.random(n)`` (the coin flips).

The resolved scalar hyperparameters (step, batch_size, ...) are stored in ``state.params``
as plain floats, ints and strings (the run loop copies them into the Trace metadata).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._validation import check_choice, check_int, check_positive
from ..errors import DescentlabError
from .base import Method, State, iterations_for

SCHEDULES = ("constant", "inverse", "inverse-sqrt", "step-decay")
SAMPLINGS = ("with-replacement", "permutation")
MOMENTUM_TYPES = ("heavy-ball", "nesterov")
ADAPTIVE_SCHEDULES = ("constant", "inverse-sqrt", "step-decay")


# --------------------------------------------------------------------------- helpers
def _check_unit_interval(name: str, value, *, closed_right: bool = False) -> float:
    """A number in [0, 1) (or [0, 1] with ``closed_right``)."""
    value = check_positive(name, value, strict=False)
    if value > 1.0 or (value == 1.0 and not closed_right):
        interval = "[0, 1]" if closed_right else "[0, 1)"
        raise DescentlabError(f"{name}: expected a number in {interval}, got {value!r}")
    return value


def _check_open_unit(name: str, value, *, closed_right: bool = False) -> float:
    """A number in (0, 1) (or (0, 1] with ``closed_right``)."""
    value = check_positive(name, value)
    if value > 1.0 or (value == 1.0 and not closed_right):
        interval = "(0, 1]" if closed_right else "(0, 1)"
        raise DescentlabError(f"{name}: expected a number in {interval}, got {value!r}")
    return value


def _resolve_batch_size(method: str, batch_size: int, n: int) -> int:
    """Check 1 <= batch_size <= n (n is known only once the problem is)."""
    b = check_int(f"{method}: batch_size", batch_size, minimum=1)
    if b > n:
        raise DescentlabError(f"{method}: batch_size: expected an integer between 1 and the "
                              f"number of samples n = {n}, got {b}")
    return b


def expected_smoothness(problem, batch_size: int) -> float:
    """Lb = L_max / b + (1 - 1/b) L: expected smoothness of a batch of b indices drawn
    uniformly with replacement, i.e. E||g_B(x) - g_B(x*)||^2 <= 2 Lb (g(x) - g(x*)) for
    convex f_i (the condition of Gower et al. 2019). It follows from
    E||g_B(x) - g_B(x*)||^2 = (1 - 1/b)||grad g(x) - grad g(x*)||^2 +
    (1/b) E_i||grad f_i(x) - grad f_i(x*)||^2 and ||grad f_i(x) - grad f_i(x*)||^2 <=
    2 L_i D_{f_i}(x, x*); it is the with-replacement analogue of their b-nice formula,
    equals L_max for b = 1 and L when n = 1."""
    b = float(batch_size)
    return float(problem.L_max) / b + (1.0 - 1.0 / b) * float(problem.L)


class _Batches:
    """Stream of index batches drawn from ``rng`` in blocks (see the module docstring)."""

    __slots__ = ("b", "buf", "n", "permutation", "pos", "rng")

    def __init__(self, rng: np.random.Generator, n: int, b: int, sampling: str):
        self.rng, self.n, self.b = rng, int(n), int(b)
        self.permutation = sampling == "permutation"
        self.buf = np.empty(0, dtype=np.int64)
        self.pos = 0

    def next(self) -> np.ndarray:
        pos, b = self.pos, self.b
        if pos + b > self.buf.size:
            self._refill()
            pos = 0
        self.pos = pos + b
        return self.buf[pos:pos + b]

    def _refill(self) -> None:
        rest = self.buf[self.pos:]
        if self.permutation:
            new = self.rng.permutation(self.n)
        else:
            new = self.rng.integers(0, self.n, size=self.b * -(-self.n // self.b))
        self.buf = np.concatenate([rest, new]) if rest.size else new
        self.pos = 0


def _step_at(schedule: str, base: float, t: int, epochs: float, *, t0=None,
             decay_factor: float = 0.5, decay_every: float = 10.0) -> float:
    """The step of ``schedule`` after t iterations and ``epochs`` epochs (see ``SGD``)."""
    if schedule == "constant":
        return base
    if schedule == "inverse":
        return base / (t + t0)
    if schedule == "inverse-sqrt":
        return base / math.sqrt(t + 1.0)
    return base * decay_factor ** math.floor(epochs / decay_every)


def _check_schedule(method, allowed=SCHEDULES) -> None:
    check_choice(f"{method.name}: schedule", method.schedule, allowed)
    method.decay_factor = _check_open_unit(f"{method.name}: decay_factor", method.decay_factor,
                                           closed_right=True)
    method.decay_every = check_positive(f"{method.name}: decay_every", method.decay_every)


def _require_rng(method: str, rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise DescentlabError(f"{method}: rng: expected a numpy Generator "
                              f"(np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def _finish(state: State, iterations: int, spent: int) -> State:
    state.iteration += iterations
    state.calls += spent
    return state


# ------------------------------------------------------------------------------ SGD
@dataclass(eq=False)
class SGD(Method):
    """Stochastic gradient descent with schedules, momentum, averaging and prox.

    Update (B_t a batch of ``batch_size`` indices, s_t the step of ``schedule``):

    * plain         x_{t+1} = x_t - s_t g_{B_t}(x_t)                (Robbins and Monro 1951)
    * heavy-ball    x_{t+1} = x_t - s_t g_{B_t}(x_t) + m (x_t - x_{t-1})   (seed 000, Polyak)
    * nesterov      y_t = x_t + m (x_t - x_{t-1}),  x_{t+1} = y_t - s_t g_{B_t}(y_t)
                    (Sutskever, Martens, Dahl, Hinton 2013)
    * prox          when h != 0 the right-hand side is followed by prox_{s_t h}
                    (proximal SGD; no theory is claimed together with momentum).

    Schedules (t = iterations done, e = epochs done = oracle calls / n):
    ``constant`` s_t = step; ``inverse`` s_t = step / (t + t0); ``inverse-sqrt``
    s_t = step / sqrt(t + 1); ``step-decay`` s_t = step * decay_factor^floor(e / decay_every).

    Defaults (Lb = ``expected_smoothness(problem, batch_size)``; with momentum m every
    default step is multiplied by (1 - m) so that the effective step s / (1 - m) of the
    equivalent averaged form stays the same, Sebbouh, Gower, Defazio 2021):

    * constant, step-decay, inverse-sqrt: step = 1/(2 Lb). Constant step, mu > 0:
      E||x_t - x*||^2 <= (1 - s mu)^t ||x_0 - x*||^2 + 2 s sigma_b^2 / mu
      (Gower et al. 2019, Thm 3.1). inverse-sqrt, non-convex: min_t E||grad F(x_t)||^2 =
      O(log T / sqrt T), i.e. the T^(-1/4) rate of seed 004 for the norm (Ghadimi and Lan
      2013); convex with averaging: F(x_bar_T) - F* = O(log T / sqrt T) (Nemirovski,
      Juditsky, Lan, Shapiro 2009). step-decay: decay_factor = 1/2 every 10 epochs, after
      the halving schedule of Ge, Kakade, Kidambi, Netrapalli (2019), near-optimal on least
      squares; their analysis halves every T / log2(T) iterations for a known horizon T,
      10 epochs is a horizon-free default (tune ``decay_every`` to the budget).
    * inverse: step = 2/mu, t0 = 2 Lb step / (1 - m) (so s_0 = (1 - m)/(2 Lb) and
      s_t ~ 2/(mu t)), the smooth form of the switching schedule of Gower et al. (2019,
      Thm 3.2): E||x_t - x*||^2 = O(kappa_b^2 ||x_0 - x*||^2 / t^2 + sigma_b^2/(mu^2 t)).
      Needs mu > 0 unless ``step`` is given.

    ``averaging``: report the Polyak-Ruppert average (Polyak and Juditsky 1992) of the
    iterates x_t produced after ``average_start`` epochs as ``state.x``, the last iterate
    being kept internally; with a constant step on least squares the average converges at
    O(1/t) (Bach and Moulines 2013). ``sampling``: 'with-replacement' (i.i.d. batches) or
    'permutation' (epochs of random permutations, random reshuffling).

    The default Lb is the with-replacement value; it is also a valid (larger) bound for
    batches taken without replacement.
    """

    step: float | None = None
    batch_size: int = 1
    schedule: str = "constant"
    t0: float | None = None
    decay_factor: float = 0.5
    decay_every: float = 10.0
    averaging: bool = False
    average_start: float = 0.0
    sampling: str = "with-replacement"
    momentum: float = 0.0
    momentum_type: str = "heavy-ball"
    name: ClassVar[str] = "sgd"
    handles_prox: ClassVar[bool] = True

    def __post_init__(self):
        super().__post_init__()
        check_int("sgd: batch_size", self.batch_size, minimum=1)
        _check_schedule(self)
        check_choice("sgd: sampling", self.sampling, SAMPLINGS)
        check_choice("sgd: momentum_type", self.momentum_type, MOMENTUM_TYPES)
        self.momentum = _check_unit_interval("sgd: momentum", self.momentum)
        self.average_start = check_positive("sgd: average_start", self.average_start,
                                            strict=False)
        if self.t0 is not None:
            self.t0 = check_positive("sgd: t0", self.t0, strict=False)
        if not isinstance(self.averaging, (bool, np.bool_)):
            raise DescentlabError(f"sgd: averaging: expected True or False, "
                                  f"got {self.averaging!r}")
        self.averaging = bool(self.averaging)

    def init(self, problem, x0, rng):
        rng = _require_rng(self.name, rng)
        b = _resolve_batch_size(self.name, self.batch_size, problem.n)
        Lb = expected_smoothness(problem, b)
        m = self.momentum
        t0 = None
        if self.schedule == "inverse":
            if self.step is None:
                if problem.mu <= 0:
                    raise DescentlabError(
                        "sgd: schedule='inverse' defaults to step = 2/mu and needs mu > 0, "
                        "the problem reports mu = 0; pass step= (the numerator c of "
                        "c/(t + t0)) or use schedule='inverse-sqrt'")
                step = (1.0 - m) * 2.0 / float(problem.mu)
            else:
                step = self.step
            t0 = self.t0 if self.t0 is not None else 2.0 * Lb * step / (1.0 - m)
            if t0 <= 0:
                raise DescentlabError("sgd: t0: expected a positive number with "
                                      "schedule='inverse' (the first step is step / t0)")
        else:
            step = self.step if self.step is not None else (1.0 - m) / (2.0 * Lb)
        params = {
            "step": float(step), "batch_size": b, "schedule": self.schedule, "t0": t0,
            "decay_factor": self.decay_factor if self.schedule == "step-decay" else None,
            "decay_every": self.decay_every if self.schedule == "step-decay" else None,
            "momentum": m, "momentum_type": self.momentum_type if m else None,
            "averaging": self.averaging, "average_start": self.average_start,
            "sampling": self.sampling, "expected_smoothness": Lb,
            "prox": bool(problem.nonsmooth),
            "rng": rng, "sampler": _Batches(rng, problem.n, b, self.sampling),
            "x_prev": x0 if m else None,  # x_{t-1} (arrays are never modified in place)
            "x_last": x0, "n_averaged": 0,
        }
        return State(problem, x0, params=params)

    def advance(self, state, calls):
        p, prm = state.problem, state.params
        b, sampler = prm["batch_size"], prm["sampler"]
        step, schedule, t0 = prm["step"], prm["schedule"], prm["t0"]
        factor, every = prm["decay_factor"], prm["decay_every"]
        m, nesterov = prm["momentum"], prm["momentum_type"] == "nesterov"
        prox, averaging = prm["prox"], prm["averaging"]
        n = p.n
        x, x_prev = prm["x_last"], prm["x_prev"]
        x_avg, n_avg = (state.x if prm["n_averaged"] else None), prm["n_averaged"]
        avg_from = prm["average_start"] * n
        k = iterations_for(calls, b)
        t, spent = state.iteration, state.calls
        for _ in range(k):
            s = step if schedule == "constant" else _step_at(
                schedule, step, t, spent / n, t0=t0, decay_factor=factor, decay_every=every)
            idx = sampler.next()
            if not m:
                x_new = x - s * p.batch_grad(x, idx)
            elif nesterov:
                y = x + m * (x - x_prev)
                x_new = y - s * p.batch_grad(y, idx)
            else:
                x_new = x - s * p.batch_grad(x, idx) + m * (x - x_prev)
            if prox:
                x_new = p.prox(x_new, s)
            x_prev, x = x, x_new
            t += 1
            spent += b
            if averaging and spent > avg_from:
                n_avg += 1
                x_avg = x.copy() if n_avg == 1 else x_avg + (x - x_avg) / n_avg
        prm["x_last"], prm["x_prev"] = x, (x_prev if m else None)
        prm["n_averaged"] = n_avg
        state.x = x_avg if (averaging and n_avg) else x
        state.iteration, state.calls = t, spent
        return state


# ------------------------------------------------------------------- adaptive methods
def _adaptive_state(method: Method, problem, x0, rng, **params) -> State:
    """Shared set-up of Adam, AdaGrad and RMSProp (smooth problems only)."""
    method._check_problem(problem)
    rng = _require_rng(method.name, rng)
    b = _resolve_batch_size(method.name, method.batch_size, problem.n)
    schedule = getattr(method, "schedule", "constant")
    decay = schedule == "step-decay"
    params = {"lr": float(method.lr), "batch_size": b, "schedule": schedule,
              "decay_factor": method.decay_factor if decay else None,
              "decay_every": method.decay_every if decay else None, **params, "rng": rng,
              "sampler": _Batches(rng, problem.n, b, "with-replacement")}
    return State(problem, x0, params=params)


@dataclass(eq=False)
class Adam(Method):
    """Adam (Kingma and Ba 2014, Algorithm 1), with bias correction.

        m_t = beta1 m_{t-1} + (1 - beta1) g_t,      v_t = beta2 v_{t-1} + (1 - beta2) g_t^2,
        x_t = x_{t-1} - lr (m_t / (1 - beta1^t)) / (sqrt(v_t / (1 - beta2^t)) + eps),

    g_t = g_B(x_{t-1}) on a batch of ``batch_size`` indices drawn with replacement, m_0 =
    v_0 = 0, operations coordinate-wise. Defaults are the paper's: lr = 1e-3, beta1 = 0.9,
    beta2 = 0.999, eps = 1e-8 (no problem constant enters). Rate: the paper's O(sqrt T)
    regret proof (online convex, decaying lr and beta1) is flawed (Reddi, Kale, Kumar 2018
    give a convex counterexample); for smooth non-convex F with lr ~ 1/sqrt(T),
    min_t E||grad F(x_t)||^2 = O(d log T / sqrt T) (Defossez, Bottou, Bach, Usunier 2022).
    With a constant lr the iterates stay in a noise ball of size O(lr) around x*; the
    ``schedule`` replaces lr by lr_t: 'constant', 'inverse-sqrt' lr_t = lr / sqrt(t) (the
    paper's Theorem 4.1 choice, t = 1, 2, ...) or 'step-decay' lr_t =
    lr * decay_factor^floor(epochs / decay_every), as for ``SGD``.
    """

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    batch_size: int = 1
    schedule: str = "constant"
    decay_factor: float = 0.5
    decay_every: float = 10.0
    name: ClassVar[str] = "adam"
    step_param: ClassVar[str] = "lr"

    def __post_init__(self):
        super().__post_init__()
        _check_schedule(self, ADAPTIVE_SCHEDULES)
        self.beta1 = _check_unit_interval("adam: beta1", self.beta1)
        self.beta2 = _check_unit_interval("adam: beta2", self.beta2)
        self.eps = check_positive("adam: eps", self.eps)
        check_int("adam: batch_size", self.batch_size, minimum=1)

    def init(self, problem, x0, rng):
        state = _adaptive_state(self, problem, x0, rng, beta1=self.beta1, beta2=self.beta2,
                                eps=self.eps)
        state.params["m"] = np.zeros_like(x0)
        state.params["v"] = np.zeros_like(x0)
        return state

    def advance(self, state, calls):
        p, prm = state.problem, state.params
        lr, b1, b2, eps, b = prm["lr"], prm["beta1"], prm["beta2"], prm["eps"], \
            prm["batch_size"]
        schedule, factor, every = prm["schedule"], prm["decay_factor"], prm["decay_every"]
        sampler, m, v, x = prm["sampler"], prm["m"], prm["v"], state.x
        k = iterations_for(calls, b)
        t, spent, n = state.iteration, state.calls, p.n
        for _ in range(k):
            lr_t = lr if schedule == "constant" else _step_at(
                schedule, lr, t, spent / n, decay_factor=factor, decay_every=every)
            g = p.batch_grad(x, sampler.next())
            t += 1
            spent += b
            m = b1 * m + (1.0 - b1) * g
            v = b2 * v + (1.0 - b2) * (g * g)
            m_hat = m / (1.0 - b1 ** t)
            v_hat = v / (1.0 - b2 ** t)
            x = x - lr_t * m_hat / (np.sqrt(v_hat) + eps)
        state.x, prm["m"], prm["v"] = x, m, v
        return _finish(state, k, k * b)


@dataclass(eq=False)
class AdaGrad(Method):
    """Diagonal AdaGrad (Duchi, Hazan, Singer 2011).

        G_t = G_{t-1} + g_t^2,      x_{t+1} = x_t - lr g_t / (sqrt(G_t) + eps),

    g_t = g_B(x_t), G_0 = 0, coordinate-wise. Defaults: lr = 0.01 and eps = 1e-10 (those of
    PyTorch's ``torch.optim.Adagrad``; the paper's lr is D_inf / sqrt 2, with D_inf the
    l_inf diameter of the iterates, unknown in advance). Rate: regret
    O(D_inf sum_j ||g_{1:T, j}||_2) = O(sqrt T) for convex losses (Duchi et al. 2011,
    diagonal case), hence F(x_bar_T) - F* = O(1/sqrt T) for the average; smooth non-convex:
    min_t E||grad F(x_t)||^2 = O(log T / sqrt T) (Ward, Wu, Bottou 2019; Defossez et al.
    2022).
    """

    lr: float = 1e-2
    eps: float = 1e-10
    batch_size: int = 1
    name: ClassVar[str] = "adagrad"
    step_param: ClassVar[str] = "lr"

    def __post_init__(self):
        super().__post_init__()
        self.eps = check_positive("adagrad: eps", self.eps)
        check_int("adagrad: batch_size", self.batch_size, minimum=1)

    def init(self, problem, x0, rng):
        state = _adaptive_state(self, problem, x0, rng, eps=self.eps)
        state.params["G"] = np.zeros_like(x0)
        return state

    def advance(self, state, calls):
        p, prm = state.problem, state.params
        lr, eps, b, sampler = prm["lr"], prm["eps"], prm["batch_size"], prm["sampler"]
        G, x = prm["G"], state.x
        k = iterations_for(calls, b)
        for _ in range(k):
            g = p.batch_grad(x, sampler.next())
            G = G + g * g
            x = x - lr * g / (np.sqrt(G) + eps)
        state.x, prm["G"] = x, G
        return _finish(state, k, k * b)


@dataclass(eq=False)
class RMSProp(Method):
    """RMSProp (Tieleman and Hinton 2012, Coursera lecture 6.5).

        v_t = rho v_{t-1} + (1 - rho) g_t^2,      x_{t+1} = x_t - lr g_t / (sqrt(v_t) + eps),

    g_t = g_B(x_t), v_0 = 0, coordinate-wise. Defaults: lr = 1e-3 and rho = 0.9 (the
    lecture's "0.9 MeanSquare + 0.1 grad^2"; Keras and TensorFlow use the same; PyTorch's
    ``alpha`` defaults to 0.99), eps = 1e-8 (PyTorch's; added outside the square root).
    Rate: no guarantee in the lecture; with a constant rho it can fail to converge on
    convex problems (Reddi, Kale, Kumar 2018); with lr ~ 1/sqrt(T) and rho -> 1,
    min_t E||grad F(x_t)||^2 = O(d log T / sqrt T) on smooth problems (Defossez et al.
    2022). With a constant lr the iterates stay in a noise ball of size O(lr); ``schedule``
    decays lr as for ``Adam`` ('constant', 'inverse-sqrt', 'step-decay').
    """

    lr: float = 1e-3
    rho: float = 0.9
    eps: float = 1e-8
    batch_size: int = 1
    schedule: str = "constant"
    decay_factor: float = 0.5
    decay_every: float = 10.0
    name: ClassVar[str] = "rmsprop"
    step_param: ClassVar[str] = "lr"

    def __post_init__(self):
        super().__post_init__()
        _check_schedule(self, ADAPTIVE_SCHEDULES)
        self.rho = _check_unit_interval("rmsprop: rho", self.rho)
        self.eps = check_positive("rmsprop: eps", self.eps)
        check_int("rmsprop: batch_size", self.batch_size, minimum=1)

    def init(self, problem, x0, rng):
        state = _adaptive_state(self, problem, x0, rng, rho=self.rho, eps=self.eps)
        state.params["v"] = np.zeros_like(x0)
        return state

    def advance(self, state, calls):
        p, prm = state.problem, state.params
        lr, rho, eps, b = prm["lr"], prm["rho"], prm["eps"], prm["batch_size"]
        schedule, factor, every = prm["schedule"], prm["decay_factor"], prm["decay_every"]
        sampler, v, x = prm["sampler"], prm["v"], state.x
        k = iterations_for(calls, b)
        t, spent, n = state.iteration, state.calls, p.n
        for _ in range(k):
            lr_t = lr if schedule == "constant" else _step_at(
                schedule, lr, t, spent / n, decay_factor=factor, decay_every=every)
            g = p.batch_grad(x, sampler.next())
            t += 1
            spent += b
            v = rho * v + (1.0 - rho) * (g * g)
            x = x - lr_t * g / (np.sqrt(v) + eps)
        state.x, prm["v"] = x, v
        return _finish(state, k, k * b)


# ---------------------------------------------------------------------------- STORM
@dataclass(eq=False)
class STORM(Method):
    """STORM, stochastic recursive momentum (Cutkosky and Orabona 2019, Algorithm 1).

    With B_t a fresh batch and g_t(.) = g_{B_t}(.) (the SAME batch at x_t and x_{t-1}):

        d_1 = g_1(x_1),   d_t = g_t(x_t) + (1 - a_t)(d_{t-1} - g_t(x_{t-1}))   (t >= 2),
        G_t = ||g_t(x_t)||,   eta_t = k / (w + sum_{i <= t} G_i^2)^(1/3),
        x_{t+1} = x_t - eta_t d_t,   a_{t+1} = min(1, c eta_t^2).

    This is the paper's adaptive variant (the clipping min(1, .) is ours: it keeps the
    recursion a convex combination when k, w, c are not the theorem's). Defaults k = 0.1,
    w = 0.1, c = 100: the values of the paper's experiments (k = w = 0.1, c picked on a
    logarithmic grid); they are not scale-free, so k usually needs tuning. Its Theorem 1
    takes k = b G^(2/3)/L, c = 28 L^2 + G^2/(7 L k^3), w = max((4 L k)^3, 2 G^2,
    (c k/(4 L))^3) with G a bound on the stochastic gradient norms, unknown here, and then
    a_t <= 1 without clipping.
    Rate (Theorem 1): E||grad F(x_hat)|| = O~(1/sqrt T + sigma^(1/3)/T^(1/3)) for x_hat drawn
    uniformly among x_1..x_T on smooth non-convex F (we report the last iterate).
    Oracle calls: b for the first iteration, 2b per iteration after it (two gradient
    evaluations of the same batch). Smooth problems only. ``state.params`` holds d_t
    ("d"), a_{t+1} ("a"), eta_t ("eta") and x_{t-1} ("x_prev").
    """

    k: float = 0.1
    w: float = 0.1
    c: float = 100.0
    batch_size: int = 1
    name: ClassVar[str] = "storm"
    step_param: ClassVar[str] = "k"

    def __post_init__(self):
        super().__post_init__()
        self.k = check_positive("storm: k", self.k)
        self.w = check_positive("storm: w", self.w)
        self.c = check_positive("storm: c", self.c)
        check_int("storm: batch_size", self.batch_size, minimum=1)

    def init(self, problem, x0, rng):
        self._check_problem(problem)
        rng = _require_rng(self.name, rng)
        b = _resolve_batch_size(self.name, self.batch_size, problem.n)
        params = {"k": self.k, "w": self.w, "c": self.c, "batch_size": b,
                  "a": 1.0, "eta": None, "sum_sq_grad": 0.0, "rng": rng,
                  "sampler": _Batches(rng, problem.n, b, "with-replacement"),
                  "d": None, "x_prev": None}
        return State(problem, x0, params=params)

    def advance(self, state, calls):
        p, prm = state.problem, state.params
        k_, w, c, b, sampler = prm["k"], prm["w"], prm["c"], prm["batch_size"], prm["sampler"]
        a, sum_sq, d, x, x_prev = prm["a"], prm["sum_sq_grad"], prm["d"], state.x, \
            prm["x_prev"]
        eta, spent, it = prm["eta"], 0, 0
        while it == 0 or spent < calls:
            idx = sampler.next()
            g = p.batch_grad(x, idx)
            if d is None:
                d = g
                spent += b
            else:
                d = g + (1.0 - a) * (d - p.batch_grad(x_prev, idx))
                spent += 2 * b
            sum_sq += float(g @ g)
            eta = k_ / (w + sum_sq) ** (1.0 / 3.0)
            a = min(1.0, c * eta * eta)
            x_prev, x = x, x - eta * d
            it += 1
        state.x = x
        prm.update(a=a, sum_sq_grad=sum_sq, d=d, x_prev=x_prev, eta=eta)
        return _finish(state, it, spent)


# ---------------------------------------------------------------------- SpiderBoost
@dataclass(eq=False)
class SpiderBoost(Method):
    """SpiderBoost and Prox-SpiderBoost (Wang, Ji, Zhou, Liang, Tarokh 2019, Alg. 1 and 2).

        v_k = grad g(x_k)                                                 if k mod q = 0,
        v_k = (1/|S|) sum_{j in S} (grad f_j(x_k) - grad f_j(x_{k-1})) + v_{k-1}   otherwise,
        x_{k+1} = prox_{step h}(x_k - step v_k)

    (SARAH/SPIDER estimator, Nguyen et al. 2017, Fang et al. 2018; S drawn with
    replacement, fresh each iteration; the prox is the identity on smooth problems).
    Defaults: step = 1/(2 L_max), |S| = q = ceil(sqrt n). The paper's L bounds the
    smoothness of every component (E||grad f_j(x) - grad f_j(y)||^2 <= L^2 ||x - y||^2), so
    L_max is the constant of the paper's step 1/(2L). Rate (Wang et al. 2019, smooth and
    composite non-convex cases): E||G(x_zeta)||^2 = O(L (F(x_0) - F*) / K) for x_zeta
    uniform among the K iterates (G the gradient mapping), i.e. O(n + sqrt(n) / eps^2)
    oracle calls for E||G|| <= eps, near-optimal for finite sums. On strongly convex
    problems the constant step converges linearly (we report the last iterate). Oracle
    calls: n per full gradient, 2|S| per other iteration. ``state.params["v"]`` is the
    current estimator v_k.
    """

    step: float | None = None
    batch_size: int | None = None
    q: int | None = None
    name: ClassVar[str] = "spiderboost"
    handles_prox: ClassVar[bool] = True

    def __post_init__(self):
        super().__post_init__()
        check_int("spiderboost: batch_size", self.batch_size, minimum=1, allow_none=True)
        check_int("spiderboost: q", self.q, minimum=1, allow_none=True)

    def init(self, problem, x0, rng):
        rng = _require_rng(self.name, rng)
        n = problem.n
        root = math.ceil(math.sqrt(n))
        b = _resolve_batch_size(self.name, root if self.batch_size is None
                                else self.batch_size, n)
        q = int(self.q) if self.q is not None else root
        step = self.step if self.step is not None else 0.5 / float(problem.L_max)
        params = {"step": float(step), "batch_size": b, "q": q,
                  "proximal": bool(problem.nonsmooth), "rng": rng,
                  "sampler": _Batches(rng, n, b, "with-replacement"),
                  "v": None, "x_prev": None, "full_gradients": 0}
        return State(problem, x0, params=params)

    def advance(self, state, calls):
        p, prm = state.problem, state.params
        s, b, q, sampler, prox = prm["step"], prm["batch_size"], prm["q"], prm["sampler"], \
            prm["proximal"]
        n, x, x_prev, v = p.n, state.x, prm["x_prev"], prm["v"]
        t, spent, it, full = state.iteration, 0, 0, prm["full_gradients"]
        while it == 0 or spent < calls:
            if t % q == 0:
                v = p.grad(x)
                spent += n
                full += 1
            else:
                idx = sampler.next()
                v = p.batch_grad(x, idx) - p.batch_grad(x_prev, idx) + v
                spent += 2 * b
            x_new = x - s * v
            if prox:
                x_new = p.prox(x_new, s)
            x_prev, x = x, x_new
            t += 1
            it += 1
        state.x = x
        prm.update(x_prev=x_prev, v=v, full_gradients=full)
        return _finish(state, it, spent)


# ------------------------------------------------------------------------- Katyusha
@dataclass(eq=False)
class Katyusha(Method):
    """Loopless Katyusha, L-Katyusha (Kovalev, Horvath, Richtarik 2020, Algorithm 2).

    With y_0 = w_0 = z_0 = x_0, i_k uniform in {1..n}, and s = eta / L the step on z:

        x_k     = theta1 z_k + theta2 w_k + (1 - theta1 - theta2) y_k
        g_k     = grad f_{i_k}(x_k) - grad f_{i_k}(w_k) + grad g(w_k)
        z_{k+1} = prox_{s' h}((z_k + s mu x_k - s g_k) / (1 + s mu)),   s' = s / (1 + s mu)
        y_{k+1} = x_k + theta1 (z_{k+1} - z_k)
        w_{k+1} = y_k with probability p (then grad g(w_{k+1}) is recomputed, n calls),
                  w_k otherwise.

    With h = 0 the z-step is the paper's z_{k+1} = (eta sigma x_k + z_k - (eta/L) g_k) /
    (1 + eta sigma), sigma = mu/L; with h != 0 it is the proximal z-step of L-Katyusha with
    arbitrary sampling (Qian, Qu, Richtarik 2019). ``state.x`` is y_k.

    Defaults (the paper's choice for uniform sampling of one index, whose
    expected smoothness is L_max, so that the paper's L is L_max here): sigma = mu/L_max,
    theta1 = min(sqrt(2 sigma n / 3), 1/2), theta2 = 1/2, p = 1/n,
    eta = theta2 / ((1 + theta2) theta1), i.e. step = eta / L_max. Rate: E[Psi_k] <= eps
    Psi_0 after O((n + sqrt(n L_max / mu)) log(1/eps)) iterations, the accelerated
    complexity (n + sqrt(n kappa)) log(1/eps) of seed 000 with kappa = L_max / mu, Psi a
    Lyapunov function combining ||z_k - x*||^2, F(y_k) - F* and F(w_k) - F*. Needs
    mu > 0: without strong convexity the defaults are undefined and a DescentlabError is
    raised unless both ``theta1`` and ``step`` are given (then sigma = 0 and no rate is
    claimed).
    Oracle calls: 2 per iteration, plus n for grad g(w_0) in the first iteration and each
    time w changes: 2 + p n = 3 per iteration on average.
    """

    step: float | None = None
    theta1: float | None = None
    theta2: float | None = None
    p: float | None = None
    name: ClassVar[str] = "katyusha"
    handles_prox: ClassVar[bool] = True

    def __post_init__(self):
        super().__post_init__()
        if self.theta1 is not None:
            self.theta1 = _check_open_unit("katyusha: theta1", self.theta1)
        if self.theta2 is not None:
            self.theta2 = _check_open_unit("katyusha: theta2", self.theta2)
        if self.p is not None:
            self.p = _check_open_unit("katyusha: p", self.p, closed_right=True)

    def init(self, problem, x0, rng):
        rng = _require_rng(self.name, rng)
        n, mu, Lm = problem.n, float(problem.mu), float(problem.L_max)
        if mu <= 0 and (self.theta1 is None or self.step is None):
            raise DescentlabError(
                "katyusha: the default parameters need a strongly convex problem (mu > 0), "
                "the problem reports mu = 0; add an L2 term (reg='l2' or 'elasticnet' with "
                "lam > 0; with fit_intercept=True the logistic loss has mu = 0 whatever lam, "
                "along the unpenalized intercept) or give both theta1= and step=")
        sigma = mu / Lm
        theta1 = self.theta1 if self.theta1 is not None else \
            min(math.sqrt(2.0 * sigma * n / 3.0), 0.5)
        theta2 = self.theta2 if self.theta2 is not None else 0.5
        if theta1 + theta2 > 1.0:
            raise DescentlabError(f"katyusha: theta1, theta2: expected theta1 + theta2 <= 1, "
                                  f"got {theta1:g} + {theta2:g}")
        step = self.step if self.step is not None else \
            theta2 / ((1.0 + theta2) * theta1) / Lm
        prob = self.p if self.p is not None else 1.0 / n
        params = {"step": float(step), "theta1": float(theta1), "theta2": float(theta2),
                  "p": float(prob), "mu": mu, "proximal": bool(problem.nonsmooth),
                  "rng": rng, "block_idx": np.empty(0, dtype=np.int64),
                  "block_coin": np.empty(0), "pos": 0,
                  "z": x0, "w": x0, "grad_w": None, "snapshots": 0}
        return State(problem, x0, params=params)

    def advance(self, state, calls):
        p, prm = state.problem, state.params
        s, th1, th2, prob, mu, prox = prm["step"], prm["theta1"], prm["theta2"], prm["p"], \
            prm["mu"], prm["proximal"]
        n, rng = p.n, prm["rng"]
        th3 = 1.0 - th1 - th2
        denom, s_prox = 1.0 + s * mu, s / (1.0 + s * mu)
        y, z, w, gw = state.x, prm["z"], prm["w"], prm["grad_w"]
        idx_block, coin_block, pos = prm["block_idx"], prm["block_coin"], prm["pos"]
        spent, it, snapshots = 0, 0, prm["snapshots"]
        if gw is None:  # the full gradient at w_0 = x_0, charged to the first iterations
            gw = p.grad(w)
            spent += n
        while it == 0 or spent < calls:
            if pos == idx_block.size:
                idx_block = rng.integers(0, n, size=n)
                coin_block = rng.random(n)
                pos = 0
            i = idx_block[pos:pos + 1]
            switch = coin_block[pos] < prob
            pos += 1
            x = th1 * z + th2 * w + th3 * y if th3 else th1 * z + th2 * w
            g = p.batch_grad(x, i) - p.batch_grad(w, i) + gw
            z_new = (z + (s * mu) * x - s * g) / denom if mu else z - s * g
            if prox:
                z_new = p.prox(z_new, s_prox)
            y_new = x + th1 * (z_new - z)
            spent += 2
            if switch:
                w = y
                gw = p.grad(w)
                spent += n
                snapshots += 1
            y, z = y_new, z_new
            it += 1
        state.x = y
        prm.update(z=z, w=w, grad_w=gw, block_idx=idx_block, block_coin=coin_block, pos=pos,
                   snapshots=snapshots)
        return _finish(state, it, spent)


__all__ = ["SGD", "STORM", "AdaGrad", "Adam", "Katyusha", "RMSProp", "SpiderBoost",
           "expected_smoothness"]
