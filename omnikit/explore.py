"""A client for Talkdesk's Explore API: the Customer Omnichannel Report as a polars frame.

The Explore API builds a report in a *job*: create it, poll it until it is done, then follow
its redirects to a short-lived presigned file. :class:`ExploreClient` does all of that for any
range: it splits the range into jobs of at most 31 days, runs several at once (never more than
``max_concurrent_jobs``), renews its token, retries what can be retried (one
:class:`RetryPolicy` for every retry) and parses each downloaded file with
:func:`omnikit.load`, so a fetched report and a downloaded file give the same frame.

Credentials come from the environment (or a file the user names), never from arguments::

    TALKDESK_ACCOUNT        the account name (``https://{account}.talkdeskid.com``)
    TALKDESK_CLIENT_ID      an OAuth client with the scopes data-reports:read data-reports:write
    TALKDESK_CLIENT_SECRET  its secret
    TALKDESK_REGION         us (default), eu or ca: picks the default endpoints
    TALKDESK_API_URL        overrides the API base URL (e.g. a stand-in for tests)
    TALKDESK_TOKEN_URL      overrides the token URL

The secret is held in a :class:`Secret`, whose ``repr`` and ``str`` hide it, so it cannot leak
into logs, exception messages or progress output by accident. The client's ``httpx.Auth``
(:class:`TokenAuth`) is the one place a credential is put on a request: the secret goes to the
token URL only, the token to the API's origin only (scheme, host and port), and a redirect
elsewhere -- however many hops -- gets neither.

>>> from omnikit.explore import ExploreClient
>>> with ExploreClient() as client:  # doctest: +SKIP
...     df = client.fetch("2024-09-02", "2024-09-09", timezone="Europe/Lisbon")
"""

from __future__ import annotations

from ._explore._auth import TokenAuth
from ._explore._client import ExploreClient
from ._explore._credentials import REGIONS as REGIONS
from ._explore._credentials import SCOPES as SCOPES
from ._explore._credentials import Credentials, Secret
from ._explore._jobs import REPORT as REPORT
from ._explore._jobs import FetchedSpan
from ._explore._ranges import DATA_LAG as DATA_LAG
from ._explore._ranges import MAX_JOB_SPAN as MAX_JOB_SPAN
from ._explore._ranges import clamp_range, parse_when, split_range
from ._explore._retry import Deadline, RetryPolicy

__all__ = [
    "Credentials",
    "Deadline",
    "ExploreClient",
    "FetchedSpan",
    "RetryPolicy",
    "Secret",
    "TokenAuth",
    "clamp_range",
    "parse_when",
    "split_range",
]
