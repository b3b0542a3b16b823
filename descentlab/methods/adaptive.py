"""Adaptive methods: Adam, AdaGrad and RMSProp (coordinate-wise rescaled stochastic steps).

All three share one loop over batches g_t = g_B(x) of ``batch_size`` indices drawn with
replacement (``sampling.BatchStream``), one learning-rate schedule lr_t (``sgd.step_at``:
'constant', 'inverse-sqrt' lr / sqrt(t), 'step-decay' lr decay_factor^floor(epochs /
decay_every)) and one update

    x_t = x_{t-1} - lr_t u_t / (sqrt(v_t) + eps),

where each method defines its moments (u_t, v_t), coordinate-wise:

* Adam (Kingma and Ba 2014): m_t = beta1 m_{t-1} + (1 - beta1) g_t, EMA of g_t^2 with beta2,
  both bias-corrected: u_t = m_t / (1 - beta1^t), v_t = EMA / (1 - beta2^t);
* RMSProp (Tieleman and Hinton 2012): u_t = g_t, v_t = EMA of g_t^2 with rho;
* AdaGrad (Duchi, Hazan, Singer 2011, diagonal): u_t = g_t, v_t = sum_{s <= t} g_s^2.

Smooth problems only (no prox).

Compiled path: on linear models (``problem.linear_view()`` not None) the loop runs in
``descentlab._compiled.stochastic`` with the same batches and learning rates. AdaGrad and
RMSProp are lazy (O(nnz of the batch) per iteration) when no L2 term and no shift act on
the coordinates: a coordinate outside the batch then has g = 0, so x and AdaGrad's sum stay
put and RMSProp's v is multiplied by rho (caught up as rho^t). Adam (its moments decay and
x moves for every coordinate) and every method under an L2 term run the dense compiled
loop, which is also ``lazy=False``'s reference. Other problems take the generic path.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._compiled import stochastic as kernels
from .._validation import check_int, check_positive
from ..errors import DescentlabError
from .base import Method, State, check_unit_interval, iterations_for
from .sampling import BatchStream, check_batch_size, check_rng
from .sgd import check_schedule, step_at

ADAPTIVE_SCHEDULES = ("constant", "inverse-sqrt", "step-decay")


@dataclass(frozen=True, kw_only=True, eq=False)
class AdaptiveState(State):
    """The batch stream, the first moment m (Adam; None otherwise) and the second moment v
    (an exponential average of g^2, or AdaGrad's sum)."""

    stream: BatchStream
    v: np.ndarray
    m: np.ndarray | None = None
    compiled: bool = False

    def info(self):
        return {"path": "compiled" if self.compiled else "generic", **super().info()}


@dataclass(frozen=True, kw_only=True)
class AdaptiveMethod(Method):
    """The shared fields, checks and loop of Adam, AdaGrad and RMSProp."""

    lr: float = 1e-3
    eps: float = 1e-8
    batch_size: int = 1
    schedule: str = "constant"
    decay_factor: float = 0.5
    decay_every: float = 10.0
    lazy: bool = True
    step_param: ClassVar[str] = "lr"
    #: whether the method keeps a first moment m
    first_moment: ClassVar[bool] = False
    #: the method's code in ``descentlab._compiled.stochastic``
    kind: ClassVar[int]

    def __post_init__(self):
        super().__post_init__()
        check_schedule(self, ADAPTIVE_SCHEDULES)
        self._set(eps=check_positive(f"{self.name}: eps", self.eps))
        check_int(f"{self.name}: batch_size", self.batch_size, minimum=1)
        if not isinstance(self.lazy, (bool, np.bool_)):
            raise DescentlabError(f"{self.name}: lazy: expected True or False, "
                                  f"got {self.lazy!r}")

    def resolve(self, problem):
        self.check_problem(problem)
        return dataclasses.replace(self, lr=float(self.lr), batch_size=check_batch_size(
            self.name, self.batch_size, problem.n))

    def moments(self, m, v, g, t):
        """(m_t, v_t, u_t, the denominator's v) after the gradient g_t of iteration t."""
        raise NotImplementedError

    def init(self, problem, x0, rng):
        check_rng(self.name, rng)
        return AdaptiveState(x=x0, v=np.zeros_like(x0),
                             m=np.zeros_like(x0) if self.first_moment else None,
                             stream=BatchStream(problem.n, self.batch_size),
                             compiled=problem.linear_view() is not None)

    def rates(self, t: int, spent: int, n: int, k: int) -> np.ndarray:
        """lr_t of the next k iterations (``step_at`` with the same float operations)."""
        if self.schedule == "constant":
            return np.full(k, self.lr)
        if self.schedule == "inverse-sqrt":
            return self.lr / np.sqrt(np.arange(t, t + k, dtype=np.float64) + 1.0)
        epochs = (spent + self.batch_size * np.arange(k, dtype=np.float64)) / n
        powers = np.floor(epochs / self.decay_every)
        table = {e: self.lr * self.decay_factor ** math.floor(e) for e in np.unique(powers)}
        return np.array([table[e] for e in powers])

    def _params(self) -> tuple[float, float]:
        """(beta1, beta2 or rho) of the kernel."""
        return 0.0, 0.0

    def _advance_compiled(self, problem, state, rng, calls):
        b, n, view = self.batch_size, problem.n, problem.linear_view()
        k = iterations_for(calls, b)
        batches = state.stream.batches(rng)
        idx = batches.take(k)
        lrs = self.rates(state.iteration, state.calls, n, k)
        x, v = state.x.copy(), state.v.copy()
        m = None if state.m is None else state.m.copy()
        beta1, beta2 = self._params()
        smooth_free = view.lam2 == 0.0 and (view.free < 0 or view.lam2f == 0.0) and \
            not np.any(view.shift)
        if self.lazy and self.kind != kernels.ADAM and smooth_free:
            kernels.adaptive_lazy(*view.rows, x, v, idx, b, lrs, self.kind, beta2, self.eps)
        else:
            kernels.adaptive_dense(*view.rows, x, v if m is None else m, v, idx, b, lrs,
                                   state.iteration, self.kind, beta1, beta2, self.eps,
                                   view.lam2, view.shift, view.free, view.lam2f)
        return state.after(k, k * b, x=x, m=m, v=v, stream=batches.stream())

    def advance(self, problem, state, rng, calls):
        if state.compiled:
            return self._advance_compiled(problem, state, rng, calls)
        lr, eps, b, schedule = self.lr, self.eps, self.batch_size, self.schedule
        batches, m, v, x = state.stream.batches(rng), state.m, state.v, state.x
        k = iterations_for(calls, b)
        t, spent, n = state.iteration, state.calls, problem.n
        for _ in range(k):
            lr_t = lr if schedule == "constant" else step_at(
                schedule, lr, t, spent / n, decay_factor=self.decay_factor,
                decay_every=self.decay_every)
            g = problem.batch_grad(x, batches.next())
            t += 1
            spent += b
            m, v, u, w = self.moments(m, v, g, t)
            x = x - lr_t * u / (np.sqrt(w) + eps)
        return state.after(k, k * b, x=x, m=m, v=v, stream=batches.stream())


@dataclass(frozen=True, kw_only=True)
class Adam(AdaptiveMethod):
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

    beta1: float = 0.9
    beta2: float = 0.999
    name: ClassVar[str] = "adam"
    first_moment: ClassVar[bool] = True
    kind: ClassVar[int] = kernels.ADAM

    def _params(self):
        return self.beta1, self.beta2

    def __post_init__(self):
        super().__post_init__()
        self._set(beta1=check_unit_interval("adam: beta1", self.beta1),
                  beta2=check_unit_interval("adam: beta2", self.beta2))

    def moments(self, m, v, g, t):
        b1, b2 = self.beta1, self.beta2
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * (g * g)
        return m, v, m / (1.0 - b1 ** t), v / (1.0 - b2 ** t)


@dataclass(frozen=True, kw_only=True)
class AdaGrad(AdaptiveMethod):
    """Diagonal AdaGrad (Duchi, Hazan, Singer 2011).

        G_t = G_{t-1} + g_t^2,      x_{t+1} = x_t - lr g_t / (sqrt(G_t) + eps),

    g_t = g_B(x_t), G_0 = 0, coordinate-wise. Defaults: lr = 0.01 and eps = 1e-10 (those of
    PyTorch's ``torch.optim.Adagrad``; the paper's lr is D_inf / sqrt 2, with D_inf the
    l_inf diameter of the iterates, unknown in advance). Rate: regret
    O(D_inf sum_j ||g_{1:T, j}||_2) = O(sqrt T) for convex losses (Duchi et al. 2011,
    diagonal case), hence F(x_bar_T) - F* = O(1/sqrt T) for the average; smooth non-convex:
    min_t E||grad F(x_t)||^2 = O(log T / sqrt T) (Ward, Wu, Bottou 2019; Defossez et al.
    2022). ``schedule`` decays lr as for ``Adam`` (default 'constant').
    """

    lr: float = 1e-2
    eps: float = 1e-10
    name: ClassVar[str] = "adagrad"
    kind: ClassVar[int] = kernels.ADAGRAD

    def moments(self, m, v, g, t):
        v = v + g * g
        return m, v, g, v


@dataclass(frozen=True, kw_only=True)
class RMSProp(AdaptiveMethod):
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

    rho: float = 0.9
    name: ClassVar[str] = "rmsprop"
    kind: ClassVar[int] = kernels.RMSPROP

    def _params(self):
        return 0.0, self.rho

    def __post_init__(self):
        super().__post_init__()
        self._set(rho=check_unit_interval("rmsprop: rho", self.rho))

    def moments(self, m, v, g, t):
        v = self.rho * v + (1.0 - self.rho) * (g * g)
        return m, v, g, v


__all__ = ["ADAPTIVE_SCHEDULES", "AdaGrad", "Adam", "AdaptiveMethod", "RMSProp"]
