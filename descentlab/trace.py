"""The Trace: one row per recording point of a run, plus metadata; Parquet on disk.

Columns (DESIGN.md): iteration, oracle_calls, epochs, time_s, value, subopt (F - F*),
rel_subopt ((F - F*) / max(|F*|, 1e-12)), grad_norm (norm of the gradient mapping, i.e.
||grad F|| for smooth problems), dist_to_init (||x - x0||), dist_to_opt (||x - x*||, NaN
when x* is unknown or not unique), plus ``grad_inf`` / ``gap`` and ``rel_gap`` (duality gap)
when the run stops on them, plus any problem-specific metrics.

Metadata (``meta``) of a ``run``: problem, method (with its resolved hyperparameters), seed,
f_star, budget_calls, tol, grad_tol, gap_tol, time_limit, environment, ``stop_reason``
("budget", "tol" (also for grad_tol and gap_tol), "time_limit"; "diverged" in the Trace of
a ``DivergenceError``) and ``no_progress``: None
for a run that lowered F, else "ended_above_start" (the final F is above F(x0)) or
"no_decrease" (F never went below F(x0)), beyond rounding; the rule is
``descentlab.run.progress_flag``. The estimators' Traces carry the same flag.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import DescentlabError

COLUMNS = ("iteration", "oracle_calls", "epochs", "time_s", "value", "subopt", "rel_subopt",
           "grad_norm", "dist_to_init", "dist_to_opt")
_META_KEY = b"descentlab.trace"


@dataclass
class Trace:
    """Records of one run: ``df`` (pandas) and ``meta`` (plain JSON-able data)."""

    df: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    #: the final point of the run (not written to Parquet)
    x: np.ndarray | None = field(default=None, repr=False)

    def final(self, column: str = "value"):
        """The last recorded value of ``column``."""
        if column not in self.df.columns:
            raise DescentlabError(f"column: expected one of {', '.join(self.df.columns)}, "
                                  f"got {column!r}")
        return self.df[column].iloc[-1].item()

    def first_reaching(self, column: str, threshold: float, by: str = "oracle_calls"):
        """The value of ``by`` at the first record where ``column <= threshold`` (NaN if never)."""
        hit = self.df.loc[self.df[column] <= threshold, by]
        return hit.iloc[0].item() if len(hit) else float("nan")

    @property
    def stop_reason(self) -> str | None:
        return self.meta.get("stop_reason")

    @property
    def no_progress(self) -> str | None:
        """None, or why the run made no progress: "ended_above_start" or "no_decrease"."""
        return self.meta.get("no_progress")

    def to_parquet(self, path) -> Path:
        """Write the records with the metadata in the Parquet schema; returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(self.df, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[_META_KEY] = json.dumps(self.meta, default=_jsonable).encode()
        pq.write_table(table.replace_schema_metadata(meta), path)
        return path

    @classmethod
    def read_parquet(cls, path) -> Trace:
        """Read a Trace written by :meth:`to_parquet`."""
        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(_META_KEY)
        if raw is None:
            raise DescentlabError(f"path: {path} is a Parquet file but not a descentlab Trace")
        return cls(table.to_pandas(), json.loads(raw))

    def __repr__(self) -> str:
        m = self.meta
        return (f"Trace({m.get('method', {}).get('name', '?')} on "
                f"{m.get('problem', {}).get('problem', '?')}, {len(self.df)} records, "
                f"stop={m.get('stop_reason')}"
                + (f", no_progress={m['no_progress']}" if m.get("no_progress") else "") + ")")


def _jsonable(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return repr(obj)
