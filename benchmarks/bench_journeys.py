"""Benchmark: customer resolution and journeys on 10,000,000 interactions.

Targets (issue 4):

- ``resolve_customers`` + ``journeys`` on 10,000,000 synthetic interactions (about 1.5 million
  customers) in under 30 s, with peak memory under 8 GiB;
- on 1,000,000 rows, omnikit's resolution at least 10x faster per row than the same resolution
  with ``networkx.connected_components``, measured in the same run.

What the networkx comparison compares (like with like): both sides run the *same* identifier
extraction -- omnikit's own code for the id columns, contact classification, phonenumbers
parsing (with the same one-parse-per-number shortcut) and the ``max_contact_ids`` guard -- so
both link exactly the same rows (checked: ``same customers as omnikit``). The networkx side then
builds the straightforward graph (one node per row, one per linking identifier, an edge from each
row to each of its identifiers), runs ``networkx.connected_components`` and names customers the
omnikit way; omnikit builds its identifier graph and runs ``scipy.sparse.csgraph``. The headline
ratio is over the *whole* resolution, shared extraction included (which is most of omnikit's
time); the "graph + assignment" line isolates the part that differs (omnikit's share is its
resolution time minus the shared preparation timed on its own in the same process).
The two sides run in alternating fresh processes (``--repeat`` times each) and the ratio is of
their medians, so a change of machine load hits both alike.

Data comes from ``ok.synth_frame`` and is cached as Parquet under ``benchmarks/.data/``, in a file
named by the row count, the seed and a fingerprint of the generator (the source of
``omnikit/_synth.py`` and the numpy and polars versions), so a changed generator never reuses an
old file (an old cache made with the first generator is why one machine once printed 239,331
customers on the 1,000,000-row frame and another 222,808). Peak
memory is the maximum resident set size (``ru_maxrss``) of a fresh child process that loads the
data and runs the timed steps, so the figure is not inflated by the parent. Times are medians of
``--repeat`` runs (default 3 for 1M rows, 1 for 10M rows).

Run: ``.venv/bin/python benchmarks/bench_journeys.py [--rows 10000000] [--small 1000000]
[--omnikit PATH] [--generator PATH]``. ``--omnikit`` times the omnikit of another checkout (its
directory goes first on the children's ``PYTHONPATH``), so today's main and a branch can be run
one after the other on the same machine; the first line printed says which omnikit ran.
``--generator`` makes the data with another checkout's generator, so two checkouts whose
generators differ are timed on the same rows.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"


#: The checkout whose generator makes the data (``--generator``); None: the omnikit being timed.
GENERATOR: str | None = None


def generator_fingerprint() -> str:
    """12 hex digits naming what the synthetic data depend on: the generator's source and the
    numpy and polars versions."""
    import numpy as np

    if GENERATOR is not None:
        source = (Path(GENERATOR) / "omnikit" / "_synth.py").read_text(encoding="utf-8")
    else:
        from omnikit import _synth

        source = inspect.getsource(_synth)
    digest = hashlib.sha256(source.encode())
    digest.update(f"numpy {np.__version__} polars {pl.__version__}".encode())
    return digest.hexdigest()[:12]


def data_path(n: int, seed: int) -> Path:
    return DATA / f"journeys_synth_{n}_{seed}_{generator_fingerprint()}.parquet"


def ensure_data(n: int, seed: int = 0) -> Path:
    """Generate (once) and cache ``n`` synthetic interactions as Parquet, with the generator of
    ``--generator`` (in a child process) or of the omnikit being timed."""
    path = data_path(n, seed)
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if GENERATOR is not None:
            code = (
                "import sys, omnikit as ok; "
                "ok.synth_frame(int(sys.argv[1]), seed=int(sys.argv[2])).write_parquet(sys.argv[3])"
            )
            env = {**os.environ, "PYTHONPATH": GENERATOR}
            subprocess.run(
                [sys.executable, "-c", code, str(n), str(seed), str(path)], env=env, check=True
            )
        else:
            import omnikit as ok

            ok.synth_frame(n, seed=seed).write_parquet(path)
        print(
            f"  generated {n:,} rows in {time.perf_counter() - t0:.1f} s -> {path.name}", flush=True
        )
    return path


def identifier_prep(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """What both resolutions share: the id columns, distinct tuples, guarded identifiers."""
    from omnikit import _customers as c

    ids = c._identifier_frame(df.lazy())
    if hasattr(c, "_guarded_identifiers"):  # the hub guard (identities, placeholders)
        tuples, long = c._guarded_identifiers(ids, "US", False, 3)
    else:  # an older checkout: contact ids only
        tuples = c._tuples(ids, False)
        long = c._guarded(c._identifiers(tuples, "US", False), 3)
    return ids, tuples, long.filter("linked")


def networkx_resolution(df: pl.DataFrame) -> tuple[pl.Series, float]:
    """The same resolution as ``ok.resolve_customers`` with networkx doing the graph part.

    Identifiers and the guard come from omnikit (so both sides link exactly the same rows);
    the graph has one node per row and one per identifier, an edge from each row to each of
    its linking identifiers, and ``networkx.connected_components`` finds the customers, each
    named the omnikit way (a hash of the component's smallest identifier). Returns the
    customer of every row and the seconds spent after the shared preparation.
    """
    import networkx as nx

    from omnikit import _customers as c

    ids, tuples, long = identifier_prep(df)
    t0 = time.perf_counter()
    rows = long.join(tuples.select("__t", "__rows").explode("__rows"), on="__t").select(
        "__rows", "kind", "key"
    )
    graph = nx.Graph()
    graph.add_nodes_from(range(ids.height))
    graph.add_edges_from((row, (kind, key)) for row, kind, key in rows.iter_rows())
    customer: list[str | None] = [None] * ids.height
    smallest: list[str] = []
    members: list[list[int]] = []
    lonely: list[int] = []
    for component in nx.connected_components(graph):
        keys = [n for n in component if isinstance(n, tuple)]
        if not keys:
            lonely.extend(component)
            continue
        kind, key = min(keys)
        smallest.append(f"{kind}:{key}")
        members.append([n for n in component if isinstance(n, int)])
    for name, part in zip(c._pseudonyms(smallest), members, strict=True):
        for row in part:
            customer[row] = name
    # Rows without a linking identifier: each its own customer, named as omnikit does.
    alone = tuples.filter(pl.col("__rows").list.eval(pl.element().is_in(lonely)).list.any())
    own, own_keys = c._own_keys(ids, alone)
    own_names = c._pseudonyms(own_keys)
    for row, k in own.iter_rows():
        customer[row] = own_names[k]
    return pl.Series("customer_id", customer, dtype=pl.String), time.perf_counter() - t0


def child(task: str, path: str, repeat: int) -> None:
    """Run one timed task in this (fresh) process and print a JSON line with its times."""
    import omnikit as ok

    df = pl.read_parquet(path)
    times: dict[str, list[float]] = {}
    result: dict[str, object] = {"rows": df.height}
    for _ in range(repeat):
        if task in ("omnikit", "full"):
            t0 = time.perf_counter()
            resolved = ok.resolve_customers(df)
            t1 = time.perf_counter()
            times.setdefault("resolve", []).append(t1 - t0)
            result["customers"] = resolved["customer_id"].n_unique()
            if task == "omnikit":  # the shared preparation alone, to isolate the graph part
                t2 = time.perf_counter()
                identifier_prep(df)
                times.setdefault("prep", []).append(time.perf_counter() - t2)
            if task == "full":
                j = ok.journeys(resolved)
                times.setdefault("journeys", []).append(time.perf_counter() - t1)
                times.setdefault("total", []).append(time.perf_counter() - t0)
                result["journeys"] = j.height
            del resolved
        elif task == "networkx":
            t0 = time.perf_counter()
            customer, graph_seconds = networkx_resolution(df)
            times.setdefault("resolve", []).append(time.perf_counter() - t0)
            times.setdefault("graph", []).append(graph_seconds)
            result["customers"] = customer.n_unique()
            # Same partition as omnikit (checked once, outside the timing).
            mine = ok.resolve_customers(df)["customer_id"]
            result["same_as_omnikit"] = bool((mine == customer).all())
    result["median"] = {k: statistics.median(v) for k, v in times.items()}
    result["peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    result["runs"] = times
    print(json.dumps(result), flush=True)


def run_child(task: str, path: Path, repeat: int) -> tuple[dict, float]:
    """Run ``task`` in a child process; return its result and its peak RSS in GiB."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", task, str(path), str(repeat)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    if proc.returncode != 0:
        sys.exit(f"benchmark child {task} failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result, result["peak_gib"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs on the small frame")
    parser.add_argument("--repeat-big", type=int, default=1, help="runs on the big frame")
    parser.add_argument(
        "--child", nargs=3, metavar=("TASK", "PATH", "REPEAT"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--omnikit",
        metavar="PATH",
        help="a checkout whose omnikit to time (put first on PYTHONPATH of this run's children)",
    )
    parser.add_argument(
        "--generator",
        metavar="PATH",
        help="a checkout whose ok.synth_frame makes the data (default: the omnikit timed), so two "
        "checkouts with different generators are timed on the same rows",
    )
    args = parser.parse_args()
    if args.generator:
        global GENERATOR
        GENERATOR = str(Path(args.generator).resolve())
    if args.omnikit:
        checkout = str(Path(args.omnikit).resolve())
        if not (Path(checkout) / "omnikit" / "__init__.py").is_file():
            sys.exit(f"--omnikit {args.omnikit}: no omnikit package there")
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [checkout, *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        sys.path.insert(0, checkout)
    if args.child:
        task, path, repeat = args.child
        child(task, path, int(repeat))
        return

    import omnikit

    print(
        f"bench_journeys: omnikit from {Path(omnikit.__file__).parent}, polars {pl.__version__}, "
        f"{args.small:,} and {args.rows:,} rows, generator {generator_fingerprint()}",
        flush=True,
    )
    small = ensure_data(args.small)
    big = ensure_data(args.rows)

    nx_runs, ok_runs = [], []
    for _ in range(args.repeat):  # alternating, so both sides see the same machine load
        nx_runs.append(run_child("networkx", small, 1)[0])
        ok_runs.append(run_child("omnikit", small, 1)[0])
    nx_result = {
        "median": {
            k: statistics.median(r["median"][k] for r in nx_runs) for k in ("resolve", "graph")
        },
        "same_as_omnikit": all(r["same_as_omnikit"] for r in nx_runs),
    }
    ok_result = {
        "median": {
            k: statistics.median(r["median"][k] for r in ok_runs) for k in ("resolve", "prep")
        },
        "customers": ok_runs[0]["customers"],
    }
    nx_t = nx_result["median"]["resolve"]
    ok_t = ok_result["median"]["resolve"]
    print(
        f"\nresolution on {args.small:,} rows ({ok_result['customers']:,} customers), "
        f"median of {args.repeat} alternating runs each"
    )
    print(f"  omnikit (scipy components)   {ok_t:8.2f} s   {ok_t / args.small * 1e6:7.2f} us/row")
    print(f"  networkx.connected_components {nx_t:7.2f} s   {nx_t / args.small * 1e6:7.2f} us/row")
    print(f"  same customers as omnikit: {nx_result['same_as_omnikit']}")
    print(f"  ratio networkx / omnikit, whole resolution: {nx_t / ok_t:.1f}x   (target >= 10x)")
    ok_graph = max(ok_t - ok_result["median"]["prep"], 1e-9)
    nx_graph = nx_result["median"]["graph"]
    print(
        "  shared preparation (identifiers, phonenumbers, guard; both sides run it): "
        f"{ok_result['median']['prep']:.2f} s"
    )
    print(
        f"  graph + assignment: omnikit {ok_graph:.2f} s, networkx {nx_graph:.2f} s, "
        f"ratio {nx_graph / ok_graph:.1f}x"
    )

    full, peak = run_child("full", big, args.repeat_big)
    med = full["median"]
    print(f"\nresolve_customers + journeys on {full['rows']:,} rows")
    print(f"  customers {full['customers']:,}, journeys {full['journeys']:,}")
    print(f"  resolve_customers {med['resolve']:6.2f} s")
    print(f"  journeys          {med['journeys']:6.2f} s")
    print(
        f"  total             {med['total']:6.2f} s   "
        f"(target < 30 s: {'OK' if med['total'] < 30 else 'MISSED'})"
    )
    print(f"  peak memory       {peak:6.2f} GiB (target < 8 GiB: {'OK' if peak < 8 else 'MISSED'})")
    print(f"  per row: {med['total'] / full['rows'] * 1e6:.2f} us")


if __name__ == "__main__":
    main()
