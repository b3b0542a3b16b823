"""Issue 13 on `results` and `report`: a query cannot touch the disk, no row or experiment is
counted twice, output errors name their option, bad checks.json and figure paths are clear
errors or refusals, user text is not read as rich markup."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sweep_experiments import registered

from descentlab.cli import main
from descentlab.errors import DescentlabError
from descentlab.experiments import reproduce
from descentlab.report import find_experiments, write_report
from descentlab.store import find_results, query

ROWS = 30  # sweep-sleepy, quick preset: 3 widths x 2 seeds x 5 rows


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """One OUT of sweep-sleepy (results.parquet, checks.json, a PNG figure, tasks/)."""
    out = tmp_path_factory.mktemp("hardening") / "sleepy"
    with registered():
        reproduce("sweep-sleepy", out=out)
    return out


@pytest.fixture
def out(source, tmp_path) -> Path:
    """A private copy of the OUT, which a test may damage."""
    return Path(shutil.copytree(source, tmp_path / "out"))


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def _text(result) -> str:
    """The CLI's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def _count(*paths) -> int:
    return int(query(list(paths), "SELECT count(*) AS n FROM results")["n"].iloc[0])


# ------------------------------------------------------------------ 2. --sql reads no file
def test_an_aggregate_query_still_works(out):
    df = query([out], "SELECT width, count(*) AS n, count(DISTINCT seed) AS seeds "
                      "FROM results GROUP BY width ORDER BY width")
    assert df.to_dict("records") == [{"width": w, "n": 10, "seeds": 2} for w in (1, 2, 3)]
    result = _cli("results", out, "--sql", "SELECT prov_experiment, sum(i) AS s FROM results "
                                           "GROUP BY ALL")
    assert result.exit_code == 0, result.output
    assert "sweep-sleepy" in result.stdout and "60" in result.stdout  # 6 tasks x (0+1+2+3+4)


def test_sql_cannot_read_a_file(out):
    with pytest.raises(DescentlabError, match="--sql: a query reads only the table"):
        query([out], "SELECT * FROM read_csv('/etc/passwd')")
    with pytest.raises(DescentlabError, match="--sql: a query reads only the table"):
        query([out], f"SELECT * FROM read_parquet('{out / 'results.parquet'}')")
    result = _cli("results", out, "--sql", "SELECT * FROM read_text('/etc/passwd')")
    assert result.exit_code == 2 and "root:" not in result.output
    assert "--sql: a query reads only the table 'results', not files" in _text(result)


def test_copy_to_a_file_is_refused_and_writes_nothing(out, tmp_path):
    before = _snapshot(out)
    for target in (tmp_path / "stolen.csv", out / "results.parquet"):
        with pytest.raises(DescentlabError, match="got a statement of type COPY; to write the "
                                                  "rows to a file use --csv or --parquet"):
            query([out], f"COPY (SELECT 1 AS a) TO '{target}'")
    assert not (tmp_path / "stolen.csv").exists()
    result = _cli("results", out, "--sql", f"COPY results TO '{out / 'results.parquet'}'")
    assert result.exit_code == 2 and "--sql: expected one read-only SELECT query" in _text(result)
    assert _snapshot(out) == before


def test_attach_is_refused_and_creates_no_database(out, tmp_path):
    with pytest.raises(DescentlabError, match="got a statement of type ATTACH"):
        query([out], f"ATTACH '{tmp_path / 'x.duckdb'}' AS x")
    assert not (tmp_path / "x.duckdb").exists()


@pytest.mark.parametrize("sql", [
    "INSTALL httpfs", "LOAD httpfs", "SET enable_external_access = true", "PRAGMA version",
    "CALL pragma_version()", "CREATE TABLE t AS SELECT 1", "DROP TABLE results",
    "DELETE FROM results", "EXPORT DATABASE 'exported'", "EXPLAIN ANALYZE SELECT 1",
    "SELECT 1; COPY results TO 'x.csv'", "PIVOT results ON seed USING count(*)"])
def test_statements_that_are_not_one_query_are_refused(out, sql, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where relative paths would land
    before = _snapshot(out)
    with pytest.raises(DescentlabError, match="--sql: expected one read-only SELECT query"):
        query([out], sql)
    assert _snapshot(out) == before and sorted(tmp_path.iterdir()) == [out]


def test_a_bad_query_is_refused_before_any_file_is_read(tmp_path):
    (tmp_path / "results.parquet").write_bytes(b"not parquet")
    with pytest.raises(DescentlabError, match="--sql: expected one read-only SELECT"):
        query([tmp_path], "DROP TABLE results")
    with pytest.raises(DescentlabError, match="--sql: expected a SELECT query"):
        query([tmp_path], "  ")


def test_csv_or_parquet_onto_the_inputs_is_refused_and_they_stay_intact(out, tmp_path):
    before = _snapshot(out)
    (tmp_path / "link.csv").symlink_to(out / "results.parquet")
    os.link(out / "checks.json", tmp_path / "hard.csv")
    for option, target in [("--csv", out / "results.parquet"), ("--csv", out / "checks.json"),
                           ("--parquet", out / "results.parquet"),
                           ("--csv", tmp_path / "link.csv"), ("--csv", tmp_path / "hard.csv"),
                           ("--csv", out / "x" / ".." / "results.parquet")]:
        result = _cli("results", out, option, target)
        assert result.exit_code == 2, (option, target, result.output)
        assert f"{option}: expected a file other than the results" in _text(result)
    newest = sorted((out / "tasks").iterdir())[0]
    for target in (newest, out / "tasks" / "new.parquet"):
        with pytest.raises(DescentlabError, match="--parquet: expected a path outside"):
            query([out], parquet=target)
    assert _snapshot(out) == before
    assert (tmp_path / "link.csv").is_symlink()


def test_csv_and_parquet_exports_are_written_by_descentlab(out, tmp_path):
    csv = query([out], "SELECT width, seed, i FROM results ORDER BY ALL",
                csv=tmp_path / "new" / "dir" / "r.csv")
    assert pd.read_csv(csv).shape == (ROWS, 3)
    pq_path = query([out], parquet=tmp_path / "r.parquet")
    assert len(pd.read_parquet(pq_path)) == ROWS
    assert query([out], csv=out / "export.csv") == out / "export.csv"  # beside the inputs: fine
    assert not list(tmp_path.rglob(".*.tmp")) and not list(out.glob(".*.tmp"))


# --------------------------------------------------------------------- 3. each file once
def test_an_out_named_twice_is_read_once(out, tmp_path):
    (tmp_path / "alias").symlink_to(out, target_is_directory=True)
    assert _count(out) == ROWS
    for paths in [(out, out), (out, out / "results.parquet"), (out, tmp_path / "alias"),
                  (out / ".." / "out", out), (tmp_path, out)]:
        assert _count(*paths) == ROWS, paths
    assert find_results([out, out / "results.parquet"]) == [(out / "results.parquet").resolve()]
    result = _cli("results", out, out, "--sql", "SELECT count(*) AS n FROM results")
    assert result.exit_code == 0 and f" {ROWS}\n" in result.stdout


def test_report_of_an_out_named_twice_has_it_once(out, tmp_path):
    assert len(find_experiments([out, out, out / ".", tmp_path])) == 1
    html = write_report([out, out], tmp_path / "r.html").read_text()
    assert html.count('<section class="experiment"') == 1
    result = _cli("report", out, out, "-o", tmp_path / "r2.html")
    assert result.exit_code == 0 and "report of 1 experiments" in result.output


# ---------------------------------------------------------- 11. output errors name the option
def test_a_write_error_names_the_output_option(out, tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pd.DataFrame, "to_csv", denied)
    result = _cli("results", out, "--csv", tmp_path / "r.csv")
    assert result.exit_code == 2, result.output
    assert f"--csv: cannot write '{tmp_path / 'r.csv'}' (Permission denied)" in _text(result)
    assert "--sql" not in result.output
    monkeypatch.setattr(pq, "write_table", denied)
    with pytest.raises(DescentlabError, match=r"^--parquet: cannot write .*Permission denied"):
        query([out], parquet=tmp_path / "r.parquet")
    monkeypatch.setattr(Path, "write_text", denied)
    with pytest.raises(DescentlabError, match=r"^-o: cannot write .*Permission denied"):
        write_report([out], tmp_path / "r.html")
    assert not list(tmp_path.glob(".*.tmp"))


def test_an_output_below_a_file_or_with_a_too_long_name_is_a_clear_error(out, tmp_path):
    (tmp_path / "file").write_text("x")
    for args, option in [(("results", out, "--csv"), "--csv"),
                         (("results", out, "--parquet"), "--parquet"), (("report", out, "-o"),
                                                                         "-o")]:
        result = _cli(*args, tmp_path / "file" / "sub" / "r.out")
        assert result.exit_code == 2, result.output
        assert f"{option}: cannot write" in _text(result) and "is a file, not a directory" \
            in _text(result)
        result = _cli(*args, tmp_path / ("x" * 300))
        assert result.exit_code == 2 and f"{option}: cannot write" in _text(result)


# ---------------------------------------------------------------- 12. small tracebacks
def test_negative_max_rows_is_a_usage_error(out):
    result = _cli("results", out, "--max-rows", "-5")
    assert result.exit_code == 2 and "--max-rows" in result.output
    assert "-5 is not in the range x>=0" in result.output


def test_huge_max_rows_prints_every_row(out):
    result = _cli("results", out, "--max-rows", str(10**30))
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) == ROWS + 1 and "..." not in result.stdout


def _set_checks(out: Path, edit) -> None:
    path = out / "checks.json"
    checks = json.loads(path.read_text())
    checks = edit(checks)
    path.write_text(json.dumps(checks))


@pytest.mark.parametrize("edit, expected", [
    (lambda c: [1, 2], "expected the file to be a JSON object (as written by `descentlab "
                       "reproduce`), got a list ([1, 2])"),
    (lambda c: {**c, "claims": {"a": 1}}, 'expected "claims" to be a list of objects, got an '
                                          'object'),
    (lambda c: {**c, "claims": [*c["claims"], "ok"]}, 'expected "claims"[2] to be an object, '
                                                      'got a string ("ok")'),
    (lambda c: {**c, "claims": [{"name": "x", "passed": "no"}]},
     'expected "claims"[0]["passed"] to be true or false, got a string ("no")'),
    (lambda c: {**c, "figures": "a.png"}, 'expected "figures" to be a list of file names, got '
                                          'a string'),
    (lambda c: {**c, "figures": [["a.png"]]}, 'expected "figures"[0] to be a file name'),
    (lambda c: {**c, "config": [1]}, 'expected "config" to be an object, got a list'),
    (lambda c: {**c, "timings": None}, 'expected "timings" to be an object, got null'),
    (lambda c: {**c, "environment": {"libraries": ["numpy"]}},
     'expected "environment"["libraries"] to be an object, got a list'),
])
def test_checks_json_of_the_wrong_shape_is_a_clear_error(out, tmp_path, edit, expected):
    _set_checks(out, edit)
    with pytest.raises(DescentlabError, match="checks.json") as info:
        find_experiments([out])
    assert f"{out / 'checks.json'}: {expected}" in str(info.value)
    result = _cli("report", out, "-o", tmp_path / "r.html")
    assert result.exit_code == 2 and expected in _text(result)
    assert not (tmp_path / "r.html").exists()


def test_checks_json_that_is_not_json_is_a_clear_error(out, tmp_path):
    for text in ("[" * 100_000, "\udcff", "{"):
        (out / "checks.json").write_bytes(text.encode("utf-8", "surrogateescape"))
        result = _cli("report", out, "-o", tmp_path / "r.html")
        assert result.exit_code == 2 and "OUT: cannot read" in _text(result), result.output


def test_report_embeds_only_figures_inside_out(out, tmp_path):
    figure = json.loads((out / "checks.json").read_text())["figures"][0]
    secret = tmp_path / "secret.png"
    secret.write_bytes((out / figure).read_bytes() + b"SECRET-BYTES")
    (out / "link.png").symlink_to(secret)
    listed = [figure, str(secret), "../secret.png", "link.png", "", "."]
    _set_checks(out, lambda c: {**c, "figures": listed})
    (rec,) = find_experiments([out])
    assert rec.figures == [(out / figure).resolve()]
    assert rec.refused == listed[1:]
    result = _cli("report", out, "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r.html").read_text()
    assert html.count("<img ") == 1
    assert base64.b64encode(secret.read_bytes()).decode()[-40:] not in html
    for name in listed[1:]:
        assert f"figure {name} refused: it is not a file inside" in html
    assert "'link.png' not embedded" in _text(result)


def test_report_output_onto_the_inputs_is_refused(out, tmp_path):
    before = _snapshot(out)
    figure = json.loads((out / "checks.json").read_text())["figures"][0]
    for target in ("checks.json", "results.parquet", figure, "tasks/r.html"):
        result = _cli("report", out, "-o", out / target)
        assert result.exit_code == 2, (target, result.output)
        assert "-o: expected a" in _text(result)
    assert _snapshot(out) == before
    assert _cli("report", out, "-o", out / "report.html").exit_code == 0


# ---------------------------------------------------------------- 4. no rich markup
def test_paths_with_markup_are_printed_as_written(out, tmp_path):
    for name in ("[red]x", "[/]", "[bold]y[/bold]"):
        missing = tmp_path / name
        for command in ("results", "report"):
            result = _cli(command, missing)
            assert result.exit_code == 2, result.output
            assert f"OUT: '{missing}' does not exist" in _text(result)
    weird = tmp_path / "[/]" / "[red]out"
    shutil.copytree(out, weird)
    result = _cli("results", weird, "--csv", weird.parent / "[red]r.csv")
    assert result.exit_code == 0 and f"wrote {weird.parent / '[red]r.csv'}" in _text(result)
    result = _cli("report", weird, "-o", weird.parent / "[/]r.html")
    assert result.exit_code == 0 and (weird.parent / "[/]r.html").is_file()


# --------------------------------------------------------------------- hostile files
def test_broken_results_files_are_clear_errors(tmp_path):
    cases = {"empty": b"", "text": b"this is not parquet\n", "truncated": b"PAR1\x00\x00PAR1"}
    for name, data in cases.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.parquet").write_bytes(data)
        with pytest.raises(DescentlabError, match="is not a readable Parquet file"):
            query([tmp_path / name])
    (tmp_path / "dir" / "results.parquet").mkdir(parents=True)
    with pytest.raises(DescentlabError, match="results.parquet' to be a file"):
        query([tmp_path / "dir"])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DescentlabError, match="expected an output directory or a .parquet"):
        query([tmp_path / "notes.txt"])


def test_a_sweep_without_tasks_has_no_rows(out, tmp_path):
    (tmp_path / "none").mkdir()
    pq.write_table(pa.table({}), tmp_path / "none" / "results.parquet")
    assert len(query([tmp_path / "none"])) == 0
    assert _count(tmp_path / "none", out) == ROWS


def test_glob_characters_in_a_path_are_literal(out, tmp_path):
    star = Path(shutil.copytree(out, tmp_path / "g*"))
    shutil.copytree(out, tmp_path / "gx")
    df = query([star], "SELECT count(*) AS n, any_value(prov_source) AS src FROM results")
    assert df.to_dict("records") == [{"n": ROWS, "src": str(star / "results.parquet")}]


def test_undecodable_names_are_shown_not_a_traceback(out, tmp_path):
    weird = Path(shutil.copytree(out, tmp_path / os.fsdecode(b"\xff-out")))
    _set_checks(weird, lambda c: {**c, "title": "\udcff title"})  # a lone surrogate in JSON
    df = query([weird], "SELECT count(*) AS n, any_value(prov_source) AS src FROM results")
    assert df.to_dict("records") == [{"n": ROWS, "src": str(tmp_path / "\\xff-out" /
                                                             "results.parquet")}]
    result = _cli("report", weird, "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "\\xff-out" in html and "\\xff title" in html
