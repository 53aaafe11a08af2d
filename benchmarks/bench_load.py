"""Benchmark ``ok.load`` on a 1,000,000-entry JSON envelope against the usual ways to read it.

Every contender runs in a fresh subprocess (so each peak memory is its own) several times; the
table shows medians and ratios measured in this one run. Targets (issue 2): ``ok.load`` at least
1.5x faster than the fastest baseline and 4x faster than pandas, peak memory at most 2x the file
size, and loading the unchanged file again (the cache) at least 20x faster than the first load.

    python benchmarks/bench_load.py [--rows 1000000] [--repeat 3]
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

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"


def contender(name: str, path: str, cache_dir: str) -> None:
    """Run one contender in this process and print its seconds and peak memory as JSON."""
    os.environ["OMNIKIT_CACHE_DIR"] = cache_dir
    # Imports are not timed: each contender pays for its libraries once per process.
    import msgspec
    import orjson
    import pandas as pd
    import polars as pl

    import omnikit as ok

    start = time.perf_counter()
    if name in ("ok.load (first)", "ok.load (again)"):
        rows = ok.load(path, cache=True).height
    elif name == "pandas json.load + json_normalize":
        with open(path) as handle:
            rows = len(pd.json_normalize(json.load(handle)["entries"]))
    elif name == "msgspec decode + pl.DataFrame":
        with open(path, "rb") as handle:
            rows = pl.DataFrame(msgspec.json.decode(handle.read())["entries"]).height
    elif name == "orjson decode + pl.DataFrame":
        with open(path, "rb") as handle:
            rows = pl.DataFrame(orjson.loads(handle.read())["entries"]).height
    elif name == "pl.read_json + explode/unnest":
        rows = pl.read_json(path).select(pl.col("entries").explode()).unnest("entries").height
    else:
        raise SystemExit(f"unknown contender {name}")
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak": peak_memory(), "rows": rows}))


def peak_memory() -> int:
    """This process's peak resident memory in bytes (VmHWM: not inherited from the parent)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run(name: str, path: Path, cache_dir: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--contender", name, str(path), str(cache_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--contender", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contender:
        contender(*args.contender)
        return

    import omnikit as ok

    DATA.mkdir(exist_ok=True)
    path = DATA / f"load_{args.rows}.json"
    if not path.exists():
        print(f"generating {path.name} with ok.synth_report ...", flush=True)
        ok.synth_report(path, args.rows, seed=7)
    size = path.stat().st_size
    print(f"file: {path.name}, {args.rows:,} entries, {size / 1e6:,.0f} MB (compact JSON envelope)")
    print(
        f"machine: {os.cpu_count()} cores; median of {args.repeat} runs, each in a fresh process\n"
    )

    baselines = [
        "pandas json.load + json_normalize",
        "msgspec decode + pl.DataFrame",
        "orjson decode + pl.DataFrame",
        "pl.read_json + explode/unnest",
    ]
    results: dict[str, list[dict[str, float]]] = {}
    cache_dir = Path(tempfile.mkdtemp(prefix="omnikit-bench-cache-"))
    try:
        for _ in range(args.repeat):
            # Interleave contenders so machine noise hits them alike.
            shutil.rmtree(cache_dir, ignore_errors=True)
            results.setdefault("ok.load (first)", []).append(
                run("ok.load (first)", path, cache_dir)
            )
            results.setdefault("ok.load (again)", []).append(
                run("ok.load (again)", path, cache_dir)
            )
            for name in baselines:
                results.setdefault(name, []).append(run(name, path, cache_dir))
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    seconds = {
        name: statistics.median(r["seconds"] for r in runs) for name, runs in results.items()
    }
    peaks = {name: max(r["peak"] for r in runs) for name, runs in results.items()}
    first = seconds["ok.load (first)"]
    print(
        f"{'contender':36} {'seconds':>8} {'rows/s':>12} {'MB/s':>8} {'peak MB':>8} {'vs ok.load':>10}"
    )
    for name in results:
        s = seconds[name]
        print(
            f"{name:36} {s:8.3f} {args.rows / s:12,.0f} {size / 1e6 / s:8.0f} "
            f"{peaks[name] / 1e6:8.0f} {s / first:9.2f}x"
        )
    fastest = min(baselines, key=seconds.__getitem__)
    print()
    checks = [
        (f"ok.load vs fastest baseline ({fastest})", seconds[fastest] / first, 1.5, "x faster"),
        ("ok.load vs pandas", seconds[baselines[0]] / first, 4.0, "x faster"),
        (
            "loading again (cache) vs first load",
            first / seconds["ok.load (again)"],
            20.0,
            "x faster",
        ),
    ]
    for label, value, target, unit in checks:
        verdict = "meets" if value >= target else "MISSES"
        print(f"{label:58} {value:7.2f}{unit}  (target >= {target:g}: {verdict})")
    ratio = peaks["ok.load (first)"] / size
    verdict = "meets" if ratio <= 2.0 else "MISSES"
    print(f"{'ok.load peak memory / file size':58} {ratio:7.2f}x  (target <= 2: {verdict})")


if __name__ == "__main__":
    main()
