"""Benchmark ``omnikit fetch``: a 90-day range (3 jobs of 300,000 interactions) from the stand-in.

The Talkdesk stand-in runs in its own process (so its serving does not share our GIL) with a
realistic job time. Each of the three jobs' spans is first fetched alone into an empty store
(create, poll, download, parse, write the day files) and timed; then the whole range is
fetched into an empty store the same way, the three jobs running concurrently. Target: the
fetch takes at most 1.3x the slowest single job,
since the jobs overlap and download and parsing are small next to the job time. Every run is a
fresh worker process, so its peak RSS is that run's own; medians over ``--repeats``.

    .venv/bin/python benchmarks/bench_fetch.py [--rows 300000] [--job-seconds 5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START, END, TZ = "2024-06-03", "2024-09-01", "UTC"  # 90 days: 31 + 31 + 28


def spans() -> list[tuple[object, object]]:
    from omnikit.explore import parse_when, split_range

    return split_range(parse_when(START, TZ), parse_when(END, TZ), TZ)


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def serve(rows: int, job_seconds: float) -> None:
    """Run the stand-in with ``rows`` interactions in each job's span until stdin closes."""
    import polars as pl

    import omnikit as ok
    from omnikit.testing import TalkdeskStandIn

    parts = []
    for index, (start, end) in enumerate(spans()):
        days = round((end - start).total_seconds() / 86400)  # type: ignore[operator]
        parts.append(ok.synth_frame(rows, seed=index, start=start.date(), days=days, timezone=TZ))  # type: ignore[attr-defined]
    frame = pl.concat(parts)
    with TalkdeskStandIn(frame, job_seconds=job_seconds, url_ttl=600) as standin:
        print(json.dumps(standin.environ()), flush=True)
        sys.stdin.read()


def worker(mode: str, index: int, store: str) -> None:
    """Time one run: ``single`` (job ``index`` alone) or ``fetch`` (the range into ``store``)."""
    import omnikit as ok
    from omnikit._fetch import FetchSummary
    from omnikit.explore import ExploreClient

    before = rss_mib()
    with ExploreClient() as client:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = usage.ru_utime + usage.ru_stime
        started = time.perf_counter()
        # The same pipeline either way, that of `omnikit fetch`: jobs, downloads, parsing and
        # writing the day files (nothing is read back).
        start, end = spans()[index] if mode == "single" else (START, END)
        summary = FetchSummary(Path(store), TZ, None, None)  # type: ignore[arg-type]
        ok.fetch(
            start,
            end,
            timezone=TZ,
            store=store,
            client=client,
            progress=False,
            summary=summary,
            read=False,
        )  # type: ignore[arg-type]
        rows = summary.rows
        seconds = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = usage.ru_utime + usage.ru_stime - cpu
    peak = usage.ru_maxrss / 1024
    print(
        json.dumps(
            {"seconds": seconds, "cpu": cpu, "rows": rows, "rss_before": before, "peak_rss": peak}
        )
    )


def run_worker(env: dict[str, str], *args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=300_000, help="interactions per job (default 300,000)"
    )
    parser.add_argument(
        "--job-seconds", type=float, default=5.0, help="stand-in job time (default 5 s)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--worker", nargs=3, metavar=("MODE", "INDEX", "STORE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        serve(args.rows, args.job_seconds)
        return
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), args.worker[2])
        return

    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--rows",
            str(args.rows),
            "--job-seconds",
            str(args.job_seconds),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    scratch = Path(tempfile.mkdtemp(prefix="bench-fetch-"))
    try:
        assert server.stdout is not None
        env = {**os.environ, **json.loads(server.stdout.readline())}
        count = len(spans())
        singles: list[list[dict[str, float]]] = [[] for _ in range(count)]
        fetches: list[dict[str, float]] = []
        for repeat in range(args.repeats):
            for index in range(count):
                store = scratch / f"single-{repeat}-{index}"
                singles[index].append(run_worker(env, "single", str(index), str(store)))
                shutil.rmtree(store)
            store = scratch / f"store-{repeat}"
            fetches.append(run_worker(env, "fetch", "0", str(store)))
            shutil.rmtree(store)
        single_medians = [statistics.median(r["seconds"] for r in runs) for runs in singles]
        slowest = max(single_medians)
        fetch_median = statistics.median(r["seconds"] for r in fetches)
        rows = int(fetches[0]["rows"])
        print(
            f"bench_fetch: {START}..{END} ({count} jobs x {args.rows:,} interactions, "
            f"stand-in job time {args.job_seconds:g} s), medians of {args.repeats} runs"
        )

        def line(label: str, median: float, runs: list[dict[str, float]]) -> str:
            cpu = statistics.median(r["cpu"] for r in runs)
            peak = statistics.median(r["peak_rss"] for r in runs)
            return f"  {label:<22}{median:7.2f} s wall {cpu:7.2f} s CPU   peak RSS {peak:6.0f} MiB"

        for index, (median, runs) in enumerate(zip(single_medians, singles, strict=False)):
            print(line(f"job {index + 1} alone:", median, runs))
        print(
            line("whole range (fetch):", fetch_median, fetches)
            + f"   ({rows:,} rows into the store)"
        )
        print(
            "  process RSS after imports: "
            f"{statistics.median(r['rss_before'] for r in fetches):.0f} MiB; "
            f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        ratio = fetch_median / slowest

        def runs_text(runs: list[dict[str, float]]) -> str:
            return ", ".join(f"{r['seconds']:.2f}" for r in runs)

        print(
            f"  fetch runs: {runs_text(fetches)} s; single runs: "
            + "; ".join(runs_text(runs) for runs in singles)
            + " s"
        )
        print(
            f"  fetch / slowest single job = {ratio:.2f}x  "
            f"(target <= 1.30x: {'met' if ratio <= 1.3 else 'NOT met'})"
        )
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
