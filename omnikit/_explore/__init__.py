"""The parts of :mod:`omnikit.explore`, one module per job (the public names live there).

- ``_credentials``: :class:`Secret` and :class:`Credentials` (from the environment or a file);
- ``_ranges``: dates and spans (``parse_when``, ``clamp_range``, ``split_range``);
- ``_retry``: the one :class:`RetryPolicy` every retry goes through, with an injectable clock;
- ``_auth``: :class:`TokenAuth`, the ``httpx.Auth`` that gets, renews and attaches the token,
  only on requests to the API's or the token endpoint's origin;
- ``_jobs``: one report job (create, poll, download, parse);
- ``_spans``: the span runner (a pool of worker threads);
- ``_client``: :class:`ExploreClient`, which puts them together.
"""

__all__: list[str] = []
