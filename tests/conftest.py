"""Shared test set-up: an isolated load cache, and the vendor's sample report."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Every test run gets its own load cache, never the user's.
os.environ["OMNIKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="omnikit-test-cache-")

ROOT = Path(__file__).resolve().parents[1]
#: The vendor's sample report, exactly as documented (a copy of ../shared/fixtures/).
VENDOR_SAMPLE = ROOT / "tests" / "data" / "erc_omnichannel_report_example.json"


@pytest.fixture
def vendor_sample() -> Path:
    """Path to the vendor's sample Customer Omnichannel Report (8 entries)."""
    return VENDOR_SAMPLE
