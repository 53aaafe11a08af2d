"""``omnikit report`` for schedulers, end to end: --fetch against the Talkdesk stand-in over real
HTTP, freshness in the page, exit statuses, atomic outputs, the README's cron line, bad arguments.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import omnikit as ok
from omnikit import _parameters
from omnikit._freshness import store_freshness
from omnikit._schedule import final_until, last_complete_week, needed_span
from omnikit._store import Store
from omnikit.cli import main
from omnikit.testing import Faults, TalkdeskStandIn

ROOT = Path(__file__).resolve().parents[1]
TZ = "Europe/Lisbon"
UTC = dt.UTC
TODAY = dt.datetime.now(UTC).date()
# Interactions over the last three weeks and a bit: the last complete week and the one before.
FRAME = ok.synth_frame(
    900, seed=16, start=(TODAY - dt.timedelta(days=22)).isoformat(), days=22, timezone="UTC"
)


@pytest.fixture
def talkdesk(monkeypatch):
    with TalkdeskStandIn(FRAME, job_seconds=0.1) as standin:
        for key in [k for k in os.environ if k.startswith("TALKDESK_")]:
            monkeypatch.delenv(key)
        for key, value in standin.environ().items():
            monkeypatch.setenv(key, value)
        yield standin


def job_spans(standin: TalkdeskStandIn, since: int = 0) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(job.start.astimezone(UTC), job.end.astimezone(UTC)) for job in standin.real_jobs()][
        since:
    ]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "omnikit", "report", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=cwd,
        timeout=120,
    )


def cron_command() -> str:
    """The cron line of README.md, without its five time fields."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Running on a schedule", 1)[1]
    lines = [
        line
        for line in block.splitlines()
        if re.match(r"^[\d*/,-]+ [\d*/,-]+ [\d*/,-]+ [\d*/,-]+ [\d*/,-]+\s", line)
    ]
    assert len(lines) == 1, lines
    return lines[0].split(None, 5)[5]


# -- the whole story: fetch, render, re-run from cron, freshness ------------------------------


@pytest.mark.slow
def test_fetch_fills_the_missing_days_once_and_a_rerun_only_the_tail(
    tmp_path, talkdesk, monkeypatch
):
    home = tmp_path / "home"
    work = home / "omnikit"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    # Two reports in one run: one fetch (the union: the weekly report's two weeks).
    code = main(
        ["report", "weekly_report", "wait_times", "--fetch", "--timezone", TZ, "--no-progress"]
    )
    assert code == 0
    week = last_complete_week(dt.datetime.now(UTC), TZ)
    wanted = needed_span("weekly_report", *week)
    first = job_spans(talkdesk)
    assert first, "nothing was fetched"
    assert min(a for a, _ in first) == wanted[0] and max(b for _, b in first) == wanted[1]
    assert sum((b - a for a, b in first), dt.timedelta()) == wanted[1] - wanted[0]  # once each
    store = Store(work / "data" / "omnikit-store")
    assert store.missing(*wanted) == []
    # The page says what the store holds and when it was fetched.
    line = store_freshness(store.path, *wanted, TZ).line
    assert line.startswith(f"data to {(week[1].date() - dt.timedelta(days=1))} 24:00 {TZ}")
    for name in ("weekly_report", "wait_times"):
        page = (work / "reports" / f"{name}.html").read_text(encoding="utf-8")
        assert line.split(" (")[0] in page, name
        assert "Missing data" not in page
    good = (work / "reports" / "weekly_report.html").read_bytes()

    # The README's cron line, as written, re-runs the same week: only the still-changing tail
    # is fetched again (nothing at all when the week has settled).
    jobs = len(talkdesk.real_jobs())
    fetched_at = max(at for _, _, at in store.fetched())
    tail_start = max(wanted[0], final_until(fetched_at, TZ).astimezone(UTC))
    tail = [(tail_start, wanted[1])] if tail_start < wanted[1] else []
    bindir = Path(sys.executable).parent
    env = {
        **talkdesk.environ(),
        "HOME": str(home),
        "PATH": f"{bindir}:/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
    }
    run = subprocess.run(
        ["sh", "-c", cron_command()], env=env, capture_output=True, text=True, timeout=180
    )
    log = (work / "reports" / "omnikit.log").read_text(encoding="utf-8")
    assert run.returncode == 0, log + run.stderr
    assert job_spans(talkdesk, jobs) == tail, log
    assert (work / "reports" / "weekly_report.html").read_bytes() != good  # written anew
    assert not list((work / "reports").glob(".*"))  # no temporary left behind

    # A period partly outside the store is flagged at the top of the page.
    before = week[0] - (week[1] - week[0]) * 2
    assert (
        main(
            [
                *("report", "wait_times", "--source", str(store.path), "--timezone", TZ),
                *("--start", before.isoformat(), "--end", week[1].isoformat(), "--out", "flag"),
            ]
        )
        == 0
    )
    page = (work / "flag" / "wait_times.html").read_text(encoding="utf-8")
    missing_day = before.date().isoformat()
    assert "Missing data" in page and missing_day in page


# -- failures: each has its status, and the last good page stays ---------------------------


def plant(out: Path, name: str) -> bytes:
    out.mkdir(parents=True, exist_ok=True)
    good = b"<html>last week's good report</html>"
    (out / f"{name}.html").write_bytes(good)
    return good


def test_missing_credentials_exit_3_before_anything_runs(tmp_path, talkdesk, monkeypatch, capsys):
    monkeypatch.delenv("TALKDESK_CLIENT_SECRET")
    good = plant(tmp_path / "out", "weekly_report")
    code = main(
        [
            *("report", "weekly_report", "--fetch", "--store", str(tmp_path / "s")),
            *("--out", str(tmp_path / "out"), "--timezone", TZ),
        ]
    )
    assert code == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "set TALKDESK_CLIENT_SECRET" in err
    assert talkdesk.real_jobs() == []
    assert (tmp_path / "out" / "weekly_report.html").read_bytes() == good


def test_an_api_failure_exits_4_and_keeps_the_last_page(tmp_path, talkdesk, capsys):
    talkdesk.faults = Faults(fail_jobs=10)
    good = plant(tmp_path / "out", "wait_times")
    code = main(
        [
            *("report", "wait_times", "--fetch", "--store", str(tmp_path / "s")),
            *("--out", str(tmp_path / "out"), "--timezone", TZ, "--no-progress"),
        ]
    )
    assert code == 4
    err = capsys.readouterr().err
    assert err.startswith("omnikit report: error: ") and err.count("\n") == 1
    assert (tmp_path / "out" / "wait_times.html").read_bytes() == good


def test_render_report_fetch_uses_the_environment_and_maps_api_failures(
    tmp_path, talkdesk, monkeypatch
):
    kwargs = {"fetch": True, "store": tmp_path / "s", "out": tmp_path / "out", "timezone": TZ}
    talkdesk.faults = Faults(fail_jobs=10)
    with pytest.raises(ok.JobFailedError):
        ok.render_report("wait_times", **kwargs)
    assert talkdesk.real_jobs(), "render_report(fetch=True) did not fetch"
    monkeypatch.delenv("TALKDESK_CLIENT_ID")
    with pytest.raises(ok.AuthenticationError, match="TALKDESK_CLIENT_ID"):
        ok.render_report("wait_times", **kwargs)
    assert not list((tmp_path / "out").glob("*"))


def test_timeout_bounds_the_fetch(tmp_path, talkdesk):
    talkdesk.faults = Faults(slow_status=60)  # every status answer takes a minute
    started = time.monotonic()
    run = run_cli(
        *("wait_times", "--fetch", "--store", str(tmp_path / "s"), "--timeout", "2"),
        *("--out", str(tmp_path / "out"), "--no-progress"),
        env=talkdesk.environ(),
    )
    assert run.returncode == 4, run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert "within the timeout of" in run.stderr
    assert time.monotonic() - started < 40  # Python's start-up on a busy machine included


def tiny(folder: Path, name: str, *cells: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "omnikit", "language": "python", "display_name": "omnikit"}
    params = nbformat.v4.new_code_cell(
        "from typing import Optional, Union\n"
        "source: Union[str, list[str], None] = None\n"
        "start: Optional[str] = None\n"
        "end: Optional[str] = None\n"
        'timezone: str = "UTC"\n'
        "redact: bool = True\n"
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")


@pytest.mark.slow
def test_a_failing_notebook_exits_5_and_leaves_the_last_good_outputs(tmp_path, monkeypatch, capsys):
    notebooks = tmp_path / "notebooks"
    tiny(notebooks, "broken", "raise ValueError('boom')")
    tiny(notebooks, "fine", "x = 1")
    monkeypatch.setattr(_parameters, "_notebook_dirs", lambda: [notebooks])
    out = tmp_path / "out"
    good = plant(out, "broken")
    (out / "broken.ipynb").write_text("last week's notebook")
    code = main(["report", "broken", "fine", "--out", str(out)])
    assert code == 5
    err = capsys.readouterr().err
    assert "ValueError: boom" in err and "Traceback" not in err
    assert (out / "broken.html").read_bytes() == good
    assert (out / "broken.ipynb").read_text() == "last week's notebook"
    kept = nbformat.read(out / "broken.failed.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in kept.cells for o in c.get("outputs", []))
    assert (out / "fine.html").exists()  # the other report was still written
    assert not list(out.glob(".*"))


@pytest.mark.slow
def test_timeout_bounds_the_rendering_too(tmp_path):
    notebooks = tmp_path / "notebooks"
    tiny(notebooks, "sleepy", "import time\ntime.sleep(300)")
    out = tmp_path / "out"
    good = plant(out, "sleepy")
    script = (
        "import sys; from pathlib import Path; from omnikit import _parameters; "
        f"_parameters._notebook_dirs = lambda: [Path({str(notebooks)!r})]; "
        "from omnikit.cli import main; "
        f"sys.exit(main(['report', 'sleepy', '--out', {str(out)!r}, '--timeout', '15']))"
    )
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert run.returncode == 5, run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr, run.stderr
    assert "ran longer than --timeout 15 s" in run.stderr
    assert time.monotonic() - started < 60
    assert (out / "sleepy.html").read_bytes() == good
    assert not list(out.glob(".*"))


# -- bad arguments: one line, status 2, nothing started ----------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["weekly_report", "--timeout", "nan"], "'nan' is not a positive number of seconds"),
        (["weekly_report", "--timeout", "0"], "'0' is not a positive number of seconds"),
        (["weekly_report", "-p", "formula", "bogus"], "'bogus' is not a service-level formula"),
        (["weekly_report", "-p", "default_region", "ZZ"], "'ZZ' is not a region code"),
        (["journeys", "-p", "top_n", "1e23"], "parameter 'top_n': expected a whole number"),
        (["journeys", "-p", "top_n", "5000"], "parameter 'top_n': 5000 is out of range"),
        (["wait_times", "-p", "short_abandon", "-1"], "'short_abandon' must not be negative"),
        (["wait_times", "-p", "short_abandon", "9999999"], "'short_abandon': 9999999 is out of"),
        (["wait_times", "-p", "targets", "nan"], "parameter 'targets': expected a JSON object"),
        (["wait_times", "-p", "nonsense", "1"], "has a parameter 'nonsense'"),
        (["nosuch"], "no report named 'nosuch'"),
        ([], "give a report NAME"),
        (["wait_times", "--timezone", "Mars/Olympus"], "'Mars/Olympus' is not an IANA timezone"),
        (["wait_times", "--start", "2024-02-30"], "'2024-02-30' is not a date"),
        (["wait_times", "--fetch", "--week-start", "funday"], "'funday' is not a day of the week"),
        (["wait_times", "--fetch", "--settle", "-1"], "'-1' is not a whole number of days"),
        (["wait_times", "--store", "s"], "--store is used only with --fetch"),
        (
            ["wait_times", "--fetch", "--start", "2024-09-10", "--end", "2024-09-01"],
            "must be before end",
        ),
        (["wait_times", "--fetch", "--source", "x"], "give --source or --fetch"),
        (["wait_times", "--out", "{notebooks}"], "this folder holds the report notebooks"),
        (["wait_times", "--out", "{copy}"], "holds the report notebooks (channel_mix.ipynb)"),
        (["wait_times", "--out", "{file}"], "is a file, not a folder"),
        (["wait_times", "--out", "{file}/under"], "cannot create the folder: Not a directory"),
        (["wait_times", "--out", "/proc/sys"], "the folder cannot be written"),
    ],
)
def test_a_bad_argument_is_one_line_and_status_2(tmp_path, args, says, monkeypatch, capsys):
    copy = tmp_path / "copy"
    copy.mkdir()
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        (copy / notebook.name).write_bytes(notebook.read_bytes())
    (tmp_path / "file").write_text("x")
    places = {"notebooks": ROOT / "notebooks", "copy": copy, "file": tmp_path / "file"}
    args = [a.format(**places) for a in args]
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "notebooks").glob("*.ipynb")}
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TALKDESK_ACCOUNT", raising=False)
    try:
        code = main(["report", *args])
    except SystemExit as exit:  # argparse's errors (one line, as below)
        code = exit.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("omnikit report: error: ") and says in err, err
    assert not (tmp_path / "reports").exists() and not (tmp_path / "data").exists()
    assert before == {p: p.stat().st_mtime_ns for p in (ROOT / "notebooks").glob("*.ipynb")}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--rows", "0"], "expected a positive number of interactions"),
        (["--rows", "many"], "invalid int value: 'many'"),
        (["--timezone", "Mars/Olympus"], "'Mars/Olympus' is not an IANA timezone"),
        (["--out", str(ROOT / "notebooks")], "this folder holds the report notebooks"),
        (["--data", "{file}"], "is a file, not a folder"),
        (["--out", "{file}"], "is a file, not a folder"),
    ],
)
def test_demo_bad_arguments_are_one_line_and_status_2(tmp_path, args, says, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("x")
    args = [a.format(file=tmp_path / "file") for a in args]
    try:
        code = main(["demo", *args])
    except SystemExit as exit:
        code = exit.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("omnikit demo: error: "), err
    assert says in err and not (tmp_path / "data").exists()


def test_no_traceback_from_a_bad_argument_in_a_real_process(tmp_path):
    for args in (["wait_times", "--timeout", "nan"], ["journeys", "-p", "top_n", "1e23"]):
        run = run_cli(*args, cwd=tmp_path)
        assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
        assert "Traceback" not in run.stderr and not (tmp_path / "reports").exists()


def test_render_report_checks_out_and_parameters_before_a_kernel(tmp_path):
    with pytest.raises(ok.ParameterError, match="holds the report notebooks"):
        ok.render_report("wait_times", out=ROOT / "notebooks")
    with pytest.raises(ok.ParameterError, match="'formula': 'x' is not a service-level"):
        ok.render_report("wait_times", out=tmp_path, parameters={"formula": "x"})
    with pytest.raises(ok.ParameterError, match=r"'top_n': \d{20,} is out of range"):
        ok.render_report("journeys", out=tmp_path, parameters={"top_n": 1e23})
    with pytest.raises(ok.ParameterError, match="give source= or fetch=True"):
        ok.render_report("wait_times", out=tmp_path, source=tmp_path, fetch=True)
    assert json.loads((ROOT / "notebooks" / "wait_times.ipynb").read_text())["metadata"]
