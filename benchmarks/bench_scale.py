"""Benchmark: 100,000,000 interactions on one machine, streaming from the store, and on Spark.

Targets (issue 17), on a 2-core, 24 GiB machine:

- every metric (channel_mix, wait_time_stats, wait_time_histogram, service_level,
  wait_time_survival, hourly_profile) streaming from the store (``ok.scan``, polars' streaming
  engine): the whole set under 2 minutes, peak memory under 8 GiB;
- ``resolve_customers`` + ``journeys`` over the store: under 15 minutes, under 20 GiB;
- the same computations on Spark ``local[2]`` over the same store (through ``omnikit._engines``
  when it is there, else plain PySpark building the count tables that path builds), with the
  Spark / polars time ratio printed.

The store is made with the generator (``ok.synth_frame``), one group of days at a time, written
straight into its table (``interactions/date=YYYY-MM-DD/part-0.parquet``, one file per day, as
``omnikit fetch`` writes them; each staged beside the table and renamed in), so 100 million rows
never sit in memory at once. It is cached under ``benchmarks/.data/scale-N/`` and resumable: a
killed generation goes on from the last group written (``_bench.json`` records them). A store
generated before the table (``date=`` partitions at its root) is moved into it by the first
run, by hard links (seconds). Rows without a start time go to their group's first day (a fetch
would file them by their end time).

The Spark session's start, the JVM's warm-up and the listing of the store's files are not
timed (one ``count()`` first). Each phase runs in a fresh child process; its peak memory is the
largest resident set of the child and all its descendants (Spark's JVM included), sampled with
psutil every 0.1 s, and for the polars phases also the child's own ``ru_maxrss``. ``--engine
in-memory`` runs the polars phases on polars' default engine instead, to compare.

A phase whose processes pass ``--memory-limit`` GiB (default 22: the machine has 24) or run
longer than ``--timeout`` seconds is stopped and reported ``[FAILED]`` with the steps it
finished, rather than taking the machine down. ``--only`` runs some of the phases.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--n 100000000] [--no-spark] [--only
metrics,spark-metrics]``; a smoke run: ``--n 200000``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DATA = ROOT / ".data"
GIB = 1024**3
ROWS_PER_GROUP = 2_000_000
FIRST_DAY = dt.date(2023, 1, 2)
METRICS = (
    "channel_mix",
    "wait_time_stats",
    "wait_time_histogram",
    "service_level",
    "wait_time_survival",
    "hourly_profile",
)
#: (phase, seconds, GiB) targets.
TARGETS = {"metrics": (120.0, 8.0), "journeys": (15 * 60.0, 20.0)}


# -- the store ------------------------------------------------------------------------------


def days_for(n: int) -> int:
    """Days the store covers: two years at full size, fewer (at least 7) for a smaller run."""
    return max(7, min(730, n // 137_000))


def build_store(n: int, store: Path) -> None:
    """Generate ``n`` interactions into ``store`` in groups of days (resumable)."""
    import polars as pl

    import omnikit as ok
    from omnikit._files import atomic_write, staged_write
    from omnikit._store import Store, day_file_name

    days = days_for(n)
    per_day = n / days
    group_days = max(1, math.floor(ROWS_PER_GROUP / per_day))
    groups = [(d, min(group_days, days - d)) for d in range(0, days, group_days)]
    progress_path = store / "_bench.json"
    store.mkdir(parents=True, exist_ok=True)
    progress = {"n": n, "days": days, "done": []}
    if progress_path.exists():
        progress = json.loads(progress_path.read_text())
        if progress["n"] != n or progress["days"] != days:
            raise SystemExit(f"{store} holds another size; remove it")
    done = set(progress["done"])
    made = sum(round(per_day * length) for first, length in groups if first in done)
    started = time.perf_counter()
    for index, (first, length) in enumerate(groups):
        rows = round(per_day * (first + length)) - round(per_day * first)
        if first in done:
            continue
        start = FIRST_DAY + dt.timedelta(days=first)
        last = start + dt.timedelta(days=length - 1)
        frame = ok.synth_frame(rows, seed=1_000 + index, start=start, days=length, timezone="UTC")
        day = pl.coalesce(pl.col("start_date_time").dt.date(), pl.lit(start)).clip(start, last)
        for (key,), part in (
            frame.with_columns(day.alias("__day")).partition_by("__day", as_dict=True).items()
        ):
            path = store / day_file_name(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            body = part.drop("__day").sort("start_date_time", nulls_last=True)
            # Staged outside the table (which holds Parquet day files only), then renamed in.
            staged = staged_write(
                store / f"{key}.staged", lambda p, b=body: b.write_parquet(p, compression="zstd")
            )
            os.replace(staged.temp, path)
        del frame
        progress["done"].append(first)
        atomic_write(progress_path, lambda p: p.write_text(json.dumps(progress)))
        made += rows
        rate = made / max(time.perf_counter() - started, 1e-9)
        print(f"  generated {made:,} / {n:,} rows ({rate:,.0f} rows/s)", flush=True)
    first = dt.datetime.combine(FIRST_DAY, dt.time(), dt.UTC)
    end = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=days), dt.time(), dt.UTC)
    # Opening the store also moves one generated before the table into it (hard links).
    with Store(store, timezone="UTC") as target:
        if target.missing(first, end):
            target.mark_complete(first, end, fetched_at=dt.datetime.now(dt.UTC))


# -- the phases (each in a child process) -----------------------------------------------------


def _finished(times: dict[str, float]) -> None:
    """Say the steps finished so far (the parent reports them if the phase is stopped)."""
    print(json.dumps({**times, "__partial": True}), flush=True)


def phase_metrics(store: Path, engine: str) -> dict[str, float]:
    import polars as pl

    import omnikit as ok

    times = {}
    with pl.Config(engine_affinity=engine):
        for name in METRICS:
            began = time.perf_counter()
            getattr(ok, name)(ok.scan(store))
            times[name] = time.perf_counter() - began
            _finished(times)
    return times


def phase_journeys(store: Path, engine: str) -> dict[str, float]:
    import polars as pl

    import omnikit as ok

    times = {}
    with pl.Config(engine_affinity=engine):
        began = time.perf_counter()
        # Only the columns journeys use: the store's wide text columns stay on disk.
        lazy = _journey_rows_polars(store).select(
            "interaction_id", "start_date_time", "end_date_time", "waiting_time",
            "interaction_type", "interaction_status", "interaction_direction", "agent_type",
            "name", "contact", "contact_id",
        )  # fmt: skip
        resolved = ok.resolve_customers(lazy)
        times["resolve_customers"] = time.perf_counter() - began
        _finished(times)
        began = time.perf_counter()
        ok.journeys(resolved)
        times["journeys"] = time.perf_counter() - began
    return times


#: ``--journeys-days``: resolve + journeys (polars and Spark) over the store's first days only.
JOURNEY_DAYS: int | None = None


def _journey_cutoff() -> dt.date | None:
    return None if JOURNEY_DAYS is None else FIRST_DAY + dt.timedelta(days=JOURNEY_DAYS)


def _journey_rows_polars(store: Path):  # type: ignore[no-untyped-def]
    """The rows the journeys phase reads: the whole store (``ok.scan``), or its first days."""
    import polars as pl

    import omnikit as ok
    from omnikit._store import table_dir

    cutoff = _journey_cutoff()
    if cutoff is None:
        return ok.scan(store)
    table = pl.scan_parquet(table_dir(store), hive_partitioning=True)
    return table.filter(pl.col("date") < cutoff).drop("date")


def _spark(store: Path, days: bool = False):  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    # Spark's Python workers (Arrow UDFs) run this interpreter, with this omnikit.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("omnikit-bench-scale")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "8g")
        # Results come back to this process as Arrow: journeys of 30M rows are ~1.5 GiB.
        .config("spark.driver.maxResultSize", "0")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    from omnikit._store import table_dir

    # The store's table, as it is; without the partition column, the canonical ones (ok.scan's).
    frame = session.read.parquet(str(table_dir(store)))
    cutoff = _journey_cutoff() if days else None
    if cutoff is not None:
        frame = frame.filter(frame["date"] < cutoff.isoformat())
    frame = frame.drop("date")
    frame.count()  # the JVM's warm-up and the file listing are not timed
    return session, frame


def _engines():  # type: ignore[no-untyped-def]
    import omnikit

    try:
        from omnikit import _engines
    except ImportError:
        return None
    # Only the omnikit under test's own (an installed checkout elsewhere does not count).
    package = Path(omnikit.__file__).resolve().parent
    return _engines if package in Path(_engines.__file__).resolve().parents else None


def phase_spark_metrics(store: Path) -> dict[str, float]:
    from pyspark.sql import functions as F

    session, frame = _spark(store)
    engines = _engines()
    times = {}
    try:
        for name in METRICS:
            began = time.perf_counter()
            if engines is not None:
                engines.dispatch(name, frame)
            else:  # the count tables the engine path builds, finished locally
                keys = {
                    "channel_mix": ["interaction_type"],
                    "wait_time_stats": ["interaction_type", "waiting_time"],
                    "wait_time_histogram": ["interaction_type", "waiting_time"],
                    "service_level": ["interaction_type", "interaction_status", "waiting_time"],
                    "wait_time_survival": [
                        "interaction_type",
                        "interaction_status",
                        "waiting_time",
                    ],
                    "hourly_profile": [
                        F.dayofweek("start_date_time").alias("dow"),
                        F.hour("start_date_time").alias("hour"),
                        "interaction_type",
                    ],
                }[name]
                frame.groupBy(*keys).count().toPandas()
            times[name] = time.perf_counter() - began
            _finished(times)
    finally:
        session.stop()
    return times


def phase_spark_journeys(store: Path) -> dict[str, float]:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    session, frame = _spark(store, days=True)
    engines = _engines()
    times = {}
    try:
        began = time.perf_counter()
        if engines is not None:
            resolved = engines.dispatch("resolve_customers", frame)
            if hasattr(resolved, "cache"):
                resolved = resolved.cache()
            times["resolve_customers"] = time.perf_counter() - began
            _finished(times)
            began = time.perf_counter()
            engines.dispatch("journeys", resolved)
        else:  # no resolution on Spark here: journeys by contact, as an ordered window
            times["resolve_customers"] = 0.0
            order = Window.partitionBy("contact").orderBy("start_date_time", "interaction_id")
            steps = frame.select("contact", "start_date_time", "interaction_id").withColumn(
                "new",
                (
                    F.lag("start_date_time").over(order).isNull()
                    | (
                        F.col("start_date_time").cast("long")
                        - F.lag("start_date_time").over(order).cast("long")
                        > 86_400
                    )
                ).cast("int"),
            )
            steps.agg(F.sum("new")).collect()
        times["journeys"] = time.perf_counter() - began
    finally:
        session.stop()
    return times


PHASES = {
    "metrics": lambda store, engine: phase_metrics(store, engine),
    "journeys": lambda store, engine: phase_journeys(store, engine),
    "spark-metrics": lambda store, engine: phase_spark_metrics(store),
    "spark-journeys": lambda store, engine: phase_spark_journeys(store),
}


def run_child(
    phase: str, store: Path, engine: str, memory_gib: float, timeout: float
) -> tuple[dict[str, float], float] | None:
    """Run ``phase`` in a fresh process; return its times and peak memory (GiB, tree), or
    None (said on stdout, with the child's last error line and the steps it finished) when it
    failed, or was stopped for passing ``memory_gib`` of memory or ``timeout`` seconds (so that
    the machine never runs out of memory)."""
    import psutil

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT.parent), os.environ.get("PYTHONPATH", "")]),
        "PYTHONWARNINGS": "ignore::FutureWarning",  # pyspark on pandas 3
    }
    child = subprocess.Popen(
        [
            *(sys.executable, __file__, "--phase", phase, "--store", str(store)),
            *("--engine", engine),
            *(["--journeys-days", str(JOURNEY_DAYS)] if JOURNEY_DAYS is not None else []),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    peak = 0
    process = psutil.Process(child.pid)
    import threading

    errors: list[str] = []
    lines: list[str] = []
    drains = [
        threading.Thread(target=lambda: errors.extend(child.stderr or []), daemon=True),
        threading.Thread(target=lambda: lines.extend(child.stdout or []), daemon=True),
    ]
    for drain in drains:  # the pipes never fill up (Spark's JVM writes to them too)
        drain.start()
    began = time.perf_counter()
    stopped = ""
    while child.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            tree = []
        elapsed = time.perf_counter() - began
        if peak > memory_gib * GIB or elapsed > timeout:
            stopped = (
                f"stopped after {elapsed:.0f} s at {peak / GIB:.2f} GiB (limits: "
                f"{memory_gib:g} GiB, {timeout:.0f} s)"
            )
            for p in reversed(tree):
                with contextlib.suppress(psutil.Error):
                    p.kill()
            child.wait()
            break
        time.sleep(0.1)
    for drain in drains:
        drain.join(timeout=5)
    if stopped or child.returncode != 0:
        last = next((line.strip() for line in reversed(errors) if "Error" in line), "")
        log = DATA / f"bench_scale-{phase}.stderr.log"
        log.write_text("".join(errors))
        why = stopped or f"exit status {child.returncode}; {last[:300]} (stderr: {log})"
        done = [json.loads(line) for line in lines if line.startswith("{")]
        last_step = done[-1] if done else {}
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in last_step.items() if k[:2] != "__")
        print(f"[FAILED] {phase}: {why}; finished: {steps or 'nothing'}", flush=True)
        return None
    report = json.loads(next(line for line in reversed(lines) if line.startswith("{")))
    peak = max(peak, report.pop("__maxrss", 0))
    report.pop("__partial", None)
    return report, peak / GIB


def verdict(phase: str, seconds: float, gib: float) -> str:
    limit_s, limit_gib = TARGETS[phase]
    ok = seconds <= limit_s and gib <= limit_gib
    return (
        f"{'[met]' if ok else '[MISSED]'} {phase}: {seconds:.1f} s (target < {limit_s:.0f} s), "
        f"peak {gib:.2f} GiB (target < {limit_gib:.0f} GiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000_000, help="interactions (default 1e8)")
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark phases")
    parser.add_argument(
        "--engine",
        default="streaming",
        choices=["streaming", "in-memory", "auto"],
        help="polars engine of the metrics and journeys phases (default: streaming)",
    )
    parser.add_argument(
        "--only",
        default="metrics,journeys,spark-metrics,spark-journeys",
        help="the phases to run, comma-separated (default: all four)",
    )
    parser.add_argument(
        "--memory-limit",
        type=float,
        default=22.0,
        help="GiB: a phase whose processes pass it is stopped and reported (default 22)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        help="seconds: a phase running longer is stopped and reported (default 3600)",
    )
    parser.add_argument(
        "--journeys-days",
        type=int,
        help="resolve + journeys (polars and Spark) over the store's first DAYS days only",
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args()

    global JOURNEY_DAYS
    JOURNEY_DAYS = args.journeys_days
    if args.phase:  # a child: run one phase, print its times as JSON
        times = PHASES[args.phase](Path(args.store), args.engine)
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps({**times, "__maxrss": maxrss}))
        return

    store = DATA / f"scale-{args.n}"
    print(f"store: {store} ({args.n:,} interactions over {days_for(args.n)} days)", flush=True)
    began = time.perf_counter()
    build_store(args.n, store)
    size = sum(p.stat().st_size for p in store.rglob("*.parquet"))
    print(f"  ready in {time.perf_counter() - began:.1f} s ({size / GIB:.2f} GiB on disk)")

    if JOURNEY_DAYS is not None:
        share = min(JOURNEY_DAYS, days_for(args.n)) / days_for(args.n)
        print(
            f"  resolve + journeys over the first {JOURNEY_DAYS} days (~{args.n * share:,.0f} rows)"
        )
    only = set(args.only.split(","))
    limits = (args.memory_limit, args.timeout)
    totals: dict[str, float] = {}
    for phase in ("metrics", "journeys"):
        if phase not in only:
            continue
        result = run_child(phase, store, args.engine, *limits)
        if result is None:
            continue
        times, peak = result
        for name, seconds in times.items():
            print(f"  {phase:<16} {name:<20} {seconds:8.2f} s")
        totals[phase] = sum(times.values())
        print(verdict(phase, totals[phase], peak), flush=True)
    if args.no_spark:
        return
    how = "omnikit._engines" if _engines() is not None else "plain PySpark count tables"
    for phase in ("metrics", "journeys"):
        if f"spark-{phase}" not in only:
            continue
        result = run_child(f"spark-{phase}", store, args.engine, *limits)
        if result is None:
            continue
        times, peak = result
        for name, seconds in times.items():
            print(f"  spark-{phase:<10} {name:<20} {seconds:8.2f} s")
        spark = sum(times.values())
        ratio = (
            f"Spark / polars = {spark / max(totals[phase], 1e-9):.2f}x"
            if phase in totals
            else "no polars time in this run to compare"
        )
        print(
            f"spark local[2] {phase} ({how}): {spark:.1f} s, peak {peak:.2f} GiB; {ratio}",
            flush=True,
        )


if __name__ == "__main__":
    main()
