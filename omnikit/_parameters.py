"""Report notebooks and their parameters: found, described, and checked before a kernel starts.

The report notebooks (``channel_mix``, ``wait_times``, ``journeys``, ``weekly_report``) live in
the top-level ``notebooks/`` folder of the source tree and ship inside the wheel as
``omnikit/notebooks/``. :func:`list_reports` describes each notebook's ``parameters`` cell (as
``papermill --help-notebook`` does); :func:`_validate` converts the values a caller gives
(possibly command-line strings) to the declared types and checks dates, timezones, durations
and ranges, so a mistake is a :class:`~omnikit.ParameterError` before papermill starts a kernel.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._errors import ParameterError
from ._time import check_duration, check_timezone, duration_seconds, parse_date

__all__ = ["list_reports"]

# Parameters that render_report sets itself from its own arguments.
_OWN_PARAMETERS = ("source", "start", "end", "timezone", "redact")

_GLOB_CHARS = set("*?[")


def _notebook_dirs() -> list[Path]:
    package = Path(__file__).resolve().parent
    # In a wheel: omnikit/notebooks/. In the source tree (editable install): ../notebooks/.
    return [package / "notebooks", package.parent / "notebooks"]


def _notebooks() -> dict[str, Path]:
    for folder in _notebook_dirs():
        found = {path.stem: path for path in sorted(folder.glob("*.ipynb"))}
        if found:
            return found
    return {}


def _notebook_path(name: str) -> Path:
    notebooks = _notebooks()
    if name not in notebooks:
        known = ", ".join(sorted(notebooks)) or "none found"
        raise ParameterError(f"no report named {name!r}; the reports are: {known}")
    return notebooks[name]


def list_reports() -> dict[str, dict[str, dict[str, Any]]]:
    """Name every report and describe its parameters.

    Returns
    -------
    ``{report name: {parameter name: {"type", "default", "help"}}}``, read from each notebook's
    ``parameters`` cell (as ``papermill --help-notebook`` shows them).

    Examples
    --------
    >>> import omnikit as ok
    >>> sorted(ok.list_reports())
    ['channel_mix', 'journeys', 'wait_times', 'weekly_report']
    >>> ok.list_reports()["wait_times"]["threshold"]["type"]
    'int'
    """
    return {name: _parameters_of(path) for name, path in _notebooks().items()}


def _parameters_of(path: Path) -> dict[str, dict[str, Any]]:
    from papermill.inspection import inspect_notebook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = inspect_notebook(str(path))
    return {
        name: {
            "type": info.get("inferred_type_name") or "None",
            "default": info.get("default"),
            "help": info.get("help") or "",
        }
        for name, info in found.items()
    }


def _coerce(name: str, value: Any, type_name: str) -> Any:
    """Turn ``value`` (possibly a command-line string) into the parameter's declared type."""
    kinds = set(re.findall(r"\b(None|bool|int|float|str|list|dict)\b", type_name))
    nullable = "None" in kinds or "Optional" in type_name or not kinds
    if (
        isinstance(value, str)
        and nullable
        and value.strip().lower() in ("none", "null")
        and kinds != {"str"}
    ):
        return None
    if value is None:
        if nullable:
            return None
        raise ParameterError(f"parameter {name!r} may not be None (it is {type_name})")
    if "dict" in kinds:
        return _coerce_mapping(name, value, kinds)
    if "bool" in kinds:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "off"):
            return False
        raise ParameterError(f"parameter {name!r}: expected true or false, got {value!r}")
    if "int" in kinds:
        if isinstance(value, bool):
            raise ParameterError(f"parameter {name!r}: expected a whole number, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ParameterError(f"parameter {name!r}: expected a whole number, got {value!r}")
    if "float" in kinds:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            result = float(value)
        else:
            try:
                result = float(str(value).strip())
            except ValueError:
                raise ParameterError(
                    f"parameter {name!r}: expected a number, got {value!r}"
                ) from None
        if not math.isfinite(result):
            raise ParameterError(f"parameter {name!r}: expected a finite number, got {value!r}")
        return result
    if "list" in kinds:
        if isinstance(value, (list, tuple)):
            return [str(item) for item in value]
        if isinstance(value, str) and "str" in kinds:
            return value
        raise ParameterError(f"parameter {name!r}: expected a list, got {value!r}")
    if isinstance(value, (dt.date, Path)):
        return str(value)
    if not isinstance(value, str):
        raise ParameterError(f"parameter {name!r}: expected text ({type_name}), got {value!r}")
    return value


def _coerce_mapping(name: str, value: Any, kinds: set[str]) -> Any:
    """A per-channel parameter: a mapping, JSON text of one, or (when declared) one value."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text)
        except ValueError as error:
            if "str" in kinds and not text.startswith(("{", "[")):
                return text
            if text.startswith("{"):
                raise ParameterError(
                    f"parameter {name!r}: {text!r} is not valid JSON ({error}); write it as "
                    f'\'{{"VOICE": 30, "*": "4h"}}\' (double quotes, in single quotes on a shell)'
                ) from None
            raise ParameterError(
                f"parameter {name!r}: expected a JSON object such as "
                f'\'{{"VOICE": 30, "*": "4h"}}\' or a single value, got {text!r}'
            ) from None
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise ParameterError(
                f"parameter {name!r}: the keys are channel names (interaction_type) or '*', "
                f"got {dict(value)!r}"
            )
        return dict(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and kinds & {"int", "float"}:
        return value
    if isinstance(value, str) and "str" in kinds:
        return value
    raise ParameterError(
        f"parameter {name!r}: expected a mapping from channel to value (JSON text such as "
        f'\'{{"VOICE": 30, "*": "4h"}}\') or a single value, got {value!r}'
    )


def _check_per_channel(key: str, value: Any) -> Any:
    """Check every entry of ``thresholds`` (durations) or ``targets`` (shares in [0, 1])."""
    entries = value.items() if isinstance(value, Mapping) else [(None, value)]
    for channel, entry in entries:
        where = f"parameter {key!r}" + (f" entry {channel!r}" if channel is not None else "")
        if key == "targets":
            if (
                isinstance(entry, bool)
                or not isinstance(entry, (int, float))
                or not 0 <= entry <= 1
            ):
                raise ParameterError(
                    f"{where}: a target is a share between 0 and 1 (0.8 for 80%), got {entry!r}"
                )
        else:
            duration_seconds(entry, name=where)
    return value


def _check_sources(
    sources: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None,
) -> list[str] | None:
    if sources is None:
        return None
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    checked = []
    for source in sources:
        text = os.fspath(source)
        if not text:
            raise ParameterError("source: an empty path was given")
        path = Path(text).expanduser()
        if not (_GLOB_CHARS & set(text)) and not path.exists():
            raise ParameterError(
                f"source: {text!r} does not exist (give a report file, a directory or a glob)"
            )
        checked.append(str(path.resolve()) if path.exists() else str(path.absolute()))
    return checked or None


def _validate(
    name: str, values: Mapping[str, Any], declared: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    values = dict(values)
    for old, new in (("threshold", "thresholds"), ("target", "targets")):
        if old in values and old not in declared and new in declared and new not in values:
            warnings.warn(
                f"report parameter {old!r} is now {new!r} (one value, or one per channel)",
                DeprecationWarning,
                stacklevel=3,
            )
            values[new] = values.pop(old)
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ParameterError(
            f"report {name!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters are: {', '.join(declared)}"
        )
    checked = {key: _coerce(key, value, declared[key]["type"]) for key, value in values.items()}
    timezone = check_timezone(checked.get("timezone") or "UTC")
    for key in ("start", "end"):
        if checked.get(key) is not None:
            checked[key] = parse_date(checked[key], timezone=timezone, name=key).isoformat()
    if (
        checked.get("start")
        and checked.get("end")
        and dt.datetime.fromisoformat(checked["start"]) >= dt.datetime.fromisoformat(checked["end"])
    ):
        raise ParameterError(
            f"start ({checked['start']}) must be before end ({checked['end']}); end is excluded"
        )
    for key, value in checked.items():
        if key in ("gap", "window", "every") and value is not None:
            check_duration(value, name=f"parameter {key!r}")
        if key in ("threshold", "short_abandon", "top_n") and value is not None and value < 0:
            raise ParameterError(f"parameter {key!r} must not be negative, got {value!r}")
        if key == "target" and value is not None and not 0 <= value <= 1:
            raise ParameterError(f"parameter 'target' is a share between 0 and 1, got {value!r}")
        if key in ("thresholds", "targets") and value is not None:
            _check_per_channel(key, value)
    _check_report_values(checked)
    return checked


#: Upper bounds of the numeric report parameters (a week of seconds; a page of rows).
_RANGES: dict[str, tuple[float, float, str]] = {
    "threshold": (0, 7 * 86_400, "seconds"),
    "short_abandon": (0, 7 * 86_400, "seconds"),
    "top_n": (1, 1_000, "rows"),
    "max_contact_ids": (1, 1_000, "contact ids"),
    "sample_rows": (1, 10_000_000, "rows"),
}


def _check_report_values(checked: Mapping[str, Any]) -> None:
    """Check report parameters whose meaning omnikit knows, so a kernel never starts for them.

    ``formula`` is one of ``ok.SERVICE_LEVEL_FORMULAS``; ``default_region`` a region that
    ``phonenumbers`` knows (``"US"``, ``"PT"``); numbers are finite and within :data:`_RANGES`.
    """
    formula = checked.get("formula")
    if formula is not None:
        from ._metrics import SERVICE_LEVEL_FORMULAS

        if formula not in SERVICE_LEVEL_FORMULAS:
            raise ParameterError(
                f"parameter 'formula': {formula!r} is not a service-level formula; use one of "
                f"{', '.join(SERVICE_LEVEL_FORMULAS)}"
            )
    region = checked.get("default_region")
    if region is not None:
        import phonenumbers

        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ParameterError(
                f"parameter 'default_region': {region!r} is not a region code such as US, "
                "GB or PT (two capital letters; see phonenumbers.SUPPORTED_REGIONS)"
            )
    for key, (low, high, unit) in _RANGES.items():
        value = checked.get(key)
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not (math.isfinite(value) and low <= value <= high):
            raise ParameterError(
                f"parameter {key!r}: {value!r} is out of range; expected {low:g} to {high:g} {unit}"
            )
