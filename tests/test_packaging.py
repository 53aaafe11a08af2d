"""The project's own files agree: pyproject.toml and environment.yml list the same packages."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

import omnikit as ok

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's.
CONDA_NAMES = {"duckdb": "python-duckdb"}


def _requirement(spec: str) -> tuple[str, str]:
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", spec.strip())
    assert match, spec
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def test_environment_yml_lists_the_same_packages_and_bounds_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_requirement(s) for s in project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted.update(_requirement(s) for s in extra)
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(_requirement(s) for s in environment["dependencies"] if isinstance(s, str))
    for name, bound in wanted.items():
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in conda, f"{conda_name} is in pyproject.toml but not environment.yml"
        assert conda[conda_name] == bound, (
            f"{name}: pyproject says {bound!r}, environment.yml {conda[conda_name]!r}"
        )
    extra = set(conda) - {CONDA_NAMES.get(n, n) for n in wanted} - {"python", "pip"}
    assert not extra, f"environment.yml lists packages pyproject.toml does not: {sorted(extra)}"
    assert conda["python"] == project["requires-python"]


def test_every_dependency_bound_is_a_lower_bound() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    for spec in specs:
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+>=[0-9][0-9.]*", spec.replace(" ", "")), spec


def test_command_line_version_and_help() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "omnikit", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == f"omnikit {ok.__version__}"
    usage = subprocess.run(
        [sys.executable, "-m", "omnikit", "--help"], capture_output=True, text=True, check=True
    )
    assert "synth" in usage.stdout


#: SHA-256 of the vendor's sample report as the vendor documents it (``fixtures/`` of the
#: project's shared folder, which CI checks out beside the clone as ``../shared``).
VENDOR_SAMPLE_SHA256 = "8f321379edb64c2667a0937b663658825a749e9791c034fe46598db1a0499032"


def test_the_vendor_sample_is_the_documented_one(vendor_sample: Path) -> None:
    import hashlib

    ours = vendor_sample.read_bytes()
    assert hashlib.sha256(ours).hexdigest() == VENDOR_SAMPLE_SHA256, (
        "tests/data/erc_omnichannel_report_example.json changed; it must stay the vendor's sample"
    )
    shared = ROOT.parent / "shared" / "fixtures" / vendor_sample.name
    if shared.exists():  # beside the clone (CI): the pinned hash is the shared fixture's
        assert shared.read_bytes() == ours
