"""``descentlab study`` on the command line: resume after SIGKILL, bad input, outputs."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from descentlab.cli import main

HERE = Path(__file__).parent

SLOW = """
name = "slow"
budget_epochs = 8
record = "epochs"
seeds = [0, 1, 2]

[[problems]]
name = "study_plugins:Diagonal"
kappa = [10.0, 20.0]

[[methods]]
name = "study_plugins:SlowGD"
pause = 0.03
"""


def _cli(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "descentlab.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_resume_after_sigkill_computes_only_the_missing_cells(tmp_path):
    (tmp_path / "slow.toml").write_text(SLOW)
    (tmp_path / "study_plugins.py").write_text((HERE / "study_plugins.py").read_text())
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "descentlab.cli", "study", "slow.toml",
                             "--out", str(out), "--backend", "serial", "-q"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None and len(list((out / "tasks").glob("*.parquet"))) < 2:
            time.sleep(0.01)  # poll for two finished cells (no deadline: the process's end)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=600)
    done = {p: p.stat().st_mtime_ns for p in (out / "tasks").glob("*.parquet")}
    assert 2 <= len(done) < 6, "the sweep ended before it was killed"
    again = _cli("study", "slow.toml", "--out", str(out), "--backend", "serial", "-q",
                 cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    counts = re.search(r"6 tasks: (\d+) finished already, (\d+) to run", again.stderr)
    assert counts and int(counts[1]) == len(done) and int(counts[2]) == 6 - len(done)
    assert all(p.stat().st_mtime_ns == t for p, t in done.items())  # not recomputed
    assert len(list((out / "tasks").glob("*.parquet"))) == 6
    assert (out / "summary.csv").is_file() and (out / "results.parquet").is_file()


def test_cli_bad_study_file_exits_2_before_any_work(tmp_path):
    (tmp_path / "bad.toml").write_text(SLOW.replace("budget_epochs", "budget_epoch"))
    result = CliRunner().invoke(main, ["study", str(tmp_path / "bad.toml"), "--out",
                                       str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "budget_epoch: unknown key (did you mean 'budget_epochs'?)" in result.output
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(main, ["study", str(tmp_path / "none.toml")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_cli_study_summary_results_and_all_steps(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    (tmp_path / "s.toml").write_text("""
name = "small"
budget_epochs = 10
targets = [1e-2]
[[problems]]
name = "quadratic"
dim = 10
kappa = 10
[[methods]]
name = "gd"
step = ["theory", "x1.5"]
[[methods]]
name = "nesterov"
""")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["study", str(tmp_path / "s.toml"), "--out", str(out),
                                       "--backend", "serial", "-q", "--all-steps"])
    assert result.exit_code == 0, result.output
    assert "study summary" in result.output and "*" in result.output
    summary = (out / "summary.csv").read_text().splitlines()
    assert len(summary) == 3  # header, gd (best step), nesterov
    result = CliRunner().invoke(main, ["results", str(out), "--sql",
                                       "SELECT count(DISTINCT step_label) AS k FROM results"])
    assert result.exit_code == 0 and re.search(r"^0\s+2$", result.output, re.M)
