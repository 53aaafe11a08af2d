"""Test helpers: a Talkdesk Explore API stand-in on 127.0.0.1, with injectable faults.

>>> from omnikit.testing import Faults, TalkdeskStandIn
>>> with TalkdeskStandIn(frame, faults=Faults(burst_503=3)) as talkdesk:  # doctest: +SKIP
...     client = ExploreClient(Credentials.from_env(talkdesk.environ()))
"""

from __future__ import annotations

from .._vendor import vendor_bytes, vendor_frame
from ._standin import Faults, TalkdeskStandIn

__all__ = ["Faults", "TalkdeskStandIn", "vendor_bytes", "vendor_frame"]
