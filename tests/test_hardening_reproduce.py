"""Issue 13, the reproduce path: every setting checked before any task, one experiment per
OUT, OUT writable before the sweep, user text escaped, a bad Dask address fails fast."""

from __future__ import annotations

import dataclasses
import json
import math
import socket
import threading
import typing
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sweep_experiments import COUNTER_ENV, SleepyExperiment, registered

from descentlab import experiments as experiments_module
from descentlab.cli import main
from descentlab.errors import DescentlabError
from descentlab.executors import DaskExecutor
from descentlab.experiments import (
    EXPERIMENTS,
    Claim,
    experiment_names,
    get_experiment,
    reproduce,
)
from descentlab.experiments.base import SEED, SEEDS
from descentlab.experiments.outdir import experiments_in, make_writable
from descentlab.sweep import META_KEY, canonical_json

NAMES = experiment_names()

#: (experiment, field, value): a value of the generated bad ones that is legitimately valid
ALLOWED = {
    ("icm-fig6", "margin_widths", ()): "no margin widths leaves the margins out",
    ("icm-fig6", "margin_seeds", 0): "no margin seeds leaves the margins out",
    ("langevin", "weight_decay", 0.0): "no weight decay (used with confinement=fixed)",
    ("langevin", "burn_time", 0.0): "the rate fit may start at t = 0",
    ("pl-example", "x0s", (-1.0,)): "a starting point may be negative",
    ("rates", "pl_x0", -1.0): "a starting point may be negative",
    ("semilocal-pl", "y_star", (-1.0,)): "a target vector may have negative entries",
    ("weakly-correlated", "dims_n", (10**12,)): "d is free: the flow runs in the span of "
                                                "the n inputs (10^12 is the bound itself)",
    ("weakly-correlated", "dim_m", 10**12): "same",
    ("weakly-correlated", "ns", ()): "no ns keeps the published n grids",
}


def _bad_values(hint) -> list:
    """Clearly bad values of a field's type: negative, zero, huge, NaN, empty, unknown."""
    if hint is bool:
        return ["maybe"]
    if hint is int:
        return [-1, 0, 10**12]
    if hint is float:
        return [-1.0, 0.0, math.nan, math.inf]
    if hint is str:
        return ["nosuch"]
    if typing.get_origin(hint) is tuple:
        return [()] + [(v,) for v in _bad_values(typing.get_args(hint)[0])]
    raise AssertionError(f"no bad values for {hint}")


def _is_seed_zero(exp, field: str, value) -> bool:
    return exp.limits.get(field) in (SEED, SEEDS) and value in (0, (0,))


def _text(result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


# ------------------------------------------------------------------ the settings (6)
@pytest.mark.parametrize("name", NAMES)
def test_every_setting_refuses_a_clearly_bad_value(name):
    exp = get_experiment(name)
    hints = typing.get_type_hints(exp.Config)
    accepted = []
    for f in dataclasses.fields(exp.Config):
        for value in _bad_values(hints[f.name]):
            try:
                exp.config("quick", **{f.name: value})
            except DescentlabError as err:
                assert str(err).startswith(f"{f.name}: expected "), str(err)
                continue
            if (name, f.name, value) not in ALLOWED and not _is_seed_zero(exp, f.name, value):
                accepted.append((f.name, value))
    assert not accepted, f"{name} accepts {accepted}"


@pytest.mark.parametrize("name", NAMES)
def test_presets_validate_unchanged_and_every_field_has_a_rule(name):
    exp = get_experiment(name)
    fields = {f.name for f in dataclasses.fields(exp.Config)}
    assert set(exp.limits) == fields
    for preset, config in exp.presets.items():
        checked = exp.config(preset)
        assert checked == config, preset
        # same types too: the task keys (and so the cached task files) do not change
        assert canonical_json(exp.tasks(checked)) == canonical_json(exp.tasks(config))


def test_the_issue_settings_are_refused_before_any_task(tmp_path):
    runner = CliRunner()
    cases = [("kappas=", "kappas: expected a non-empty list"),
             ("methods=nosuch", "methods: expected a non-empty list"),
             ("seeds=-1", "seeds: expected a non-empty list"),
             ("floor=-1", "floor: expected a finite number in (0, 1e-06]"),
             ("kappas=10 100", "got '10 100'"),
             ("dim=1e12", "dim: expected an integer in [2, 4096], got 1000000000000"),
             ("dim=[/]", "got '[/]'")]  # rich markup in user text is escaped
    for setting, message in cases:
        result = runner.invoke(main, ["reproduce", "quadratic-rates", "--backend", "serial",
                                      "--out", str(tmp_path / "out"), "--set", setting])
        assert result.exit_code == 2, (setting, result.output)
        assert message in _text(result), (setting, result.output)
        assert "Traceback" not in result.output and "MarkupError" not in result.output
    assert not (tmp_path / "out").exists()  # nothing ran, nothing was created


def test_coercion_of_command_line_values():
    exp = get_experiment("quadratic-rates")
    config = exp.config("quick", kappas=" 10, 100 ", dim="1e2", seeds="3", floor="1e-12")
    assert config.kappas == (10.0, 100.0) and config.dim == 100 and config.seeds == (3,)
    assert type(config.dim) is int and config.floor == 1e-12
    assert exp.config("quick", kappas=[10, 20]).kappas == (10.0, 20.0)  # API: lists, ints
    with pytest.raises(DescentlabError, match=r"^dim: expected an integer in \[2, 4096\], "
                                              r"got '2\.5'"):
        exp.config("quick", dim="2.5")
    with registered():
        sleepy = get_experiment("sweep-sleepy")  # no limits: rules from the field types
        with pytest.raises(DescentlabError, match="^fail: expected true or false, got 'maybe'"):
            sleepy.config("quick", fail="maybe")
        with pytest.raises(DescentlabError, match="^widths: expected a non-empty list"):
            sleepy.config("quick", widths="")
        assert sleepy.config("quick", fail="yes").fail is True


def test_cross_field_constraints_name_the_setting():
    cases = [("pl-example", {"grid_points": 10}, "^grid_points: expected an odd number"),
             ("complexity", {"eps": 1e-2}, "^eps: expected a level below eps_loose"),
             ("complexity", {"n_sweep_ns": "256,500"}, "^n_sweep_ns: expected powers of two"),
             ("diagonal-nets", {"n": 200}, "^n: expected fewer samples than d"),
             ("lazy", {"m": 101}, "^m: expected an even width"),
             ("lazy", {"fit_alpha_min": 50}, "^fit_alpha_min: expected at least 3"),
             ("lazy", {"T": 1e4}, "^steps: expected at least 18652 Euler steps"),
             ("langevin", {"tau_min": 1.0}, "^tau_min: expected a temperature below"),
             ("langevin", {"steps": 40}, "^steps: expected at least 8 records"),
             ("semilocal-pl", {"y_star": "0,0"}, "^y_star: expected a non-zero target"),
             ("weakly-correlated", {"low_n": 300}, "^low_n: expected a value below high_n"),
             ("weakly-correlated", {"reps": 10**4}, "^ns_t: expected repetitions x n"),
             ("icm-fig5", {"grid": 1001}, "^width: expected width x max"),
             ("icm-fig6", {"seeds_per_task": 1000, "seeds": 1000, "width": 10_000},
              "^seeds_per_task: expected"),
             ("rates", {"fit_t_min": 1000}, "^fit_t_min: expected at most 1/100")]
    for name, overrides, message in cases:
        with pytest.raises(DescentlabError, match=message):
            get_experiment(name).config("quick", **overrides)


def test_complexity_without_a9a_does_not_need_the_dataset_and_skips_empty_curves():
    exp = get_experiment("complexity")
    config = exp.config("quick", a9a="no", methods="katyusha")
    tasks = exp.tasks(config)
    assert all(t["part"] == "synthetic" for t in tasks)  # no empty "curves" task


# ----------------------------------------------------------- one experiment per OUT (5)
class OtherSleepy(SleepyExperiment):
    name = "sweep-sleepy-other"
    title = "Another sleepy test sweep"


@pytest.fixture
def two_sleepy(monkeypatch):
    """Both test experiments registered; 'all' means these two."""
    with registered():
        EXPERIMENTS[OtherSleepy.name] = OtherSleepy
        monkeypatch.setattr(experiments_module, "experiment_names",
                            lambda: ["sweep-sleepy", OtherSleepy.name])
        try:
            yield
        finally:
            EXPERIMENTS.pop(OtherSleepy.name, None)


def _run(*args, env=None):
    return CliRunner().invoke(main, ["reproduce", *args, "--backend", "serial", "--quiet"],
                              env=env)


def _task_experiments(out: Path) -> set[str]:
    return {json.loads(pq.read_schema(p).metadata[META_KEY])["experiment"]
            for p in (out / "tasks").glob("*.parquet")}


def test_a_second_experiment_is_refused_in_the_same_out(tmp_path, two_sleepy):
    out = tmp_path / "out"
    assert _run("sweep-sleepy", "--out", str(out)).exit_code == 0
    before = sorted(p.name for p in out.rglob("*"))
    result = _run(OtherSleepy.name, "--out", str(out))
    assert result.exit_code == 2
    text = _text(result)
    assert "--out:" in text and "holds the results of sweep-sleepy" in text
    assert "--force" in text
    assert sorted(p.name for p in out.rglob("*")) == before  # nothing written
    # a sweep killed before checks.json: the task files still name their experiment
    (out / "checks.json").unlink()
    assert experiments_in(out) == {"sweep-sleepy"}
    assert _run(OtherSleepy.name, "--out", str(out)).exit_code == 2
    with pytest.raises(DescentlabError, match="^out: .* add force=True"):
        reproduce(OtherSleepy.name, out=out)
    # the same experiment resumes
    again = _run("sweep-sleepy", "--out", str(out))
    assert again.exit_code == 0 and "6 finished already, 0 to run" in again.stderr


def test_force_replaces_the_other_experiment_and_its_stale_files(tmp_path, two_sleepy):
    out = tmp_path / "out"
    assert _run("sweep-sleepy", "--out", str(out)).exit_code == 0
    (out / "notes.txt").write_text("mine")
    assert (out / "sweep-sleepy-values.png").is_file()
    result = _run(OtherSleepy.name, "--out", str(out), "--force")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "checks.json").read_text())["experiment"] == OtherSleepy.name
    assert not (out / "sweep-sleepy-values.png").exists()  # no stale figure left
    assert (out / "sweep-sleepy-other-values.png").is_file()
    assert _task_experiments(out) == {OtherSleepy.name}
    assert pq.read_table(out / "results.parquet").column("prov_experiment").unique() \
        .to_pylist() == [OtherSleepy.name]
    assert (out / "notes.txt").read_text() == "mine"  # files not ours are kept


def test_all_writes_subdirectories_and_refuses_mixed_layouts(tmp_path, two_sleepy):
    top = tmp_path / "top"
    first = _run("all", "--out", str(top))
    assert first.exit_code == 0, first.output
    assert experiments_in(top / "sweep-sleepy") == {"sweep-sleepy"}
    assert experiments_in(top / OtherSleepy.name) == {OtherSleepy.name}
    again = _run("all", "--out", str(top))
    assert again.exit_code == 0 and again.stderr.count("6 finished already, 0 to run") == 2
    # one experiment into the directory of 'all', or 'all' into one experiment's OUT
    mixed = _run("sweep-sleepy", "--out", str(top), "--force")
    assert mixed.exit_code == 2 and "layout of 'reproduce all'" in _text(mixed)
    single = tmp_path / "single"
    assert _run("sweep-sleepy", "--out", str(single)).exit_code == 0
    refused = _run("all", "--out", str(single))
    assert refused.exit_code == 2 and "holds the results of sweep-sleepy" in _text(refused)
    assert sorted(p.name for p in single.iterdir() if p.is_dir()) == ["tasks"]


# ---------------------------------------------------------------- writable OUT (8)
def test_an_out_below_a_file_fails_before_any_task(tmp_path, two_sleepy):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    counter = tmp_path / "counter"
    env = {COUNTER_ENV: str(counter)}
    for name in ("sweep-sleepy", "all"):
        result = _run(name, "--out", str(blocker / "sub"), env=env)
        assert result.exit_code == 2, result.output
        text = _text(result)
        assert text.startswith("error: --out: cannot write into") and "Traceback" not in text
        assert "a file is in the way" in text
    assert not counter.exists()  # no task ran
    with pytest.raises(DescentlabError, match="^out: cannot write into"):
        reproduce("sweep-sleepy", out=blocker / "sub")


def test_an_unwritable_out_fails_before_any_task(tmp_path, two_sleepy, monkeypatch):
    """A directory that refuses writes (simulated: root, as in CI, writes through chmod 555)."""
    import tempfile

    from descentlab.experiments import outdir

    locked = tmp_path / "locked"
    real = tempfile.NamedTemporaryFile

    def refusing(*args, dir=None, **kwargs):
        if dir is not None and Path(dir).is_relative_to(locked):
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(outdir.tempfile, "NamedTemporaryFile", refusing)
    for out in (locked / "sub", locked):
        result = _run("sweep-sleepy", "--out", str(out))
        assert result.exit_code == 2, result.output
        assert "--out: cannot write into" in _text(result) and "Permission denied" in _text(result)


def test_out_and_its_tasks_directory_exist_before_the_first_task(tmp_path, two_sleepy,
                                                                  monkeypatch):
    seen = []

    def spy(self, task):
        seen.append((tmp_path / "out" / "tasks").is_dir())
        raise RuntimeError("stop")

    monkeypatch.setattr(SleepyExperiment, "run_task", spy)
    with pytest.raises(RuntimeError, match="stop"):
        reproduce("sweep-sleepy", out=tmp_path / "out")
    assert seen == [True]
    assert make_writable(tmp_path / "w") == tmp_path / "w"
    assert sorted(p.name for p in (tmp_path / "w").rglob("*")) == ["tasks"]  # no leftovers
    (tmp_path / "w" / "checks.json").mkdir()  # would fail only at the end of the run
    with pytest.raises(DescentlabError, match="checks.json' exists and cannot be replaced"):
        make_writable(tmp_path / "w", arg="--out")


# ------------------------------------------------------------- other hostile inputs
def test_claims_and_paths_are_printed_as_text_not_markup(tmp_path, two_sleepy, monkeypatch):
    def check(self, results, config):
        return [Claim("[/] name", "[red]expected", "[bold]measured[/bold]", True)]

    monkeypatch.setattr(SleepyExperiment, "check", check)
    monkeypatch.chdir(tmp_path)
    result = _run("sweep-sleepy", "--out", "[red]out")
    assert result.exit_code == 0, result.output
    for text in ("[/] name", "[red]expected", "[bold]measured[/bold]", "wrote [red]out/"):
        assert text in result.output, text
    assert (tmp_path / "[red]out" / "checks.json").is_file()


@pytest.mark.parametrize("args, message", [
    (["--jobs", "0"], "jobs: expected a positive number"),
    (["--jobs", "-1"], "jobs: expected a positive number"),
    (["--preset", "[/]"], "got '[/]'"),
    (["--out", ""], "--out: expected a directory path, got ''"),
])
def test_bad_options_exit_2_before_anything(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["reproduce", "quadratic-rates", "--out", "out", *args])
    assert result.exit_code == 2 and message in _text(result), result.output
    assert list(tmp_path.iterdir()) == []


def test_a_server_that_is_not_a_dask_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer_garbage():  # like an HTTP server: bytes that are no Dask frame
        with server:
            for _ in range(20):
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                with conn:
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4)

    threading.Thread(target=answer_garbage, daemon=True).start()
    monkeypatch.setattr(DaskExecutor, "connect_timeout", 5.0)
    try:
        result = CliRunner().invoke(main, ["reproduce", "quadratic-rates", "--backend", "dask",
                                           "--address", f"tcp://127.0.0.1:{port}", "--out",
                                           str(tmp_path / "out")])
    finally:
        server.close()
    assert result.exit_code == 2, result.output
    assert "address: no Dask scheduler answers at" in _text(result)
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # failed before creating anything
