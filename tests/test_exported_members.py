"""The public surface is exactly the contract the README documents, plus omnikit's extras."""

from __future__ import annotations

import omnikit as ok
import omnikit.charts

# Everything the README's contract names.
CONTRACT = {
    "load",
    "DataQualityWarning",
    "ReportValidationError",
    "ReportFormatError",
    "OmnikitError",
    "channel_mix",
    "wait_time_stats",
    "service_level",
    "OUTCOMES",
    "wait_time_survival",
    "resolve_customers",
    "journeys",
    "channel_transitions",
    "repeat_contacts",
    "DEFAULT_THRESHOLDS",
    "bot_containment",
}


# The whole public surface: adding or removing a name is a deliberate change to this list.
PUBLIC = {
    "AuthenticationError",
    "CANONICAL_COLUMNS",
    "CHART_MIMETYPE",
    "DATETIME_COLUMNS",
    "DEFAULT_THRESHOLDS",
    "DataQualityWarning",
    "ExploreError",
    "ExploreTimeoutError",
    "BETTER",
    "EMPTY_REASONS",
    "HEADLINE_FORMATS",
    "HEADLINE_LABELS",
    "JobFailedError",
    "LOG_WAIT_EDGES",
    "OUTCOMES",
    "OmnikitError",
    "PLACEHOLDER_CONTACTS",
    "ParameterError",
    "REDACTED_COLUMNS",
    "RESULTS_MIMETYPE",
    "RenderedReport",
    "ReportData",
    "ReportExecutionError",
    "ReportFormatError",
    "ReportTable",
    "ReportValidationError",
    "SECONDS_COLUMNS",
    "SERVICE_LEVEL_FORMULAS",
    "SOURCE_FIELDS",
    "bot_containment",
    "StoreError",
    "canonical_schema",
    "channel_mix",
    "channel_transitions",
    "compare_periods",
    "customer_links",
    "enable_charts",
    "weekly_summary",
    "format_share",
    "format_duration",
    "format_count",
    "format_change",
    "escape_text",
    "channel_numbers",
    "export_html",
    "fetch",
    "headline_numbers",
    "hourly_profile",
    "journey_flow",
    "journeys",
    "list_reports",
    "load",
    "median_patience",
    "read_results",
    "record_results",
    "redact",
    "render_report",
    "repeat_contacts",
    "report_data",
    "report_table",
    "resolve_customers",
    "scan",
    "service_level",
    "synth_entries",
    "synth_frame",
    "synth_report",
    "synth_reports",
    "top_paths",
    "wait_time_histogram",
    "wait_time_stats",
    "wait_time_survival",
}


def test_all_is_the_documented_surface() -> None:
    assert set(ok.__all__) == PUBLIC


def test_all_is_exactly_the_public_surface() -> None:
    public = {name for name in dir(ok) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(ok, name)).__name__ == "module"}
    assert set(ok.__all__) == public - modules, "every public name is in __all__, and only those"
    assert len(ok.__all__) == len(set(ok.__all__)), "no name is exported twice"


def test_the_contract_is_exported() -> None:
    missing = CONTRACT - set(ok.__all__)
    assert not missing, f"the README names these, omnikit does not export them: {sorted(missing)}"


def test_every_exported_function_has_a_docstring_with_an_example() -> None:
    for name in ok.__all__:
        member = getattr(ok, name)
        if callable(member) and not isinstance(member, type):
            doc = member.__doc__ or ""
            assert doc.strip(), f"ok.{name} has no docstring"
            assert ">>>" in doc, f"ok.{name}'s docstring has no example"


def test_errors_form_one_tree_under_omnikit_error() -> None:
    for name in ok.__all__:
        member = getattr(ok, name)
        if (
            isinstance(member, type)
            and issubclass(member, Exception)
            and not issubclass(member, Warning)
            and member is not ok.OmnikitError
        ):
            assert issubclass(member, ok.OmnikitError), name
    assert issubclass(ok.OmnikitError, ValueError)
    assert issubclass(ok.DataQualityWarning, UserWarning)


# The type aliases users import for their own annotations (omnikit.types).
TYPES = {
    "By",
    "DateLike",
    "Duration",
    "Formula",
    "FrameLike",
    "Outcomes",
    "PathLike",
    "Seconds",
    "Source",
    "Threshold",
    "Thresholds",
}


def test_types_module_is_pinned_and_importable() -> None:
    import omnikit.types

    assert set(omnikit.types.__all__) == TYPES
    public = {name for name in vars(omnikit.types) if not name.startswith("_")}
    assert set(omnikit.types.__all__) <= public
    from omnikit.types import Duration, FrameLike  # what users write

    assert Duration is not None and FrameLike is not None


def test_names_the_docs_cite_are_reachable() -> None:
    import re
    from pathlib import Path

    root = Path(ok.__file__).resolve().parent
    readme = (root.parent / "README.md").read_text(encoding="utf-8")
    cited = {("ok", name) for name in re.findall(r"\bok\.([A-Za-z_][A-Za-z0-9_]*)", readme)}
    cited |= {("charts", n) for n in re.findall(r"\bcharts\.([A-Za-z_][A-Za-z0-9_]*)", readme)}
    for path in root.rglob("*.py"):
        where = "charts" if "charts" in path.parts else "ok"
        text = path.read_text(encoding="utf-8")
        cited |= {
            (where, n) for n in re.findall(r":data:`~?(?:omnikit\.)?([A-Z][A-Z0-9_]+)`", text)
        }
        cited |= {("ok", n) for n in re.findall(r"\bok\.([A-Z][A-Z0-9_]+)\b", text)}
    assert ("ok", "LOG_WAIT_EDGES") in cited, "the patterns find the names the docs cite"
    modules = {"ok": ok, "charts": omnikit.charts}
    unreachable = sorted(
        f"{where}.{name}"
        for where, name in cited
        if not hasattr(modules[where], name) and not hasattr(ok, name)
    )
    assert not unreachable, "the docs cite these, and import omnikit as ok does not reach them"


def test_charts_module_exports_only_builders() -> None:
    for name in omnikit.charts.__all__:
        member = getattr(omnikit.charts, name)
        assert callable(member) or (name.isupper() and isinstance(member, dict)), name


def test_import_is_light_and_submodules_load_on_first_use() -> None:
    import subprocess
    import sys

    code = (
        "import sys, omnikit as ok;"
        "assert 'altair' not in sys.modules and 'httpx' not in sys.modules;"
        "ok.charts.channel_mix_chart; assert 'altair' in sys.modules;"
        "ok.explore.ExploreClient; ok.testing.TalkdeskStandIn"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
