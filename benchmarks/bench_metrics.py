"""Benchmark: omnikit's metrics against the same computations written as SQL in DuckDB.

10,000,000 synthetic interactions (``ok.synth_frame``) are written once to Parquet under
``benchmarks/.data/`` (git-ignored) and reused. Every metric is computed from the Parquet file
(``pl.scan_parquet`` for omnikit, ``read_parquet`` for DuckDB) ``--runs`` times per side, the two
sides alternating run for run in one process (so that a burst of load on the shared machine hits
both), and the medians are kept; the whole set is timed the same way. The results of the two sides
are compared (they must agree). Peak memory is measured in two more processes, one per side, that
compute the whole set once (``VmHWM``, the process's own high-water mark).

Targets (issue 3): every metric no slower than DuckDB (ratio omnikit/duckdb <= 1.0), the whole set
under 10 s, peak memory under 6 GiB. The machine is shared and noisy, hence medians and ratios.

    python benchmarks/bench_metrics.py [--rows 10000000] [--runs 5] [--timezone Europe/Lisbon]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"

INBOUND = "interaction_direction = 'INBOUND'"
ANSWERED = "interaction_status IN ('FINISHED', 'ASSIGNED')"
UNANSWERED = "interaction_status IN ('MISSED', 'ABANDONED', 'SHORT_ABANDONED', 'VOICEMAIL')"
KNOWN = (
    "interaction_status IN ('FINISHED', 'ASSIGNED', 'MISSED', 'ABANDONED', 'SHORT_ABANDONED', "
    "'VOICEMAIL', 'OFFERED')"
)
SHORT = (
    "(interaction_status = 'SHORT_ABANDONED' OR "
    "(interaction_status = 'ABANDONED' AND coalesce(waiting_time < 5, false)))"
)


def _sl_aggregates() -> str:
    return f"""
        count(*) FILTER ({ANSWERED}) AS answered,
        count(*) FILTER ({UNANSWERED}) AS unanswered,
        count(*) FILTER ({ANSWERED} AND waiting_time <= 20) AS answered_within,
        count(*) FILTER ({UNANSWERED} AND {SHORT}) AS short_abandoned,
        count(*) FILTER ({UNANSWERED} AND interaction_status = 'ABANDONED' AND NOT {SHORT})
            AS abandoned,
        avg(waiting_time) FILTER ({ANSWERED}) AS asa"""


def _sl_ratios() -> str:
    return """
        answered + unanswered AS offered, answered, answered_within, unanswered, short_abandoned,
        abandoned,
        answered_within / nullif(answered + unanswered - short_abandoned, 0) AS service_level,
        abandoned / nullif(answered + unanswered - short_abandoned, 0) AS abandon_rate,
        asa"""


HOUR_GRID = (
    "(SELECT d::TINYINT AS weekday, h::TINYINT AS hour FROM range(1, 8) a(d), range(24) b(h))"
)

#: name -> (omnikit call on a LazyFrame ``lf``, the same computation in DuckDB SQL over ``src``)
METRICS: dict[str, tuple[str, str]] = {
    "channel_mix": (
        "ok.channel_mix(lf)",
        """SELECT interaction_type, count(*) AS interactions,
                  count(*) / sum(count(*)) OVER () AS share
           FROM src GROUP BY interaction_type ORDER BY interaction_type NULLS LAST""",
    ),
    "channel_mix(every=1d, by=direction)": (
        "ok.channel_mix(lf, by='interaction_direction', every='1d')",
        """SELECT period, interaction_direction, interaction_type, interactions,
                  interactions / sum(interactions)
                      OVER (PARTITION BY period, interaction_direction) AS share
           FROM (SELECT date_trunc('day', start_date_time) AS period, interaction_direction,
                        interaction_type, count(*) AS interactions
                 FROM src GROUP BY ALL)
           ORDER BY period NULLS LAST, interaction_direction NULLS LAST,
                    interaction_type NULLS LAST""",
    ),
    "wait_time_stats": (
        "ok.wait_time_stats(lf)",
        """SELECT interaction_type, n, mean, q[1] AS p50, q[2] AS p90, q[3] AS p95, max
           FROM (SELECT interaction_type, count(*) AS n, avg(waiting_time) AS mean,
                        quantile_cont(waiting_time, [0.5, 0.9, 0.95]) AS q, max(waiting_time) AS max
                 FROM src WHERE waiting_time IS NOT NULL GROUP BY interaction_type)
           ORDER BY interaction_type NULLS LAST""",
    ),
    "wait_time_histogram(bins=30)": (
        "ok.wait_time_histogram(lf, bins=30)",
        """WITH w AS (SELECT coalesce(max(waiting_time), 0) // 30 + 1 AS width FROM src),
           c AS (SELECT interaction_type, waiting_time // width AS bin, count(*) AS count
                 FROM src, w WHERE waiting_time IS NOT NULL GROUP BY ALL),
           grid AS (SELECT g.interaction_type, b AS bin, width
                    FROM (SELECT DISTINCT interaction_type FROM c) g, range(30) t(b), w),
           j AS (SELECT grid.interaction_type, grid.bin, grid.bin * width AS bin_start,
                        (grid.bin + 1) * width AS bin_end, coalesce(c.count, 0) AS count
                 FROM grid LEFT JOIN c
                      ON grid.interaction_type IS NOT DISTINCT FROM c.interaction_type
                                      AND grid.bin = c.bin)
           SELECT *, count / sum(count) OVER (PARTITION BY interaction_type) AS share,
                  sum(count) OVER (PARTITION BY interaction_type ORDER BY bin)
                    / sum(count) OVER (PARTITION BY interaction_type) AS cumulative_share
           FROM j ORDER BY interaction_type NULLS LAST, bin""",
    ),
    "service_level": (
        "ok.service_level(lf)",
        f"""SELECT interaction_type, {_sl_ratios()}
            FROM (SELECT interaction_type, {_sl_aggregates()}
                  FROM src WHERE {INBOUND} AND {KNOWN} GROUP BY interaction_type)
            ORDER BY interaction_type NULLS LAST""",
    ),
    "wait_time_survival": (
        "ok.wait_time_survival(lf)",
        f"""WITH g AS (SELECT interaction_type, waiting_time AS time,
                              count(*) FILTER ({UNANSWERED}) AS events,
                              count(*) FILTER ({ANSWERED}) AS censored
                       FROM src
                       WHERE {INBOUND} AND waiting_time IS NOT NULL AND ({ANSWERED} OR {UNANSWERED})
                       GROUP BY ALL),
           r AS (SELECT *, sum(events + censored)
                          OVER (PARTITION BY interaction_type ORDER BY time DESC
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS at_risk FROM g)
           SELECT interaction_type, time, at_risk, events, censored,
                  product(1 - events / at_risk) OVER (PARTITION BY interaction_type ORDER BY time
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS survival
           FROM r ORDER BY interaction_type NULLS LAST, time""",
    ),
    "hourly_profile(volume)": (
        "ok.hourly_profile(lf)",
        f"""WITH c AS (SELECT isodow(start_date_time) AS weekday, hour(start_date_time) AS hour,
                              count(*) AS volume
                       FROM src WHERE start_date_time IS NOT NULL GROUP BY ALL)
            SELECT grid.weekday, grid.hour, coalesce(volume, 0) AS volume
            FROM {HOUR_GRID} grid LEFT JOIN c USING (weekday, hour) ORDER BY 1, 2""",
    ),
    "hourly_profile(median_wait)": (
        "ok.hourly_profile(lf, value='median_wait')",
        f"""WITH c AS (SELECT isodow(start_date_time) AS weekday, hour(start_date_time) AS hour,
                              median(waiting_time) AS median_wait, count(waiting_time) AS n
                       FROM src WHERE start_date_time IS NOT NULL GROUP BY ALL)
            SELECT grid.weekday, grid.hour, median_wait, coalesce(n, 0) AS n
            FROM {HOUR_GRID} grid LEFT JOIN c USING (weekday, hour) ORDER BY 1, 2""",
    ),
    "hourly_profile(service_level)": (
        "ok.hourly_profile(lf, value='service_level')",
        f"""WITH c AS (SELECT weekday, hour, {_sl_ratios()}
                       FROM (SELECT isodow(start_date_time) AS weekday,
                                    hour(start_date_time) AS hour,
                                    {_sl_aggregates()}
                             FROM src WHERE start_date_time IS NOT NULL AND {INBOUND} AND {KNOWN}
                             GROUP BY ALL))
            SELECT grid.weekday, grid.hour, service_level, coalesce(offered, 0) AS offered
            FROM {HOUR_GRID} grid LEFT JOIN c USING (weekday, hour) ORDER BY 1, 2""",
    ),
}


# --------------------------------------------------------------------------------------------
# the data


def data_file(rows: int, timezone: str) -> Path:
    """Write (once) ``rows`` synthetic interactions to Parquet and return the path."""
    import polars as pl

    import omnikit as ok

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"interactions_{rows}_seed0_{timezone.replace('/', '-')}.parquet"
    if path.exists():
        return path
    print(
        f"generating {rows:,} interactions with ok.synth_frame into {path} (once) ...", flush=True
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = ok.synth_frame(rows, seed=0, timezone=timezone)
    tmp = path.with_suffix(".tmp")
    frame.write_parquet(tmp, statistics=True, row_group_size=1_000_000)
    tmp.rename(path)
    del frame
    print(
        f"  done in {time.perf_counter() - started:.0f} s, {path.stat().st_size / 2**20:.0f} MiB",
        flush=True,
    )
    assert pl.scan_parquet(path).select(pl.len()).collect().item() == rows
    return path


# --------------------------------------------------------------------------------------------
# one side, in its own process


def makers(path: Path, timezone: str) -> dict:
    """For each side, a function from a metric's name to a function computing it once."""
    import duckdb
    import polars as pl

    import omnikit as ok

    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{timezone}'")
    con.execute(f"CREATE VIEW src AS SELECT * FROM read_parquet('{path}')")

    def omnikit_metric(name: str):
        code = compile(METRICS[name][0], name, "eval")
        return lambda: eval(code, {"ok": ok, "lf": pl.scan_parquet(path)})

    def duckdb_metric(name: str):
        sql = METRICS[name][1]
        return lambda: con.sql(sql).pl()

    return {"omnikit": omnikit_metric, "duckdb": duckdb_metric}


def timing_process(path: Path, timezone: str, runs: int, out: Path) -> None:
    """Time both sides in one process, run for run, alternating which goes first."""
    make = makers(path, timezone)
    warnings.simplefilter("ignore")  # DataQualityWarnings about the synthetic data's odd rows
    timings: dict[str, dict[str, list[float]]] = {side: {} for side in make}
    for i, name in enumerate(METRICS):
        funcs = {side: make[side](name) for side in make}
        order = list(funcs)
        for side in order:
            timings[side][name] = []
        for run in range(runs):
            for side in order if run % 2 else order[::-1]:
                started = time.perf_counter()
                result = funcs[side]()
                timings[side][name].append(time.perf_counter() - started)
                if run == 0:
                    result.write_parquet(out / f"{side}_{i}.parquet")
    whole: dict[str, list[float]] = {side: [] for side in make}
    sets = {side: [make[side](name) for name in METRICS] for side in make}
    for run in range(runs):
        for side in list(sets) if run % 2 else list(sets)[::-1]:
            started = time.perf_counter()
            for func in sets[side]:
                func()
            whole[side].append(time.perf_counter() - started)
    print(json.dumps({"timings": timings, "whole": whole}))


def memory_process(side: str, path: Path, timezone: str) -> None:
    """Compute the whole set once on one side only, and report this process's peak memory."""
    make = makers(path, timezone)[side]
    warnings.simplefilter("ignore")
    for name in METRICS:
        make(name)()
    print(json.dumps({"peak": peak_memory()}))


def peak_memory() -> int:
    """Peak resident memory of this process in bytes (VmHWM: this program's own high-water mark;
    ru_maxrss would also count the parent's, which survives fork and exec on Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux: KiB on Linux only


def spawn(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"{' '.join(args[:2])} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# checking that both sides computed the same thing


def same_results(out: Path) -> list[str]:
    import polars as pl
    from polars.testing import assert_frame_equal

    problems = []
    for i, name in enumerate(METRICS):
        mine = pl.read_parquet(out / f"omnikit_{i}.parquet")
        theirs = pl.read_parquet(out / f"duckdb_{i}.parquet")
        theirs.columns = mine.columns

        def normal(f: pl.DataFrame) -> pl.DataFrame:  # compare instants, whatever the zone
            return f.with_columns(
                pl.col(c).dt.convert_time_zone("UTC")
                for c, t in f.schema.items()
                if isinstance(t, pl.Datetime)
            )

        try:
            assert_frame_equal(
                normal(mine), normal(theirs), check_dtypes=False, rel_tol=1e-9, abs_tol=1e-9
            )
        except AssertionError as exc:
            problems.append(f"{name}: {str(exc).splitlines()[0]}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--runs", type=int, default=5, help="runs of each metric and of the whole set"
    )
    parser.add_argument("--timezone", default="Europe/Lisbon")
    parser.add_argument("--side", choices=["timing", "omnikit", "duckdb"])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.side == "timing":
        timing_process(args.data, args.timezone, args.runs, args.out)
        return
    if args.side:
        memory_process(args.side, args.data, args.timezone)
        return

    path = data_file(args.rows, args.timezone)
    common = ["--data", str(path), "--timezone", args.timezone]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        timed = spawn("--side", "timing", *common, "--runs", str(args.runs), "--out", str(out))
        problems = same_results(out)
    peaks = {side: spawn("--side", side, *common)["peak"] for side in ("omnikit", "duckdb")}
    duck, mine = (
        {
            "timings": {name: statistics.median(v) for name, v in timed["timings"][side].items()},
            "whole": statistics.median(timed["whole"][side]),
            "peak": peaks[side],
        }
        for side in ("duckdb", "omnikit")
    )

    import duckdb
    import polars as pl

    print(
        f"\nomnikit metrics vs DuckDB SQL, {args.rows:,} interactions from Parquet "
        f"({path.stat().st_size / 2**20:.0f} MiB, timezone {args.timezone}),\n"
        f"median of {args.runs} runs, "
        "the two sides alternating run for run in one process; peak memory: one process per side; "
        f"polars {pl.__version__}, duckdb {duckdb.__version__}, {os.cpu_count()} cores\n"
    )
    width = max(len(n) for n in METRICS)
    print(f"{'metric':<{width}}  {'omnikit s':>9}  {'duckdb s':>9}  {'ratio':>6}")
    worst = 0.0
    for name in METRICS:
        a, b = mine["timings"][name], duck["timings"][name]
        worst = max(worst, a / b)
        print(f"{name:<{width}}  {a:>9.3f}  {b:>9.3f}  {a / b:>6.2f}")
    total_a, total_b = sum(mine["timings"].values()), sum(duck["timings"].values())
    print(
        f"{'sum of the medians':<{width}}  {total_a:>9.3f}  {total_b:>9.3f}  "
        f"{total_a / total_b:>6.2f}"
    )
    print(
        f"{'whole set in a row':<{width}}  {mine['whole']:>9.3f}  {duck['whole']:>9.3f}  "
        f"{mine['whole'] / duck['whole']:>6.2f}"
    )
    gib = 2**30
    print(f"{'peak memory (GiB)':<{width}}  {mine['peak'] / gib:>9.2f}  {duck['peak'] / gib:>9.2f}")
    print()
    checks = [
        (f"every metric ratio <= 1.0 (worst {worst:.2f})", worst <= 1.0),
        (f"whole set < 10 s ({mine['whole']:.2f} s)", mine["whole"] < 10),
        (f"peak memory < 6 GiB ({mine['peak'] / gib:.2f} GiB)", mine["peak"] < 6 * gib),
        (
            "results agree with DuckDB" + ("" if not problems else ": " + "; ".join(problems)),
            not problems,
        ),
    ]
    for text, ok_ in checks:
        print(f"[{'met' if ok_ else 'MISSED'}] {text}")


if __name__ == "__main__":
    main()
