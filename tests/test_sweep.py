"""Sweeps: task keys, one file per task, resume after SIGKILL, corrupt files, executors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sweep_experiments import (
    COUNTER_ENV,
    HOLD_ENV,
    SleepyConfig,
    SleepyExperiment,
    registered,
)

from descentlab.cli import main
from descentlab.errors import DescentlabError
from descentlab.executors import DaskExecutor, JoblibExecutor, SerialExecutor, make_executor
from descentlab.experiments import get_experiment, reproduce
from descentlab.store import result_columns
from descentlab.sweep import TaskFileWarning, TaskStore, run_sweep, task_key

TESTS = Path(__file__).resolve().parent
DESCENTLAB = Path(sys.executable).with_name("descentlab")


@pytest.fixture
def sleepy():
    with registered():
        yield SleepyExperiment()


def _group_members(pgid: int) -> list[int]:
    """Live processes of a process group (Linux /proc), zombies excluded."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _files(out: Path) -> dict[str, tuple[int, int, int]]:
    """(inode, mtime in ns, size) of every task file: what changes when a file is rewritten
    (not the access time, which reading a file may update)."""
    files = {}
    for p in (out / "tasks").glob("*.parquet"):
        st = p.stat()
        files[p.name] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return files


# ------------------------------------------------------------------------ keys
def test_task_key_is_the_sha256_of_canonical_json():
    k = task_key("exp", "1", {"a": 1, "b": [1.5, "x"], "seed": 0})
    assert len(k) == 64 and int(k, 16) >= 0
    assert k == task_key("exp", "1", {"seed": 0, "b": (1.5, "x"), "a": 1})  # order, tuple
    assert k != task_key("exp", "2", {"a": 1, "b": [1.5, "x"], "seed": 0})  # code version
    assert k != task_key("other", "1", {"a": 1, "b": [1.5, "x"], "seed": 0})
    assert k != task_key("exp", "1", {"a": 1, "b": [1.5, "x"], "seed": 1})
    with pytest.raises(DescentlabError, match="task"):
        task_key("exp", "1", {"a": object()})


# ------------------------------------------------------------- store and resume
def test_each_task_is_stored_once_and_finished_tasks_are_skipped(tmp_path, sleepy):
    tasks = sleepy.tasks(SleepyConfig())
    first = run_sweep(sleepy, tasks, tmp_path, SerialExecutor())
    assert (first.computed, first.cached) == (len(tasks), 0)
    files = _files(tmp_path)
    assert sorted(files) == sorted(f"{task_key(sleepy.name, '1', t)}.parquet" for t in tasks)
    assert not list((tmp_path / "tasks").glob(".*"))  # no temporary file left

    again = run_sweep(sleepy, tasks, tmp_path, SerialExecutor())
    assert (again.computed, again.cached) == (0, len(tasks))
    assert _files(tmp_path) == files  # untouched
    pd.testing.assert_frame_equal(again.frame(), first.frame(), check_exact=True)

    forced = run_sweep(sleepy, tasks, tmp_path, SerialExecutor(), force=True)
    assert (forced.computed, forced.cached) == (len(tasks), 0)
    pd.testing.assert_frame_equal(forced.frame(), first.frame(), check_exact=True)


def test_task_files_carry_the_task_and_its_provenance(tmp_path, sleepy):
    task = sleepy.tasks(SleepyConfig())[0]
    run_sweep(sleepy, [task], tmp_path)
    table, meta = TaskStore(tmp_path).load(task_key(sleepy.name, "1", task))
    assert meta["task"] == task and meta["experiment"] == "sweep-sleepy"
    prov = meta["provenance"]
    assert prov["wall_s"] > 0 and prov["descentlab"] and prov["python"] and prov["machine"]
    assert "numpy" in prov["libraries"] and "git_commit" in prov
    assert table.column_names == ["width", "seed", "i", "value", "label"]


def test_a_corrupt_task_file_is_recomputed_with_a_warning(tmp_path, sleepy):
    tasks = sleepy.tasks(SleepyConfig())
    first = run_sweep(sleepy, tasks, tmp_path)
    store = TaskStore(tmp_path)
    truncated, garbage, foreign = (store.path(task_key(sleepy.name, "1", t)) for t in tasks[:3])
    truncated.write_bytes(truncated.read_bytes()[:-40])
    garbage.write_bytes(b"not a parquet file")
    foreign.write_bytes(store.path(task_key(sleepy.name, "1", tasks[3])).read_bytes())
    with pytest.warns(TaskFileWarning, match="corrupt") as caught:
        again = run_sweep(sleepy, tasks, tmp_path)
    assert len(caught) == 3 and {str(truncated), str(garbage)} <= \
        {str(w.message).split(" task file ")[1].split(" is corrupt")[0] for w in caught}
    assert (again.computed, again.cached, again.corrupt) == (3, len(tasks) - 3, 3)
    pd.testing.assert_frame_equal(again.frame(), first.frame(), check_exact=True)
    for t in tasks:  # the files are whole again
        store.load(task_key(sleepy.name, "1", t))


def test_stale_temporary_files_are_removed(tmp_path, sleepy):
    (tmp_path / "tasks").mkdir()
    stale = tmp_path / "tasks" / ".abc.999999999.tmp"  # pid that cannot exist
    stale.write_bytes(b"partial")
    run_sweep(sleepy, sleepy.tasks(SleepyConfig(widths=(1,))), tmp_path)
    assert not stale.exists()


#: Makes the second loky worker of a process start SLOW_BOOT seconds late (a sitecustomize
#: module on PYTHONPATH): the state of a busy machine, where a worker can still be starting
#: when the other one has stored the first tasks.
SLOW_BOOT = 2.0
SLOW_SECOND_WORKER = f"""import sys, time
if any("LokyProcess-2" in arg for arg in sys.argv):
    time.sleep({SLOW_BOOT})
"""
#: ceiling on each wait for an event below; never reached unless something is broken
WAIT_CEILING = 120.0


def _wait_until(condition, failure: str, proc=None) -> None:
    """Poll ``condition()`` until true; fail with ``failure`` after WAIT_CEILING s (or at
    once if ``proc`` ends)."""
    deadline = time.monotonic() + WAIT_CEILING
    while not condition():
        if proc is not None:
            assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, f"{failure} (waited {WAIT_CEILING:g} s)"
        time.sleep(0.02)


def test_sweep_killed_with_sigkill_resumes_without_recomputing(tmp_path):
    """Kill `descentlab reproduce` once its first tasks are stored, rerun the command.

    In the killed run the tasks of width > 1 never finish (``HOLD_ENV``), so the sweep is
    mid-way whenever the kill lands, and the second worker starts late, so the kill finds it
    still starting (issue 13: such a worker used to miss the parent watch and live on for
    loky's 300 s idle timeout)."""
    out, counter = tmp_path / "out", tmp_path / "counter.txt"
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(SLOW_SECOND_WORKER)
    n_tasks = 8 * 2
    cmd = [str(DESCENTLAB), "reproduce", "sweep-sleepy", "--out", str(out), "--jobs", "2",
           "--set", "widths=1,2,3,4,5,6,7,8"]
    env = {**os.environ, "DESCENTLAB_PLUGINS": "sweep_plugin", COUNTER_ENV: str(counter),
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    held_env = {**env, HOLD_ENV: "1",
                "PYTHONPATH": os.pathsep.join([str(slow), env["PYTHONPATH"]])}
    proc = subprocess.Popen(cmd, env=held_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait_until(lambda: len(_files(out)) >= 2, "the two width-1 tasks were not stored",
                    proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=WAIT_CEILING)
        # the loky workers (and their resource trackers) notice and exit
        _wait_until(lambda: not _group_members(proc.pid),
                    "workers outlived the killed sweep")
    finally:
        try:  # the orphaned loky workers (same session as the killed sweep)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == -signal.SIGKILL
    before = _files(out)
    assert len(before) == 2 and not (out / "results.parquet").exists()
    assert sorted(counter.read_text().splitlines()) == ["1 0", "1 1"]

    # the same sweep, in-process this time (the store, not the executor, decides what runs)
    rerun_cmd = [c for c in cmd if c not in ("--jobs", "2")] + ["--backend", "serial"]
    rerun = subprocess.run(rerun_cmd + ["--quiet"], env=env, capture_output=True, text=True,
                           timeout=600)
    assert rerun.returncode == 0, rerun.stderr + rerun.stdout
    assert f"{n_tasks} tasks: 2 finished already" in rerun.stderr
    after = _files(out)
    assert len(after) == n_tasks
    for name, stamp in before.items():  # finished tasks were not rewritten
        assert after[name] == stamp
    results = pd.read_parquet(out / "results.parquet")
    per_point = results.groupby(["width", "seed"])["prov_task_key"].nunique()
    assert len(per_point) == n_tasks and (per_point == 1).all()
    assert results["prov_task_key"].nunique() == n_tasks
    assert len(results) == 5 * n_tasks
    # every task ran exactly once: the stored ones were not recomputed
    runs = pd.Series(counter.read_text().splitlines()).value_counts()
    assert len(runs) == n_tasks and (runs == 1).all()
    for name in before:
        task = json.loads(pq.read_schema(out / "tasks" / name).metadata[b"descentlab.task"])
        assert task["task"]["width"] == 1


# ------------------------------------------------------------------ executors
@pytest.fixture(scope="module")
def serial_quadratic(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    return out, reproduce("quadratic-rates", "quick", out=out, executor=SerialExecutor())


def _assert_same_results(out_a: Path, rep_a, out_b: Path, rep_b) -> None:
    """Bit-identical result columns, in results.parquet and in every task file."""
    pd.testing.assert_frame_equal(rep_a.results, rep_b.results, check_exact=True)
    a, b = (pd.read_parquet(o / "results.parquet") for o in (out_a, out_b))
    cols = result_columns(a)
    assert cols == result_columns(b) == list(rep_a.results.columns)
    pd.testing.assert_frame_equal(a[cols], b[cols], check_exact=True)
    assert a["prov_task_key"].tolist() == b["prov_task_key"].tolist()
    files = sorted(p.name for p in (out_a / "tasks").glob("*.parquet"))
    assert files == sorted(p.name for p in (out_b / "tasks").glob("*.parquet"))
    for name in files:
        ta, tb = (pq.read_table(o / "tasks" / name) for o in (out_a, out_b))
        assert ta.equals(tb)  # data and schema (the metadata holds the provenance)


def test_dask_own_cluster_and_address_give_the_serial_results(tmp_path, serial_quadratic,
                                                              sleepy):
    """One LocalCluster (starting one costs seconds): the executor starts and stops its
    own, and a second executor connects to it by address."""
    pytest.importorskip("distributed")
    out_serial, rep_serial = serial_quadratic
    tasks = sleepy.tasks(SleepyConfig(widths=(1, 2)))
    with DaskExecutor(n_workers=2) as own:
        got = run_sweep(sleepy, tasks, None, own)
        cluster = own._cluster
        assert len(cluster.workers) == 2 and cluster.scheduler_address.startswith("tcp://")
        worker_pids = {w.pid for w in cluster.workers.values()}
        with DaskExecutor(address=cluster.scheduler_address) as executor:
            rep = reproduce("quadratic-rates", "quick", out=tmp_path, executor=executor)
    assert own._cluster is None
    pd.testing.assert_frame_equal(got.frame(), run_sweep(sleepy, tasks).frame(),
                                  check_exact=True)
    _assert_same_results(out_serial, rep_serial, tmp_path, rep)
    pids = {r.provenance["pid"] for r in rep.sweep.results}
    assert pids <= worker_pids and os.getpid() not in pids
    assert rep.sweep.computed == len(rep.sweep.results) == 9


def test_joblib_gives_the_serial_results(tmp_path, serial_quadratic):
    out_serial, rep_serial = serial_quadratic
    rep = reproduce("quadratic-rates", "quick", out=tmp_path, executor=JoblibExecutor(2))
    _assert_same_results(out_serial, rep_serial, tmp_path, rep)
    assert os.getpid() not in {r.provenance["pid"] for r in rep.sweep.results}


def test_dask_address_errors_are_clear(monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(DaskExecutor, "connect_timeout", 0.5)
    with pytest.raises(DescentlabError, match="expected tcp://HOST:PORT"):
        DaskExecutor("localhost")  # no port
    with pytest.raises(DescentlabError, match="cannot connect"):
        _ = DaskExecutor("tcp://127.0.0.1:1").client
    result = CliRunner().invoke(main, ["reproduce", "quadratic-rates", "--backend", "dask",
                                       "--address", "nonsense://x"])
    assert result.exit_code == 2 and "address" in result.output


def test_make_executor_validates_its_arguments():
    assert isinstance(make_executor(), JoblibExecutor)
    assert isinstance(make_executor("serial"), SerialExecutor)
    assert make_executor("local", jobs=3).n_jobs == 3
    with pytest.raises(DescentlabError, match="backend"):
        make_executor("spark")
    with pytest.raises(DescentlabError, match="jobs"):
        make_executor("local", jobs=0)
    with pytest.raises(DescentlabError, match="address"):
        make_executor("local", address="tcp://127.0.0.1:8786")


def test_a_failing_task_names_its_parameters(tmp_path, sleepy, monkeypatch):
    def boom(task):
        raise RuntimeError("diverged")

    monkeypatch.setattr(sleepy, "run_task", boom)
    with pytest.raises(RuntimeError, match="diverged") as info:
        run_sweep(sleepy, sleepy.tasks(SleepyConfig()), tmp_path)
    assert any('"width":1' in note for note in info.value.__notes__)


# ------------------------------------------------------------------------ CLI
def test_cli_bad_input_exits_2_with_a_clear_message(tmp_path):
    runner = CliRunner()
    cases = [
        (["--set", "nosuchkey=1"], "nosuchkey"),
        (["--set", "dim=abc"], "dim"),
        (["--set", "dim"], "KEY=VALUE"),
        (["--jobs", "0"], "jobs"),
        (["--backend", "serial", "--address", "tcp://127.0.0.1:1"], "address"),
        (["--backend", "spark"], "backend"),
        (["--preset", "huge"], "preset"),
    ]
    for args, word in cases:
        result = runner.invoke(main, ["reproduce", "quadratic-rates", "--out",
                                      str(tmp_path / "x"), *args])
        assert result.exit_code == 2, (args, result.output)
        assert word in result.output, (args, result.output)
        assert "Traceback" not in result.output
    unknown = runner.invoke(main, ["reproduce", "no-such-experiment"])
    assert unknown.exit_code == 2
    assert "unknown experiment 'no-such-experiment'" in unknown.output
    assert "quadratic-rates" in unknown.output  # the known ones are listed
    assert not (tmp_path / "x").exists()  # nothing ran


def test_cli_unknown_experiment_in_a_subprocess_exits_2():
    done = subprocess.run([str(DESCENTLAB), "reproduce", "nope", "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 2
    assert "error:" in done.stderr and "unknown experiment 'nope'" in done.stderr


def test_cli_plugin_that_cannot_be_imported_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DESCENTLAB_PLUGINS", "no_such_plugin_module")
    result = CliRunner().invoke(main, ["reproduce", "quadratic-rates"])
    assert result.exit_code == 2
    assert "DESCENTLAB_PLUGINS" in result.output and "no_such_plugin_module" in result.output


def test_cli_progress_lines_resume_force_and_exit_code_3(tmp_path, sleepy):
    runner = CliRunner()
    args = ["reproduce", "sweep-sleepy", "--out", str(tmp_path), "--backend", "serial"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "[sweep-sleepy] 6 tasks: 0 finished already, 6 to run on serial" in first.stderr
    assert "[sweep-sleepy] 6/6 tasks done, elapsed" in first.stderr  # plain lines, no TTY
    quiet = runner.invoke(main, args + ["--quiet"])
    assert quiet.exit_code == 0
    assert quiet.stderr.count("[sweep-sleepy]") == 2
    assert "6 finished already, 0 to run" in quiet.stderr
    forced = runner.invoke(main, args + ["--quiet", "--force"])
    assert "0 finished already, 6 to run" in forced.stderr
    failing = runner.invoke(main, args + ["--quiet", "--set", "fail=true"])
    assert failing.exit_code == 3 and "FAIL" in failing.output
    assert "6 finished already" in failing.stderr  # `fail` is not part of the tasks


def test_reproduce_without_out_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rep = reproduce("quadratic-rates", "quick")
    assert rep.passed and rep.files == [] and list(tmp_path.iterdir()) == []
    assert get_experiment("quadratic-rates").version == rep.sweep.version
