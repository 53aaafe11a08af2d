"""How a report writes numbers and text: durations, counts, shares, changes, escaped text.

One place for every rule, used by tables (:func:`omnikit.report_table`), the generated summary
(:func:`omnikit.weekly_summary`) and charts alike: charts get the same rules as Vega expressions
(:func:`duration_expression`) for their axes, legends and tooltips, so a wait reads ``4 min 12 s``
in a table cell and on an axis. No number is ever written in scientific notation.

- A **duration** is written in the two largest units that matter: ``4.5 s`` (under 10 s, to a
  tenth), ``38 s``, ``4 min 12 s``, ``4 h 26 min``, ``3 d 2 h``; rounded half up at the last unit
  shown, so ``59.6 s`` is ``1 min``.
- A **count** has thousands separators: ``12,345``.
- A **share** is a percentage with one decimal: ``81.2%``.
- A **change** has a sign; a change of a share is in percentage points (``+1.2 pp``), never
  relative; a change that rounds to nothing is ``no change`` (never ``-0.0``).
- **Text** from data or from the user (file names, channel and status values, parameter values,
  warnings) goes through :func:`escape_text` before it enters Markdown or HTML.

>>> import omnikit as ok
>>> ok.format_duration(252), ok.format_duration(15946.4), ok.format_duration(295777)
('4 min 12 s', '4 h 26 min', '3 d 10 h')
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = [
    "escape_text",
    "format_change",
    "format_count",
    "format_duration",
    "format_share",
]

#: What a missing value is written as when nothing better can be said.
MISSING = "–"


def _half_up(value: float) -> int:
    """Round half up (as JavaScript's ``Math.round``), so Python and Vega agree."""
    return math.floor(value + 0.5)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _duration_body(seconds: float) -> str:
    tenths = _half_up(seconds * 10)
    if tenths < 100:
        return f"{tenths / 10:.1f}".removesuffix(".0") + " s"
    whole = _half_up(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    minutes_total = _half_up(seconds / 60)
    if minutes_total < 1440:
        hours, rest = divmod(minutes_total, 60)
        return f"{hours} h" + (f" {rest} min" if rest else "")
    hours_total = _half_up(seconds / 3600)
    days, rest = divmod(hours_total, 24)
    return f"{days:,} d" + (f" {rest} h" if rest else "")


def format_duration(seconds: Any, *, signed: bool = False) -> str:
    """Write a number of seconds as a person reads a duration.

    Parameters
    ----------
    seconds
        Seconds (int or float); ``None``, NaN or infinity is written ``–``.
    signed
        Write ``+`` before a positive duration (for a change); a negative one always has ``-``.

    Returns
    -------
    ``"4.5 s"`` (under 10 s, to a tenth), ``"38 s"``, ``"4 min 12 s"``, ``"4 h 26 min"``,
    ``"3 d 2 h"``: the two largest units, rounded half up at the smaller one; ``"0 s"`` for a
    value that rounds to nothing (never ``"-0 s"``).

    Examples
    --------
    >>> import omnikit as ok
    >>> [ok.format_duration(s) for s in (4.54, 38, 252, 3599.6, 15946.4, 266400)]
    ['4.5 s', '38 s', '4 min 12 s', '1 h', '4 h 26 min', '3 d 2 h']
    >>> ok.format_duration(-3.5, signed=True)
    '-3.5 s'
    """
    number = _number(seconds)
    if number is None:
        return MISSING
    body = _duration_body(abs(number))
    if body == "0 s":
        return body
    if number < 0:
        return "-" + body
    return ("+" if signed else "") + body


def duration_expression(value: str = "datum.value") -> str:
    """The Vega expression writing ``value`` (seconds) as :func:`format_duration` does.

    For axis ``labelExpr``, legend labels and calculated tooltip fields, so charts read like
    the tables.
    """
    v = f"({value})"
    a = f"abs({v})"
    tenths = f"floor({a} * 10 + 0.5)"
    whole = f"floor({a} + 0.5)"
    minutes = f"floor({a} / 60 + 0.5)"
    hours = f"floor({a} / 3600 + 0.5)"
    body = (
        f"({tenths} < 100 ? replace(format({tenths} / 10, '.1f'), '.0', '') + ' s' : "
        f"{whole} < 60 ? {whole} + ' s' : "
        f"{whole} < 3600 ? floor({whole} / 60) + ' min'"
        f" + ({whole} % 60 ? ' ' + ({whole} % 60) + ' s' : '') : "
        f"{minutes} < 1440 ? floor({minutes} / 60) + ' h'"
        f" + ({minutes} % 60 ? ' ' + ({minutes} % 60) + ' min' : '') : "
        f"format(floor({hours} / 24), ',d') + ' d'"
        f" + ({hours} % 24 ? ' ' + ({hours} % 24) + ' h' : ''))"
    )
    sign = f"({v} < 0 && {tenths} > 0 ? '-' : '')"
    return f"({v} == null || !isFinite({v})) ? '{MISSING}' : {sign} + {body}"


def format_count(value: Any, *, signed: bool = False) -> str:
    """Write a count with thousands separators (``12,345``), rounded half up.

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.format_count(1234567.0), ok.format_count(-12, signed=True)
    ('1,234,567', '-12')
    """
    number = _number(value)
    if number is None:
        return MISSING
    whole = _half_up(abs(number))
    sign = "-" if number < 0 and whole else ("+" if signed and whole else "")
    return f"{sign}{whole:,}"


def format_share(value: Any, *, digits: int = 1) -> str:
    """Write a share (0.812) as a percentage (``81.2%``), never as ``-0.0%``.

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.format_share(0.8123), ok.format_share(1), ok.format_share(-0.00001)
    ('81.2%', '100.0%', '0.0%')
    """
    number = _number(value)
    if number is None:
        return MISSING
    text = f"{number * 100:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text + "%"


def format_change(value: Any, kind: str) -> str:
    """Write a change between two periods, with its sign, in the unit of its metric.

    Parameters
    ----------
    value
        The change (this period minus the previous one).
    kind
        ``"percent"`` (a change of a share, written in percentage points: ``+1.2 pp``),
        ``"seconds"`` (``-3 min 5 s``), ``"count"`` (``+234``) or ``"number"`` (``+0.25``).

    Returns
    -------
    The change, or ``"no change"`` when it rounds to nothing at the precision shown.

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.format_change(0.0123, "percent"), ok.format_change(-0.00004, "percent")
    ('+1.2 pp', 'no change')
    >>> ok.format_change(-185, "seconds"), ok.format_change(234, "count")
    ('-3 min 5 s', '+234')
    """
    number = _number(value)
    if number is None:
        return MISSING
    if kind == "percent":
        points = _half_up(abs(number) * 1000) / 10
        text = f"{points:.1f} pp"
        zero = points == 0
    elif kind == "seconds":
        text = format_duration(abs(number))
        zero = text == "0 s"
    elif kind == "count":
        text = format_count(abs(number))
        zero = text == "0"
    else:
        hundredths = _half_up(abs(number) * 100)
        text = f"{hundredths / 100:,.2f}"
        zero = hundredths == 0
    if zero:
        return "no change"
    return ("+" if number > 0 else "-") + text


# Markdown characters that can start or close markup (links, emphasis, code, HTML, headings,
# tables); each is written as its HTML entity, which Markdown leaves alone and HTML shows as it.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_{}\[\]()#+\-.!|~<>&\"'$:]")


def escape_text(value: Any) -> str:
    """Make text from data or from a user safe to put into Markdown or HTML.

    Every character that Markdown or HTML could read as markup (``[ ] ( ) < > & * _ ` |`` and the
    like) becomes an HTML character reference, so ``[x](javascript:alert(1))`` stays text and
    ``<script>`` is shown, never run. Line breaks become spaces (a value cannot start a new
    Markdown block). The text reads the same in the rendered page.

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.escape_text("[x](javascript:alert(1))")
    '&#91;x&#93;&#40;javascript&#58;alert&#40;1&#41;&#41;'
    >>> ok.escape_text("<b>VOICE</b>")
    '&#60;b&#62;VOICE&#60;/b&#62;'
    """
    text = " ".join(str(value).splitlines())
    return _MARKDOWN_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", text)
