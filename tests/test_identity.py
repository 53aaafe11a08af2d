"""Identity resolution on real contact strings: placeholders, extensions, short numbers, Unicode,
e-mail and URI forms, the hub guard without contact ids, and stable customer ids."""

from __future__ import annotations

import hashlib
import random
import unicodedata

import phonenumbers
import polars as pl
import pytest
from _resolution import frame, groups, parsed_one_by_one
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import omnikit as ok
from omnikit import _customers

# ------------------------------------------------------------------------------------------
# phones: placeholders, validity, extensions


@pytest.mark.parametrize(
    "placeholder",
    [
        "0000000000",
        "+1 (000) 000-0000",
        "555-555-5555",
        "+266696687",  # ANONYMOUS on a keypad, as carriers put it in the caller id
        "266-696-687",
        "1 266 696 687",
        "+86282452253",  # UNAVAILABLE
        "+7378742833",  # RESTRICTED
        "tel:+10000000000",
        "+44 7777 777777",  # phonenumbers parses this one (no fast path)
        "+351 222 222 222",
    ],
)
def test_a_placeholder_never_links_rows_without_contact_ids(placeholder: str) -> None:
    df = frame([{"contact": placeholder, "name": f"caller {k}"} for k in range(5)])
    assert groups(df) == [["i0"], ["i1"], ["i2"], ["i3"], ["i4"]]
    phones = ok.customer_links(df).filter(kind="phone")
    if phones.height:  # a possible number: shown, and why it did not link
        assert set(phones["blocked_by"]) == {"placeholder"}
        assert not phones["linked"].any()


def test_placeholder_contacts_is_the_documented_list() -> None:
    assert "ANONYMOUS" in ok.PLACEHOLDER_CONTACTS
    assert "UNAVAILABLE" in ok.PLACEHOLDER_CONTACTS
    # Each word's keypad digits, however written, are never a linking identifier; where they
    # make a valid number (RESTRICTED is +1 737-874-2833) it is shown as a placeholder.
    flagged = set()
    for word in ok.PLACEHOLDER_CONTACTS:
        digits = word.translate(_customers._KEYPAD)
        forms = [digits, "+" + digits, "1" + digits, "+1 " + digits, "tel:+1" + digits]
        keys = _customers._contact_keys(pl.Series(forms), "US")
        assert keys["placeholder"].all(), word
        flagged |= set(keys["contact"])
    assert "+1 7378742833" in flagged
    # One digit changed, a valid number is an identifier again.
    keys = _customers._contact_keys(pl.Series(["+1 7378742834"]), "US")
    assert keys.rows() == [("+1 7378742834", 2, "+17378742834", False)]


def test_short_local_numbers_and_invalid_numbers_are_no_identifiers() -> None:
    # 876-9640 is possible (a 7-digit local number) but not valid; 555-0100 numbers with a
    # 555 area code do not exist.
    for contact in ["876-9640", "(555) 222-0100", "+1 (123) 456-7890"]:
        df = frame([{"contact": contact}, {"contact": contact}])
        assert groups(df) == [["i0"], ["i1"]], contact
        assert ok.customer_links(df).height == 0, contact
    # A valid number still links, however it is written.
    df = frame([{"contact": "(212) 555-0100"}, {"contact": "+1 212 555 0100"}])
    assert groups(df) == [["i0", "i1"]]


def test_an_extension_is_part_of_the_phone_identifier() -> None:
    df = frame(
        [
            {"contact": "+1-510-876-9640 ext. 12", "contact_id": "k1"},
            {"contact": "+1 510 876 9640 x12"},
            {"contact": "+1-510-876-9640 ext. 13", "contact_id": "k2"},
            {"contact": "tel:+1-510-876-9640;ext=13"},
            {"contact": "+1-510-876-9640", "contact_id": "k3"},
            {"contact": "(510) 876-9640"},
        ]
    )
    # Same number and extension link; different extensions and the bare line do not.
    assert groups(df) == [["i0", "i1"], ["i2", "i3"], ["i4", "i5"]]
    phones = ok.customer_links(df).filter(kind="phone")["identifier"].to_list()
    assert sorted(phones) == ["+15108769640", "+15108769640;ext=12", "+15108769640;ext=13"]


def test_tel_and_sip_uris_carrying_a_number_link_as_that_number() -> None:
    df = frame(
        [
            {"contact": "(510) 876-9640"},
            {"contact": "tel:+1-510-876-9640"},
            {"contact": "sip:+15108769640@pbx.example.com;user=phone"},
            {"contact": "SIP:5108769640@pbx.example.com"},
            {"contact": "sip:alice@pbx.example.com"},  # no number: no identifier
        ]
    )
    assert groups(df) == [["i0", "i1", "i2", "i3"], ["i4"]]


def test_chat_page_urls_are_no_identifiers_even_with_an_address_or_number_inside() -> None:
    df = frame(
        [
            {"contact": "https://shop.example/help?email=a@example.com"},
            {"contact": "https://shop.example/help?email=a@example.com"},
            {"contact": "www.example.com/call/5108769640"},
            {"contact": "www.example.com/call/5108769640"},
        ]
    )
    assert groups(df) == [["i0"], ["i1"], ["i2"], ["i3"]]


def test_valid_numbers_read_off_the_metadata_equal_the_library_in_every_region() -> None:
    # The fast path decides validity with phonenumbers' national number patterns; the library
    # decides it with is_valid_number. For every region: the example number of every type
    # (valid), the same with one digit changed, one added or one dropped (often invalid), and
    # one repeated digit (a placeholder), written as plain national digits.
    rng = random.Random(11)
    types = [getattr(phonenumbers.PhoneNumberType, t.upper()) for t in _customers._NUMBER_TYPES]
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        raws: set[str] = set()
        code = phonenumbers.country_code_for_region(region)
        # Numbers of every region sharing the country code (CA, AG, ... for the US), as the
        # first region that claims a number decides whether it is valid.
        examples = [
            phonenumbers.example_number_for_type(other, kind)
            for other in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
            for kind in types
        ]
        for example in examples:
            if example is None:
                continue
            nsn = phonenumbers.national_significant_number(example)
            spot = rng.randrange(len(nsn))
            raws |= {
                nsn,
                nsn[:spot] + str((int(nsn[spot]) + 1) % 10) + nsn[spot + 1 :],
                nsn + str(rng.randrange(10)),
                nsn[:-1],
                nsn[0] * len(nsn),
            }
        raws.discard("")
        parsed = dict(_customers._parse_phones(pl.Series(sorted(raws)), region).iter_rows())
        want = {r: k for r, k in parsed_one_by_one(sorted(raws), region).items() if k is not None}
        assert parsed == want, region
        checked += sum(not k.startswith("!") for k in want.values())
    assert checked > 1000  # many valid numbers went through the comparison


# ------------------------------------------------------------------------------------------
# e-mail addresses and names


@pytest.mark.parametrize(
    "written",
    [
        "a@b.com",
        "A@B.COM",
        "Ana Silva <A@b.com>",
        '"Silva, Ana" <a@b.com> ',
        "mailto:a@b.com",
        "MAILTO:a@b.com?subject=Order%2012&body=hi",
        "a\uff20b.com",  # full-width at sign
        "\uff41@b.com",  # full-width a
        "a\u200b@b.com",  # zero-width space
        "a@b.com.",  # trailing dot of the domain
        "\ufeffa@b.com",
    ],
)
def test_every_way_of_writing_an_address_links_to_it(written: str) -> None:
    df = frame([{"contact": "a@b.com"}, {"contact": written}])
    assert groups(df) == [["i0", "i1"]]
    assert ok.customer_links(df)["identifier"].to_list() == ["a@b.com"]


def test_identical_non_ascii_addresses_link_whatever_their_form() -> None:
    composed = "josé@bücher.example"
    forms = [
        composed,
        unicodedata.normalize("NFD", composed),
        composed.upper(),
        "josé@xn--bcher-kva.example",  # the domain in its IDNA form
        "José García <JOSÉ@BÜCHER.EXAMPLE>",
    ]
    df = frame([{"contact": c} for c in [*forms, "jose@bucher.example"]])
    assert groups(df) == [["i0", "i1", "i2", "i3", "i4"], ["i5"]]
    emails = ok.customer_links(df).filter(kind="email")["identifier"].to_list()
    assert sorted(emails) == ["jose@bucher.example", "josé@xn--bcher-kva.example"]


def test_composed_and_decomposed_names_are_one_name() -> None:
    composed = "José García"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    df = frame(
        [
            {"name": composed},
            {"name": decomposed},
            {"name": "JOSÉ  GARCÍA"},
            {"name": "Jose\u200b Garcia"},  # no accents: another name
        ]
    )
    assert groups(df, link_by_name=True) == [["i0", "i1", "i2"], ["i3"]]
    assert groups(df) == [["i0"], ["i1"], ["i2"], ["i3"]]


# ------------------------------------------------------------------------------------------
# the hub guard


def test_a_phone_shared_by_more_names_than_allowed_does_not_link_without_contact_ids() -> None:
    family = [{"contact": "(510) 876-9640", "name": n} for n in ["Ana", "Rui", "Eva", "Teo"]]
    df = frame(family)
    assert groups(df) == [["i0"], ["i1"], ["i2"], ["i3"]]
    links = ok.customer_links(df).filter(kind="phone")
    assert set(links.select("identities", "contact_ids", "linked", "blocked_by").rows()) == {
        (4, 0, False, "identities")
    }
    # Up to max_contact_ids identities it links, and the limit is the option's.
    assert groups(df[:3]) == [["i0", "i1", "i2"]]
    assert groups(df, max_contact_ids=4) == [["i0", "i1", "i2", "i3"]]
    assert groups(df, max_contact_ids=None) == [["i0", "i1", "i2", "i3"]]
    # One person calling many times (one name, written in several ways) is no hub.
    same = frame([{"contact": "(510) 876-9640", "name": n} for n in ["Ana", "ANA", " ana "] * 3])
    assert len(groups(same)) == 1


def test_contact_ids_and_names_on_rows_without_one_add_up_to_the_identities() -> None:
    df = frame(
        [
            {"contact": "a@example.com", "contact_id": "k1", "name": "Ana"},
            {"contact": "a@example.com", "contact_id": "k2", "name": "Ana"},
            {"contact": "a@example.com", "name": "Rui"},
            {"contact": "a@example.com", "name": "Eva"},
        ]
    )
    links = ok.customer_links(df).filter(kind="email")
    assert set(links.select("contact_ids", "identities", "blocked_by").rows()) == {
        (2, 4, "identities")
    }
    assert groups(df) == [["i0"], ["i1"], ["i2"], ["i3"]]


def test_the_contact_id_limit_is_reported_as_such() -> None:
    df = frame([{"contact_id": f"k{k}", "contact": "+1 800 555 0100"} for k in range(4)])
    links = ok.customer_links(df).filter(kind="phone")
    assert set(links.select("contact_ids", "blocked_by").rows()) == {(4, "contact_ids")}


def test_a_name_seen_with_many_phones_and_no_contact_ids_does_not_link() -> None:
    phones = ["(212) 555-0100", "(212) 555-0101", "(212) 555-0102", "(212) 555-0103"]
    df = frame([{"contact": p, "name": "John Smith"} for p in phones])
    assert len(groups(df, link_by_name=True)) == 4
    names = ok.customer_links(df, link_by_name=True).filter(kind="name")
    assert set(names.select("identities", "blocked_by").rows()) == {(4, "identities")}
    assert len(groups(df[:3], link_by_name=True)) == 1


BASE_CONTACTS = [
    "(510) 876-9640",
    "+1 510 876 9640 ext. 7",
    "212-555-0100",
    "a@example.com",
    "A@Example.com",
    "b@example.com",
    "0000000000",
    "+266696687",
    None,
]
BASE_IDS = ["k1", "k2", "k3", "k4"]
BASE_NAMES = ["Ana", "Rui", "José"]
PLACEHOLDERS = ["0000000000", "+1 (000) 000-0000", "+266696687", "86282452253", "999-999-9999"]
HUBS = ["(212) 555-0199", "front.desk@example.com"]
BASE_ROW = st.fixed_dictionaries(
    {
        "contact_id": st.sampled_from([None, *BASE_IDS]),
        "contact": st.sampled_from(BASE_CONTACTS),
        "name": st.sampled_from([None, *BASE_NAMES]),
    }
)
#: One identity an added row may carry besides its placeholder or hub contact: a contact id or
#: a name of the base rows, or a new name. One at most, so the row itself joins no customers.
IDENTITY = st.sampled_from(
    [("contact_id", k) for k in BASE_IDS]
    + [("name", n) for n in [*BASE_NAMES, "Eva", "Teo", "Ivo", "Lia"]]
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.lists(BASE_ROW, min_size=1, max_size=10),
    placeholders=st.lists(
        st.tuples(st.sampled_from(PLACEHOLDERS), st.none() | IDENTITY), max_size=6
    ),
    hubs=st.lists(
        st.tuples(st.sampled_from(HUBS), st.lists(IDENTITY, min_size=4, max_size=8, unique=True)),
        max_size=2,
    ),
    link_by_name=st.booleans(),
    limit=st.integers(1, 3),
)
def test_rows_carrying_only_placeholders_or_hub_identifiers_never_merge_customers(
    base, placeholders, hubs, link_by_name, limit
) -> None:
    # Added rows carry a placeholder, or a new contact that the added rows make a hub: it is
    # seen with more than ``limit`` identities (contact ids and names of the base customers,
    # and new names), which it would otherwise join into one customer.
    extra = [{"contact": c, **dict([identity] if identity else [])} for c, identity in placeholders]
    for contact, identities in hubs:
        extra += [{"contact": contact, identity[0]: identity[1]} for identity in identities]
    options = {"link_by_name": link_by_name, "max_contact_ids": limit}
    before = ok.resolve_customers(frame(base), **options)["customer_id"]
    after = ok.resolve_customers(frame(base + extra), **options)["customer_id"][: len(base)]
    pairs = pl.DataFrame({"before": before, "after": after})
    # Two base rows with different customers before still have different customers after.
    assert pairs.group_by("after").agg(pl.col("before").n_unique())["before"].max() == 1


# ------------------------------------------------------------------------------------------
# customer_id stability


def frozen_customer_id(kind: int, key: str) -> str:
    """The id derivation as it was before this change, written out independently: BLAKE2b
    (8 bytes, person ``omnikit.customer``, unkeyed) of ``"<kind>:<key>"``, kinds contact_id 0,
    email 1, phone 2, name 3, and 9 for a row of its own (its interaction id)."""
    digest = hashlib.blake2b(f"{kind}:{key}".encode(), digest_size=8, person=b"omnikit.customer")
    return "C-" + digest.hexdigest()


def test_customer_ids_of_unchanged_identifiers_are_the_ids_of_before() -> None:
    df = frame(
        [
            {"contact_id": "k1", "contact": "(510) 876-9640"},
            {"contact": "+1 510 876 9640"},
            {"contact": " Ana@Example.com"},
            {"contact": "(212) 555-0100"},
            {"contact": "https://chat.example/?id=1"},
            {"name": "Ana Silva"},
        ]
    )
    got = ok.resolve_customers(df)["customer_id"].to_list()
    assert got == [
        frozen_customer_id(0, "k1"),
        frozen_customer_id(0, "k1"),
        frozen_customer_id(1, "ana@example.com"),
        frozen_customer_id(2, "+12125550100"),
        frozen_customer_id(9, "i4"),
        frozen_customer_id(9, "i5"),
    ]
    by_name = ok.resolve_customers(df, link_by_name=True)["customer_id"].to_list()
    assert by_name[5] == frozen_customer_id(3, "ana silva")


def test_every_customer_id_is_the_frozen_id_of_its_smallest_linked_identifier() -> None:
    df = ok.synth_frame(4_000, seed=5)
    resolved = ok.resolve_customers(df)
    links = ok.customer_links(resolved).filter("linked")
    kinds = {k: n for n, k in enumerate(_customers.IDENTIFIER_KINDS)}
    smallest = (
        links.with_columns(kind=pl.col("kind").replace_strict(kinds, return_dtype=pl.Int8))
        .sort("kind", "identifier")
        .group_by("customer_id", maintain_order=True)
        .first()
    )
    for customer, kind, key in smallest.select("customer_id", "kind", "identifier").iter_rows():
        assert customer == frozen_customer_id(kind, key)
    alone = resolved.filter(~pl.col("customer_id").is_in(smallest["customer_id"].implode()))
    assert alone.height > 0
    for interaction, customer in alone.select("interaction_id", "customer_id").iter_rows():
        assert customer == frozen_customer_id(9, interaction)
