"""Customers: one person stitched across phone, SMS, WhatsApp, email and chat.

:func:`resolve_customers` gives every interaction a ``customer_id``. Two interactions belong to the
same customer when they share an *identifier*, transitively (connected components of the graph
whose nodes are identifiers, computed by :func:`scipy.sparse.csgraph.connected_components`).
Contacts and names are first NFKC-normalised (full-width ``＠`` and digits become ASCII, composed
and decomposed accents become one form) and stripped of zero-width characters:

``contact_id``
    the report's contact id, as written (surrounding white space removed).
``phone``
    the ``contact`` (or the number of a ``tel:`` or ``sip:`` URI) as an E.164 number, when
    :mod:`phonenumbers` parses it (``default_region`` for numbers written without a country code)
    as a *valid* number: ``(510) 876-9640``, ``510-876-9640``, ``tel:+15108769640`` and
    ``+1 510 876 9640`` are all ``+15108769640``. An extension is part of the identifier
    (``+15108769640;ext=12``). A *placeholder* (see :data:`PLACEHOLDER_CONTACTS`) is no identifier.
``email``
    the ``contact`` case-folded, when it is a valid e-mail address in the sense of the HTML Living
    Standard (``<input type=email>``, letters of any script in the local part) with at least one
    dot in the domain, after taking the address out of ``Name <addr>`` and ``mailto:addr?...``
    and dropping a trailing dot of the domain; an internationalised domain is written in its IDNA
    (``xn--``) form, so ``ana@bücher.example`` and ``ana@xn--bcher-kva.example`` are one address.
    Text such as ``[email protected]`` (what a web page's address obfuscation leaves behind) is
    not an address. A contact with an ``@`` is never read as a phone number.
``name``
    only with ``link_by_name=True``: the ``name`` case-folded, white space collapsed.

A ``contact`` that is a URL (``scheme://...`` or ``www....``, the page a chat came from) is no
identifier, nor is anything that is neither a phone number nor an e-mail address.

The *hub guard*: a phone, email or name does not link when its rows carry more than
``max_contact_ids`` distinct contact ids, or more than ``max_contact_ids`` distinct *identities*:
its distinct contact ids plus, on its rows without a contact id, the distinct names (for a phone
or an email) or the distinct phones and emails (for a name). A ``contact_id`` always links. A row
left with no identifier is a customer of its own.

Each distinct contact string is classified once, and each distinct separator-free phone string
is parsed once -- or not at all when it is ``+<code>`` and the digits of a national number whose
parse serves both (see ``_parse_key``). A plain national number of ``default_region`` (digits
that start with no country code, international or national prefix) is read with the rule that
``_plain_national_rule`` takes from phonenumbers' own metadata (its national number patterns
decide validity), and tests hold it to the library's answers for every region; every other
string goes to phonenumbers (pure Python, about 10 us a number; with 100,000 or more such strings
the work is shared with ``python -c`` worker processes, one per extra CPU).

``customer_id`` is ``"C-"`` followed by 16 hex digits of a BLAKE2b hash of the customer's
smallest identifier (a ``contact_id`` when the customer has one), so it is the same for the same
input whatever the row order, and no contact detail can be read back from it. Set the environment
variable ``OMNIKIT_CUSTOMER_KEY`` to a secret to key the hash (then nobody without the secret can
even *test* a guessed phone number against an id); without it the hash is unkeyed.

:func:`customer_links` shows, per customer, which identifiers joined its interactions and why an
identifier did not link. It prints phone numbers, e-mail addresses and names: it is for internal
analysis, not for shared reports.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from typing import IO

import numpy as np
import phonenumbers
import polars as pl
import scipy.sparse
from scipy.sparse.csgraph import connected_components

from . import _engines
from ._errors import OmnikitError, ParameterError

__all__ = ["PLACEHOLDER_CONTACTS", "customer_links", "resolve_customers"]

#: Identifier kinds, in the order used to pick the identifier a ``customer_id`` is derived from.
IDENTIFIER_KINDS: tuple[str, ...] = ("contact_id", "email", "phone", "name")

_KIND_CONTACT_ID, _KIND_EMAIL, _KIND_PHONE, _KIND_NAME = range(4)
_KIND_OWN = 9  # a row without identifier: its own node (interaction id or row content)

#: A URL: ``scheme://...`` or ``www.``; such a contact is never an identifier.
URL_PATTERN = r"(?i)^(?:[a-z][a-z0-9+.\-]*://|www\.)"
#: The HTML Living Standard's "valid e-mail address", with at least one dot in the domain and
#: letters of any script in the local part, applied to the extracted, case-folded address whose
#: domain is in its IDNA (ASCII) form.
EMAIL_PATTERN = (
    r"^[\w.!#$%&'*+/=?^`{|}~\-]+@"
    r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?)+$"
)
#: Separators removed before a phone number is parsed (phonenumbers ignores them too); parsing
#: each distinct separator-free string once is what keeps phone normalisation fast.
_PHONE_SEPARATORS = r"[\s().\-/\u00a0\u2010-\u2015]"
#: Characters that are invisible and removed from contacts and names (NFKC keeps them).
_ZERO_WIDTH = r"[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]"

#: What a phone system shows instead of a withheld or unknown caller's number. A phone contact is
#: a placeholder, and no identifier, when its national number is one digit repeated
#: (``0000000000``, ``+1 (000) 000-0000``), or when its digits (without a leading ``+``, with or
#: without the country code of ``default_region``) spell one of these words on a phone keypad:
#: ``+266696687`` is ANONYMOUS, ``86282452253`` UNAVAILABLE (the forms carriers and CPaaS vendors
#: such as Twilio put in the caller id of withheld calls).
PLACEHOLDER_CONTACTS: tuple[str, ...] = (
    "ANONYMOUS",
    "BLOCKED",
    "NOCALLERID",
    "PRIVATE",
    "RESTRICTED",
    "UNAVAILABLE",
    "UNKNOWN",
    "WITHHELD",
)
_KEYPAD = str.maketrans(
    {
        c: str(d)
        for d, letters in enumerate(
            ["", "", "ABC", "DEF", "GHI", "JKL", "MNO", "PQRS", "TUV", "WXYZ"]
        )
        for c in letters
    }
)
#: The keypad digits of each placeholder word.
_PLACEHOLDER_DIGITS: tuple[str, ...] = tuple(w.translate(_KEYPAD) for w in PLACEHOLDER_CONTACTS)
#: A national number that is one digit repeated.
_REPEATED_DIGIT = "^(?:" + "|".join(f"{d}+" for d in range(10)) + ")$"
#: Marks a parsed phone string whose number is a placeholder (see ``_parse_chunk``).
_PLACEHOLDER_MARK = "!"
#: Why an identifier did not link, in ``customer_links``' ``blocked_by``.
BLOCKED_BY: tuple[str, ...] = ("placeholder", "contact_ids", "identities")

_REQUIRED = ("interaction_id", "contact", "contact_id", "name")
_OPTIONS = frozenset({"default_region", "link_by_name", "max_contact_ids"})


@_engines.engine_aware
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
        Also link rows by the customer ``name`` (NFKC-normalised, case-folded, white space
        collapsed).
    max_contact_ids
        A phone, email or name seen on rows with more than this many distinct ``contact_id``
        values, or more than this many identities (those contact ids plus, on its rows without
        a contact id, the distinct names -- for a name, the distinct phones and emails), does
        not link (switchboards, shared mailboxes, family phones). ``None``: no limit.
        Placeholders (:data:`PLACEHOLDER_CONTACTS`) never link.

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
    if isinstance(df, pl.DataFrame):
        ids = _identifier_frame(lazy)
        customer = _resolve(ids, default_region, link_by_name, max_contact_ids)
        return df.with_columns(customer.alias("customer_id"))
    customer = _resolve_lazy(df, default_region, link_by_name, max_contact_ids)
    mapping = pl.LazyFrame(
        {"__omnikit_row": np.arange(len(customer), dtype=np.uint32), "customer_id": customer}
    )
    return (
        df.drop("customer_id", strict=False)
        .with_row_index("__omnikit_row")
        .join(mapping, on="__omnikit_row", how="left", maintain_order="left")
        .drop("__omnikit_row")
    )


@_engines.engine_aware
def customer_links(
    df: pl.DataFrame | pl.LazyFrame,
    *,
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """Return, per customer, the identifiers found on its interactions and whether they linked.

    This explains a resolution: two contacts were merged because they share a ``linked``
    identifier; a switchboard number shows ``linked=False`` and why (``blocked_by``).
    **It shows phone numbers, e-mail addresses and names: keep it internal.**

    Parameters
    ----------
    df
        A canonical frame, eager or lazy. With a ``customer_id`` column (a frame returned by
        :func:`resolve_customers`), the options below must be the ones it was resolved with:
        the frame is resolved again with them, and any row whose ``customer_id`` differs is a
        :class:`~omnikit.ParameterError` (other options, or rows changed or left out since).
        Without one, customers are resolved with the options below.
    default_region, link_by_name, max_contact_ids
        As in :func:`resolve_customers`.

    Returns
    -------
    polars.DataFrame
        ``customer_id, kind`` (one of ``IDENTIFIER_KINDS``), ``identifier`` (normalised; a
        phone extension as ``;ext=``), ``interactions`` (this customer's rows carrying it),
        ``contact_ids`` (distinct contact ids on all rows carrying it, in the whole input),
        ``identities`` (what the hub guard counts: those contact ids plus the distinct names, or
        for a name the distinct phones and emails, on its rows without a contact id),
        ``linked`` and ``blocked_by`` (null when linked, else ``"placeholder"``: a withheld-number
        placeholder; ``"contact_ids"``: more than ``max_contact_ids`` contact ids;
        ``"identities"``: more than ``max_contact_ids`` identities), sorted by customer, kind,
        identifier.

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
    given = ids.get_column("customer_id") if has_customer else None
    ids = ids.drop("customer_id", strict=False)
    tuples, long = _guarded_identifiers(
        ids, default_region, link_by_name, max_contact_ids, explain=True
    )
    customer = _components(
        _row_tuples(tuples, ids.height), tuples.height, long.filter("linked"), _own_rows_of(ids)
    )
    if given is not None:
        _check_same_customers(ids, given, customer, default_region, link_by_name, max_contact_ids)
    rows = tuples.select("__t", "__rows").explode("__rows")
    long = long.join(rows, on="__t", how="inner")
    return (
        long.with_columns(customer_id=customer.gather(long["__rows"]))
        .group_by("customer_id", "kind", "key")
        .agg(
            interactions=pl.len().cast(pl.Int64),
            contact_ids=pl.col("contact_ids").first().cast(pl.Int64),
            identities=pl.col("identities").first().cast(pl.Int64),
            linked=pl.col("linked").first(),
            blocked_by=pl.col("blocked_by").first(),
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
            "identities",
            "linked",
            pl.col("blocked_by").replace_strict(
                list(range(len(BLOCKED_BY))), list(BLOCKED_BY), return_dtype=pl.String
            ),
        )
    )


def _check_same_customers(
    ids: pl.DataFrame,
    given: pl.Series,
    customer: pl.Series,
    default_region: str | None,
    link_by_name: bool,
    max_contact_ids: int | None,
) -> None:
    """Raise when ``given`` (the frame's ``customer_id``) is not what these options give."""
    differ = (given.ne_missing(customer)).arg_true()
    if differ.len():
        first = differ[0]
        where = ids["interaction_id"][first]
        raise ParameterError(
            f"customer_links: the frame's customer_id differs on {differ.len():,} of "
            f"{ids.height:,} rows (first: row {first}, interaction_id {where!r}) from a "
            f"resolution with default_region={default_region!r}, link_by_name={link_by_name!r}, "
            f"max_contact_ids={max_contact_ids!r}; pass the options the frame was resolved with, "
            "and the frame as resolve_customers returned it (not a subset), or drop customer_id"
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
    columns = [pl.col("interaction_id").cast(pl.String), *_clean(("contact_id", "contact", "name"))]
    if keep_customer:
        columns.append(pl.col("customer_id").cast(pl.String))
    ids = lazy.select(columns).collect()
    content = pl.repeat(None, ids.height, dtype=pl.String, eager=True).alias("__content")
    if ids["interaction_id"].null_count():
        rows = (
            lazy.with_row_index("__row")
            .filter(pl.col("interaction_id").is_null())
            .select("__row", _content(lazy).alias("__content"))
            .collect()
        )
        content = content.scatter(rows["__row"], rows["__content"])
    return ids.with_columns(content)


def _clean(columns: Iterable[str]) -> list[pl.Expr]:
    """Identifier columns as resolution reads them: text, trimmed, an empty one missing."""
    columns = list(columns)
    texts = [pl.col(c).cast(pl.String).str.strip_chars() for c in columns]
    # ``when`` rather than ``replace("", None)``: the same values, and polars' streaming engine
    # runs it batch by batch (``replace`` held every row: 13 GiB instead of 1 on 100M rows).
    return [pl.when(text != "").then(text).alias(c) for c, text in zip(columns, texts, strict=True)]


def _content(lazy: pl.LazyFrame) -> pl.Expr:
    """A row's whole content as one text: what stands in for a missing ``interaction_id``."""
    return pl.concat_str(
        [
            pl.col(c).cast(pl.String).fill_null("\x00")
            for c in lazy.collect_schema().names()
            if c != "customer_id"
        ],
        separator="\x1f",
    )


def _resolve_lazy(
    lazy: pl.LazyFrame,
    default_region: str | None,
    link_by_name: bool,
    max_contact_ids: int | None,
) -> pl.Series:
    """The ``customer_id`` of every row of ``lazy``, in row order, without holding its rows.

    The same resolution as ``_resolve(_identifier_frame(lazy), ...)``, for inputs that may not
    fit in memory (a store of years), with every text replaced by a number as early as possible:

    1. each identifier column's distinct texts are read (polars' streaming engine) and given a
       64-bit hash that tells them apart (``_TextHashes``); a row is then its tuple of hashes,
       and rows are numbered by their distinct tuple (``_number_tuples``, 4 bytes a row);
    2. every identifier (contact id, phone, e-mail, name key) becomes a node number, numbered in
       the order of its kind and text, so that the smallest number of a customer is the smallest
       identifier the eager path names it after (``_nodes``);
    3. the guard and the components run on those numbers; interaction ids and row content are
       read back only for the rows that link to nobody.
    """
    every_row = lazy.select(_clean(("contact_id", "contact", "name")))
    columns = ["contact_id", "contact"] + (["name"] if link_by_name else [])
    hashing = {
        c: _TextHashes(
            every_row.select(c).filter(pl.col(c).is_not_null()).unique()
            .collect(engine="streaming").to_series()
        )
        for c in columns
    }  # fmt: skip
    hashes = every_row.select(hashing[c].hashed(pl.col(c)) for c in columns)
    row_tuple, tuples = _number_tuples(hashes.collect(engine="streaming"))
    text, cids, contacts, names = _nodes(hashing, default_region, link_by_name)
    for column in hashing.values():
        column.texts = None  # the texts are not needed any more, their hashes are
    long = _coded_identifiers(tuples, cids, contacts, names)
    n_tuples = tuples.height
    del tuples, cids
    others = _coded_others(every_row, contacts, hashing["contact"], names is not None, text)
    del contacts, names
    linking = _guarded(long, others, max_contact_ids, explain=False)
    del long, others

    def own_rows(wanted: np.ndarray) -> pl.DataFrame:
        picked = pl.LazyFrame({"__row": wanted.astype(np.uint32)})
        return (
            lazy.with_row_index("__row")
            .join(picked, on="__row", how="semi")
            .select(
                "__row",
                pl.col("interaction_id").cast(pl.String),
                pl.when(pl.col("interaction_id").is_null()).then(_content(lazy)).alias("__content"),
            )
            .collect(engine="streaming")
            .sort("__row")
            .drop("__row")
        )

    return _components(row_tuple, n_tuples, linking, own_rows, text=text)


#: Seeds tried in turn for a 64-bit hash that tells a column's distinct texts apart (one in
#: about 10,000 columns of 60 million texts needs a second).
_SEEDS = tuple(range(8))


class _TextHashes:
    """The distinct texts of an identifier column (``texts``) and a 64-bit hash that tells them
    apart (its ``seed``): joining on those hashes meets exactly what joining on the texts does."""

    def __init__(self, texts: pl.Series) -> None:
        for seed in _SEEDS:
            if texts.hash(seed).n_unique() == len(texts):
                break
        else:  # pragma: no cover - 8 independent 64-bit collisions
            raise OmnikitError(f"no 64-bit hash tells the {len(texts):,} distinct texts apart")
        self.texts: pl.Series | None = texts
        self.seed = seed

    def hashed(self, text: pl.Expr) -> pl.Expr:
        """The hash of each of this column's texts; a missing one stays missing (its hash could
        be a text's)."""
        return pl.when(text.is_not_null()).then(text.hash(self.seed))

    def of(self, texts: pl.Series) -> pl.Series:
        """The hash of each of ``texts``, all among this column's."""
        return texts.hash(self.seed)


def _number_tuples(rows: pl.DataFrame) -> tuple[np.ndarray, pl.DataFrame]:
    """Number the distinct ``rows`` (of the rows' hashed identifiers, or of identifiers) in
    their sorted order: each row's number (``uint32``) and the distinct rows (``__t`` and the
    columns, a missing value its own value).

    The rows are sorted (polars' multi-threaded sort); a new one starts where a value differs
    from the row before."""
    columns = rows.columns
    order = rows.with_row_index("__row").sort(columns)
    del rows
    new = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift()) for c in columns)
    new = new | (pl.int_range(pl.len()) == 0)
    order = order.with_columns(__new=new)
    tuple_of = order.select((pl.col("__new").cum_sum() - 1).cast(pl.UInt32)).to_series()
    row_tuple = np.empty(order.height, dtype=np.uint32)
    row_tuple[order["__row"].to_numpy()] = tuple_of.to_numpy()
    del tuple_of
    tuples = order.filter("__new").select(columns).with_row_index("__t")
    return row_tuple, tuples


def _nodes(
    hashing: dict[str, _TextHashes], default_region: str | None, link_by_name: bool
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
    """Number every identifier of the distinct texts of each column (``_resolve_lazy``).

    Returns the identifiers (``text``: ``kind, key`` of each node, in node order) and, by the
    text's hash (``h``, see ``_TextHashes``), its node: contact ids (``h, node``), contacts
    (``h, kind, node, placeholder``) and, with ``link_by_name``, names (``h, node``).
    Nodes are numbered in the order of ``(kind, text)``: within a kind, the smaller number has
    the smaller text."""

    def texts(column: str) -> pl.Series:
        texts = hashing[column].texts
        assert texts is not None
        return texts

    cid = texts("contact_id")
    contacts = _contact_keys(texts("contact"), default_region)
    parts = [
        pl.DataFrame({"h": hashing["contact_id"].of(cid), "key": cid}).with_columns(
            kind=pl.lit(_KIND_CONTACT_ID, pl.Int8), placeholder=pl.lit(False)
        ),
        contacts.select(
            h=hashing["contact"].of(contacts["contact"]), key="key", kind="kind",
            placeholder="placeholder",
        ),
    ]  # fmt: skip
    del contacts
    if link_by_name:
        name_keys = _name_keys(texts("name"))
        parts.append(
            name_keys.select(
                h=hashing["name"].of(name_keys["name"]),
                key="key",
                kind=pl.lit(_KIND_NAME, pl.Int8),
                placeholder=pl.lit(False),
            )
        )
    frame = pl.concat(parts, how="diagonal_relaxed")
    del parts
    node, text = _number_tuples(frame.select("kind", "key"))
    frame = frame.select("h", "kind", "placeholder", node=pl.Series(node))
    text = text.drop("__t")
    kind = pl.col("kind")
    cids = frame.filter(kind == _KIND_CONTACT_ID).select("h", "node")
    contacts = frame.filter((kind == _KIND_EMAIL) | (kind == _KIND_PHONE))
    names = frame.filter(kind == _KIND_NAME).select("h", "node") if link_by_name else None
    return text, cids, contacts, names


def _coded_identifiers(
    tuples: pl.DataFrame, cids: pl.DataFrame, contacts: pl.DataFrame, names: pl.DataFrame | None
) -> pl.DataFrame:
    """Long frame ``__t, kind, key, cid, placeholder`` (as ``_identifiers``) of hashed tuples
    (``_resolve_lazy``): ``key`` is the identifier's node and ``cid`` the tuple's contact id's."""
    coded = (
        tuples.lazy()
        .join(cids.lazy().rename({"h": "contact_id", "node": "cid"}), on="contact_id", how="left")
        .drop("contact_id")
    )
    parts = [
        coded.filter(pl.col("cid").is_not_null()).select(
            "__t", kind=pl.lit(_KIND_CONTACT_ID, pl.Int8), key="cid", cid="cid",
            placeholder=pl.lit(False),
        ),
        coded.join(contacts.lazy().rename({"h": "contact"}), on="contact", how="inner").select(
            "__t", "kind", key="node", cid="cid", placeholder="placeholder"
        ),
    ]  # fmt: skip
    if names is not None:
        parts.append(
            coded.join(names.lazy().rename({"h": "name"}), on="name", how="inner").select(
                "__t", kind=pl.lit(_KIND_NAME, pl.Int8), key="node", cid="cid",
                placeholder=pl.lit(False),
            )
        )  # fmt: skip
    return pl.concat(parts).collect()


def _coded_others(
    every_row: pl.LazyFrame,
    contacts: pl.DataFrame,
    contact_hashes: _TextHashes,
    link_by_name: bool,
    text: pl.DataFrame,
) -> pl.DataFrame:
    """``_other_identities`` of the streaming path: ``kind, key, others`` with node keys."""
    rows = (
        _identity_columns(every_row)
        .select(contact_hashes.hashed(pl.col("contact")), "name")
        .collect(engine="streaming")
        .unique()
    )
    pairs = (
        rows.join(contacts.rename({"h": "contact"}), on="contact", how="inner")
        .filter(~pl.col("placeholder"))
        .join(_name_keys(rows["name"]).rename({"key": "name_key"}), on="name", how="inner")
        .select("kind", key="node", name_key="name_key")
        .unique()
    )
    name_nodes = None
    if link_by_name:
        name_nodes = (
            text.with_row_index("node").filter(pl.col("kind") == _KIND_NAME).select("key", "node")
        )
    return _other_identities(pairs, link_by_name, name_nodes)


def _tuples(ids: pl.DataFrame, link_by_name: bool) -> pl.DataFrame:
    """Distinct ``(contact_id, contact[, name])``: ``__t`` and the rows (``__rows``)."""
    keys = ["contact_id", "contact"] + (["name"] if link_by_name else [])
    # ``with_row_index`` rather than ``pl.int_range`` in the select: the same numbers, and the
    # group-by runs about 1.5x faster with them.
    return (
        ids.select(keys).with_row_index("__rows").group_by(keys).agg("__rows").with_row_index("__t")
    )


def _normalised(texts: pl.Series, *, distinct: bool = False) -> pl.DataFrame:
    """``text`` and its NFKC form without zero-width characters (``norm``), for distinct texts
    (``distinct``: ``texts`` are already distinct and not null).

    Only non-ASCII texts change, so only they are normalised."""
    values = texts if distinct else texts.drop_nulls().unique()
    frame = pl.DataFrame({"text": values}, schema={"text": pl.String})
    text = pl.col("text")
    ascii_only = text.str.len_bytes() == text.str.len_chars()
    frame = frame.with_columns(ascii=ascii_only)
    if frame["ascii"].all():
        return frame.select("text", norm="text")
    wide = frame.filter(~pl.col("ascii")).with_columns(
        norm=text.str.normalize("NFKC").str.replace_all(_ZERO_WIDTH, "").str.strip_chars()
    )
    return pl.concat(
        [frame.filter("ascii").select("text", norm="text"), wide.select("text", "norm")]
    ).filter(pl.col("norm") != "")


def _contact_keys(
    contacts: pl.Series, default_region: str | None, *, hashed: bool = False
) -> pl.DataFrame:
    """Map distinct contact strings to ``kind`` (email or phone), normalised ``key`` and
    ``placeholder`` (a withheld-number placeholder: an identifier that never links).

    With ``hashed``, also ``__h`` (the 64-bit hash of ``contact``) when that hash tells all the
    distinct strings of ``contacts`` apart, so that a join on it (see ``_with_contact_keys``)
    meets exactly the join on the strings."""
    distinct = contacts.drop_nulls().unique()
    frame = _normalised(distinct, distinct=True).rename({"text": "contact"})
    norm = pl.col("norm")
    # Contacts that start with a scheme (or www.): URLs are dropped, tel: and sip: URIs give the
    # number they carry (and a tel: URI its extension), the rest (mailto:) are read as usual.
    scheme = norm.str.contains(r"(?i)^(?:[a-z][a-z0-9+.\-]*:|www\.)")
    odd = frame.filter(scheme).filter(~norm.str.contains(URL_PATTERN))
    uri = norm.str.contains(r"(?i)^(?:tel|sips?):")
    uris = odd.filter(uri).select(
        "contact",
        text=pl.concat_str(
            norm.str.extract(r"(?i)^(?:tel|sips?):([^;@?]*)", 1),
            norm.str.extract(r"(?i)(;ext=[0-9]+)", 1).fill_null(""),
        ),
    )
    frame = pl.concat([frame.filter(~scheme), odd.filter(~uri)])
    has_at = norm.str.contains("@", literal=True)
    emails = _email_keys(frame.filter(has_at))
    phone = pl.concat([frame.filter(~has_at).select("contact", text="norm"), uris])
    phone = phone.filter(pl.col("text").str.contains(r"\d")).select(
        "contact", raw=pl.col("text").str.replace_all(_PHONE_SEPARATORS, "")
    )
    phone = phone.with_columns(parse=_parse_key(pl.col("raw"), default_region))
    numbers = _parse_phones(phone["parse"].unique(), default_region)
    phone = phone.join(numbers, left_on="parse", right_on="raw", how="inner")
    keys = pl.concat(
        [
            emails.select(
                "contact", kind=pl.lit(_KIND_EMAIL, pl.Int8), key="key", placeholder=pl.lit(False)
            ),
            phone.select(
                "contact",
                kind=pl.lit(_KIND_PHONE, pl.Int8),
                key=pl.col("e164").str.strip_prefix(_PLACEHOLDER_MARK),
                placeholder=pl.col("e164").str.starts_with(_PLACEHOLDER_MARK)
                | _keypad_placeholder(pl.col("raw"), default_region),
            ),
        ]
    )
    if hashed and distinct.hash().n_unique() == distinct.len():
        keys = keys.with_columns(__h=pl.col("contact").hash())
    return keys


def _with_contact_keys(frame: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (with a ``contact`` column) inner-joined with ``contacts`` (``_contact_keys``).

    On the 64-bit hash of the contact when ``contacts`` has it (the hash tells apart all the
    distinct contacts ``frame``'s come from, so the result is the same), else on the strings.
    """
    if "__h" not in contacts.columns:
        return frame.join(contacts, on="contact", how="inner")
    return (
        frame.filter(pl.col("contact").is_not_null())  # a null's hash could be a contact's
        .with_columns(__h=pl.col("contact").hash())
        .join(contacts.drop("contact"), on="__h", how="inner")
        .drop("__h")
    )


def _keypad_placeholder(raw: pl.Expr, region: str | None) -> pl.Expr:
    """Whether a separator-free phone string is a placeholder word spelled on the keypad: its
    digits (no ``+``) are the word's, or the country code of ``region`` and the word's."""
    spellings = list(_PLACEHOLDER_DIGITS)
    if region is not None:
        code = str(phonenumbers.country_code_for_region(region))
        spellings += [code + digits for digits in _PLACEHOLDER_DIGITS]
    return raw.str.strip_prefix("+").is_in(spellings)


def _email_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """``contact, key``: the e-mail address in each (normalised) contact with an ``@``.

    The address is taken out of ``Name <addr>`` and ``mailto:addr?query``, a trailing dot of the
    domain is dropped, the address is case-folded and an internationalised domain is written in
    its IDNA form; only valid addresses (``EMAIL_PATTERN``) are kept."""
    norm = pl.col("norm")
    # Most contacts are a bare address: only those with ``<``, ``:`` or a final dot are unwrapped.
    wrapped = norm.str.contains(r"[<:]|\.$")
    plain = frame.filter(~wrapped).select("contact", address="norm")
    frame = frame.filter(wrapped).select(
        "contact",
        address=pl.coalesce(norm.str.extract(r"<([^<>]*)>\s*$", 1), norm).str.strip_chars(),
    )
    address = pl.col("address")
    mailto = address.str.to_lowercase().str.starts_with("mailto:")
    frame = frame.select(
        "contact",
        address=pl.when(mailto)
        .then(address.str.slice(7).str.replace(r"\?.*$", ""))
        .otherwise(address)
        .str.replace(r"\.$", ""),
    )
    frame = pl.concat([plain, frame])
    ascii_only = address.str.len_bytes() == address.str.len_chars()
    plain = frame.filter(ascii_only).select("contact", key=address.str.to_lowercase())
    wide = frame.filter(~ascii_only)
    wide = pl.DataFrame(
        {"contact": wide["contact"], "key": [_idna_address(a) for a in wide["address"]]},
        schema={"contact": pl.String, "key": pl.String},
    )
    return pl.concat([plain, wide]).filter(pl.col("key").str.contains(EMAIL_PATTERN))


def _idna_address(address: str) -> str | None:
    """A non-ASCII address case-folded, its domain in IDNA (``xn--``) form; None if it has none."""
    local, at, domain = address.casefold().rpartition("@")
    if not at:
        return None
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return f"{unicodedata.normalize('NFKC', local)}@{domain}"


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
    """Map distinct names to their key: NFKC, zero-width characters removed, white space
    collapsed, case-folded."""
    frame = _normalised(names)
    collapsed = frame["norm"].str.replace_all(r"\s+", " ").to_list()
    return pl.DataFrame(
        {"name": frame["text"], "key": [s.casefold() for s in collapsed]},
        schema={"name": pl.String, "key": pl.String},
    )


def _guarded_identifiers(
    ids: pl.DataFrame,
    default_region: str | None,
    link_by_name: bool,
    max_contact_ids: int | None,
    *,
    explain: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The distinct tuples of ``ids`` (see ``_tuples``) and their identifiers, guarded.

    The second frame has ``__t, kind, key, cid, linked``: only the identifiers that link, or,
    with ``explain``, all of them with ``contact_ids, identities`` and ``blocked_by`` (an index
    into ``BLOCKED_BY``; null when the identifier links)."""
    tuples = _tuples(ids, link_by_name)
    contacts = _contact_keys(tuples["contact"], default_region, hashed=True)
    names = _name_keys(tuples["name"]) if link_by_name else None
    long = _identifiers(tuples, contacts, names)
    others = _other_identities(_identity_pairs(ids, contacts), link_by_name)
    return tuples, _guarded(long, others, max_contact_ids, explain=explain)


def _identifiers(
    tuples: pl.DataFrame, contacts: pl.DataFrame, names: pl.DataFrame | None
) -> pl.DataFrame:
    """Long frame ``__t, kind, key, cid, placeholder``: every identifier of every tuple."""
    parts = [
        tuples.select(
            "__t",
            kind=pl.lit(_KIND_CONTACT_ID, pl.Int8),
            key="contact_id",
            cid="contact_id",
            placeholder=pl.lit(False),
        ).drop_nulls("key"),
        _with_contact_keys(tuples.select("__t", "contact", cid="contact_id"), contacts).select(
            "__t", "kind", "key", "cid", "placeholder"
        ),
    ]
    if names is not None:
        parts.append(
            tuples.select("__t", "name", cid="contact_id")
            .join(names, on="name", how="inner")
            .select(
                "__t",
                kind=pl.lit(_KIND_NAME, pl.Int8),
                key="key",
                cid="cid",
                placeholder=pl.lit(False),
            )
        )
    return pl.concat(parts)


def _other_identities(
    pairs: pl.DataFrame, link_by_name: bool, name_nodes: pl.DataFrame | None = None
) -> pl.DataFrame:
    """``kind, key, others``: on rows without a contact id, the distinct names seen with each
    phone and email (and, with ``link_by_name``, the distinct phones and emails seen with each
    name), counted from their distinct ``pairs`` (``_identity_pairs``). With its contact ids,
    this is what the hub guard counts. ``name_nodes`` (``key, node``) numbers the name keys
    (the streaming path, ``_resolve_lazy``)."""
    parts = [pairs.group_by("kind", "key").agg(others=pl.len())]
    if link_by_name:
        names = pairs.group_by("name_key").agg(others=pl.len())
        if name_nodes is not None:
            names = names.join(name_nodes, left_on="name_key", right_on="key", how="inner").select(
                name_key="node", others="others"
            )
        parts.append(
            names.select(kind=pl.lit(_KIND_NAME, pl.Int8), key="name_key", others="others")
        )
    return pl.concat(parts).with_columns(pl.col("others").cast(pl.UInt32))


def _identity_pairs(ids: pl.DataFrame | pl.LazyFrame, contacts: pl.DataFrame) -> pl.DataFrame:
    """``kind, key, name_key``: distinct (phone or email, name) pairs of rows without a contact
    id (placeholders left out), from which ``_other_identities`` counts."""
    rows = _identity_columns(ids).unique().collect(engine="streaming")
    return (
        _with_contact_keys(rows, contacts)
        .filter(~pl.col("placeholder"))
        .join(_name_keys(rows["name"]).rename({"key": "name_key"}), on="name", how="inner")
        .select("kind", "key", "name_key")
        .unique()
    )


def _identity_columns(ids: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """``contact, name`` of the rows without a contact id that have both."""
    return (
        ids.lazy()
        .filter(
            pl.col("contact_id").is_null()
            & pl.col("contact").is_not_null()
            & pl.col("name").is_not_null()
        )
        .select("contact", "name")
    )


def _parse_chunk(texts: list[str], region: str | None) -> list[str | None]:
    """What phonenumbers reads in each text: None when it cannot parse it; ``!`` and the key
    (E.164, then ``;ext=`` and the extension, if any) of a possible number that is a placeholder
    (its national number one digit repeated, or a keypad spelling in ``_PLACEHOLDER_DIGITS``);
    else ``"<country code> <national significant number> <extension>"``, whose validity
    :func:`_parse_phones` decides for all texts at once (see ``_valid_parsed``)."""
    parse, possible, nsn = (
        phonenumbers.parse,
        phonenumbers.is_possible_number,
        phonenumbers.national_significant_number,
    )
    error = phonenumbers.NumberParseException
    out: list[str | None] = []
    for text in texts:
        try:
            number = parse(text, region)
        except error:
            out.append(None)
            continue
        national, extension = nsn(number), number.extension or ""
        if (len(set(national)) == 1 or national in _PLACEHOLDER_DIGITS) and possible(number):
            ext = f";ext={extension}" if extension else ""
            out.append(f"{_PLACEHOLDER_MARK}+{number.country_code}{national}{ext}")
        else:
            out.append(f"{number.country_code} {national} {extension}")
    return out


#: With at least this many distinct phone strings, phonenumbers runs in worker processes too.
PARALLEL_PHONES = 100_000


def _worker_source() -> str:
    """A ``python -c`` program running :func:`_parse_chunk` with only phonenumbers imported:
    it reads the region and newline-separated strings, and writes one key (or empty) line each."""
    return "\n".join(
        [
            "import sys",
            "import phonenumbers",
            f"_PLACEHOLDER_DIGITS = {_PLACEHOLDER_DIGITS!r}",
            f"_PLACEHOLDER_MARK = {_PLACEHOLDER_MARK!r}",
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


#: The number types of phonenumbers' metadata, in the order ``_number_type_helper`` tries them.
_NUMBER_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)

#: A region's validity test: (leading digits or None, general (pattern, lengths), the number
#: types as one ``(pattern, lengths)`` per distinct set of lengths).
_Validity = tuple[str | None, tuple[str, tuple[int, ...]], tuple[tuple[str, tuple[int, ...]], ...]]


@functools.cache
def _plain_national_rule(
    region: str | None,
) -> tuple[str, tuple[str, ...], tuple[int, ...], tuple[_Validity, ...]] | None:
    """What phonenumbers does with a plain national number of ``region``, read off its metadata.

    For digits ``D`` (ASCII, 2 to 17 of them) parsed with ``region``, the main region of its
    country code ``C``: when ``D`` starts neither with ``C``, nor with a match of ``region``'s
    international (IDD) prefix, nor with one of its national prefix for parsing, ``parse`` takes
    no country code, no prefix and no extension from it, so the number is ``C`` and ``D`` (leading
    zeros kept, so ``D`` is its national significant number). It is possible exactly when its
    length is one the country's numbers may have (``is_possible_number`` looks at nothing else),
    and valid exactly as ``is_valid_number`` decides: the first region of ``C`` whose leading
    digits start ``D`` (or, for a region without leading digits, whose patterns ``D`` matches)
    decides, and there ``D`` must match the general pattern and one number type's pattern, each
    with its possible lengths. Returns ``(C, (IDD, national prefix), the possible lengths, the
    validity test of each region of C in order)``, or None where the rule does not apply (no
    region, not a main region, or a pattern polars' regex engine cannot read). Tests compare it
    with the library's answers for every region.
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
    rules = []
    for other in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]:
        rule = _validity(other)
        if rule is None:  # pragma: no cover - no rule
            return None
        rules.append(rule)
    return str(code), prefixes, lengths, tuple(rules)


def _validity(region: str) -> _Validity | None:
    """``region``'s validity test read off its metadata (see ``_plain_national_rule``)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:  # pragma: no cover - every region of a code has metadata
        return None

    def desc(name: str) -> tuple[str, tuple[int, ...]] | None:
        number_desc = getattr(metadata, name)
        if number_desc is None or not number_desc.national_number_pattern:
            return None
        return number_desc.national_number_pattern, tuple(number_desc.possible_length or ())

    general = desc("general_desc")
    names = [
        n
        for n in _NUMBER_TYPES
        if not (n == "mobile" and metadata.same_mobile_and_fixed_line_pattern)
    ]
    by_lengths: dict[tuple[int, ...], list[str]] = {}
    for name in names:
        found = desc(name)
        if found is not None:
            by_lengths.setdefault(found[1], []).append(found[0])
    types = tuple(
        ("|".join(f"(?:{p})" for p in patterns), lengths)
        for lengths, patterns in by_lengths.items()
    )
    lead = metadata.leading_digits
    patterns = [p for p, _ in types] + ([general[0]] if general else []) + ([lead] if lead else [])
    if not all(_polars_reads(p) for p in patterns):  # pragma: no cover - no rule
        return None
    if general is None:  # pragma: no cover - every region has a general pattern
        return None
    return lead, general, types


def _matches(digits: pl.Expr, pattern: str, lengths: tuple[int, ...]) -> pl.Expr:
    """Whether ``digits`` match a number description: one of its lengths (if it lists any) and
    the whole of its pattern."""
    match = digits.str.contains(f"^(?:{pattern})$")
    return match if not lengths else digits.str.len_bytes().is_in(lengths) & match


def _valid_national(digits: pl.Series, rules: tuple[_Validity, ...]) -> pl.Series:
    """Whether each national significant number is valid (``is_valid_number``) in its country,
    whose regions' tests are ``rules``: each region decides the numbers still undecided that it
    claims, so most numbers meet only the first region's patterns."""
    valid = np.zeros(len(digits), dtype=bool)
    d = pl.col("d")
    undecided = pl.DataFrame({"d": digits, "i": np.arange(len(digits))})
    for lead, (pattern, lengths), types in rules:
        if undecided.height == 0:
            break
        known = _matches(d, pattern, lengths) & pl.any_horizontal(
            [_matches(d, p, n) for p, n in types] or [pl.lit(False)]
        )
        claimed = d.str.contains(f"^(?:{lead})") if lead else known
        undecided = undecided.with_columns(claimed=claimed, known=known)
        valid[undecided.filter("claimed", "known")["i"].to_numpy()] = True
        undecided = undecided.filter(~pl.col("claimed")).select("d", "i")
    return pl.Series(valid)


def _parse_phones(raw: pl.Series, region: str | None) -> pl.DataFrame:
    """Map each distinct separator-free contact string to its key (see ``_parse_chunk``: valid
    numbers, and placeholders marked ``!``); strings with neither are left out.

    A plain national number of ``region`` is read with :func:`_plain_national_rule`, derived from
    the library's metadata; every other string goes to phonenumbers. That is pure Python (about
    10 us a string), so a large set of strings is split over the CPUs: this process parses one
    share while ``python -c`` workers parse the others (plain subprocesses talking over pipes, so
    a caller's script needs no ``__main__`` guard and no process running polars is ever forked).
    """
    rule = _plain_national_rule(region)
    decided = pl.DataFrame(schema={"raw": pl.String, "e164": pl.String})
    if rule is not None:
        code, prefixes, lengths, validity = rule
        text = pl.col("raw")
        plain = text.str.contains(r"^[0-9]{2,17}$") & ~text.str.starts_with(code)
        for prefix in prefixes:
            plain = plain & ~text.str.contains(f"^(?:{prefix})")
        frame = raw.rename("raw").to_frame().with_columns(plain=plain)
        national = frame.filter("plain").select(
            "raw",
            placeholder=text.str.len_bytes().is_in(lengths)
            & (text.str.contains(_REPEATED_DIGIT) | text.is_in(list(_PLACEHOLDER_DIGITS))),
        )
        others = national.filter(~pl.col("placeholder"))
        national = pl.concat(
            [
                national.filter("placeholder"),
                others.filter(_valid_national(others["raw"], validity)),
            ]
        )
        decided = national.select(
            "raw",
            e164=pl.concat_str(
                pl.when("placeholder").then(pl.lit(_PLACEHOLDER_MARK)).otherwise(pl.lit("")),
                pl.lit(f"+{code}"),
                text,
            ),
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
    ).drop_nulls()
    return pl.concat([decided, _valid_parsed(parsed_frame, region)])


@functools.cache
def _country_validity(code: int) -> tuple[_Validity, ...] | None:
    """The validity tests of the regions of country code ``code``, in the library's order; None
    for a non-geographic code or a pattern polars cannot read."""
    rules = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ()):
        rule = _validity(region) if region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY else None
        if rule is None:
            return None
        rules.append(rule)
    return tuple(rules) or None


def _valid_parsed(parsed: pl.DataFrame, region: str | None) -> pl.DataFrame:
    """``raw, e164``: the keys of the numbers phonenumbers parsed (``_parse_chunk``) that are
    valid (``is_valid_number``, decided with the metadata's patterns per country code, or by the
    library itself where they do not apply), and the placeholders as they are."""
    marked = parsed.filter(pl.col("e164").str.starts_with(_PLACEHOLDER_MARK))
    parts = (
        parsed.filter(~pl.col("e164").str.starts_with(_PLACEHOLDER_MARK))
        .with_columns(pl.col("e164").str.split_exact(" ", 2).struct.rename_fields(["c", "n", "x"]))
        .unnest("e164")
    )
    key = pl.concat_str(
        pl.lit("+"),
        "c",
        "n",
        pl.when(pl.col("x") != "").then(pl.lit(";ext=") + pl.col("x")).otherwise(pl.lit("")),
    )
    out = [marked]
    for (code,), numbers in parts.partition_by("c", as_dict=True).items():
        rules = _country_validity(int(str(code)))
        if rules is not None:
            valid = _valid_national(numbers["n"], rules)
        else:  # the library decides
            valid = pl.Series(
                [
                    phonenumbers.is_valid_number(phonenumbers.parse(t, region))
                    for t in numbers["raw"]
                ],
                dtype=pl.Boolean,
            )
        out.append(numbers.filter(valid).select("raw", e164=key))
    return pl.concat(out)


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
        for proc, chunk, written in procs:
            proc.wait()
            written.seek(0)
            lines = written.read().split("\n")
            if proc.returncode != 0 or len(lines) != len(chunk):  # pragma: no cover - defensive
                lines = [e or "" for e in _parse_chunk(chunk, region)]
            parsed.extend(line or None for line in lines)
    return parsed


def _guarded(
    long: pl.DataFrame, others: pl.DataFrame, max_contact_ids: int | None, *, explain: bool
) -> pl.DataFrame:
    """The identifiers of ``long`` that link (see ``_guarded_identifiers``): placeholders never
    do; a phone, email or name does not when it has more than ``max_contact_ids`` distinct
    ``contact_ids`` or ``identities`` (those plus its ``others``, see ``_other_identities``)."""
    counts = (
        long.lazy()
        .filter(pl.col("kind") != _KIND_CONTACT_ID)
        .select("kind", "key", "cid")
        .drop_nulls("cid")
        .unique()
        .group_by("kind", "key")
        .agg(contact_ids=pl.len())
        .join(others.lazy(), on=["kind", "key"], how="full", coalesce=True)
        .select(
            "kind",
            "key",
            pl.col("contact_ids").fill_null(0),
            identities=pl.col("contact_ids").fill_null(0) + pl.col("others").fill_null(0),
        )
    )
    if not explain:
        linking = long.lazy().filter(~pl.col("placeholder"))
        if max_contact_ids is not None:
            blocked = (
                counts.filter(
                    (pl.col("contact_ids") > max_contact_ids)
                    | (pl.col("identities") > max_contact_ids)
                )
                .select("kind", "key")
                .collect()
            )
            # Few identifiers are blocked: only the rows with one of their keys meet the join.
            suspect = pl.col("key").is_in(blocked["key"].implode())
            linking = pl.concat(
                [
                    linking.filter(~suspect),
                    linking.filter(suspect).join(blocked.lazy(), on=["kind", "key"], how="anti"),
                ]
            )
        return linking.select("__t", "kind", "key", "cid", linked=pl.lit(True)).collect()
    counts_frame = counts.collect()
    reasons = [pl.col("placeholder")]
    if max_contact_ids is not None:
        reasons += [
            pl.col("contact_ids") > max_contact_ids,
            pl.col("identities") > max_contact_ids,
        ]
    blocked_by: pl.Expr = pl.lit(None, pl.Int8)  # the first reason that holds, by its index
    for code, reason in reversed(list(enumerate(reasons))):
        blocked_by = pl.when(reason).then(pl.lit(code, pl.Int8)).otherwise(blocked_by)
    # A contact id is always one contact id and always links.
    is_cid = pl.col("kind") == _KIND_CONTACT_ID
    return pl.concat(
        [
            long.filter(is_cid).select(
                "__t",
                "kind",
                "key",
                "cid",
                contact_ids=pl.lit(1, pl.UInt32),
                identities=pl.lit(1, pl.UInt32),
                linked=pl.lit(True),
                blocked_by=pl.lit(None, pl.Int8),
            ),
            long.filter(~is_cid)
            .join(counts_frame, on=["kind", "key"], how="left")
            .with_columns(pl.col("contact_ids", "identities").fill_null(0))
            .with_columns(blocked_by=blocked_by)
            .select(
                "__t",
                "kind",
                "key",
                "cid",
                "contact_ids",
                "identities",
                linked=pl.col("blocked_by").is_null(),
                blocked_by="blocked_by",
            ),
        ]
    )


# --- components ----------------------------------------------------------------------------


def _resolve(
    ids: pl.DataFrame, default_region: str | None, link_by_name: bool, max_contact_ids: int | None
) -> pl.Series:
    """The ``customer_id`` of every row of ``ids``, in row order."""
    tuples, long = _guarded_identifiers(ids, default_region, link_by_name, max_contact_ids)
    return _components(_row_tuples(tuples, ids.height), tuples.height, long, _own_rows_of(ids))


def _row_tuples(tuples: pl.DataFrame, height: int) -> np.ndarray:
    """Each row's tuple number (``__t``), from the tuples' row lists (``_tuples``)."""
    row_tuple = np.empty(height, dtype=np.uint32)
    sizes = tuples["__rows"].list.len().to_numpy()
    row_tuple[tuples["__rows"].explode().to_numpy()] = np.repeat(
        np.arange(tuples.height, dtype=np.uint32), sizes
    )
    return row_tuple


def _own_rows_of(ids: pl.DataFrame) -> Callable[[np.ndarray], pl.DataFrame]:
    """What ``_components`` asks of the rows that link to nobody, read from ``ids``."""
    return lambda rows: ids.select("interaction_id", "__content")[rows]


def _components(
    row_tuple: np.ndarray,
    n_tuples: int,
    linking: pl.DataFrame,
    own_rows: Callable[[np.ndarray], pl.DataFrame],
    *,
    text: pl.DataFrame | None = None,
) -> pl.Series:
    """The ``customer_id`` of every row from its tuple (``row_tuple``, a tuple number per row)
    and the tuples' ``linking`` identifiers (``__t, kind, key``). ``own_rows(rows)`` gives the
    ``interaction_id, __content`` of the given rows (ascending), for those that link to nobody.
    With ``text``, keys are node numbers (``_nodes``) and ``text["key"][node]`` their texts."""
    # One group-by numbers the distinct identifiers (``node``) and lists the tuples of each.
    grouped = linking.group_by("kind", "key").agg("__t").with_row_index("node")
    nodes = grouped.select("node", "kind", "key")
    edges = grouped.select("node", "__t").explode("__t")
    del grouped
    # Each tuple links all of its identifiers to the smallest one (its anchor); ``__t`` is the
    # tuple's position, and ``k`` (no node) marks a tuple without a linking identifier.
    k = nodes.height
    # int64 throughout: ``np.minimum.at`` takes its fast path only when the dtypes match.
    tuple_of = edges["__t"].to_numpy().astype(np.int64)
    node = edges["node"].to_numpy().astype(np.int64)
    anchor = np.full(n_tuples, k, dtype=np.int64)
    np.minimum.at(anchor, tuple_of, node)
    graph = scipy.sparse.coo_matrix(
        (np.ones(edges.height, dtype=np.int8), (anchor[tuple_of], node)), shape=(k, k)
    ).tocsr()
    del edges, tuple_of, node
    n_comp, labels = connected_components(graph, directed=False)
    del graph
    # A component is named after its smallest node: the smallest key of its smallest kind.
    smallest = (
        nodes.select("kind", "key", label=pl.Series(labels, dtype=pl.UInt32))
        .filter(pl.col("kind") == pl.col("kind").min().over("label"))
        .group_by("label")
        .agg(pl.col("kind").first(), pl.col("key").min())
        .sort("label")
    )
    if text is not None:
        smallest = smallest.with_columns(key=text["key"].gather(smallest["key"]))
    keys = smallest.select(pl.format("{}:{}", "kind", "key")).to_series().to_list()
    del nodes, smallest
    # A tuple's component, or -1 when it has no linking identifier.
    component = np.full(n_tuples, -1, dtype=np.int64)
    component[anchor < k] = labels[anchor[anchor < k]]
    index = component[row_tuple]
    # A row without a linking identifier is its own customer: its interaction id, else its content.
    own_row = np.flatnonzero(index < 0)
    own_key, own_keys = _own_keys(own_rows(own_row))
    index[own_row] = n_comp + own_key
    names = _pseudonyms(keys + own_keys)  # all at once: a collision of any two is seen
    return pl.Series("customer_id", names, dtype=pl.String).gather(index)


def _own_keys(rows: pl.DataFrame) -> tuple[np.ndarray, list[str]]:
    """For rows (``interaction_id, __content``) that link to nobody: the index of each one's own
    key into the distinct own keys, and those keys."""
    content = pl.col("__content")
    # Identical rows without any id are told apart by their rank among themselves (order-free).
    occurrence = pl.int_range(pl.len()).over(content).cast(pl.String)
    keys = rows.select(
        key=pl.when(pl.col("interaction_id").is_not_null())
        .then(pl.format("{}:{}", pl.lit(_KIND_OWN), "interaction_id"))
        .otherwise(pl.concat_str([pl.lit(f"{_KIND_OWN}:"), content, pl.lit("\x1e"), occurrence]))
    )
    distinct = keys.unique(maintain_order=True).with_row_index("__key")
    index = keys.join(distinct, on="key", how="left", maintain_order="left")["__key"]
    return index.to_numpy().astype(np.int64), distinct["key"].to_list()


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
