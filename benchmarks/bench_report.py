"""Benchmark: `omnikit report weekly_report` on 100,000 and 1,000,000 interactions.

For each size, sample report files are written with ``ok.synth_reports`` (4 overlapping JSON
files over 28 days, as a month of weekly downloads), then:

- ``omnikit report weekly_report --source DIR`` runs as a subprocess: wall time (kernel start,
  execution, HTML export), peak resident memory of the command and of its kernel (``VmHWM``
  sampled from ``/proc``), and the size of the HTML page; the first run is cold (nothing in
  omnikit's file cache), the others warm;
- the notebook's own computing time, which the notebook measures and records
  (``compute_seconds``: from ``ok.report_data`` to the last cell, without kernel start and
  export), is compared with running the same code cells in a plain Python process (the same
  omnikit calls, no kernel, no display): the ratio of medians of the warm runs.

Targets: 1,000,000 interactions in under 60 s (cold), HTML under 3 MB, notebook/direct <= 2.

    python benchmarks/bench_report.py [--sizes 100000 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import omnikit as ok

DIRECT = r"""
import json, sys, time
import nbformat
import omnikit as ok

ok.record_results = lambda **values: None  # nothing to record outside a kernel
path, source, timezone = sys.argv[1], sys.argv[2], sys.argv[3]
nb = nbformat.read(path, as_version=4)
namespace = {}
parameters = next(
    i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])
)
exec(nb.cells[parameters].source, namespace)
namespace.update(source=[source], timezone=timezone)
code = [cell.source for cell in nb.cells[parameters + 1:] if cell.cell_type == "code"]
began = time.perf_counter()
for source_code in code:
    exec(compile(source_code, "<cell>", "exec"), namespace)
print(json.dumps({"seconds": time.perf_counter() - began}))
"""


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for child in children.get(current, []):
            found.append(child)
            todo.append(child)
    return found


def peak_rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_command(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Run ``args``; return wall seconds, peak RSS of the process and of its largest descendant."""
    began = time.perf_counter()
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    peaks: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in [process.pid, *descendants(process.pid)]:
                value = peak_rss_mib(pid)
                if value is not None:
                    peaks[pid] = max(peaks.get(pid, 0.0), value)
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - began
    done.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{stderr}")
    own = peaks.pop(process.pid, 0.0)
    return seconds, own, max(peaks.values(), default=0.0)


def direct_seconds(source: Path, env: dict[str, str]) -> float:
    notebook = Path(ok._parameters._notebook_path("weekly_report"))
    answer = subprocess.run(
        [sys.executable, "-c", DIRECT, str(notebook), str(source), "UTC"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if answer.returncode:
        raise SystemExit(f"direct run failed:\n{answer.stderr}")
    return json.loads(answer.stdout.strip().splitlines()[-1])["seconds"]


def bench(rows: int, repeat: int, root: Path) -> dict[str, float]:
    data = root / f"data-{rows}"
    began = time.perf_counter()
    ok.synth_reports(data, rows, seed=1, days=28, windows=4)
    made = time.perf_counter() - began
    size = sum(p.stat().st_size for p in data.iterdir()) / 2**20
    print(f"\n{rows:,} interactions: {size:.0f} MiB of JSON in 4 files (made in {made:.1f} s)")
    env = {**os.environ, "OMNIKIT_CACHE_DIR": str(root / f"cache-{rows}")}
    out = root / f"reports-{rows}"
    command = [
        sys.executable,
        "-m",
        "omnikit",
        "report",
        "weekly_report",
        "--source",
        str(data),
        "--out",
        str(out),
    ]

    walls, kernels, notebooks, directs = [], [], [], []
    for attempt in range(repeat + 1):  # the first run is cold: it also fills the file cache
        wall, own, kernel = run_command(command, env)
        compute = ok.read_results(out / "weekly_report.ipynb")["compute_seconds"]
        html_mib = (out / "weekly_report.html").stat().st_size / 2**20
        label = "cold" if attempt == 0 else "warm"
        print(
            f"  report run {attempt} ({label}): wall {wall:6.1f} s | "
            f"notebook computing {compute:6.2f} s | "
            f"peak RSS command {own:5.0f} MiB, kernel {kernel:5.0f} MiB | HTML {html_mib:.2f} MiB"
        )
        if attempt == 0:
            cold = {
                "wall": wall,
                "own": own,
                "kernel": kernel,
                "html": html_mib,
                "compute": compute,
            }
            continue
        walls.append(wall)
        kernels.append(kernel)
        notebooks.append(compute)
        direct = direct_seconds(data, env)
        directs.append(direct)
        print(f"  direct run {attempt}: same code cells in plain Python {direct:6.2f} s")
    ratio = statistics.median(notebooks) / statistics.median(directs)
    print(
        f"  => {rows:,}: cold wall {cold['wall']:.1f} s, "
        f"warm wall median {statistics.median(walls):.1f} s; "
        f"HTML {cold['html']:.2f} MiB; peak RSS kernel {max([cold['kernel'], *kernels]):.0f} MiB, "
        f"command {cold['own']:.0f} MiB; notebook/direct computing = "
        f"{statistics.median(notebooks):.2f} s / {statistics.median(directs):.2f} s = {ratio:.2f}x"
    )
    return {"cold_wall": cold["wall"], "html_mib": cold["html"], "ratio": ratio}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per size (default 3)")
    args = parser.parse_args()
    print(f"bench_report: weekly_report, python {sys.version.split()[0]}, {os.cpu_count()} cores")
    results = {}
    with tempfile.TemporaryDirectory(prefix="omnikit-bench-report-") as root:
        for rows in args.sizes:
            results[rows] = bench(rows, args.repeat, Path(root))
    print(
        "\nsummary (targets: 1,000,000 under 60 s cold, HTML under 3 MB, notebook/direct <= 2.0x)"
    )
    for rows, result in results.items():
        verdict = [
            f"wall {result['cold_wall']:.1f} s"
            + (" OK" if rows < 1_000_000 or result["cold_wall"] < 60 else " OVER"),
            f"HTML {result['html_mib']:.2f} MiB"
            + (" OK" if result["html_mib"] * 2**20 < 3e6 else " OVER"),
            f"ratio {result['ratio']:.2f}x" + (" OK" if result["ratio"] <= 2 else " OVER"),
        ]
        print(f"  {rows:>9,}: " + " | ".join(verdict))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
