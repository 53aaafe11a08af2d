"""Customer resolution (README: "Customers and journeys") on frames a person can check."""

from __future__ import annotations

import datetime as dt
import re

import networkx as nx
import polars as pl
import pytest
from _resolution import frame, groups, parsed_one_by_one
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import omnikit as ok
from omnikit import _customers

# ------------------------------------------------------------------------------------------
# identifier rules


def test_the_same_phone_written_five_ways_is_one_customer() -> None:
    ways = [
        "(510) 876-9640",
        "510-876-9640",
        "+1 510 876 9640",
        "510.876.9640",
        "+15108769640",
        "1 510 876 9640",
    ]
    df = frame([{"contact": w} for w in ways] + [{"contact": "(510) 876-9641"}])
    assert groups(df) == [["i0", "i1", "i2", "i3", "i4", "i5"], ["i6"]]


def test_default_region_reads_national_numbers() -> None:
    df = frame([{"contact": "912 345 678"}, {"contact": "+351 912 345 678"}])
    assert groups(df, default_region="PT") == [["i0", "i1"]]
    # In the US the 9-digit national number is not a possible number: no identifier, no link.
    assert groups(df, default_region="US") == [["i0"], ["i1"]]
    # Without a region only numbers with a country code are numbers.
    links = ok.customer_links(df, default_region=None)
    assert links["identifier"].to_list() == ["+351912345678"]


def test_an_email_in_upper_case_and_with_spaces_links() -> None:
    df = frame(
        [
            {"contact": "Xiao.Lu@Example.COM"},
            {"contact": "  xiao.lu@example.com "},
            {"contact": "mailto:XIAO.LU@example.com"},
        ]
    )
    assert groups(df) == [["i0", "i1", "i2"]]
    assert ok.customer_links(df)["identifier"].to_list() == ["xiao.lu@example.com"]


def test_a_url_contact_is_no_identifier() -> None:
    url = "https://xls.mybigcommerce.com/?ctk=99dcbc87-7b1d-45f2-8967-5b5f763f2197"
    # The URL holds digits: it must not be read as a phone number either.
    df = frame(
        [
            {"contact": url},
            {"contact": url},
            {"contact": "www.shop.example/5108769640"},
            {"contact": "510 876 9640"},
        ]
    )
    assert groups(df) == [["i0"], ["i1"], ["i2"], ["i3"]]


def test_text_that_is_neither_phone_nor_email_is_no_identifier() -> None:
    # What a web page's e-mail obfuscation leaves behind (the vendor sample has it), and junk.
    for text in ["[email protected]", "n/a", "john@localhost", "john@@example.com", "12"]:
        df = frame([{"contact": text}, {"contact": text}])
        assert groups(df) == [["i0"], ["i1"]], text


def test_contact_id_links_rows_whatever_their_contact() -> None:
    df = frame(
        [
            {"contact_id": "k1", "contact": "+15108769640"},
            {"contact_id": "k1", "contact": "a@b.com"},
            {"contact_id": "k2"},
        ]
    )
    assert groups(df) == [["i0", "i1"], ["i2"]]


def test_links_are_transitive() -> None:
    # A-B share a phone (two ways of writing it), B-C share an email: one customer.
    df = frame(
        [
            {"contact_id": "A", "contact": "(510) 876-9640"},
            {"contact_id": "B", "contact": "+1 510 876 9640"},
            {"contact_id": "B", "contact": "lu@example.com"},
            {"contact_id": "C", "contact": "LU@example.com"},
            {"contact_id": "D", "contact": "other@example.com"},
        ]
    )
    assert groups(df) == [["i0", "i1", "i2", "i3"], ["i4"]]


def test_a_switchboard_does_not_merge_its_callers() -> None:
    # One number, four callers (contact ids): more than max_contact_ids=3, so it does not link.
    callers = [{"contact_id": f"k{k}", "contact": "+1 800 555 0100"} for k in range(4)]
    df = frame([*callers, {"contact": "800-555-0100"}])
    assert groups(df) == [["i0"], ["i1"], ["i2"], ["i3"], ["i4"]]
    # With a higher limit it links all five; exactly max_contact_ids still links.
    assert groups(df, max_contact_ids=4) == [["i0", "i1", "i2", "i3", "i4"]]
    assert groups(df.head(3), max_contact_ids=3) == [["i0", "i1", "i2"]]
    assert groups(df, max_contact_ids=None) == [["i0", "i1", "i2", "i3", "i4"]]
    links = ok.customer_links(df)
    assert links.filter(kind="phone")["linked"].to_list() == [False] * 5
    assert links.filter(kind="phone")["contact_ids"].to_list() == [4] * 5


def test_a_shared_mailbox_and_a_common_name_are_guarded_too() -> None:
    df = frame(
        [{"contact_id": f"k{k}", "contact": "info@shop.example", "name": "Ana"} for k in range(4)]
    )
    assert len(groups(df)) == 4
    assert len(groups(df, link_by_name=True)) == 4
    assert len(groups(df, link_by_name=True, max_contact_ids=4)) == 1


def test_names_link_only_when_asked_case_folded_and_white_space_collapsed() -> None:
    df = frame(
        [
            {"name": "Xiao  Lux13"},
            {"name": " XIAO lux13"},
            {"name": "STRASSE"},
            {"name": "straße"},
            {"name": "Xiao Lu"},
        ]
    )
    assert groups(df) == [["i0"], ["i1"], ["i2"], ["i3"], ["i4"]]
    assert groups(df, link_by_name=True) == [["i0", "i1"], ["i2", "i3"], ["i4"]]


def test_a_row_without_identifier_is_its_own_customer_even_without_interaction_id() -> None:
    df = frame([{"contact": "https://x.example"}] * 2 + [{"interaction_id": None}] * 2)
    resolved = ok.resolve_customers(df)
    assert resolved["customer_id"].n_unique() == 4
    assert resolved["customer_id"].null_count() == 0


def test_rows_without_start_time_are_resolved_too() -> None:
    df = frame(
        [
            {"contact_id": "k", "start_date_time": None},
            {"contact_id": "k", "start_date_time": dt.datetime(2024, 9, 2)},
        ]
    )
    assert ok.resolve_customers(df).height == 2
    assert groups(df) == [["i0", "i1"]]


# ------------------------------------------------------------------------------------------
# customer_id


def test_customer_id_is_a_stable_pseudonym() -> None:
    df = frame(
        [
            {"contact": "(510) 876-9640", "name": "Xiao Lux13"},
            {"contact": "Xiao.Lu@example.com", "contact_id": "66d94d79e4b66301a38854e8"},
        ]
    )
    first = ok.resolve_customers(df)["customer_id"]
    assert first.to_list() == ok.resolve_customers(df.reverse())["customer_id"].reverse().to_list()
    for value in first:
        assert re.fullmatch(r"C-[0-9a-f]{16}", value)
        for detail in ("5108769640", "510", "xiao", "example", "66d94d79"):
            assert detail not in value.lower()


def test_a_secret_key_changes_every_customer_id(monkeypatch: pytest.MonkeyPatch) -> None:
    df = frame([{"contact": "(510) 876-9640"}, {"contact_id": "k"}])
    plain = ok.resolve_customers(df)["customer_id"]
    monkeypatch.setenv("OMNIKIT_CUSTOMER_KEY", "a secret")
    keyed = ok.resolve_customers(df)["customer_id"]
    assert not set(plain) & set(keyed)
    assert keyed.to_list() == ok.resolve_customers(df)["customer_id"].to_list()


def test_lazy_in_lazy_out_and_an_old_customer_id_is_replaced() -> None:
    df = frame([{"contact_id": "k"}, {"contact_id": "k"}, {"contact": "a@b.co"}]).with_columns(
        customer_id=pl.lit("old")
    )
    eager = ok.resolve_customers(df)
    lazy = ok.resolve_customers(df.lazy())
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(eager)
    assert eager.columns == df.columns
    assert eager["customer_id"].n_unique() == 2


def test_bad_arguments_are_parameter_errors() -> None:
    df = frame([{"contact_id": "k"}])
    with pytest.raises(ok.ParameterError, match="default_region"):
        ok.resolve_customers(df, default_region="Atlantis")
    with pytest.raises(ok.ParameterError, match="max_contact_ids"):
        ok.resolve_customers(df, max_contact_ids=-1)
    with pytest.raises(ok.ParameterError, match="contact_id"):
        ok.resolve_customers(df.drop("contact_id"))


# ------------------------------------------------------------------------------------------
# the vendor sample


def test_the_vendor_sample_has_the_customers_a_person_counts(vendor_sample) -> None:
    df = ok.load(vendor_sample)
    resolved = ok.resolve_customers(df)
    by_customer = resolved.group_by("customer_id").agg(pl.col("interaction_type").sort())
    # By hand: the four VOICE rows share contact_id 659ce8ba... (and +13254236544); the SMS,
    # SMS and EMAIL rows share contact_id 66d94d79... (the EMAIL row's contact is the text
    # "[email protected]", no address); the CHAT row has a URL contact and no contact_id, so it is
    # a customer of its own. 3 customers.
    assert sorted(by_customer["interaction_type"].to_list()) == [
        ["CHAT"],
        ["EMAIL", "SMS", "SMS"],
        ["VOICE", "VOICE", "VOICE", "VOICE"],
    ]
    # Linking by name, the CHAT row's "Xiao Lux13" is the SMS/EMAIL customer's name: 2 customers.
    by_name = ok.resolve_customers(df, link_by_name=True)
    merged = by_name.group_by("customer_id").agg(pl.col("interaction_type").sort())
    assert sorted(merged["interaction_type"].to_list()) == [
        ["CHAT", "EMAIL", "SMS", "SMS"],
        ["VOICE", "VOICE", "VOICE", "VOICE"],
    ]


def test_customer_links_explains_the_vendor_sample(vendor_sample) -> None:
    links = ok.customer_links(ok.load(vendor_sample), link_by_name=True)
    sms = links.filter(pl.col("identifier") == "66d94d79e4b66301a38854e8")["customer_id"].item()
    mine = (
        links.filter(customer_id=sms).select("kind", "identifier", "interactions", "linked").rows()
    )
    assert mine == [
        ("contact_id", "66d94d79e4b66301a38854e8", 3, True),
        ("phone", "+15108769640", 2, True),
        ("name", "xiao lux13", 4, True),
    ]


def test_customer_links_uses_the_options_the_frame_was_resolved_with() -> None:
    # 020 7946 0958 is a London number written nationally: as GB it is +442079460958; read
    # as US it would be +12079460958, which must never appear for a frame resolved as GB.
    df = frame(
        [
            {"contact": "020 7946 0958", "contact_id": "k1"},
            {"contact": "+44 20 7946 0958"},
        ]
    )
    resolved = ok.resolve_customers(df, default_region="GB")
    links = ok.customer_links(resolved, default_region="GB")
    assert links.filter(kind="phone")["identifier"].to_list() == ["+442079460958"]
    assert links["customer_id"].n_unique() == 1
    assert set(links["customer_id"]) == set(resolved["customer_id"])
    # The same frame explained with other options is an error, never a silent re-derivation.
    with pytest.raises(ok.ParameterError, match=r"default_region='US'.*options the frame was"):
        ok.customer_links(resolved)
    with pytest.raises(ok.ParameterError, match="interaction_id 'i0'"):
        ok.customer_links(df.with_columns(customer_id=pl.lit("C-mine")), default_region="GB")
    # Without customer_id, the options given resolve the frame.
    assert ok.customer_links(df, default_region="GB").equals(links)


# ------------------------------------------------------------------------------------------
# properties

CONTACTS = [
    "(510) 876-9640",
    "+1 510 876 9640",
    "510.876.9640",
    "+1 212 555 0100",
    "212-555-0100",
    "a@example.com",
    "A@Example.com ",
    "b@example.com",
    "https://chat.example/?id=1",
    "[email protected]",
    None,
]
ROW = st.fixed_dictionaries(
    {
        "contact_id": st.sampled_from([None, "k1", "k2", "k3", "k4", "k5"]),
        "contact": st.sampled_from(CONTACTS),
        "name": st.sampled_from([None, "Ana", "ana ", "Rui"]),
    }
)


def reference_groups(df: pl.DataFrame, link_by_name: bool, max_contact_ids: int) -> list[list[str]]:
    """The same rules, spelled out row by row with networkx (slow, obviously right)."""
    ids = _customers._identifier_frame(df.lazy())
    tuples, long = _customers._guarded_identifiers(ids, "US", link_by_name, max_contact_ids)
    rows = (
        long.filter("linked")
        .join(tuples.explode("__rows"), on="__t")
        .select("__rows", "kind", "key")
    )
    graph = nx.Graph()
    graph.add_nodes_from(range(df.height))
    graph.add_edges_from((row, (kind, key)) for row, kind, key in rows.iter_rows())
    names = df["interaction_id"].to_list()
    return sorted(
        sorted(names[n] for n in part if isinstance(n, int))
        for part in nx.connected_components(graph)
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(ROW, min_size=1, max_size=12),
    link_by_name=st.booleans(),
    limit=st.integers(1, 3),
    data=st.data(),
)
def test_resolution_is_independent_of_row_order_and_matches_a_reference(
    rows, link_by_name, limit, data
) -> None:
    df = frame(rows)
    options = {"link_by_name": link_by_name, "max_contact_ids": limit}
    resolved = ok.resolve_customers(df, **options)
    # Every interaction gets exactly one customer.
    assert resolved.height == df.height
    assert resolved["customer_id"].null_count() == 0
    # Any order of the rows gives every interaction the same customer_id.
    order = data.draw(st.permutations(range(df.height)))
    shuffled = ok.resolve_customers(df[order], **options)
    before = dict(resolved.select("interaction_id", "customer_id").iter_rows())
    assert dict(shuffled.select("interaction_id", "customer_id").iter_rows()) == before
    # The partition is the connected components of rows and their linking identifiers.
    assert groups(df, **options) == reference_groups(df, link_by_name, limit)
    # A LazyFrame (a store) takes the streaming path, which never holds the rows: same ids. Some
    # rows lose their interaction id, so that rows named after their content are covered too.
    missing = data.draw(st.sets(st.integers(0, df.height - 1)))
    df = df.with_columns(
        pl.when(pl.int_range(pl.len()).is_in(list(missing))).then(None).otherwise("interaction_id")
        .alias("interaction_id")
    )  # fmt: skip
    lazy = ok.resolve_customers(df.lazy(), **options)
    assert isinstance(lazy, pl.LazyFrame)
    assert_frame_equal(lazy.collect(), ok.resolve_customers(df, **options))


def test_phone_parsing_in_worker_processes_gives_the_same_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = pl.Series(
        ["+15108769640", "5108769640", "912345678", "+351912345678", "abc", "12", "+1800FLOWERS"]
        * 3
    )
    alone = _customers._parse_phones(texts, "US")
    monkeypatch.setattr(_customers, "PARALLEL_PHONES", 1)
    monkeypatch.setattr(_customers.os, "cpu_count", lambda: 3)
    together = _customers._parse_phones(texts, "US")
    assert together.equals(alone)
    assert alone.filter(raw="5108769640")["e164"].unique().to_list() == ["+15108769640"]


def parsed_with_shortcut(raws: list[str], region: str | None) -> dict[str, str | None]:
    """What resolution does: one parse per ``_parse_key``, shared by the strings with that key."""
    frame = pl.DataFrame({"raw": raws}, schema={"raw": pl.String})
    frame = frame.with_columns(parse=_customers._parse_key(pl.col("raw"), region))
    numbers = _customers._parse_phones(frame["parse"].unique(), region)
    frame = frame.join(numbers, left_on="parse", right_on="raw", how="left")
    return dict(frame.select("raw", "e164").iter_rows())


REGIONS = [
    "US",
    "CA",
    "GB",
    "PT",
    "DE",
    "AU",
    "IT",
    "BR",
    "FI",
    "CL",
    "RU",
    "JP",
    "AG",
    "SG",
    "CN",
    "HK",
    None,
]


@settings(max_examples=150, deadline=None)
@given(
    region=st.sampled_from(REGIONS),
    parts=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "",
                    "+",
                    "+{cc}",
                    "+{cc}{cc}",
                    "{cc}",
                    "+{cc}0",
                    "+{cc}00",
                    "+{cc}011",
                    "+{cc}810",
                    "+{cc}1",
                    "+44",
                    "+351",
                    "00",
                    "011",
                    "+{cc}x",
                    "+{cc}٣",
                ]
            ),
            st.text(alphabet="0123456789", max_size=16),
        ),
        min_size=1,
        max_size=25,
    ),
)
def test_one_parse_per_number_of_the_default_country_equals_parsing_every_string(
    region, parts
) -> None:
    import phonenumbers

    cc = str(phonenumbers.country_code_for_region(region)) if region else "1"
    raws = [prefix.format(cc=cc) + digits for prefix, digits in parts]
    assert parsed_with_shortcut(raws, region) == parsed_one_by_one(raws, region)


def test_plain_national_numbers_read_off_the_metadata_equal_the_library_in_every_region() -> None:
    # For every region: digit strings of every length, many starting with the country code, the
    # IDD, the national prefix or zeros (where the rule must step aside), parsed by
    # ``_parse_phones`` (rule + library) and by the library alone.
    import random

    import phonenumbers

    rng = random.Random(7)
    ruled = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        rule = _customers._plain_national_rule(region)
        ruled += rule is not None
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        starts = [
            "",
            "",
            "",
            "0",
            "00",
            str(phonenumbers.country_code_for_region(region)),
            (metadata.national_prefix or ""),
            "011",
            "1",
            "9",
        ]
        raws = sorted(
            {
                rng.choice(starts) + "".join(rng.choices("0123456789", k=rng.randint(0, 18)))
                for _ in range(120)
            }
            - {""}
        )
        parsed = _customers._parse_phones(pl.Series(raws, dtype=pl.String), region)
        got = dict(parsed.iter_rows())
        want = {
            raw: e164 for raw, e164 in parsed_one_by_one(raws, region).items() if e164 is not None
        }
        assert got == want, region
        assert parsed["raw"].is_unique().all()
    assert ruled > 150  # the rule applies to most regions, the US among them
    assert _customers._plain_national_rule("US") is not None


def test_one_parse_per_number_equals_parsing_every_string_on_synthetic_contacts() -> None:
    contacts = ok.synth_frame(20_000, seed=3)["contact"].drop_nulls().unique()
    raws = contacts.filter(~contacts.str.contains("@") & contacts.str.contains(r"\d"))
    raws = raws.str.replace_all(_customers._PHONE_SEPARATORS, "").unique().to_list()
    shortcut = parsed_with_shortcut(raws, "US")
    assert shortcut == parsed_one_by_one(raws, "US")
    # The shortcut is taken: about half the strings are "+1" and the same ten digits.
    keys = pl.Series(raws).to_frame("raw").select(_customers._parse_key(pl.col("raw"), "US"))
    assert keys.n_unique() < 0.75 * len(raws)
