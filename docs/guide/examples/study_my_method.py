"""A study from Python: a user's method against GD and Nesterov on two quadratics.

The method is defined here (a GD with Polyak's step, which needs F*); the study dict is what a
TOML study file holds. ``descentlab.study`` runs every cell, writes OUT, and returns the rows.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from descentlab.methods import Method, State
from descentlab.studies import parse, run_study


@dataclass(frozen=True, kw_only=True)
class PolyakGD(Method):
    """x+ = x - (F(x) - F*) / ||grad F(x)||^2 grad F(x) (Polyak 1987): n + n calls per step."""

    name: ClassVar[str] = "polyak-gd"
    f_star: float | None = None

    def resolve(self, problem):
        self.check_problem(problem)
        return dataclasses.replace(self, f_star=problem.solution()[1])

    def init(self, problem, x0, rng):
        return State(x=x0)

    def advance(self, problem, state, rng, calls):
        x, k = state.x, 0
        while k * 2 * problem.n < calls or k == 0:
            g = problem.grad(x)
            gg = float(g @ g)
            if gg == 0.0:
                break
            x = x - (problem.value(x) - self.f_star) / gg * g
            k += 1
        return state.after(k, 2 * problem.n * k, x=x)


if __name__ == "__main__":
    # a study worker imports the method by "module:Class": make this file importable
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    spec = {
        "name": "polyak-vs-gd",
        "budget_epochs": 200,
        "seeds": [0],
        "targets": [1e-3, 1e-8],
        "record": "epochs",
        "problems": [{"name": "quadratic", "dim": 50, "kappa": [10.0, 1000.0]}],
        "methods": [{"name": "gd", "step": ["theory", "x1.5"]},
                    {"name": "nesterov"},
                    {"name": "study_my_method:PolyakGD"}],
    }
    with tempfile.TemporaryDirectory() as out:
        res = run_study(parse(spec, folder=here), Path(out) / "study")
        rows = res.results
        print(res.summary.to_string(index=False))
        # one row per record, per cell: 2 problems x (2 GD steps + Nesterov + Polyak) x 1 seed
        cells = rows.groupby(["problem_label", "method_label", "step_label", "seed"]).ngroups
        assert cells == 2 * 4, cells
        # the summary has one line per problem and method, at its best step
        assert len(res.summary) == 2 * 3
        # Polyak's step reaches 1e-8 on kappa = 10, and ends below GD's best step on 1000
        final = rows.groupby(["problem_label", "method_label"])["rel_subopt"].min()
        easy, hard = "quadratic(dim=50, kappa=10)", "quadratic(dim=50, kappa=1000)"
        assert final[easy, "polyak-gd"] < 1e-8, final
        assert final[hard, "polyak-gd"] < final[hard, "gd"], final
        assert (Path(out) / "study" / "summary.csv").is_file()
