"""The ``omnikit`` command line as a user runs it: ``python -m omnikit ...`` in a real process.

Every bad argument of every subcommand is exactly one line on stderr, ``omnikit COMMAND: error:
...``, and exit status 2 (the table in ``omnikit._exit_status``), with no traceback and nothing
written; ``--help`` still prints the help to stdout with status 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from omnikit._exit_status import USAGE
from omnikit.cli import COMMANDS, CommandParser, UsageError, main

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALKDESK_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "omnikit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_usage_line(run: subprocess.CompletedProcess[str], prog: str, says: str) -> None:
    assert run.returncode == USAGE == 2, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.endswith("\n"), run.stderr
    assert run.stderr.startswith(f"{prog}: error: "), run.stderr
    assert says in run.stderr, run.stderr
    assert run.stdout == "", run.stdout


# Placeholders: {file} an existing file, {tmp} the test's folder.
BAD = [
    # the top level
    ([], "omnikit", "give a COMMAND: synth, report, demo, fetch (see omnikit --help)"),
    (["nosuch"], "omnikit", "invalid choice: 'nosuch'"),
    (["--bogus"], "omnikit", "unrecognized arguments: --bogus (see omnikit --help)"),
    # fetch
    (["fetch"], "omnikit fetch", "the following arguments are required: --from, --to"),
    (
        ["fetch", "--from", "2024-09-02", "--to", "2024-09-03", "--bogus"],
        "omnikit fetch",
        "unrecognized arguments: --bogus (see omnikit fetch --help)",
    ),
    (
        ["fetch", "--from", "2024-09-02", "--to", "2024-09-03", "--max-jobs", "99"],
        "omnikit fetch",
        "argument --max-jobs: '99' is not a whole number from 1 to 15",
    ),
    (
        ["fetch", "--from", "2024-09-02", "--to", "2024-09-03", "--progress", "--no-progress"],
        "omnikit fetch",
        "not allowed with argument --progress",
    ),
    # report
    (["report", "--bogus"], "omnikit report", "unrecognized arguments: --bogus"),
    (["report", "wait_times", "-p", "threshold"], "omnikit report", "expected 2 arguments"),
    (["report", "wait_times", "--timeout", "soon"], "omnikit report", "'soon' is not a positive"),
    # demo
    (["demo", "--bogus"], "omnikit demo", "unrecognized arguments: --bogus"),
    (["demo", "--rows", "many"], "omnikit demo", "argument --rows: invalid int value: 'many'"),
    (["demo", "--seed"], "omnikit demo", "argument --seed: expected one argument"),
    # synth: the parser
    (["synth"], "omnikit synth", "the following arguments are required: PATH"),
    (["synth", "x.json", "--bogus"], "omnikit synth", "unrecognized arguments: --bogus"),
    (["synth", "x.json", "--n", "notanumber"], "omnikit synth", "'notanumber' is not a whole"),
    (["synth", "x.json", "--n", "-5"], "omnikit synth", "argument --n: '-5' is not a whole number"),
    (["synth", "x.json", "--seed", "1.5"], "omnikit synth", "argument --seed: '1.5' is not"),
    (["synth", "d", "--windows", "0"], "omnikit synth", "argument --windows: '0' is not a whole"),
    (["synth", "d", "--overlap", "1 day"], "omnikit synth", "did you mean '1d'?"),
    (["synth", "d", "--overlap", "1mo"], "omnikit synth", "months, quarters and years have no"),
    (["synth", "x.json", "--days", "0"], "omnikit synth", "argument --days: '0' is not"),
    (["synth", "x.json", "--indent", "-1"], "omnikit synth", "argument --indent: '-1' is not"),
    (["synth", "x.json", "--customers", "0"], "omnikit synth", "argument --customers: '0' is"),
    (["synth", "x.json", "--format", "xml"], "omnikit synth", "argument --format: invalid choice"),
    (["synth", "x.json", "--start", "2024-13-01"], "omnikit synth", "'2024-13-01' is not a date"),
    (["synth", "x.json", "--timezone", "Mars/X"], "omnikit synth", "'Mars/X' is not a known IANA"),
    # synth: the output path, checked before anything is written
    (["synth", "{file}/x.json"], "omnikit synth", "is a file, not a folder"),
    (["synth", "{file}/sub"], "omnikit synth", "is a file, not a folder"),
    (["synth", "{file}/a/b", "--windows", "2"], "omnikit synth", "is a file, not a folder"),
    (["synth", "{file}", "--windows", "2"], "omnikit synth", "is a file; --windows needs a dir"),
    (["synth", "nowhere/x.json"], "omnikit synth", "the folder 'nowhere' does not exist"),
    (["synth", "x.txt"], "omnikit synth", "cannot tell the format of 'x.txt'"),
]


@pytest.mark.parametrize(("args", "prog", "says"), BAD, ids=[" ".join(a) or "-" for a, _, _ in BAD])
def test_a_bad_argument_is_one_line_and_status_2(tmp_path, args, prog, says):
    (tmp_path / "file").write_text("keep me\n")
    args = [a.format(file=tmp_path / "file", tmp=tmp_path) for a in args]
    run = run_cli(*args, cwd=tmp_path)
    assert_one_usage_line(run, prog, says)
    # nothing was started: no output anywhere, the file under the path untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
    assert (tmp_path / "file").read_text() == "keep me\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_synth_into_a_folder_that_cannot_be_written_is_a_bad_argument(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        run = run_cli("synth", str(locked / "x.json"), cwd=tmp_path)
    finally:
        locked.chmod(0o700)
    assert_one_usage_line(run, "omnikit synth", "cannot be written")
    assert list(locked.iterdir()) == []


def test_synth_into_proc_is_a_bad_argument(tmp_path):
    run = run_cli("synth", "/proc/sys/x.json", "--n", "5", cwd=tmp_path)
    assert_one_usage_line(run, "omnikit synth", "the folder '/proc/sys' cannot be written")


def test_synth_good_arguments_still_write(tmp_path):
    run = run_cli(
        "synth", "week.csv", "--n", "20", "--seed", "-3", "--overlap", "12h", cwd=tmp_path
    )
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert (tmp_path / "week.csv").read_text().count("\n") > 20
    assert "20 interactions, seed -3, in 1 file(s)" in run.stdout


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_goes_to_stdout_with_status_0(tmp_path, command):
    run = run_cli(*filter(None, [command, "--help"]), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert run.stdout.startswith(f"usage: omnikit {command}".rstrip())
    assert "--help" in run.stdout


def test_version_goes_to_stdout_with_status_0(tmp_path):
    run = run_cli("--version", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.startswith("omnikit ") and run.stderr == ""


def test_the_parser_raises_a_usage_error_naming_the_command():
    parser = CommandParser(prog="omnikit demo")
    parser.add_argument("--rows", type=int)
    with pytest.raises(UsageError, match=r"^argument --rows: invalid int value: 'x' \(see") as e:
        parser.parse_args(["--rows", "x"])
    assert e.value.prog == "omnikit demo"


def test_main_returns_2_without_raising_systemexit(capsys):
    assert main(["synth", "--n", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("omnikit synth: error: argument --n: "), err
