"""``method="auto"``: the fastest method for the problem's penalty and size.

``Auto().resolve(problem)`` returns the chosen method, resolved (``run`` then runs it, and the
Trace names it). The rule comes from ``benchmarks/peers.py`` (time to relative suboptimality
1e-4 and 1e-8 of descentlab's methods side by side with scikit-learn, skglm, celer, cyanure
and snapml; the runs behind it are ``benchmarks/results/peers-2026-11-29-{merged,run2,final}.txt``):

* linear models (least squares, logistic) with an L2 penalty: truncated Newton ``newton-cg``
  when d <= ``NEWTON_MAX_DIM`` (CG preconditioned by the Hessian's diagonal needs few
  Hessian-vector products, one pass over the data each: a9a 0.17 s and w8a 0.12 s to 1e-8
  at lam = 1/n, the best of descentlab's methods), else ``lbfgs`` (news20, d = 62061:
  L-BFGS 1.4 s against Newton-CG 4.5 s to 1e-8; CG needs many products there);
* without a penalty: ``lbfgs``. Its iterates from x0 = 0 stay in the row space of X, so when
  the minimizers form a continuum (rank-deficient X) it ends at the minimum-norm one, as
  scikit-learn's solvers do; the diagonal preconditioner of Newton-CG leaves that space;
* with an L1 term (l1, elastic net): proximal Newton ``prox-newton`` on sparse data (density
  nnz / (n d) < ``PROX_NEWTON_MAX_DENSITY``: w8a, 3.9%, 0.16 s to 1e-8 against OWL-QN's
  0.26 s; news20, 0.13%, 1.6 s against 6.1 s), ``owlqn`` otherwise (a9a, 11% with collinear
  one-hot columns, where the inner coordinate descent is slow: 0.28 s against 1.0 s; dense
  data);
* any other problem: ``lbfgs`` when smooth, FISTA with gradient restart otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import DescentlabError
from ..problems.linear import LinearModel
from .base import Method

#: the largest dimension at which L2 linear models get Newton-CG (above: L-BFGS); measured
#: at d = 123, 300 (Newton-CG faster) and 62061 (L-BFGS faster), nothing in between
NEWTON_MAX_DIM = 5_000
#: the largest density nnz / (n d) at which L1 linear models get proximal Newton (above:
#: OWL-QN); measured at 0.13% and 3.9% (prox-newton faster) and 11% (OWL-QN faster)
PROX_NEWTON_MAX_DENSITY = 0.05


def choose(problem) -> Method:
    """The method ``auto`` runs on ``problem`` (unresolved; see the module docstring)."""
    from . import get_method

    if isinstance(problem, LinearModel):
        view = problem.linear_view()
        if view.lam1 > 0:
            density = view.data.size / (view.n * view.d)
            return get_method("prox-newton" if density < PROX_NEWTON_MAX_DENSITY else "owlqn")
        if view.lam2 > 0 and view.d <= NEWTON_MAX_DIM:
            return get_method("newton-cg")
        return get_method("lbfgs")
    if problem.nonsmooth:
        return get_method("fista", restart="gradient")
    return get_method("lbfgs")


@dataclass(frozen=True, kw_only=True)
class Auto(Method):
    """Stands for the method ``choose(problem)`` picks; ``resolve`` returns that method."""

    name: ClassVar[str] = "auto"
    step_param: ClassVar[str] = ""
    handles_prox: ClassVar[bool] = True

    def resolve(self, problem) -> Method:
        return choose(problem).resolve(problem)

    def init(self, problem, x0, rng):
        raise DescentlabError("auto: resolve it on a problem first (run and the estimators do)")

    def advance(self, problem, state, rng, calls):
        raise DescentlabError("auto: resolve it on a problem first (run and the estimators do)")


__all__ = ["NEWTON_MAX_DIM", "PROX_NEWTON_MAX_DENSITY", "Auto", "choose"]
