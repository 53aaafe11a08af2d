"""Identity resolution of a PySpark DataFrame in Spark, and of a DuckDB relation.

The rules are those of :func:`omnikit.resolve_customers`, run by the same code:

Spark
    1. The distinct ``(contact_id, contact, name)`` tuples go through
       :func:`identifiers` inside Spark (``mapInArrow``: Arrow batches become polars frames and
       the functions of ``omnikit._customers`` run in the Python workers: valid phone numbers
       through phonenumbers, extensions kept, placeholders marked; e-mail addresses; names; and
       the (phone or email, name) pairs of rows without a contact id).
    2. The hub guard runs as group-bys in Spark (``_hubs``): placeholders never link; a phone,
       email or name does not link with more than ``max_contact_ids`` distinct contact ids, or
       identities (those plus the distinct names of its rows without a contact id; for a name,
       the distinct phones and emails), counted from the pairs of step 1.
    3. Connected components run as DataFrame joins with the *large-star / small-star* algorithm
       (Kiveris et al., "Connected Components in MapReduce and Beyond", SoCC 2014), iterated
       until every component is a star around its smallest node: that node, ``kind:key``, is
       the identifier the polars path names the customer after. (GraphFrames needs a Maven
       download at start-up, so it is not used.)
    4. ``customer_id`` is the keyed BLAKE2b pseudonym of that identifier (or of the row's own
       key), computed in the workers by ``omnikit._customers`` (its 32-byte fallback after a
       64-bit collision applies per Arrow batch). Rows without an
       ``interaction_id`` and without a linking identifier are keyed by their whole content,
       as in polars: those few rows are read into polars to build the key.
DuckDB
    Resolution runs here, in polars: the four identifier columns of the rows (and every column
    of the rare rows without an ``interaction_id``) are collected, resolved by
    :func:`omnikit.resolve_customers`, and joined back to the relation in DuckDB.

Both return a frame of the same engine: the rows of ``df`` plus ``customer_id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import narwhals as nw
import polars as pl
import pyarrow as pa

from .._errors import ParameterError
from ._frames import collect, engine_name, lazy, timezone

__all__ = ["customer_links", "identifiers", "resolve_customers"]

_ID_COLUMNS = ("contact_id", "contact", "name")
_REQUIRED = ("interaction_id", *_ID_COLUMNS)
#: Rounds of large-star + small-star after which resolution gives up (the algorithm needs
#: O(log^2 n) rounds; a handful in practice).
MAX_ROUNDS = 64


#: The columns the normalisation in the workers returns: identifiers of a tuple (``_tk`` set) and
#: (phone or email, name) pairs of rows without a contact id (``_tk`` null, ``name_key`` set).
_LONG_SCHEMA = pa.schema(
    [
        ("_tk", pa.string()),
        ("kind", pa.int32()),
        ("key", pa.string()),
        ("cid", pa.string()),
        ("placeholder", pa.bool_()),
        ("name_key", pa.string()),
    ]
)


_DDL = {"string": "string", "int32": "int", "bool": "boolean"}


def identifiers(raw: pl.DataFrame, default_region: str | None, link_by_name: bool) -> pl.DataFrame:
    """The identifiers of distinct ``(contact_id, contact, name)`` tuples, by omnikit's rules.

    The functions of ``omnikit._customers`` that :func:`omnikit.resolve_customers` runs: cells
    trimmed (an empty one is null), contacts read as valid phone numbers (extensions kept,
    placeholders marked) or e-mail addresses, names normalised; and, for the hub guard, the
    distinct (phone or email, name) pairs of the tuples without a contact id.

    Parameters
    ----------
    raw
        ``_tk`` (a key of the tuple) and the ``contact_id``, ``contact`` and ``name`` columns
        as they are in the frame; one row per distinct tuple.
    default_region, link_by_name
        As in :func:`omnikit.resolve_customers`.

    Returns
    -------
    polars.DataFrame
        The columns of ``_LONG_SCHEMA``: one row per identifier of a tuple (``_tk``, ``kind``:
        0 contact_id, 1 email, 2 phone, 3 name; ``key``, the normalised identifier; ``cid``, the
        tuple's contact id; ``placeholder``), then one row per pair (``_tk`` null, ``kind``,
        ``key``, ``name_key``).

    Examples
    --------
    >>> raw = pl.DataFrame({"_tk": ["t"], "contact_id": [None], "contact": ["(510) 876-9640"],
    ...                     "name": [None]}, schema={c: pl.String for c in ("_tk", "contact_id",
    ...                     "contact", "name")})
    >>> identifiers(raw, "US", False)["key"].to_list()
    ['+15108769640']
    """
    from .. import _customers

    ids = _customers._identifier_frame(
        raw.lazy().select(pl.col("_tk").alias("interaction_id"), *_ID_COLUMNS)
    )
    tuples = ids.select(pl.col("interaction_id").alias("__t"), *_ID_COLUMNS)
    contacts = _customers._contact_keys(tuples["contact"], default_region)
    names = _customers._name_keys(tuples["name"]) if link_by_name else None
    long = _customers._identifiers(tuples, contacts, names)
    pairs = _customers._identity_pairs(ids, contacts)
    return pl.concat(
        [
            long.select(
                pl.col("__t").alias("_tk"), "kind", "key", "cid", "placeholder", name_key=None
            ),
            pairs.select(
                _tk=None, kind="kind", key="key", cid=None, placeholder=None, name_key="name_key"
            ),
        ],
        how="vertical_relaxed",
    ).cast(
        dict(
            zip(
                _LONG_SCHEMA.names,
                (pl.String, pl.Int32, pl.String, pl.String, pl.Boolean, pl.String),
                strict=True,
            )
        )
    )


def resolve_customers(
    df: Any,
    *,
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> Any:
    """:func:`omnikit.resolve_customers` of a PySpark DataFrame (in Spark) or DuckDB relation.

    Parameters
    ----------
    df
        A PySpark DataFrame or DuckDB relation with ``interaction_id``, ``contact``,
        ``contact_id`` and ``name``.
    default_region, link_by_name, max_contact_ids
        As in :func:`omnikit.resolve_customers`.

    Returns
    -------
    pyspark.sql.DataFrame or duckdb.DuckDBPyRelation
        The rows of ``df`` (a ``customer_id`` already there is replaced) plus ``customer_id``,
        equal to the polars path's for the same rows.

    Examples
    --------
    >>> resolve_customers(spark_df).groupBy("customer_id").count()  # doctest: +SKIP
    """
    from .. import _customers

    func = "resolve_customers"
    _customers._check_options(default_region, link_by_name, max_contact_ids)
    frame = lazy(df, func)
    missing = [c for c in _REQUIRED if c not in frame.collect_schema()]
    if missing:
        raise ParameterError(
            f"cannot resolve customers: the {engine_name(frame)} frame has no column(s) "
            f"{', '.join(missing)}; give it the canonical columns of ok.load"
        )
    options = (default_region, link_by_name, max_contact_ids)
    if engine_name(frame) == "duckdb":
        return _resolve_duckdb(frame, *options)
    if engine_name(frame) in ("pyspark", "pyspark_connect"):
        return _resolve_spark(frame, *options)
    raise ParameterError(  # pragma: no cover - sqlframe
        f"{func} runs on Spark and DuckDB, not on {engine_name(frame)}"
    )


def customer_links(df: Any, **options: Any) -> Any:
    """:func:`omnikit.customer_links` does not run on an engine: a :class:`ParameterError`.

    It explains a resolution identifier by identifier (phone numbers, e-mail addresses and
    names in clear), which needs every row's identifiers in this process and is meant for a
    few customers, not for a lake.

    Examples
    --------
    >>> customer_links(spark_df)  # doctest: +SKIP
    Traceback (most recent call last):
    omnikit.ParameterError: customer_links runs on polars frames only ...
    """
    frame = lazy(df, "customer_links")
    raise ParameterError(
        f"customer_links runs on polars frames only, not on a {engine_name(frame)} frame: it "
        "explains a resolution identifier by identifier, which needs the rows' identifiers in "
        "this process. Read the rows you want explained into polars (e.g. the interactions of a "
        "few customer_ids, without the customer_id column, or with the options they were "
        "resolved with) and pass that polars frame."
    )


# --- DuckDB: resolved here, joined back in DuckDB ------------------------------------------


def _resolve_duckdb(
    frame: nw.LazyFrame[Any],
    default_region: str | None,
    link_by_name: bool,
    max_contact_ids: int | None,
) -> Any:
    from .. import _customers

    columns = [c for c in frame.collect_schema().names() if c != "customer_id"]
    frame = frame.select(columns)
    has_id = ~nw.col("interaction_id").is_null()
    ids = collect(frame.filter(has_id).select(*_REQUIRED))
    own = collect(frame.filter(~has_id))
    zone_columns = {
        c: d
        for c, d in frame.collect_schema().items()
        if isinstance(d, nw.Datetime) and d.time_zone
    }
    own = own.with_columns(
        pl.col(c).dt.convert_time_zone(str(d.time_zone)).dt.cast_time_unit("us")
        for c, d in zone_columns.items()
    )
    everything = pl.concat([ids, own], how="diagonal_relaxed").select(columns)
    resolved: pl.DataFrame = _customers.resolve_customers(  # type: ignore[assignment]
        everything,
        default_region=default_region,
        link_by_name=link_by_name,
        max_contact_ids=max_contact_ids,
    )
    mapping_table = (  # noqa: F841 - read by DuckDB's replacement scan below
        resolved.head(ids.height).select(*_REQUIRED, "customer_id").unique().to_arrow()
    )
    own_table = resolved.tail(own.height).to_arrow()  # noqa: F841
    same = " AND ".join(f'r."{c}" IS NOT DISTINCT FROM m."{c}"' for c in _REQUIRED)
    return frame.to_native().query(
        "__omnikit_rows",
        f"SELECT r.*, m.customer_id FROM __omnikit_rows r JOIN mapping_table m ON {same} "
        'WHERE r."interaction_id" IS NOT NULL '
        "UNION ALL BY NAME SELECT * FROM own_table",
    )


# --- Spark: normalisation in the workers, components by large-star / small-star -------------


def _resolve_spark(
    frame: nw.LazyFrame[Any],
    default_region: str | None,
    link_by_name: bool,
    max_contact_ids: int | None,
) -> Any:
    from pyspark.sql import functions as F

    sdf = frame.to_native()
    columns = [c for c in sdf.columns if c != "customer_id"]
    sdf = sdf.select(*columns)
    as_text = [F.col(c).cast("string").alias(c) for c in _ID_COLUMNS]
    rows = sdf.withColumn("_tk", F.to_json(F.array(*as_text)))
    raw = rows.select("_tk", *as_text).dropDuplicates(["_tk"])

    def normalise(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            tuples = cast(pl.DataFrame, pl.from_arrow(batch))
            out = identifiers(tuples, default_region, link_by_name)
            yield from out.to_arrow().cast(_LONG_SCHEMA).to_batches()

    # Materialised once: the normalisation (Python workers) runs a single time.
    ddl = ", ".join(f"{f.name} {_DDL[str(f.type)]}" for f in _LONG_SCHEMA)
    found = raw.mapInArrow(normalise, ddl).localCheckpoint()
    long = found.filter(F.col("_tk").isNotNull())
    linking = long.filter(~F.col("placeholder"))  # placeholders never link
    if max_contact_ids is not None:
        blocked = _hubs(long, found.filter(F.col("_tk").isNull()), link_by_name, max_contact_ids)
        linking = linking.join(F.broadcast(blocked), ["kind", "key"], "left_anti")
    nodes = linking.select(
        "_tk", F.concat(F.col("kind").cast("string"), F.lit(":"), "key").alias("v")
    ).localCheckpoint()
    anchors = nodes.groupBy("_tk").agg(F.min("v").alias("anchor")).localCheckpoint()
    edges = (
        nodes.join(anchors, "_tk")
        .filter(F.col("v") != F.col("anchor"))
        .select(F.col("v").alias("a"), F.col("anchor").alias("b"))
        .distinct()
    )
    roots = _components(edges)
    labels = (
        anchors.join(roots, anchors["anchor"] == roots["a"], "left")
        .select("_tk", F.coalesce(F.col("b"), F.col("anchor")).alias("_label"))
        .localCheckpoint()
    )
    rows = rows.join(labels, "_tk", "left")
    alone = F.col("_label").isNull() & F.col("interaction_id").isNull()
    if rows.filter(alone).limit(1).count():
        rows = _content_labels(rows, alone, columns, timezone(frame))
    label = F.coalesce(
        F.col("_label"), F.concat(F.lit("9:"), F.col("interaction_id").cast("string"))
    )
    pseudonyms = cast(Any, F.arrow_udf)(_pseudonym_batch, "string")  # types from the hints
    return rows.withColumn("customer_id", pseudonyms(label)).select(*columns, "customer_id")


def _hubs(long: Any, pairs: Any, link_by_name: bool, max_contact_ids: int) -> Any:
    """``kind, key`` of the phones, emails and names the hub guard blocks, as ``_customers``
    decides: more than ``max_contact_ids`` distinct contact ids, or identities (those plus the
    others counted from the (contact, name) ``pairs`` of rows without a contact id)."""
    from pyspark.sql import functions as F

    from .. import _customers

    count = F.count(F.lit(1))
    contact_ids = (
        long.filter((F.col("kind") != _customers._KIND_CONTACT_ID) & F.col("cid").isNotNull())
        .select("kind", "key", "cid")
        .distinct()
        .groupBy("kind", "key")
        .agg(count.alias("contact_ids"))
    )
    pairs = pairs.select("kind", "key", "name_key").distinct()
    others = pairs.groupBy("kind", "key").agg(count.alias("others"))
    if link_by_name:
        by_name = pairs.groupBy("name_key").agg(count.alias("others"))
        others = others.unionByName(
            by_name.select(
                F.lit(_customers._KIND_NAME).cast("int").alias("kind"),
                F.col("name_key").alias("key"),
                "others",
            )
        )
    ids = F.coalesce(F.col("contact_ids"), F.lit(0))
    identities = ids + F.coalesce(F.col("others"), F.lit(0))
    return (
        contact_ids.join(others, ["kind", "key"], "full")
        .filter((ids > max_contact_ids) | (identities > max_contact_ids))
        .select("kind", "key")
        .localCheckpoint()
    )


def _content_labels(rows: Any, alone: Any, columns: list[str], zone: str | None) -> Any:
    """``rows`` whose rows without an interaction id and without a linking identifier are
    labelled with their own key, their whole content (read into polars: they are few), as
    ``omnikit._customers`` builds it."""
    from pyspark.sql import functions as F

    from .. import _customers

    lonely = rows.filter(alone).withColumn("_rid", F.monotonically_increasing_id())
    lonely = lonely.localCheckpoint()  # _rid must not change between the two reads below
    local = collect(nw.from_native(lonely.select(*columns, "_rid")), timezone=zone)
    content = _customers._identifier_frame(local.select(columns).lazy())["__content"]
    occurrence = pl.int_range(pl.len()).over("__content").cast(pl.String)
    keys = local.select("_rid", content).select(
        "_rid",
        _own=pl.concat_str(
            [pl.lit(f"{_customers._KIND_OWN}:"), "__content", pl.lit("\x1e"), occurrence]
        ),
    )
    keyed = rows.sparkSession.createDataFrame(keys.to_arrow())
    lonely = lonely.join(keyed, "_rid").select(*columns, "_tk", F.col("_own").alias("_label"))
    return rows.filter(~alone).unionByName(lonely)


def _pseudonym_batch(keys: pa.Array) -> pa.Array:
    """``customer_id`` of each key of an Arrow array, by ``omnikit._customers`` (in a worker)."""
    from .. import _customers

    return pa.array(_customers._pseudonyms(keys.to_pylist()), type=pa.string())


def _components(edges: Any) -> Any:
    """Connected components of an undirected graph of string nodes, as DataFrame joins.

    Alternates large-star (every node's larger neighbours attach to its smallest neighbour)
    and small-star (a node and its smaller neighbours attach to the smallest of them) until the
    edges form stars: each node ``a`` has one edge, to ``b``, the smallest node of its
    component, and no ``b`` has an edge of its own. Returns those ``(a, b)`` pairs; the
    component's smallest node has none.
    """
    from pyspark.sql import functions as F

    e = edges.select(F.greatest("a", "b").alias("a"), F.least("a", "b").alias("b")).distinct()
    for _ in range(MAX_ROUNDS):
        # large-star
        both = e.unionByName(e.select(F.col("b").alias("a"), F.col("a").alias("b")))
        low = both.groupBy("a").agg(F.least(F.min("b"), F.col("a")).alias("m"))
        e = (
            both.join(low, "a")
            .filter(F.col("b") > F.col("a"))
            .select(F.col("b").alias("a"), F.col("m").alias("b"))
            .distinct()
        )
        # small-star (edges point from the larger node to the smaller one)
        low = e.groupBy("a").agg(F.min("b").alias("m"))
        e = (
            e.join(low, "a")
            .select(
                F.explode(
                    F.array(
                        F.struct(F.col("a").alias("x"), F.col("m").alias("y")),
                        F.struct(F.col("b").alias("x"), F.col("m").alias("y")),
                    )
                ).alias("p")
            )
            .select(F.col("p.x").alias("a"), F.col("p.y").alias("b"))
            .filter(F.col("a") != F.col("b"))
            .distinct()
            .localCheckpoint()
        )
        n, sources = e.agg(F.count(F.lit(1)), F.count_distinct("a")).first()
        if n == sources:  # every node has one edge: stars, once no edge ends at a non-root
            inner = e.join(e.select(F.col("a").alias("b")), "b", "left_semi")
            if inner.limit(1).count() == 0:
                return e
    raise ParameterError(  # pragma: no cover - the algorithm converges in O(log^2 n) rounds
        f"resolve_customers: connected components did not converge in {MAX_ROUNDS} rounds"
    )
