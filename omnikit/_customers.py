"""Customers: one person stitched across phone, SMS, WhatsApp, email and chat.

:func:`resolve_customers` gives every interaction a ``customer_id``. Two interactions belong to the
same customer when they share an *identifier*, transitively (connected components of the graph
whose nodes are identifiers, computed by :func:`scipy.sparse.csgraph.connected_components`):

``contact_id``
    the report's contact id, as written (surrounding white space removed).
``phone``
    the ``contact`` as an E.164 number, when :mod:`phonenumbers` parses it (``default_region`` for
    numbers written without a country code) as a *possible* number: ``(510) 876-9640``,
    ``510-876-9640``, ``510.876.9640`` and ``+1 510 876 9640`` are all ``+15108769640``.
``email``
    the ``contact`` trimmed and lower-cased, when it is a valid e-mail address in the sense of the
    HTML Living Standard (``<input type=email>``) with at least one dot in the domain (a leading
    ``mailto:`` is dropped). Text such as ``[email protected]`` (what a web page's address
    obfuscation leaves behind) is not; nor are addresses with non-ASCII characters. A contact
    with an ``@`` is never read as a phone number.
``name``
    only with ``link_by_name=True``: the ``name`` case-folded, white space collapsed.

A ``contact`` that is a URL (``scheme://...`` or ``www....``, the page a chat came from) is no
identifier, nor is anything that is neither a phone number nor an e-mail address. A phone, email
or name seen on rows with more than ``max_contact_ids`` distinct ``contact_id`` values (a
switchboard, a shared mailbox, a common name) does not link; a ``contact_id`` always links. A row
left with no identifier is a customer of its own.

Each distinct contact string is classified once, and each distinct separator-free phone string
is parsed once -- or not at all when it is ``+<code>`` and the digits of a national number whose
parse serves both (see ``_parse_key``). A plain national number of ``default_region`` (digits
that start with no country code, international or national prefix) is read with the rule that
``_plain_national_rule`` takes from phonenumbers' own metadata, and tests hold it to the
library's answers for every region; every other string goes to phonenumbers (pure Python, about
10 us a number; with 100,000 or more such strings the work is shared with ``python -c`` worker
processes, one per extra CPU).

``customer_id`` is ``"C-"`` followed by 16 hex digits of a BLAKE2b hash of the customer's
smallest identifier (a ``contact_id`` when the customer has one), so it is the same for the same
input whatever the row order, and no contact detail can be read back from it. Set the environment
variable ``OMNIKIT_CUSTOMER_KEY`` to a secret to key the hash (then nobody without the secret can
even *test* a guessed phone number against an id); without it the hash is unkeyed.

:func:`customer_links` shows, per customer, which identifiers joined its interactions. It prints
phone numbers, e-mail addresses and names: it is for internal analysis, not for shared reports.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from typing import IO

import numpy as np
import phonenumbers
import polars as pl
import scipy.sparse
from scipy.sparse.csgraph import connected_components

from ._errors import ParameterError

__all__ = ["customer_links", "resolve_customers"]

#: Identifier kinds, in the order used to pick the identifier a ``customer_id`` is derived from.
IDENTIFIER_KINDS: tuple[str, ...] = ("contact_id", "email", "phone", "name")

_KIND_CONTACT_ID, _KIND_EMAIL, _KIND_PHONE, _KIND_NAME = range(4)
_KIND_OWN = 9  # a row without identifier: its own node (interaction id or row content)

#: A URL: ``scheme://...`` or ``www.``; such a contact is never an identifier.
URL_PATTERN = r"(?i)^(?:[a-z][a-z0-9+.\-]*://|www\.)"
#: The HTML Living Standard's "valid e-mail address", with at least one dot in the domain,
#: applied to the trimmed, lower-cased contact (an optional ``mailto:`` is removed first).
EMAIL_PATTERN = (
    r"^[a-z0-9.!#$%&'*+/=?^_`{|}~\-]+@"
    r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?)+$"
)
#: Separators removed before a phone number is parsed (phonenumbers ignores them too); parsing
#: each distinct separator-free string once is what keeps phone normalisation fast.
_PHONE_SEPARATORS = r"[\s().\-/\u00a0\u2010-\u2015]"

_REQUIRED = ("interaction_id", "contact", "contact_id", "name")
_OPTIONS = frozenset({"default_region", "link_by_name", "max_contact_ids"})


def resolve_customers(
    df: pl.DataFrame | pl.LazyFrame,
    *,
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame | pl.LazyFrame:
    """Return ``df`` with a ``customer_id`` column: who each interaction was with.

    Parameters
    ----------
    df
        A canonical frame (``ok.load``), eager or lazy. Needs ``interaction_id``, ``contact``,
        ``contact_id`` and ``name``. A ``customer_id`` column already there is replaced.
    default_region
        ISO 3166 region (``"US"``, ``"PT"``) for phone numbers written without a country code;
        ``None`` links only numbers written with one.
    link_by_name
        Also link rows by the customer ``name`` (case-folded, white space collapsed).
    max_contact_ids
        A phone, email or name seen on rows with more than this many distinct ``contact_id``
        values does not link (switchboards, shared mailboxes). ``None``: no limit.

    Returns
    -------
    polars.DataFrame or polars.LazyFrame
        ``df`` (same type, same rows and order) plus ``customer_id`` (String, ``"C-"`` + 16 hex
        digits). A LazyFrame is read once here to resolve and stays lazy.

    Examples
    --------
    >>> import omnikit as ok, polars as pl
    >>> df = pl.DataFrame({"interaction_id": ["a", "b", "c"],
    ...                    "contact": ["(510) 876-9640", "+1 510 876 9640", "https://shop.example"],
    ...                    "contact_id": [None, None, None], "name": [None, None, None]})
    >>> ok.resolve_customers(df)["customer_id"].n_unique()
    2
    """
    _check_options(default_region, link_by_name, max_contact_ids)
    lazy = df.lazy() if isinstance(df, pl.DataFrame) else df
    _check_columns(lazy)
    ids = _identifier_frame(lazy)
    customer = _resolve(ids, default_region, link_by_name, max_contact_ids)
    if isinstance(df, pl.DataFrame):
        return df.with_columns(customer.alias("customer_id"))
    mapping = pl.LazyFrame(
        {"__omnikit_row": np.arange(len(customer), dtype=np.uint32), "customer_id": customer}
    )
    return (
        df.drop("customer_id", strict=False)
        .with_row_index("__omnikit_row")
        .join(mapping, on="__omnikit_row", how="left", maintain_order="left")
        .drop("__omnikit_row")
    )


def customer_links(
    df: pl.DataFrame | pl.LazyFrame,
    *,
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """Return, per customer, the identifiers found on its interactions and whether they linked.

    This explains a resolution: two contacts were merged because they share a ``linked``
    identifier; a switchboard number shows ``linked=False`` with its ``contact_ids`` count.
    **It shows phone numbers, e-mail addresses and names: keep it internal.**

    Parameters
    ----------
    df
        A canonical frame, eager or lazy. If it has a ``customer_id`` column that one is used;
        otherwise customers are resolved with the options below.
    default_region, link_by_name, max_contact_ids
        As in :func:`resolve_customers`.

    Returns
    -------
    polars.DataFrame
        ``customer_id, kind`` (one of ``IDENTIFIER_KINDS``), ``identifier`` (normalised),
        ``interactions`` (this customer's rows carrying it), ``contact_ids`` (distinct contact ids
        on all rows carrying it, in the whole input) and ``linked`` (False when the
        ``max_contact_ids`` guard stopped it from linking), sorted by customer, kind, identifier.

    Examples
    --------
    >>> import omnikit as ok, polars as pl
    >>> df = pl.DataFrame({"interaction_id": ["a", "b"], "contact": ["510-876-9640", "A@B.com"],
    ...                    "contact_id": ["k1", "k1"], "name": [None, None]})
    >>> ok.customer_links(df).select("kind", "identifier", "interactions").rows()
    [('contact_id', 'k1', 2), ('email', 'a@b.com', 1), ('phone', '+15108769640', 1)]
    """
    _check_options(default_region, link_by_name, max_contact_ids)
    lazy = df.lazy() if isinstance(df, pl.DataFrame) else df
    _check_columns(lazy)
    has_customer = "customer_id" in lazy.collect_schema().names()
    ids = _identifier_frame(lazy, keep_customer=has_customer)
    customer = (
        ids["customer_id"]
        if has_customer
        else _resolve(ids, default_region, link_by_name, max_contact_ids)
    )
    tuples = _tuples(ids.drop("customer_id", strict=False), link_by_name)
    long = _guarded(_identifiers(tuples, default_region, link_by_name), max_contact_ids)
    rows = tuples.select("__t", "__rows").explode("__rows")
    long = long.join(rows, on="__t", how="inner")
    return (
        long.with_columns(customer_id=customer.gather(long["__rows"]))
        .group_by("customer_id", "kind", "key")
        .agg(
            interactions=pl.len().cast(pl.Int64),
            contact_ids=pl.col("contact_ids").first().cast(pl.Int64),
            linked=pl.col("linked").first(),
        )
        .sort("customer_id", "kind", "key")
        .select(
            "customer_id",
            pl.col("kind").replace_strict(
                list(range(4)), list(IDENTIFIER_KINDS), return_dtype=pl.String
            ),
            pl.col("key").alias("identifier"),
            "interactions",
            "contact_ids",
            "linked",
        )
    )


# --- validation ----------------------------------------------------------------------------


def _check_options(
    default_region: str | None, link_by_name: bool, max_contact_ids: int | None
) -> None:
    if default_region is not None and default_region not in phonenumbers.SUPPORTED_REGIONS:
        raise ParameterError(
            f"default_region={default_region!r} is not a region phonenumbers knows; "
            "use an upper-case ISO 3166 code such as 'US' or 'PT', or None"
        )
    if not isinstance(link_by_name, bool):
        raise ParameterError(f"link_by_name must be True or False, not {link_by_name!r}")
    if max_contact_ids is not None and (
        isinstance(max_contact_ids, bool)
        or not isinstance(max_contact_ids, int)
        or max_contact_ids < 0
    ):
        raise ParameterError(
            f"max_contact_ids must be a whole number >= 0 or None, not {max_contact_ids!r}"
        )


def check_resolve_options(options: dict[str, object]) -> None:
    """Raise :class:`ParameterError` for keyword arguments ``resolve_customers`` does not take."""
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise ParameterError(
            f"unknown option(s) {', '.join(unknown)}; resolve options are "
            f"{', '.join(sorted(_OPTIONS))}"
        )


def _check_columns(lazy: pl.LazyFrame) -> None:
    names = lazy.collect_schema().names()
    missing = [c for c in _REQUIRED if c not in names]
    if missing:
        raise ParameterError(
            f"cannot resolve customers: the frame has no column(s) {', '.join(missing)}; "
            "pass a canonical frame from ok.load"
        )


# --- identifiers ---------------------------------------------------------------------------


def _identifier_frame(lazy: pl.LazyFrame, *, keep_customer: bool = False) -> pl.DataFrame:
    """Collect what resolution needs: the id columns, and (``__content``) the whole content of
    the rare rows without an ``interaction_id``, which stands in for it."""
    columns = [
        pl.col("interaction_id").cast(pl.String),
        *[
            pl.col(c).cast(pl.String).str.strip_chars().replace("", None)
            for c in ("contact_id", "contact", "name")
        ],
    ]
    if keep_customer:
        columns.append(pl.col("customer_id").cast(pl.String))
    ids = lazy.select(columns).collect()
    content = pl.Series("__content", [None] * ids.height, dtype=pl.String)
    if ids["interaction_id"].null_count():
        everything = pl.concat_str(
            [
                pl.col(c).cast(pl.String).fill_null("\x00")
                for c in lazy.collect_schema().names()
                if c != "customer_id"
            ],
            separator="\x1f",
        )
        rows = (
            lazy.with_row_index("__row")
            .filter(pl.col("interaction_id").is_null())
            .select("__row", everything.alias("__content"))
            .collect()
        )
        content = content.scatter(rows["__row"], rows["__content"])
    return ids.with_columns(content)


def _tuples(ids: pl.DataFrame, link_by_name: bool) -> pl.DataFrame:
    """Distinct ``(contact_id, contact[, name][, customer_id])``: ``__t`` and the rows (``__rows``)."""
    keys = ["contact_id", "contact"] + (["name"] if link_by_name else [])
    if "customer_id" in ids.columns:
        keys.append("customer_id")
    return (
        ids.select(*keys, __rows=pl.int_range(pl.len(), dtype=pl.UInt32))
        .group_by(keys)
        .agg("__rows")
        .with_row_index("__t")
    )


def _contact_keys(contacts: pl.Series, default_region: str | None) -> pl.DataFrame:
    """Map distinct contact strings to ``kind`` (email or phone) and normalised ``key``."""
    frame = pl.DataFrame({"contact": contacts.drop_nulls().unique()})
    contact = pl.col("contact")
    frame = frame.filter(~contact.str.contains(URL_PATTERN))
    has_at = contact.str.contains("@", literal=True)
    email = (
        frame.filter(has_at)
        .select("contact", key=contact.str.to_lowercase().str.replace(r"^mailto:", ""))
        .filter(pl.col("key").str.contains(EMAIL_PATTERN))
    )
    phone = frame.filter(~has_at & contact.str.contains(r"\d")).select(
        "contact", raw=contact.str.replace_all(_PHONE_SEPARATORS, "")
    )
    phone = phone.with_columns(parse=_parse_key(pl.col("raw"), default_region))
    numbers = _parse_phones(phone["parse"].unique(), default_region)
    phone = phone.join(numbers, left_on="parse", right_on="raw", how="inner").select(
        "contact", key="e164"
    )
    return pl.concat(
        [
            email.select("contact", kind=pl.lit(_KIND_EMAIL, pl.Int8), key="key"),
            phone.select("contact", kind=pl.lit(_KIND_PHONE, pl.Int8), key="key"),
        ]
    )


def _parse_key(raw: pl.Expr, region: str | None) -> pl.Expr:
    """The string to parse for each separator-free phone string: one parse serves both ways of
    writing a number of ``region``'s own country, ``+<code><digits>`` and ``<digits>``.

    ``phonenumbers.parse(f"+{code}{digits}", region)`` reads the country code after the ``+`` and
    then handles ``digits`` with ``region``'s metadata, exactly as ``parse(digits, region)`` does
    when ``digits`` is not taken for a country code or an international prefix: so ``digits`` is
    parsed instead when (all from the library's own metadata) ``region`` is the main region of its
    country code, ``digits`` are 3 to 200 ASCII digits that do not start with that code, and
    ``region``'s international (IDD) prefix does not match their start. Anything else is parsed as
    written. (Tests compare this with parsing every string on its own.)
    """
    if region is None:
        return raw
    code = str(phonenumbers.country_code_for_region(region))
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if phonenumbers.region_code_for_country_code(int(code)) != region or metadata is None:
        return raw
    idd = metadata.international_prefix
    digits = raw.str.slice(len(code) + 1)
    same = raw.str.contains(rf"^\+{code}[0-9]{{3,200}}$") & ~digits.str.starts_with(code)
    if idd:
        if not _polars_reads(idd):  # pragma: no cover - no shortcut
            return raw
        same = same & ~digits.str.contains(f"^(?:{idd})")
    return pl.when(same).then(digits).otherwise(raw)


def _name_keys(names: pl.Series) -> pl.DataFrame:
    """Map distinct names to their key: white space collapsed, case-folded."""
    distinct = names.drop_nulls().unique()
    collapsed = distinct.str.replace_all(r"\s+", " ").to_list()
    return pl.DataFrame(
        {"name": distinct, "key": [s.casefold() for s in collapsed]},
        schema={"name": pl.String, "key": pl.String},
    )


def _identifiers(
    tuples: pl.DataFrame, default_region: str | None, link_by_name: bool
) -> pl.DataFrame:
    """Long frame ``__t, kind, key, cid``: every identifier of every distinct tuple."""
    parts = [
        tuples.select(
            "__t", kind=pl.lit(_KIND_CONTACT_ID, pl.Int8), key="contact_id", cid="contact_id"
        ).drop_nulls("key"),
        tuples.select("__t", "contact", cid="contact_id")
        .join(_contact_keys(tuples["contact"], default_region), on="contact", how="inner")
        .select("__t", "kind", "key", "cid"),
    ]
    if link_by_name:
        parts.append(
            tuples.select("__t", "name", cid="contact_id")
            .join(_name_keys(tuples["name"]), on="name", how="inner")
            .select("__t", kind=pl.lit(_KIND_NAME, pl.Int8), key="key", cid="cid")
        )
    return pl.concat(parts)


def _parse_chunk(texts: list[str], region: str | None) -> list[str | None]:
    """E.164 of each text when phonenumbers parses it as a possible number, else None."""
    parse, possible, fmt = (
        phonenumbers.parse,
        phonenumbers.is_possible_number,
        phonenumbers.format_number,
    )
    e164, error = phonenumbers.PhoneNumberFormat.E164, phonenumbers.NumberParseException
    out: list[str | None] = []
    for text in texts:
        try:
            number = parse(text, region)
        except error:
            out.append(None)
            continue
        out.append(fmt(number, e164) if possible(number) else None)
    return out


#: With at least this many distinct phone strings, phonenumbers runs in worker processes too.
PARALLEL_PHONES = 100_000


def _worker_source() -> str:
    """A ``python -c`` program running :func:`_parse_chunk` with only phonenumbers imported:
    it reads the region and newline-separated strings, and writes one E.164 (or empty) line each."""
    return "\n".join(
        [
            "import sys",
            "import phonenumbers",
            inspect.getsource(_parse_chunk),
            "region, *texts = sys.stdin.read().split('\\n')",
            "sys.stdout.write('\\n'.join(e or '' for e in _parse_chunk(texts, region or None)))",
        ]
    )


def _polars_reads(pattern: str) -> bool:
    """Whether polars' regex engine reads one of phonenumbers' patterns (as ``^(?:pattern)``)."""
    try:
        pl.select(pl.lit("0").str.contains(f"^(?:{pattern})"))
    except Exception:  # polars raises several error types for a pattern it cannot compile
        return False
    return True


@functools.cache
def _plain_national_rule(region: str | None) -> tuple[str, tuple[str, ...], tuple[int, ...]] | None:
    """What phonenumbers does with a plain national number of ``region``, read off its metadata.

    For digits ``D`` (ASCII, 2 to 17 of them) parsed with ``region``, the main region of its
    country code ``C``: when ``D`` starts neither with ``C``, nor with a match of ``region``'s
    international (IDD) prefix, nor with one of its national prefix for parsing, ``parse`` takes
    no country code, no prefix and no extension from it, so the number is ``C`` and ``D`` (leading
    zeros kept), and it is possible exactly when its length is one the country's numbers may have
    (``is_possible_number`` looks at nothing else). Returns ``(C, (IDD, national prefix), the
    possible lengths)``, or None where the rule does not apply (no region, not a main region, or a
    prefix pattern polars' regex engine cannot read). Tests compare it with the library's answers
    for every region.
    """
    if region is None:
        return None
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    code = phonenumbers.country_code_for_region(region)
    if metadata is None or phonenumbers.region_code_for_country_code(code) != region:
        return None
    prefixes = tuple(
        p for p in (metadata.international_prefix, metadata.national_prefix_for_parsing) if p
    )
    if not all(_polars_reads(prefix) for prefix in prefixes):  # pragma: no cover - no rule
        return None
    lengths = tuple(
        n
        for n in range(2, 18)
        if phonenumbers.is_possible_number(
            phonenumbers.PhoneNumber(country_code=code, national_number=int("9" * n))
        )
    )
    return str(code), prefixes, lengths


def _parse_phones(raw: pl.Series, region: str | None) -> pl.DataFrame:
    """Map each distinct separator-free contact string to its E.164 number (possible ones only).

    A plain national number of ``region`` is read with :func:`_plain_national_rule`, derived from
    the library's metadata; every other string goes to phonenumbers. That is pure Python (about
    10 us a string), so a large set of strings is split over the CPUs: this process parses one
    share while ``python -c`` workers parse the others (plain subprocesses talking over pipes, so
    a caller's script needs no ``__main__`` guard and no process running polars is ever forked).
    """
    rule = _plain_national_rule(region)
    decided = pl.DataFrame(schema={"raw": pl.String, "e164": pl.String})
    if rule is not None:
        code, prefixes, lengths = rule
        text = pl.col("raw")
        plain = text.str.contains(r"^[0-9]{2,17}$") & ~text.str.starts_with(code)
        for prefix in prefixes:
            plain = plain & ~text.str.contains(f"^(?:{prefix})")
        frame = raw.rename("raw").to_frame().with_columns(plain=plain)
        decided = frame.filter("plain", text.str.len_bytes().is_in(lengths)).select(
            "raw", e164=pl.concat_str(pl.lit(f"+{code}"), text)
        )
        raw = frame.filter(~pl.col("plain")).get_column("raw")
    texts = raw.to_list()
    workers = min(os.cpu_count() or 1, 8) - 1
    parsed: list[str | None] | None = None
    if len(texts) >= PARALLEL_PHONES and workers >= 1:
        size = -(-len(texts) // (workers + 1))
        parsed = _parse_in_workers(
            [texts[i : i + size] for i in range(0, len(texts), size)], region
        )
    if parsed is None:
        parsed = _parse_chunk(texts, region)
    parsed_frame = pl.DataFrame(
        {"raw": texts, "e164": parsed}, schema={"raw": pl.String, "e164": pl.String}
    )
    return pl.concat([decided, parsed_frame.drop_nulls()])


def _parse_in_workers(chunks: list[list[str]], region: str | None) -> list[str | None] | None:
    """Parse ``chunks[0]`` here and the others in worker processes; None if workers cannot start.

    Each worker reads its strings from a temporary file and writes its answers to another, so it
    starts at once and never waits for this process (which holds the GIL while it parses, so a
    thread feeding a pipe here would starve the worker of input).
    """
    if len(chunks) < 2:
        return None
    procs: list[tuple[subprocess.Popen, list[str], IO[str]]] = []
    with ExitStack() as stack:
        try:
            source = _worker_source()
            for chunk in chunks[1:]:
                given = stack.enter_context(
                    tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")
                )
                answers = stack.enter_context(
                    tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")
                )
                given.write("\n".join([region or "", *chunk]))
                given.seek(0)
                proc = subprocess.Popen(
                    [sys.executable, "-c", source],
                    stdin=given,
                    stdout=answers,
                    env={**os.environ, "PYTHONIOENCODING": "utf-8"},
                )
                procs.append((proc, chunk, answers))
        except (
            OSError,
            TypeError,
        ):  # no source to hand over (frozen app), or no interpreter to start
            for proc, _, _ in procs:
                proc.kill()
                proc.wait()
            return None
        parsed = _parse_chunk(chunks[0], region)
        for proc, chunk, answers in procs:
            proc.wait()
            answers.seek(0)
            lines = answers.read().split("\n")
            if proc.returncode != 0 or len(lines) != len(chunk):  # pragma: no cover - defensive
                lines = [e or "" for e in _parse_chunk(chunk, region)]
            parsed.extend(line or None for line in lines)
    return parsed


def _guarded(long: pl.DataFrame, max_contact_ids: int | None) -> pl.DataFrame:
    """Add ``contact_ids`` (distinct contact ids seen with the identifier) and ``linked``."""
    counts = (
        long.filter(pl.col("kind") != _KIND_CONTACT_ID)
        .select("kind", "key", "cid")
        .drop_nulls("cid")
        .unique()
        .group_by("kind", "key")
        .agg(contact_ids=pl.len())
    )
    counts = counts.with_columns(
        linked=pl.lit(True) if max_contact_ids is None else pl.col("contact_ids") <= max_contact_ids
    )
    # A contact id is always one contact id; an identifier seen on no contact id always links.
    is_cid = pl.col("kind") == _KIND_CONTACT_ID
    return pl.concat(
        [
            long.filter(is_cid).with_columns(contact_ids=pl.lit(1, pl.UInt32), linked=pl.lit(True)),
            long.filter(~is_cid)
            .join(counts, on=["kind", "key"], how="left")
            .with_columns(pl.col("contact_ids").fill_null(0), pl.col("linked").fill_null(True)),
        ]
    )


# --- components ----------------------------------------------------------------------------


def _resolve(
    ids: pl.DataFrame, default_region: str | None, link_by_name: bool, max_contact_ids: int | None
) -> pl.Series:
    """The ``customer_id`` of every row of ``ids``, in row order."""
    tuples = _tuples(ids.drop("customer_id", strict=False), link_by_name)
    long = _guarded(_identifiers(tuples, default_region, link_by_name), max_contact_ids)
    long = long.filter("linked").select("__t", "kind", "key")
    nodes = long.select("kind", "key").unique().with_row_index("node")
    edges = _node_numbers(long, nodes)
    # Each tuple links all of its identifiers to the smallest one (its anchor); ``__t`` is the
    # tuple's position, and ``k`` (no node) marks a tuple without a linking identifier.
    k = nodes.height
    tuple_of, node = edges["__t"].to_numpy(), edges["node"].to_numpy()
    anchor = np.full(tuples.height, k, dtype=np.int64)
    np.minimum.at(anchor, tuple_of, node)
    graph = scipy.sparse.coo_matrix(
        (np.ones(edges.height, dtype=np.int8), (anchor[tuple_of], node)), shape=(k, k)
    ).tocsr()
    n_comp, labels = connected_components(graph, directed=False)
    # A component is named after its smallest node: the smallest key of its smallest kind.
    smallest = (
        nodes.select("kind", "key", label=pl.Series(labels, dtype=pl.UInt32))
        .filter(pl.col("kind") == pl.col("kind").min().over("label"))
        .group_by("label")
        .agg(pl.col("kind").first(), pl.col("key").min())
        .sort("label")
        .select(pl.format("{}:{}", "kind", "key"))
        .to_series()
    )
    index = np.empty(ids.height, dtype=np.int64)
    linked = anchor < k
    sizes = tuples["__rows"].list.len().to_numpy()
    rows, row_anchor = tuples["__rows"].explode().to_numpy(), np.repeat(anchor, sizes)
    row_linked = np.repeat(linked, sizes)
    index[rows[row_linked]] = labels[row_anchor[row_linked]]
    # A row without a linking identifier is its own customer: its interaction id, else its content.
    own, own_keys = _own_keys(ids, tuples.filter(pl.Series(~linked)))
    index[own["__row"].to_numpy()] = n_comp + own["__key"].to_numpy()
    names = _pseudonyms(smallest.to_list() + own_keys)
    return pl.Series("customer_id", names, dtype=pl.String).gather(index)


def _node_numbers(long: pl.DataFrame, nodes: pl.DataFrame) -> pl.DataFrame:
    """``__t, node``: the number in ``nodes`` of each identifier in ``long``.

    The join is on a 64-bit hash of ``(kind, key)`` rather than on the strings when the hash
    tells all of ``nodes`` apart (``nodes`` holds every identifier of ``long``, so each one then
    meets exactly its own node); otherwise on the strings.
    """
    digest = pl.struct("kind", "key").hash()
    numbered = nodes.select("node", __h=digest)
    if numbered["__h"].n_unique() == numbered.height:
        return (
            long.select("__t", __h=digest)
            .join(numbered, on="__h", how="inner")
            .select("__t", "node")
        )
    return long.join(nodes, on=["kind", "key"], how="inner").select(
        "__t", "node"
    )  # pragma: no cover


def _own_keys(ids: pl.DataFrame, unlinked: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Rows of ``unlinked`` tuples with the index ``__key`` into their distinct own keys."""
    rows = unlinked.select("__rows").explode("__rows").rename({"__rows": "__row"})
    rows = rows.join(
        ids.select("interaction_id", "__content", __row=pl.int_range(pl.len(), dtype=pl.UInt32)),
        on="__row",
        how="left",
    )
    content = pl.col("__content")
    # Identical rows without any id are told apart by their rank among themselves (order-free).
    occurrence = pl.int_range(pl.len()).over(content).cast(pl.String)
    rows = rows.with_columns(
        key=pl.when(pl.col("interaction_id").is_not_null())
        .then(pl.format("{}:{}", pl.lit(_KIND_OWN), "interaction_id"))
        .otherwise(pl.concat_str([pl.lit(f"{_KIND_OWN}:"), content, pl.lit("\x1e"), occurrence]))
    )
    distinct = rows.select("key").unique().with_row_index("__key")
    rows = rows.join(distinct, on="key", how="left").select("__row", "__key")
    return rows, distinct["key"].to_list()


def _pseudonyms(keys: Iterable[str]) -> list[str]:
    """``"C-"`` + 16 hex digits of BLAKE2b of each key (keyed by ``OMNIKIT_CUSTOMER_KEY``)."""
    secret = os.environ.get("OMNIKIT_CUSTOMER_KEY", "").encode()[:64]
    keys = list(keys)
    for size in (8, 32):  # 32 bytes only after a 64-bit collision: never merge two customers
        start = hashlib.blake2b(digest_size=size, key=secret, person=b"omnikit.customer").copy
        out = []
        for key in keys:
            digest = start()  # a copy of the keyed start: the key block is hashed once, not per key
            digest.update(key.encode())
            out.append("C-" + digest.hexdigest())
        if len(set(out)) == len(set(keys)):
            break
    return out
