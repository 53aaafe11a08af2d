"""What the resolution tests (test_customers, test_identity) share: frames from row dicts, the
customers as groups of interaction ids, and the plain phonenumbers answer to compare with."""

from __future__ import annotations

import phonenumbers
import polars as pl

import omnikit as ok
from omnikit import _customers


def frame(rows: list[dict], timezone: str = "UTC") -> pl.DataFrame:
    """A canonical frame from row dicts; ``interaction_id`` defaults to ``i0, i1, ...``."""
    schema = ok.canonical_schema(timezone)
    naive = {c: (pl.Datetime("us") if isinstance(t, pl.Datetime) else t) for c, t in schema.items()}
    rows = [{"interaction_id": f"i{k}", **r} for k, r in enumerate(rows)]
    df = pl.DataFrame({c: [r.get(c) for r in rows] for c in schema}, schema=naive)
    return df.with_columns(pl.col(ok.DATETIME_COLUMNS).dt.replace_time_zone(timezone))


def groups(df: pl.DataFrame, **options) -> list[list[str]]:
    """The customers as sorted lists of interaction ids (order-free, id-free)."""
    resolved = ok.resolve_customers(df, **options)
    parts = resolved.group_by("customer_id").agg(pl.col("interaction_id").sort())["interaction_id"]
    return sorted(parts.to_list())


def parsed_one_by_one(raws: list[str], region: str | None) -> dict[str, str | None]:
    """The plain library answer, every string parsed on its own: the E.164 key (and
    ``;ext=``) of a valid number, ``!`` and the key of a possible placeholder, else None."""

    def key(text: str) -> str | None:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return None
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        e164 += f";ext={number.extension}" if number.extension else ""
        nsn = phonenumbers.national_significant_number(number)
        placeholder = len(set(nsn)) == 1 or nsn in _customers._PLACEHOLDER_DIGITS
        if placeholder and phonenumbers.is_possible_number(number):
            return "!" + e164
        return e164 if phonenumbers.is_valid_number(number) else None

    return {raw: key(raw) for raw in raws}
