"""The public surface is exactly what API.md names, plus omnikit's documented extras."""

from __future__ import annotations

import omnikit as ok
import omnikit.charts

# Everything shared/API.md names.
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
}


# The whole public surface: adding or removing a name is a deliberate change to this list.
PUBLIC = {
    "AuthenticationError",
    "CANONICAL_COLUMNS",
    "CHART_MIMETYPE",
    "DATETIME_COLUMNS",
    "DataQualityWarning",
    "ExploreError",
    "ExploreTimeoutError",
    "JobFailedError",
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
    "canonical_schema",
    "channel_mix",
    "channel_transitions",
    "compare_periods",
    "customer_links",
    "export_html",
    "fetch",
    "headline_numbers",
    "hourly_profile",
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
    assert not missing, f"API.md names these, omnikit does not export them: {sorted(missing)}"


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


def test_charts_module_exports_only_builders() -> None:
    for name in omnikit.charts.__all__:
        assert callable(getattr(omnikit.charts, name)), name


def test_import_is_light_and_submodules_load_on_first_use() -> None:
    import subprocess
    import sys

    code = (
        "import sys, omnikit as ok; assert 'altair' not in sys.modules and 'httpx' not in sys.modules;"
        "ok.charts.channel_mix_chart; assert 'altair' in sys.modules;"
        "ok.explore.ExploreClient; ok.testing.TalkdeskStandIn"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
