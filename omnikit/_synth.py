"""Seeded synthetic Customer Omnichannel Reports: sample data, demo data and test data.

The generator writes what Talkdesk's ``erc_omnichannel_report`` would contain for a made-up
contact center, in the vendor's exact format: the same field names in the same order, seconds
as JSON integers (or ``null``), date-times as ``"YYYY-MM-DD HH:MM:SS"`` wall-clock strings (or
``null``) and ``""`` for empty text.

What is in it
-------------
- Channels ``VOICE``, ``CHAT``, ``EMAIL``, ``SMS``, ``WHATSAPP`` and a rare ``DIGITAL_CONNECT``,
  each with its own wait-time shape (voice: seconds with a long tail; chat: tens of seconds;
  SMS and WhatsApp: minutes; email: hours), inbound and outbound.
- Every status: ``FINISHED``, ``ASSIGNED`` (no end yet), ``MISSED``, ``ABANDONED``,
  ``SHORT_ABANDONED`` (under 5 s), ``VOICEMAIL``, ``OFFERED`` (still waiting: no wait, end or
  duration). Unanswered interactions have a wait but no agent; ``duration`` is end minus start.
- Arrivals follow a weekly pattern: busy weekday business hours, quiet nights and weekends.
- Customers (about 0.15 per interaction by default) come back in journeys: steps minutes to
  hours apart, often on another channel, and again on other days. Chat, WhatsApp and some voice
  journeys start with a bot (``VIRTUAL_AGENT``) that hands over to a person (``USER``).
- Identifiers as real reports have them: a 24-hex ``contact_id`` on most rows (a few customers
  have two), phones written as ``+15108769640``, ``(510) 876-9640``, ``510-876-9640``,
  ``+1 510 876 9640``, ``510.876.9640`` (and a few Portuguese and British numbers), e-mail
  addresses in mixed case with stray spaces (reserved ``example`` domains only), chat contacts
  that are page URLs, names with varied case and spacing, and a few switchboard numbers and
  shared mailboxes used by many different ``contact_id``\\ s.

Rows are generated in fixed blocks with numpy and polars (no Python loop over rows), so ten
million interactions take seconds and files are streamed to disk block by block. The output
depends only on the arguments: the same seed gives the same bytes.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ._errors import ParameterError
from ._schema import SOURCE_FIELDS
from ._time import check_timezone, duration_seconds, parse_day
from ._vendor import EnvelopeWriter as _Writer
from .types import Duration

__all__ = ["synth_entries", "synth_frame", "synth_report", "synth_reports"]

#: The vendor's field names, in the vendor's order.
_FIELDS = SOURCE_FIELDS
_INT_FIELDS = ("waiting_time", "duration")
_RAW_SCHEMA = pl.Schema({f: pl.Int64() if f in _INT_FIELDS else pl.String() for f in _FIELDS})

#: Rows generated at a time. The data depend on it, so it is fixed.
_BLOCK = 1 << 18
#: Blocks made at the same time (threads).
_WORKERS = 2
_FORMATS = {".json": "json", ".jsonl": "ndjson", ".ndjson": "ndjson", ".csv": "csv"}
_EXTENSIONS = {"json": ".json", "ndjson": ".ndjson", "csv": ".csv"}

# --------------------------------------------------------------------------------------------
# The made-up contact center

_CHANNELS = ("VOICE", "CHAT", "EMAIL", "SMS", "WHATSAPP", "DIGITAL_CONNECT")
VOICE, CHAT, EMAIL, SMS, WHATSAPP, DIGITAL = range(len(_CHANNELS))
_CHANNEL_P = np.array([0.44, 0.22, 0.13, 0.09, 0.115, 0.005])
_OUTBOUND_P = np.array([0.25, 0.0, 0.15, 0.30, 0.10, 0.0])
_BOT_P = np.array([0.10, 0.45, 0.0, 0.0, 0.35, 0.30])  # a journey's first inbound step is a bot
_CONTACT_ID_P = np.array([0.90, 0.65, 0.92, 0.90, 0.88, 0.50])
_NAME_P = np.array([0.92, 0.80, 0.96, 0.85, 0.90, 0.70])
# Log-normal wait (answered inbound) and handling time: median seconds and sigma per channel, in
# an hour the team is fully staffed. Against ok.DEFAULT_THRESHOLDS that puts voice near an 80 %
# target, chat and e-mail a little under it and messaging above it.
_WAIT = np.array([[6, 1.0], [22, 0.8], [2 * 3600, 0.9], [240, 1.0], [90, 1.0], [40, 0.9]])
_HANDLE = np.array([[260, 0.7], [540, 0.6], [420, 0.8], [600, 0.9], [840, 0.8], [480, 0.7]])

_STATUSES = (
    "FINISHED",
    "ASSIGNED",
    "MISSED",
    "ABANDONED",
    "SHORT_ABANDONED",
    "VOICEMAIL",
    "OFFERED",
)
FINISHED, ASSIGNED, MISSED, ABANDONED, SHORT_ABANDONED, VOICEMAIL, OFFERED = range(len(_STATUSES))
_STATUS_P = np.array(
    [
        [0.84, 0.03, 0.02, 0.05, 0.03, 0.02, 0.01],  # VOICE
        [0.80, 0.04, 0.05, 0.06, 0.03, 0.00, 0.02],  # CHAT
        [0.84, 0.08, 0.03, 0.00, 0.00, 0.00, 0.05],  # EMAIL
        [0.80, 0.05, 0.06, 0.04, 0.02, 0.00, 0.03],  # SMS
        [0.79, 0.05, 0.05, 0.06, 0.03, 0.00, 0.02],  # WHATSAPP
        [0.78, 0.05, 0.06, 0.06, 0.03, 0.00, 0.02],  # DIGITAL_CONNECT
    ]
)
_OUTBOUND_STATUS_P = np.array([0.82, 0.03, 0.15, 0.0, 0.0, 0.0, 0.0])

# Arrivals: relative weight of each weekday (Monday first) and of each hour of the day.
_WEEKDAY_W = np.array([1.0, 0.97, 0.95, 0.93, 0.86, 0.42, 0.30])
_HOUR_WEEKDAY = np.array(
    [0.15, 0.10, 0.08, 0.08, 0.10, 0.20, 0.45, 0.90, 1.60, 2.20, 2.50, 2.40,
     2.00, 2.20, 2.40, 2.30, 2.00, 1.60, 1.10, 0.80, 0.60, 0.45, 0.30, 0.20]
)  # fmt: skip
_HOUR_WEEKEND = np.array(
    [0.20, 0.15, 0.10, 0.10, 0.10, 0.15, 0.25, 0.40, 0.70, 1.00, 1.20, 1.20,
     1.15, 1.10, 1.10, 1.00, 0.90, 0.80, 0.70, 0.60, 0.50, 0.40, 0.30, 0.25]
)  # fmt: skip

# Staffing: how much longer customers wait in each hour of the week (Monday first) than in a
# fully staffed hour: a skeleton crew at night, the Monday-morning rush, lunch breaks and the
# evening shift change on weekdays, a thinner team at weekends.
_STAFFING = np.ones((7, 24))
_STAFFING[:, :7] = 1.5
_STAFFING[:5, 8] = 1.3
_STAFFING[0, 9:12] = 2.8
_STAFFING[:5, 12] = 1.9
_STAFFING[:5, 17:19] = 1.7
_STAFFING[5:, 7:22] = 1.25
# Each week is staffed a little differently, per channel: waits of a week and channel are
# scaled by a log-normal factor with this sigma (seeded), so two weeks compare visibly.
_WEEK_SPREAD = 0.3

# (display, ascii) pairs; the ascii form goes into e-mail addresses.
_FIRST = (
    "Maria", "John", "Li", "Wei", "Ana", "João", "Carlos", "Sofia", "Ahmed", "Fatima", "David",
    "Emma", "Olivia", "Liam", "Noah", "Ava", "Mia", "Lucas", "Chloé", "Zoë", "Hiroshi", "Yuki",
    "Priya", "Arjun", "Kwame", "Amara", "Ines", "Pedro", "Sara", "Omar", "Elena", "Ivan",
    "Grace", "Daniel", "Laura", "Michael", "Jennifer", "Robert", "Linda", "James", "Patricia",
    "Xiao", "Mei", "Jorge", "Lucía", "Mateo", "Hannah", "Björn",
)  # fmt: skip
_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Silva", "Santos", "Ferreira", "Costa", "Pereira", "Nguyen", "Kim", "Chen", "Xiao",
    "Wang", "Li", "Zhang", "Patel", "Singh", "Okafor", "Mensah", "Müller", "Schmidt", "Rossi",
    "Romano", "Dubois", "Lefèvre", "Novak", "Kowalski", "Ivanova", "Tanaka", "Sato", "O'Brien",
    "Murphy", "Walsh", "Andersson", "Johansson", "Haddad", "Khan", "Lopez", "Gonzalez",
    "Lux", "Rivera",
)  # fmt: skip
_ASCII = str.maketrans("ãáàâçéèêëíïóôöõúüñøåäÅÄÖÜÉ", "aaaaceeeeiioooouunoaaAAOUE", "'")

_AREA_CODES = (
    201, 202, 206, 210, 212, 213, 214, 215, 216, 224, 267, 281, 303, 305, 310, 312, 313, 314,
    315, 323, 325, 347, 404, 408, 410, 412, 415, 425, 443, 469, 480, 503, 504, 510, 512, 513,
    602, 612, 614, 615, 617, 619, 623, 626, 646, 650, 678, 702, 704, 713, 714, 718, 720, 732,
    747, 754, 773, 786, 805, 813, 818, 832, 847, 858, 860, 904, 909, 916, 917, 919, 925, 949,
    954, 971, 972, 973, 978, 980, 984, 985,
)  # fmt: skip
_SWITCHBOARD_AREAS = (800, 888, 877, 866, 855, 844)
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example", "inbox.test")
_SHARED_MAILBOXES = (
    "frontdesk@example.com",
    "Accounts@Example.org",
    "purchasing@example.net",
    "info@corp.example",
    "office@mail.example",
    "orders@example.com",
)
_CHAT_SITES = ("shop.example.com/", "www.example.com/help", "store.example.org/checkout/")
_RECORDING_BASE = "https://acme-example.mytalkdesk.com/atlas/apps/conversation-history/"
_GROUPS = ("agents", "support", "billing", "sales", "retention", "tier2")
_DISPOSITIONS = (
    "Resolved",
    "Order status",
    "Billing question",
    "Follow-up needed",
    "Escalated",
    "Refund issued",
    "Wrong number",
)
_NOTES = (
    "Customer asked for a callback tomorrow.",
    "Refund processed, ref 10482.",
    'Said the parcel was "left at the door", opened a claim.',
    "Wants e-mail updates only; no calls.",
    "Called twice about the same invoice\nescalated to billing.",
)

# How identifiers are written. Phones: (prefix, digits in group 1, separator, digits in
# group 2, separator); the rest of the digits follow. 0-5: US numbers, 6-7: UK, 8-9: Portugal.
_PHONE_FORMATS = (
    ("+1", 3, "", 3, ""),  # +15108769640
    ("(", 3, ") ", 3, "-"),  # (510) 876-9640
    ("", 3, "-", 3, "-"),  # 510-876-9640
    ("+1 ", 3, " ", 3, " "),  # +1 510 876 9640
    ("", 3, ".", 3, "."),  # 510.876.9640
    ("+1 (", 3, ") ", 3, "-"),  # +1 (510) 876-9640
    ("+44", 4, "", 3, ""),  # +447700123456
    ("+44 ", 4, " ", 3, ""),  # +44 7700 123456
    ("+351", 3, "", 3, ""),  # +351912345678
    ("+351 ", 3, " ", 3, " "),  # +351 912 345 678
)
# E-mail: (before, case of the address, case of the domain, after); case 0 lower, 1 title, 2 upper.
_MAIL_FORMATS = (
    ("", 0, 0, ""),
    ("", 1, 1, ""),
    ("", 2, 2, ""),
    (" ", 0, 0, ""),
    ("", 0, 0, " "),
    (" ", 1, 1, "  "),
    ("", 0, 2, ""),
)
# Names: (before, case of first name, separator, case of last name, after);
# case 0 as is, 1 upper, 2 lower.
_NAME_FORMATS = (
    ("", 0, " ", 0, ""),
    ("", 1, " ", 1, ""),
    ("", 2, " ", 2, ""),
    ("", 0, "  ", 0, ""),
    (" ", 0, " ", 0, " "),
    ("", 1, " ", 0, ""),
    ("", 0, " ", 0, " "),
)
_CASES = (str.lower, str.title, str.upper)
_FIRST_ASCII = [s.translate(_ASCII).lower() for s in _FIRST]
_MAIL_FIRST = [
    f(x)
    for f in _CASES
    for part in (0, 1)
    for x in (_FIRST_ASCII if part == 0 else [s[0] for s in _FIRST_ASCII])
]
_MAIL_LAST = [f(s.translate(_ASCII).lower()) for f in _CASES for s in _LAST]
_MAIL_DOMAINS = [f(d) for f in _CASES for d in _EMAIL_DOMAINS]
_MAIL_SHARED = [f(m) if i else m for i, f in enumerate(_CASES) for m in _SHARED_MAILBOXES]
_NAME_FIRST = [f(s) for f in (str, str.upper, str.lower) for s in _FIRST]
_NAME_LAST = [f(s) for f in (str, str.upper, str.lower) for s in _LAST]

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
#: The two hex digits of each octet, as one uint16 (memory order), for a fast table look-up.
_HEX_PAIRS = (
    np.ascontiguousarray(np.stack([_HEX[np.arange(256) >> 4], _HEX[np.arange(256) & 15]], axis=1))
    .view(np.uint16)
    .ravel()
)
_MASK64 = (1 << 64) - 1


# --------------------------------------------------------------------------------------------
# Public API


def synth_entries(
    n: int,
    *,
    seed: int = 0,
    start: str | date = "2024-09-02",
    days: int = 28,
    customers: int | None = None,
    timezone: str | None = None,
) -> pl.DataFrame:
    """Generate ``n`` report entries as the vendor writes them, in a polars frame.

    Parameters
    ----------
    n
        Number of interactions (rows), each with a unique 32-hex ``interaction_id``.
    seed
        Seed of the generator: the same arguments give the same frame.
    start
        First day of the report (``"YYYY-MM-DD"`` or a ``date``); interactions start at
        wall-clock times from its midnight on.
    days
        Number of days the report covers.
    customers
        Number of distinct customers; ``None`` means about 0.15 per interaction.
    timezone
        If given, wall-clock times that do not exist in this timezone (the skipped hour of a
        DST change) are moved one hour later, as a clock there would show them.

    Returns
    -------
    polars.DataFrame
        The vendor's fields in the vendor's order (``start_date-time``, ``transcription-recording``
        ...): ``waiting_time`` and ``duration`` Int64 seconds or null, date-times as
        ``"YYYY-MM-DD HH:MM:SS"`` strings or null, every other field a string, ``""`` when empty.

    Examples
    --------
    >>> import omnikit as ok
    >>> raw = ok.synth_entries(1000, seed=7)
    >>> raw.columns[:4]
    ['interaction_id', 'waiting_time', 'start_date-time', 'end_date-time']
    >>> raw.height
    1000
    """
    spec = _Spec.make(n, seed=seed, start=start, days=days, customers=customers, timezone=timezone)
    blocks = list(spec.blocks())
    if not blocks:
        return pl.DataFrame(schema=_RAW_SCHEMA)
    return blocks[0] if len(blocks) == 1 else pl.concat(blocks, rechunk=False)


def synth_frame(
    n: int,
    *,
    seed: int = 0,
    start: str | date = "2024-09-02",
    days: int = 28,
    timezone: str = "UTC",
    customers: int | None = None,
) -> pl.DataFrame:
    """Generate ``n`` interactions as the canonical frame, as ``ok.load`` would return them.

    This is ``synth_entries(..., timezone=timezone)`` passed through omnikit's canonical
    conversion (the same one :func:`omnikit.load` applies), block by block, so it equals
    ``ok.load(path, timezone=timezone)`` of a file written by :func:`synth_report` with the same
    arguments. Blocks are made two at a time; ten million rows take seconds, not minutes.

    Parameters
    ----------
    n
        Number of interactions (rows).
    seed
        Seed of the generator: the same arguments give the same frame.
    start
        First day of the report (``"YYYY-MM-DD"`` or a ``date``).
    days
        Number of days the report covers.
    timezone
        IANA timezone the wall-clock times are read in (``Datetime("us", timezone)``).
    customers
        Number of distinct customers; ``None`` means about 0.15 per interaction.

    Returns
    -------
    polars.DataFrame
        Columns ``omnikit.CANONICAL_COLUMNS`` with dtypes ``omnikit.canonical_schema(timezone)``.

    Examples
    --------
    >>> import omnikit as ok
    >>> df = ok.synth_frame(10_000, seed=1, timezone="America/New_York")
    >>> df.schema["start_date_time"]
    Datetime(time_unit='us', time_zone='America/New_York')
    >>> sorted(df["interaction_type"].unique())[:3]
    ['CHAT', 'DIGITAL_CONNECT', 'EMAIL']
    """
    from ._io import canonicalize

    spec = _Spec.make(n, seed=seed, start=start, days=days, customers=customers, timezone=timezone)
    frames = list(spec.blocks(lambda b: canonicalize(b, timezone=timezone, source="<synth>")))
    if not frames:
        return canonicalize(pl.DataFrame(schema=_RAW_SCHEMA), timezone=timezone, source="<synth>")
    return frames[0] if len(frames) == 1 else pl.concat(frames, rechunk=False)


def synth_report(
    path: str | os.PathLike[str],
    n: int,
    *,
    seed: int = 0,
    format: str | None = None,
    indent: int | None = None,
    start: str | date = "2024-09-02",
    days: int = 28,
    customers: int | None = None,
    timezone: str | None = None,
    chunk_size: int = _BLOCK,
) -> Path:
    """Write a synthetic report file of ``n`` interactions in the vendor's format.

    The entries are those of :func:`synth_entries` with the same arguments. They are written
    block by block (never all held as Python objects), to a temporary file in the same
    directory that is renamed into place when complete.

    Parameters
    ----------
    path
        File to write; its directory must exist.
    n
        Number of interactions.
    seed
        Seed of the generator: the same arguments give the same bytes.
    format
        ``"json"`` (envelope ``{"entries": [...], "total": n}``), ``"ndjson"`` (one entry a
        line) or ``"csv"`` (a header row with the vendor's field names). ``None``: from the
        suffix (``.json``, ``.jsonl``/``.ndjson``, ``.csv``).
    indent
        JSON only: ``None`` writes compact JSON; an integer writes the vendor's pretty layout
        with that many spaces a level (the vendor's sample uses 4), as ``json.dumps`` would.
    start, days, customers, timezone
        As in :func:`synth_entries`.
    chunk_size
        Rows written at a time (rounded up to whole generation blocks of 262,144 rows); it
        bounds memory, not the content.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import omnikit as ok
    >>> path = ok.synth_report("week.json", 5_000, seed=3, indent=4)  # doctest: +SKIP
    >>> ok.load(path).height  # doctest: +SKIP
    5000
    """
    path = Path(path)
    fmt = _format_of(path, format)
    spec = _Spec.make(n, seed=seed, start=start, days=days, customers=customers, timezone=timezone)
    if indent is not None and (not isinstance(indent, int) or indent < 0):
        raise ParameterError(f"indent must be None or a whole number >= 0, not {indent!r}")
    per_write = max(1, math.ceil(_positive_int(chunk_size, "chunk_size") / _BLOCK))
    with _Writer(path, fmt, indent) as writer:
        pending: list[pl.DataFrame] = []
        for block in spec.blocks():
            pending.append(block)
            if len(pending) >= per_write:
                writer.write(pl.concat(pending) if len(pending) > 1 else pending[0])
                pending = []
        if pending:
            writer.write(pl.concat(pending) if len(pending) > 1 else pending[0])
    return path


def synth_reports(
    directory: str | os.PathLike[str],
    n: int,
    *,
    seed: int = 0,
    windows: int = 4,
    overlap: Duration = "1d",
    format: str = "json",
    indent: int | None = None,
    start: str | date = "2024-09-02",
    days: int = 28,
    customers: int | None = None,
    timezone: str | None = None,
    prefix: str = "erc_omnichannel_report",
) -> list[Path]:
    """Write ``n`` interactions as several report files whose windows overlap.

    The ``days`` from ``start`` are cut into ``windows`` equal report windows; each file holds
    the interactions that started in its window or in the ``overlap`` before it, so an
    interaction near a boundary is in two files. The earlier file was "run" at the end of its
    window: about a third of the repeated interactions, and every one that had not ended by
    then, are in it in an earlier state (``ASSIGNED`` with no end yet, or ``OFFERED``); the
    later file has the final state. Loading the files in name order with the last occurrence
    winning (as :func:`omnikit.load` does for a directory) gives exactly
    :func:`synth_frame` with the same arguments.

    Parameters
    ----------
    directory
        Directory to write into (created if missing).
    n
        Number of distinct interactions across all files.
    seed
        Seed of the generator.
    windows
        Number of files.
    overlap
        How far each window reaches back into the previous one: a ``timedelta`` or a fixed
        duration such as ``"1d"``, ``"12h"``, ``"90m"``, ``"1w"``.
    format
        ``"json"``, ``"ndjson"`` or ``"csv"``.
    indent
        JSON only: ``None`` compact, an integer for the vendor's pretty layout.
    start, days, customers, timezone
        As in :func:`synth_entries`.
    prefix
        Start of the file names, which continue ``_01_2024-09-02_2024-09-09`` (window number,
        first day, day after the last) so that name order is time order.

    Returns
    -------
    list of pathlib.Path
        The files written, in window order.

    Examples
    --------
    >>> import omnikit as ok
    >>> paths = ok.synth_reports("weeks/", 20_000, windows=4, overlap="1d")  # doctest: +SKIP
    >>> ok.load("weeks/").height  # doctest: +SKIP
    20000
    """
    if format not in _EXTENSIONS:
        raise ParameterError(f"format must be one of {sorted(_EXTENSIONS)}, not {format!r}")
    spec = _Spec.make(n, seed=seed, start=start, days=days, customers=customers, timezone=timezone)
    windows = _positive_int(windows, "windows")
    back = _seconds_of(overlap)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    total = spec.days * 86400
    cuts = [total * i // windows for i in range(windows + 1)]
    paths = []
    for i in range(windows):
        first = spec.start + timedelta(seconds=cuts[i])
        last = spec.start + timedelta(seconds=cuts[i + 1])
        paths.append(
            directory
            / f"{prefix}_{i + 1:02d}_{first:%Y-%m-%d}_{last:%Y-%m-%d}{_EXTENSIONS[format]}"
        )

    def stamp(seconds: int) -> str:
        return f"{spec.start + timedelta(seconds=seconds):%Y-%m-%d %H:%M:%S}"

    writers = [_Writer(p, format, indent) for p in paths]
    try:
        for block in spec.blocks():
            begin = pl.col("start_date-time")
            for i, writer in enumerate(writers):
                lo = stamp(max(0, cuts[i] - back)) if i else None
                in_window = begin < stamp(cuts[i + 1]) if i + 1 < windows else pl.lit(True)
                if lo is not None:
                    in_window = in_window & (begin >= lo)
                rows = block.filter(in_window)
                if i + 1 < windows:  # repeated later: write the state at this window's end
                    repeated = begin >= stamp(max(0, cuts[i + 1] - back))
                    rows = _earlier_state(rows, repeated, stamp(cuts[i + 1]))
                writer.write(rows)
        for writer in writers:
            writer.close()
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    return paths


# --------------------------------------------------------------------------------------------
# Arguments


def _positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError(f"{name} must be a whole number >= {minimum}, not {value!r}")
    return int(value)


def _format_of(path: Path, format: str | None) -> str:
    if format is None:
        fmt = _FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise ParameterError(
                f"cannot tell the format of {str(path)!r} from its suffix: use .json, .jsonl, "
                f".ndjson or .csv, or pass format='json'|'ndjson'|'csv'"
            )
        return fmt
    if format not in _EXTENSIONS:
        raise ParameterError(f"format must be one of {sorted(_EXTENSIONS)}, not {format!r}")
    return format


def _seconds_of(value: Duration) -> int:
    """``overlap`` in whole seconds: any fixed duration (``"1w"``, ``"36h"``, a ``timedelta``)."""
    return int(duration_seconds(value, name="overlap", numbers=False))


# --------------------------------------------------------------------------------------------
# Generation


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer: a bijection of uint64 that scrambles every bit."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _hex_chars(word: np.ndarray, nchars: int) -> np.ndarray:
    """The lowest ``nchars`` (even, at most 16) hex digits of each uint64, as (n, nchars) uint8."""
    octets = word.astype(">u8").view(np.uint8).reshape(-1, 8)[:, 8 - nchars // 2 :]
    return _HEX_PAIRS.take(octets).view(np.uint8)


def _uuid4_chars(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """32 hex digits laid out as a random UUID (version 4, RFC 4122 variant), without dashes."""
    hi = (hi & ~np.uint64(0xF << 12)) | np.uint64(0x4 << 12)
    lo = (lo & ~np.uint64(0x3 << 62)) | np.uint64(0x2 << 62)
    return np.hstack([_hex_chars(hi, 16), _hex_chars(lo, 16)])


def _strings(chars: np.ndarray) -> pl.Series:
    """Turn an (n, width) uint8 array of ASCII characters into a String Series."""
    width = chars.shape[1]
    packed = np.ascontiguousarray(chars).view(f"S{width}").ravel()
    return pl.Series(packed).cast(pl.String)


def _lognormal(rng: np.random.Generator, params: np.ndarray, index: np.ndarray) -> np.ndarray:
    median, sigma = params[index, 0], params[index, 1]
    return np.rint(median * np.exp(sigma * rng.standard_normal(index.size))).astype(np.int64)


def _categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of ``probs`` (rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0]) * cum[:, -1]
    return (u[:, None] >= cum).sum(axis=1)


def _pick_int(options: Sequence[int], index: Any) -> pl.Expr:
    return pl.lit(pl.Series(options, dtype=pl.Int64)).gather(index)


def _pick(options: Sequence[str], index: Any) -> pl.Expr:
    return pl.lit(pl.Series(options, dtype=pl.String)).gather(index)


@dataclass(frozen=True)
class _Spec:
    n: int
    seed: int
    start: datetime
    days: int
    customers: int
    timezone: str | None

    @classmethod
    def make(
        cls,
        n: int,
        *,
        seed: int,
        start: str | date,
        days: int,
        customers: int | None,
        timezone: str | None,
    ) -> _Spec:
        n = _positive_int(n, "n", minimum=0)
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise ParameterError(f"seed must be an integer, not {seed!r}")
        day = parse_day(start, name="start")  # a datetime: its day
        first = datetime(day.year, day.month, day.day)
        days = _positive_int(days, "days")
        if customers is None:
            customers = max(1, round(0.15 * n))
        customers = _positive_int(customers, "customers")
        if customers > len(_AREA_CODES) * 800 * 10_000:
            raise ParameterError(f"customers must be at most 640,000,000, not {customers}")
        if timezone is not None:
            check_timezone(timezone)
        return cls(n, int(seed) & _MASK64, first, days, customers, timezone)

    def key(self, salt: int) -> np.uint64:
        """A 64-bit key derived from the seed, one per use."""
        return _mix(np.array([(self.seed * 0x9E3779B97F4A7C15 + salt) & _MASK64], np.uint64))[0]

    def weeks(self) -> np.ndarray:
        """Each week's wait factor per channel (weeks × channels), from the seed only."""
        rng = np.random.default_rng([self.seed, 0x57AFF])
        count = math.ceil(self.days / 7)
        return np.exp(_WEEK_SPREAD * rng.standard_normal((count, len(_CHANNELS))))

    def blocks(
        self, transform: Callable[[pl.DataFrame], pl.DataFrame] | None = None
    ) -> Iterator[pl.DataFrame]:
        """Yield the blocks in order, optionally transformed; two are made at a time in threads
        (numpy and polars release the GIL), never more than a few ahead of the consumer."""
        count = math.ceil(self.n / _BLOCK)

        def make(index: int) -> pl.DataFrame:
            block = self.block(index, min(_BLOCK, self.n - index * _BLOCK))
            return block if transform is None else transform(block)

        if count <= 1:
            yield from (make(index) for index in range(count))
            return
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            pending: deque[Future[pl.DataFrame]] = deque()
            for index in range(count):
                pending.append(pool.submit(make, index))
                if len(pending) > _WORKERS:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    # ---------------------------------------------------------------------------------------

    def block(self, index: int, rows: int) -> pl.DataFrame:
        """Rows ``index * _BLOCK ...`` of the report: depends on nothing but the spec."""
        rng = np.random.default_rng([self.seed, index])
        span = self.days * 86400

        # Journeys: a customer, a first channel and direction, a start time, a few steps.
        jn = rows
        jchan = rng.choice(len(_CHANNELS), size=jn, p=_CHANNEL_P)
        jout = rng.random(jn) < _OUTBOUND_P[jchan]
        jbot = ~jout & (rng.random(jn) < _BOT_P[jchan])
        jlen = np.minimum(rng.geometric(0.62, jn), 12)
        jlen = np.where(jbot & (jlen == 1) & (rng.random(jn) < 0.85), 2, jlen)
        jcust = np.minimum(
            (self.customers * rng.random(jn) ** 1.3).astype(np.int64), self.customers - 1
        )
        weekday = (self.start.weekday() + np.arange(self.days)) % 7
        hours = np.where((weekday >= 5)[:, None], _HOUR_WEEKEND, _HOUR_WEEKDAY)
        slot_w = (_WEEKDAY_W[weekday][:, None] * hours / hours.sum(axis=1, keepdims=True)).ravel()
        jt0 = rng.choice(slot_w.size, size=jn, p=slot_w / slot_w.sum()) * 3600
        jt0 = jt0 + rng.integers(0, 3600, jn)
        jsite = rng.integers(0, len(_CHAT_SITES), jn)

        ends = np.cumsum(jlen)
        used = int(np.searchsorted(ends, rows)) + 1  # journeys needed to fill the block
        jlen = jlen[:used]
        jstart = ends[:used] - jlen
        j = np.repeat(np.arange(used), jlen)[:rows]
        step = np.arange(rows) - jstart[j]
        first = step == 0
        handover = (step == 1) & jbot[j]

        # Channel, direction, bot, status of each step.
        chan = np.where(
            first | handover | (rng.random(rows) < 0.5),
            jchan[j],
            rng.choice(len(_CHANNELS), size=rows, p=_CHANNEL_P),
        )
        out = np.where(first, jout[j], ~handover & (rng.random(rows) < _OUTBOUND_P[chan]))
        bot = first & jbot[j]
        status = np.where(
            out,
            _categorical(rng, np.broadcast_to(_OUTBOUND_STATUS_P, (rows, len(_STATUSES)))),
            _categorical(rng, _STATUS_P[chan]),
        )
        status = np.where(bot, FINISHED, status)

        # Waits, durations (end minus start, wait included). Waits follow the staffing of the
        # hour of week the journey started in, and of its week.
        wait = _lognormal(rng, _WAIT, chan)
        day = jt0[j] // 86400
        staffing = _STAFFING[weekday[day], (jt0[j] // 3600) % 24] * self.weeks()[day // 7, chan]
        wait = np.rint(wait * staffing).astype(np.int64)
        wait = np.select(
            [
                bot,
                out,
                status == SHORT_ABANDONED,
                status == ABANDONED,
                (status == MISSED) & (chan == VOICE),
                status == VOICEMAIL,
            ],
            [
                0,
                np.where(chan == VOICE, rng.integers(0, 26, rows), 0),
                rng.integers(0, 5, rows),
                5 + wait,
                rng.integers(8, 41, rows),
                rng.integers(20, 91, rows),
            ],
            wait,
        )
        handle = np.where(
            bot,
            _lognormal(rng, np.array([[90, 0.6]]), np.zeros(rows, np.int64)),
            _lognormal(rng, _HANDLE, chan),
        )
        duration = np.select(
            [status == FINISHED, status == VOICEMAIL, np.isin(status, (ASSIGNED, OFFERED))],
            [wait + np.maximum(handle, 1), wait + rng.integers(10, 91, rows), -1],
            wait,
        )
        no_wait = status == OFFERED
        no_end = np.isin(status, (ASSIGNED, OFFERED))

        # Start times: steps minutes to hours apart; a bot hands over as it ends.
        gap = np.clip(
            np.rint(3000 * np.exp(1.3 * rng.standard_normal(rows))), 90, 20 * 3600
        ).astype(np.int64)
        prev_duration = np.concatenate([[0], np.maximum(duration[:-1], 0)])
        gap = np.where(handover, prev_duration + rng.integers(2, 31, rows), gap)
        gap[first] = 0
        offset = np.cumsum(gap)
        offset -= np.repeat(offset[jstart], jlen)[:rows]
        last_row = np.minimum(jstart + jlen, rows) - 1
        overshoot = jt0[:used] + offset[last_row] - (span - 1)
        shift = np.where(overshoot > 0, overshoot + rng.integers(0, 3600, used), 0)
        t = np.clip(jt0[j] - shift[j] + offset, 0, span - 1)
        epoch = int((self.start - datetime(1970, 1, 1)).total_seconds())
        t_start = epoch + t
        t_end = t_start + np.maximum(duration, 0)

        # Who: customers' identifiers are functions of the customer number, so a customer looks
        # the same in every block.
        c = jcust[j].astype(np.uint64)
        h1 = _mix(c ^ self.key(1))
        h2 = _mix(c ^ self.key(2))
        h3 = _mix(c ^ self.key(3))
        fname = (h1 % np.uint64(len(_FIRST))).astype(np.int64)
        lname = ((h1 >> np.uint64(12)) % np.uint64(len(_LAST))).astype(np.int64)
        mail_style = ((h1 >> np.uint64(24)) % np.uint64(3)).astype(np.int64)
        domain = ((h1 >> np.uint64(32)) % np.uint64(len(_EMAIL_DOMAINS))).astype(np.int64)
        intl = ((h1 >> np.uint64(40)) % np.uint64(100)) < 3
        uk = ((h1 >> np.uint64(48)) & np.uint64(1)).astype(bool)
        switch = (h2 % np.uint64(1000)) < 20
        n_switch = max(2, min(len(_SWITCHBOARD_AREAS) * 2, self.customers // 400))
        switch_no = ((h2 >> np.uint64(12)) % np.uint64(n_switch)).astype(np.int64)
        two_ids = ((h2 >> np.uint64(24)) % np.uint64(100)) < 6
        has_ext = ((h2 >> np.uint64(32)) % np.uint64(100)) < 40
        ext = ((h2 >> np.uint64(40)) % np.uint64(100_000)).astype(np.int64)

        # US phones: an affine bijection of the customer number, so no two customers share one.
        space = len(_AREA_CODES) * 800 * 10_000
        a = int(self.key(5)) % space | 1
        while math.gcd(a, space) != 1:
            a += 2
        x = (c * np.uint64(a) + np.uint64(int(self.key(6)) % space)) % np.uint64(space)
        x = x.astype(np.int64)
        area = np.asarray(_AREA_CODES)[x // 8_000_000]
        exch = 200 + (x // 10_000) % 800
        line = x % 10_000
        foreign = np.where(
            uk,
            7_400_000_000 + (h3 % np.uint64(600_000_000)).astype(np.int64),
            900_000_000
            + np.array([1, 2, 3, 6])[(h3 >> np.uint64(40)).astype(np.int64) % 4] * 10_000_000
            + (h3 % np.uint64(10_000_000)).astype(np.int64),
        )
        # How this row writes the customer's identifiers. A handover continues the bot's
        # session, so it shows the same contact, written the same way.
        r = rng.random((rows, 10))
        after_bot = np.flatnonzero(handover)
        r[after_bot] = r[after_bot - 1]
        use_switch = switch & (chan == VOICE) & (r[:, 8] < 0.85)
        area = np.where(use_switch, np.asarray(_SWITCHBOARD_AREAS)[switch_no % 6], area)
        exch = np.where(use_switch, 555, exch)
        line = np.where(use_switch, 100 + switch_no, line)
        intl = intl & ~use_switch
        shared_mail = switch & (r[:, 9] < 0.7)

        phone_num = np.where(intl, foreign, area * 10_000_000 + exch * 10_000 + line)

        phone_fmt = np.searchsorted(np.cumsum([0.45, 0.18, 0.14, 0.12, 0.08, 0.03]), r[:, 0])
        mail_fmt = np.searchsorted(np.cumsum([0.55, 0.18, 0.08, 0.05, 0.05, 0.04, 0.05]), r[:, 1])
        name_fmt = np.searchsorted(np.cumsum([0.66, 0.08, 0.10, 0.05, 0.04, 0.03, 0.04]), r[:, 2])
        chat_kind = np.searchsorted([0.75, 0.95], r[:, 3])  # URL, e-mail, nothing
        second_id = two_ids & (r[:, 4] < 0.35)
        has_cid = r[:, 5] < np.where(bot, 0.75, _CONTACT_ID_P[chan])
        has_name = r[:, 6] < _NAME_P[chan]
        agent_kind = np.searchsorted([0.8, 0.9], r[:, 7])  # group, agent id, nothing

        answered = ~bot & np.isin(status, (FINISHED, ASSIGNED))
        unanswered = ~bot & np.isin(status, (MISSED, ABANDONED, SHORT_ABANDONED, VOICEMAIL))
        n_agents = int(np.clip(math.sqrt(self.n) / 2, 6, 250))
        agent = rng.integers(0, n_agents, rows)
        queue = rng.integers(0, len(_GROUPS), rows)
        disposition = np.where(
            answered & (status == FINISHED) & (rng.random(rows) < 0.45),
            rng.integers(0, len(_DISPOSITIONS), rows),
            -1,
        )
        note = np.where(
            answered & (status == FINISHED) & (rng.random(rows) < 0.04),
            rng.integers(0, len(_NOTES), rows),
            -1,
        )
        no_agent_type = (status == OFFERED) | ((chan == SMS) & ~out & (rng.random(rows) < 0.1))

        # Identifiers as text.
        g = np.arange(index * _BLOCK, index * _BLOCK + rows, dtype=np.uint64)
        ids = _strings(_uuid4_chars(_mix(g ^ self.key(10)), _mix(g ^ self.key(11))))
        jg = (np.uint64(index * _BLOCK) + j.astype(np.uint64)) | np.uint64(1 << 50)
        ctk = _strings(_uuid4_chars(_mix(jg ^ self.key(12)), _mix(jg ^ self.key(13))))
        epoch_2019 = 1_546_300_800
        cid_time = np.uint64(epoch_2019) + np.where(
            second_id, h3 >> np.uint64(33), h3 & np.uint64(0xFFFFFFFF)
        ) % np.uint64(175_000_000)
        cid_tail = _mix(np.where(second_id, c | np.uint64(1 << 40), c) ^ self.key(4))
        contact_ids = _strings(np.hstack([_hex_chars(cid_time, 8), _hex_chars(cid_tail, 16)]))

        agents = self._agents(n_agents)
        bots = self._bots()

        frame = pl.DataFrame(
            {
                "id": ids,
                "ctk": ctk,
                "cid": contact_ids,
                "wait": wait,
                "duration": duration,
                "no_wait": no_wait,
                "no_end": no_end,
                "t_start": t_start,
                "t_end": t_end,
                "chan": chan,
                "status": status,
                "out": out,
                "bot": bot,
                "c": c.astype(np.int64),
                "fname": fname,
                "lname": lname,
                "mail_style": mail_style,
                "domain": domain,
                "phone_num": phone_num,
                "shared_mail": shared_mail,
                "switch_no": switch_no,
                "phone_fmt": np.where(
                    intl, np.where(uk, 6, 8) + np.isin(phone_fmt, (1, 3, 5)), phone_fmt
                ),
                "mail_fmt": mail_fmt,
                "name_fmt": name_fmt,
                "chat_kind": chat_kind,
                "site": jsite[j],
                "has_cid": has_cid,
                "has_name": has_name,
                "has_ext": has_ext & (rng.random(rows) < 0.9),
                "ext": ext,
                "answered": answered,
                "unanswered": unanswered,
                "agent": agent,
                "agent_kind": agent_kind,
                "queue": queue,
                "disposition": disposition,
                "note": note,
                "no_agent_type": no_agent_type,
            }
        )
        if self.timezone is not None and self.timezone != "UTC":
            frame = frame.with_columns(_existing(pl.col("t_start"), self.timezone)).with_columns(
                _existing(pl.col("t_start") + pl.col("duration").clip(0), self.timezone).alias(
                    "t_end"
                )
            )
        return frame.select(_vendor_columns(agents, bots))

    def _agents(self, count: int) -> pl.DataFrame:
        idx = np.arange(count, dtype=np.uint64)
        h = _mix(idx ^ self.key(20))
        # Distinct (first, last) pairs, so that an agent's name identifies them.
        pairs = np.random.default_rng([self.seed, 20]).permutation(len(_FIRST) * len(_LAST))[:count]
        lower = (h >> np.uint64(32)) % np.uint64(10) < 3
        names = [f"{_FIRST[p % len(_FIRST)]} {_LAST[p // len(_FIRST)]}" for p in pairs.tolist()]
        names = [
            name.lower() if low else name for name, low in zip(names, lower.tolist(), strict=True)
        ]
        when = np.uint64(1_600_000_000) + (h >> np.uint64(40)) % np.uint64(120_000_000)
        ids = _strings(np.hstack([_hex_chars(when, 8), _hex_chars(_mix(idx ^ self.key(21)), 16)]))
        groups = [_GROUPS[int(v >> np.uint64(48)) % len(_GROUPS)] for v in h]
        return pl.DataFrame({"name": names, "id": ids, "group": groups})

    def _bots(self) -> pl.Series:
        idx = np.arange(4, dtype=np.uint64)
        raw = _strings(_uuid4_chars(_mix(idx ^ self.key(30)), _mix(idx ^ self.key(31)))).to_list()
        return pl.Series([f"{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}" for s in raw])


def _existing(seconds: pl.Expr, timezone: str) -> pl.Expr:
    """Move wall-clock times that do not exist in ``timezone`` one hour later."""
    wall = pl.from_epoch(seconds, time_unit="s")
    gone = wall.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null").is_null()
    return pl.when(gone & seconds.is_not_null()).then(seconds + 3600).otherwise(seconds)


def _vendor_columns(agents: pl.DataFrame, bots: pl.Series) -> list[pl.Expr]:
    """Expressions turning the numeric draws of a block into the vendor's fields."""
    col = pl.col
    chan_name = _pick(_CHANNELS, col("chan"))
    chan = col("chan")

    # Phones: one template per row (prefix, digit groups, separators) picked from small tables.
    pf = col("phone_fmt")
    digits = col("phone_num").cast(pl.String)
    head = _pick_int([f[1] for f in _PHONE_FORMATS], pf)
    middle = _pick_int([f[3] for f in _PHONE_FORMATS], pf)
    phone = pl.concat_str(
        _pick([f[0] for f in _PHONE_FORMATS], pf),
        digits.str.slice(0, head),
        _pick([f[2] for f in _PHONE_FORMATS], pf),
        digits.str.slice(head, middle),
        _pick([f[4] for f in _PHONE_FORMATS], pf),
        digits.str.slice(head + middle),
    )

    # E-mail addresses: unique per customer, written with varied case and stray spaces.
    mf = col("mail_fmt")
    case = _pick_int([f[1] for f in _MAIL_FORMATS], mf)
    domain_case = _pick_int([f[2] for f in _MAIL_FORMATS], mf)
    style = col("mail_style")
    own = pl.concat_str(
        _pick(_MAIL_FIRST, (case * 2 + (style == 1)) * len(_FIRST) + col("fname")),
        _pick((".", "", "_"), style),
        _pick(_MAIL_LAST, case * len(_LAST) + col("lname")),
        col("c").cast(pl.String),
        pl.lit("@"),
        _pick(_MAIL_DOMAINS, domain_case * len(_EMAIL_DOMAINS) + col("domain")),
    )
    shared = _pick(
        _MAIL_SHARED, case * len(_SHARED_MAILBOXES) + col("switch_no") % len(_SHARED_MAILBOXES)
    )
    email = pl.concat_str(
        _pick([f[0] for f in _MAIL_FORMATS], mf),
        pl.when(col("shared_mail")).then(shared).otherwise(own),
        _pick([f[3] for f in _MAIL_FORMATS], mf),
    )

    ctk = col("ctk")
    url = pl.concat_str(
        pl.lit("https://"),
        _pick(_CHAT_SITES, col("site")),
        pl.lit("?ctk="),
        ctk.str.slice(0, 8),
        pl.lit("-"),
        ctk.str.slice(8, 4),
        pl.lit("-"),
        ctk.str.slice(12, 4),
        pl.lit("-"),
        ctk.str.slice(16, 4),
        pl.lit("-"),
        ctk.str.slice(20),
    )
    kind = col("chat_kind")
    contact = (
        pl.when(chan.is_in([VOICE, SMS, WHATSAPP]))
        .then(phone)
        .when((chan == EMAIL) | ((chan == CHAT) & (kind == 1)))
        .then(email)
        .when(chan.is_in([CHAT, DIGITAL]) & (kind == 0))
        .then(url)
        .otherwise(pl.lit(""))
    )

    nf = col("name_fmt")
    name = (
        pl.when(col("has_name"))
        .then(
            pl.concat_str(
                _pick([f[0] for f in _NAME_FORMATS], nf),
                _pick(
                    _NAME_FIRST,
                    _pick_int([f[1] for f in _NAME_FORMATS], nf) * len(_FIRST) + col("fname"),
                ),
                _pick([f[2] for f in _NAME_FORMATS], nf),
                _pick(
                    _NAME_LAST,
                    _pick_int([f[3] for f in _NAME_FORMATS], nf) * len(_LAST) + col("lname"),
                ),
                _pick([f[4] for f in _NAME_FORMATS], nf),
            )
        )
        .otherwise(pl.lit(""))
    )

    status = col("status")
    bot = col("bot")
    answered = col("answered")
    agent_row = col("agent")
    agent_id = _pick(agents["id"].to_list(), agent_row)
    bot_id = _pick(
        bots.to_list(),
        pl.when(chan == VOICE)
        .then(0)
        .when(chan == WHATSAPP)
        .then(2)
        .when(chan == DIGITAL)
        .then(3)
        .otherwise(1),
    )
    groups = (
        pl.when(bot | (status == OFFERED))
        .then(pl.lit(""))
        .when(answered & (col("agent_kind") == 0))
        .then(_pick(agents["group"].to_list(), agent_row))
        .when(answered & (col("agent_kind") == 1))
        .then(agent_id)
        .when(col("unanswered") & (col("agent_kind") == 0))
        .then(_pick(_GROUPS, col("queue")))
        .otherwise(pl.lit(""))
    )
    when = "%Y-%m-%d %H:%M:%S"
    return [
        col("id").alias("interaction_id"),
        pl.when(col("no_wait")).then(None).otherwise(col("wait")).alias("waiting_time"),
        pl.from_epoch(col("t_start"), time_unit="s").dt.strftime(when).alias("start_date-time"),
        pl.when(col("no_end"))
        .then(None)
        .otherwise(pl.from_epoch(col("t_end"), time_unit="s").dt.strftime(when))
        .alias("end_date-time"),
        pl.when(col("no_end")).then(None).otherwise(col("duration")).alias("duration"),
        chan_name.alias("interaction_type"),
        _pick(_STATUSES, status).alias("interaction_status"),
        pl.when(col("out"))
        .then(pl.lit("OUTBOUND"))
        .otherwise(pl.lit("INBOUND"))
        .alias("interaction_direction"),
        pl.when(bot)
        .then(pl.lit("VIRTUAL_AGENT"))
        .when(col("no_agent_type"))
        .then(pl.lit(""))
        .otherwise(pl.lit("USER"))
        .alias("agent_type"),
        groups.alias("groups"),
        pl.when(answered)
        .then(_pick(agents["name"].to_list(), agent_row))
        .otherwise(pl.lit(""))
        .alias("agent_name"),
        pl.when(bot)
        .then(bot_id)
        .when(answered)
        .then(agent_id)
        .otherwise(pl.lit(""))
        .alias("agent_id"),
        pl.when(col("has_ext"))
        .then(col("ext").cast(pl.String))
        .otherwise(pl.lit(""))
        .alias("external_id"),
        name.alias("name"),
        contact.alias("contact"),
        pl.when(col("has_cid")).then(col("cid")).otherwise(pl.lit("")).alias("contact_id"),
        pl.when(col("disposition") >= 0)
        .then(_pick(_DISPOSITIONS, col("disposition").clip(0)))
        .otherwise(pl.lit(""))
        .alias("disposition_name"),
        pl.when(chan == VOICE)
        .then(pl.lit(""))
        .otherwise(
            pl.concat_str(
                pl.lit(_RECORDING_BASE), chan_name.str.to_lowercase(), pl.lit("/"), col("id")
            )
        )
        .alias("transcription-recording"),
        pl.when(col("note") >= 0)
        .then(_pick(_NOTES, col("note").clip(0)))
        .otherwise(pl.lit(""))
        .alias("notes"),
    ]


# --------------------------------------------------------------------------------------------
# Overlapping windows


def _earlier_state(rows: pl.DataFrame, repeated: pl.Expr, report_end: str) -> pl.DataFrame:
    """Rewrite repeated interactions in the state a report run at ``report_end`` saw.

    Those that had not ended by then, and about a third of the others (chosen by their id, so
    the choice is the same however the data is cut), are still open: a FINISHED interaction
    with a person is ASSIGNED (no end, duration, disposition or notes yet), anything else is
    OFFERED (no wait and no agent either).
    """
    col = pl.col
    pick = col("interaction_id").str.slice(0, 2).str.to_integer(base=16)
    pick2 = col("interaction_id").str.slice(2, 2).str.to_integer(base=16)
    still_open = col("end_date-time").is_null() | (col("end_date-time") > report_end)
    changed = repeated & (col("interaction_status") != "OFFERED") & (still_open | (pick < 86))
    assigned = (
        changed
        & (col("interaction_status") == "FINISHED")
        & (col("agent_type") == "USER")
        & (pick2 < 154)
    )
    offered = changed & ~assigned
    blank = pl.lit("")
    return rows.with_columns(
        pl.when(assigned)
        .then(pl.lit("ASSIGNED"))
        .when(offered)
        .then(pl.lit("OFFERED"))
        .otherwise(col("interaction_status"))
        .alias("interaction_status"),
        pl.when(offered).then(None).otherwise(col("waiting_time")).alias("waiting_time"),
        pl.when(changed).then(None).otherwise(col("end_date-time")).alias("end_date-time"),
        pl.when(changed).then(None).otherwise(col("duration")).alias("duration"),
        *[
            pl.when(offered).then(blank).otherwise(col(c)).alias(c)
            for c in ("agent_type", "groups", "agent_name", "agent_id")
        ],
        *[
            pl.when(changed).then(blank).otherwise(col(c)).alias(c)
            for c in ("disposition_name", "notes")
        ],
    )
