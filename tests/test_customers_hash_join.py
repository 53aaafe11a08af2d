"""Contacts meet their identifiers on a 64-bit hash only where that is the same as on strings."""

from __future__ import annotations

import hashlib
from typing import Any

import polars as pl
import pytest

import omnikit as ok
from omnikit import _customers

CONTACTS = [
    "(510) 876-9640",
    "+1 510 876 9640",
    "Ana <ANA@Example.com>",
    "https://shop.example",
    "0000000000",
    "not a contact",
]


def frame() -> pl.DataFrame:
    contacts = [*CONTACTS, None, "(510) 876-9640", "ana@example.com"]
    return pl.DataFrame(
        {
            "interaction_id": [f"i{k}" for k in range(len(contacts))],
            "contact": contacts,
            "contact_id": [None, "k1", None, None, None, None, None, "k2", "k2"],
            "name": [None, None, "Ana", None, "Bo", None, "Ana", None, None],
        }
    )


def test_the_hash_join_meets_exactly_what_the_string_join_meets() -> None:
    keys = _customers._contact_keys(pl.Series(CONTACTS), "US", hashed=True)
    assert "__h" in keys.columns
    plain = keys.drop("__h")
    rows = pl.DataFrame({"contact": [*CONTACTS, None, "+15108769640", "ANA@example.com"]})
    by_hash = _customers._with_contact_keys(rows, keys).sort("contact")
    by_string = _customers._with_contact_keys(rows, plain).sort("contact")
    assert by_hash.equals(by_string)
    met = {"(510) 876-9640", "+1 510 876 9640", "Ana <ANA@Example.com>", "0000000000"}
    assert set(by_hash["contact"]) == met  # not the URL, the text, the null or the unknown


def test_a_null_contact_never_meets_a_contact_whose_hash_it_shares() -> None:
    keys = _customers._contact_keys(pl.Series(["510-876-9640"]), "US", hashed=True)
    null_hash = pl.Series([None], dtype=pl.String).hash()[0]
    keys = keys.with_columns(__h=pl.lit(null_hash, pl.UInt64))
    rows = pl.DataFrame({"contact": [None, "x"]}, schema={"contact": pl.String})
    assert _customers._with_contact_keys(rows, keys).height == 0


def test_colliding_hashes_fall_back_to_the_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    df = frame()
    expected = ok.resolve_customers(df)["customer_id"]
    expected_links = ok.customer_links(df)
    # Every string hashes alike: the hash tells nothing apart, so the strings must decide.
    monkeypatch.setattr(
        pl.Series, "hash", lambda self, *a, **k: pl.Series([0] * len(self), dtype=pl.UInt64)
    )
    keys = _customers._contact_keys(pl.Series(CONTACTS), "US", hashed=True)
    assert "__h" not in keys.columns
    assert ok.resolve_customers(df)["customer_id"].equals(expected)
    assert ok.customer_links(df).equals(expected_links)
    assert expected.n_unique() == 5  # i0/i1/i7 (phone, k1, k2), i2/i8 (e-mail, k2), 3 alone


@pytest.mark.parametrize("link_by_name", [False, True])
def test_a_store_is_resolved_on_the_next_seed_when_one_hash_collides(
    monkeypatch: pytest.MonkeyPatch, link_by_name: bool
) -> None:
    df = frame()
    expected = ok.resolve_customers(df, link_by_name=link_by_name)
    real = pl.Series.hash
    tried: list[int] = []

    def colliding(self: pl.Series, seed: int = 0, *args: object, **kwargs: object) -> pl.Series:
        tried.append(seed)
        hashes = real(self, seed, *args, **kwargs)
        return hashes * 0 if seed == 0 else hashes  # the first seed tells nothing apart

    monkeypatch.setattr(pl.Series, "hash", colliding)
    lazy = ok.resolve_customers(df.lazy(), link_by_name=link_by_name).collect()
    assert 1 in tried  # the codes were made with the next seed, and the rows hashed with it
    assert lazy.equals(expected)


def test_tuples_of_hashes_are_numbered_like_tuples_of_texts() -> None:
    rows = pl.DataFrame(
        {
            "contact_id": ["a", None, "a", "b", None, "a", "a", None],
            "contact": ["x", "y", "x", None, "y", "y", "y", None],
            "name": ["n", "n", "m", None, "n", "n", None, None],
        }
    )
    hashing = {c: _customers._TextHashes(rows[c].drop_nulls().unique()) for c in rows.columns}
    hashes = rows.select(hashing[c].hashed(pl.col(c)) for c in rows.columns)
    row_tuple, tuples = _customers._number_tuples(hashes)
    # Rows share a number exactly when they share the tuple of texts.
    texts = list(rows.iter_rows())
    assert len(set(texts)) == tuples.height == len(set(row_tuple.tolist()))
    for i in range(rows.height):
        for j in range(rows.height):
            assert (row_tuple[i] == row_tuple[j]) == (texts[i] == texts[j])
    # Each tuple's hashes are its texts' hashes; a missing text has none.
    assert tuples["__t"].to_list() == list(range(tuples.height))
    for i, tuple_number in enumerate(row_tuple.tolist()):
        for c in rows.columns:
            hashed = tuples[c][tuple_number]
            value = rows[c][i]
            assert (hashed is None) == (value is None)
            if value is not None:
                assert hashed == hashing[c].of(pl.Series([value]))[0]


def test_customer_ids_never_merge_when_their_short_digests_collide(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One customer linked by a contact id and one row that links to nobody (named after its
    # interaction id): every 8-byte digest is made the same, so only the 32-byte ones tell the
    # two apart, and they must be used for both, in the eager and the streaming path alike.
    df = pl.DataFrame(
        {
            "interaction_id": ["a", "b", "c"],
            "contact": [None, None, "https://shop.example"],
            "contact_id": ["k1", "k1", None],
            "name": [None, None, None],
        },
        schema=dict.fromkeys(("interaction_id", "contact", "contact_id", "name"), pl.String),
    )
    real = hashlib.blake2b

    class Constant:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def copy(self) -> Constant:
            return Constant(self.inner.copy())

        def update(self, data: bytes) -> None:
            self.inner.update(data)

        def hexdigest(self) -> str:
            return "0" * 16

    def colliding(*args: Any, digest_size: int = 64, **kwargs: Any) -> Any:
        digest = real(*args, digest_size=digest_size, **kwargs)
        return Constant(digest) if digest_size == 8 else digest

    monkeypatch.setattr(hashlib, "blake2b", colliding)
    eager = ok.resolve_customers(df)["customer_id"]
    lazy = ok.resolve_customers(df.lazy()).collect()["customer_id"]
    assert eager.to_list() == lazy.to_list()
    assert eager[0] == eager[1] != eager[2]
    assert len(eager[2]) == 2 + 64  # "C-" and the 32-byte digest
