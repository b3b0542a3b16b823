"""``method="auto"``: the fastest method for the problem's shape, penalty and conditioning.

``Auto().resolve(problem)`` returns the chosen method, resolved (``run`` then runs it, and the
Trace names it). The rule comes from ``benchmarks/peers.py`` (time to relative suboptimality
1e-4 and 1e-8, descentlab's methods side by side with scikit-learn, skglm, celer, cyanure and
snapml; the table is in ``benchmarks/results/``):

* linear models (least squares, logistic) with an L2 penalty: truncated Newton
  ``newton-cg`` when d <= ``NEWTON_MAX_DIM`` (each Hessian-vector product is one pass over
  the data, and CG preconditioned by the Hessian's diagonal needs few of them on a9a, w8a:
  0.3-0.75x scikit-learn's best), else ``lbfgs`` (news20, d = 1.35M: CG needs many passes
  there, L-BFGS's memory does not);
* without a penalty: ``lbfgs``. Its iterates from x0 = 0 stay in the row space of X, so when
  the minimizers form a continuum (rank-deficient X) it ends at the minimum-norm one, as
  scikit-learn's solvers do; the diagonal preconditioner of Newton-CG leaves that space;
* linear models with an L1 term (l1, elastic net): ``owlqn`` (a9a, w8a: within ~1.2x of the
  best peer, where coordinate descent is 10x behind on a9a's one-hot columns), except on
  very sparse high-dimensional data (d > ``PROX_NEWTON_MIN_DIM``), where the solution is
  sparse and ``prox-newton``'s working sets only touch its support;
* any other problem: ``lbfgs`` when smooth, FISTA with gradient restart otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import DescentlabError
from ..problems.linear import LinearModel
from .base import Method

#: the largest dimension at which smooth linear models get Newton-CG (above: L-BFGS)
NEWTON_MAX_DIM = 100_000
#: the dimension above which L1 problems get proximal Newton (below: OWL-QN)
PROX_NEWTON_MIN_DIM = 100_000


def choose(problem) -> Method:
    """The method ``auto`` runs on ``problem`` (unresolved; see the module docstring)."""
    from . import get_method

    if isinstance(problem, LinearModel):
        view = problem.linear_view()
        if view.lam1 > 0:
            return get_method("prox-newton" if view.d > PROX_NEWTON_MIN_DIM else "owlqn")
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


__all__ = ["NEWTON_MAX_DIM", "PROX_NEWTON_MIN_DIM", "Auto", "choose"]
