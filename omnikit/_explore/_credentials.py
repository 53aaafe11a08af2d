"""Credentials: who to authenticate as and where, read from the environment or a file.

One account reads ``TALKDESK_ACCOUNT``, ``TALKDESK_CLIENT_ID``, ``TALKDESK_CLIENT_SECRET`` and the
optional ``TALKDESK_REGION``, ``TALKDESK_API_URL`` and ``TALKDESK_TOKEN_URL``. Several accounts
(``omnikit fetch --account NAME ...``) read the same names with the account in them, upper-cased
and with every character other than a letter or digit as ``_``: ``--account acme-eu`` reads
``TALKDESK_ACME_EU_CLIENT_ID``, ``TALKDESK_ACME_EU_CLIENT_SECRET`` and, optionally,
``TALKDESK_ACME_EU_REGION``, ``TALKDESK_ACME_EU_API_URL``, ``TALKDESK_ACME_EU_TOKEN_URL``
(the account name itself is the one given).

The secret is held in a :class:`Secret`, whose ``repr`` and ``str`` hide it, so it cannot leak
into logs, exception messages or progress output by accident.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import AuthenticationError, ParameterError

__all__ = ["REGIONS", "SCOPES", "Credentials", "Secret", "account_prefix"]

#: OAuth scopes the client asks for.
SCOPES = "data-reports:read data-reports:write"

#: (token URL template, API base URL) per region.
REGIONS: dict[str, tuple[str, str]] = {
    "us": ("https://{account}.talkdeskid.com/oauth/token", "https://api.talkdeskapp.com"),
    "eu": ("https://{account}.talkdeskid.eu/oauth/token", "https://api.talkdeskapp.eu"),
    "ca": ("https://{account}.talkdeskidca.com/oauth/token", "https://api.talkdeskappca.com"),
}


def account_prefix(account: str) -> str:
    """The prefix of the variables of ``account``: upper-cased, non-alphanumerics as ``_``.

    >>> account_prefix("acme-eu")
    'TALKDESK_ACME_EU_'
    """
    return "TALKDESK_" + re.sub(r"[^A-Z0-9]", "_", account.upper()) + "_"


class Secret:
    """A string that does not show itself: ``repr``, ``str`` and f-strings print ``********``.

    >>> s = Secret("hunter2")
    >>> print(s, repr(s))
    ******** Secret('********')
    >>> s.reveal()
    'hunter2'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret itself (only to put it on the wire)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __format__(self, spec: str) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclasses.dataclass(frozen=True)
class Credentials:
    """Who to authenticate as and where: read them with :meth:`from_env` or :meth:`from_file`.

    Parameters
    ----------
    account
        The Talkdesk account name (the ``{account}`` of ``{account}.talkdeskid.com``).
    client_id
        The OAuth client id.
    client_secret
        The client secret, wrapped in a :class:`Secret` so it never prints.
    region
        ``"us"`` (default), ``"eu"`` or ``"ca"``; picks the default endpoints.
    api_url, token_url
        Override the endpoints (``TALKDESK_API_URL``, ``TALKDESK_TOKEN_URL``).

    Examples
    --------
    >>> creds = Credentials.from_env({"TALKDESK_ACCOUNT": "acme", "TALKDESK_CLIENT_ID": "id",
    ...                               "TALKDESK_CLIENT_SECRET": "s3cret"})
    >>> creds.token_endpoint, creds.api_endpoint
    ('https://acme.talkdeskid.com/oauth/token', 'https://api.talkdeskapp.com')
    >>> "s3cret" in repr(creds)
    False
    """

    account: str
    client_id: str
    client_secret: Secret = dataclasses.field(repr=False)
    region: str = "us"
    api_url: str | None = None
    token_url: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.client_secret, Secret):
            object.__setattr__(self, "client_secret", Secret(str(self.client_secret)))
        region = (self.region or "us").strip().lower()
        if region not in REGIONS:
            raise ParameterError(
                f"TALKDESK_REGION is {self.region!r}; use one of {', '.join(sorted(REGIONS))}"
            )
        object.__setattr__(self, "region", region)

    @property
    def token_endpoint(self) -> str:
        """The token URL: the override, or the region's default for the account."""
        if self.token_url:
            return self.token_url
        return REGIONS[self.region][0].format(account=self.account)

    @property
    def api_endpoint(self) -> str:
        """The API base URL: the override, or the region's default."""
        return (self.api_url or REGIONS[self.region][1]).rstrip("/")

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, source: str = "the environment"
    ) -> Credentials:
        """Read the ``TALKDESK_*`` variables (see the module docstring).

        Raises :class:`~omnikit.AuthenticationError` naming the variables that are missing.

        >>> Credentials.from_env({})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        omnikit._errors.AuthenticationError: Talkdesk credentials missing from the environment: ...
        """
        env = os.environ if environ is None else environ
        required = ("TALKDESK_ACCOUNT", "TALKDESK_CLIENT_ID", "TALKDESK_CLIENT_SECRET")
        missing = [name for name in required if not env.get(name)]
        if "TALKDESK_ACCOUNT" in missing and env.get("TALKDESK_TOKEN_URL"):
            missing.remove("TALKDESK_ACCOUNT")  # the account only builds the token URL
        if missing:
            del env, environ  # the raised error's frames keep no credentials
            raise AuthenticationError(
                f"Talkdesk credentials missing from {source}: set {', '.join(missing)} "
                "(and TALKDESK_REGION=eu or ca outside the US)"
            )
        return cls(
            account=env.get("TALKDESK_ACCOUNT", ""),
            client_id=env["TALKDESK_CLIENT_ID"],
            client_secret=Secret(env["TALKDESK_CLIENT_SECRET"]),
            region=env.get("TALKDESK_REGION") or "us",
            api_url=env.get("TALKDESK_API_URL") or None,
            token_url=env.get("TALKDESK_TOKEN_URL") or None,
        )

    @classmethod
    def for_account(
        cls,
        account: str,
        environ: Mapping[str, str] | None = None,
        *,
        source: str = "the environment",
    ) -> Credentials:
        """Read the variables of one of several accounts (``TALKDESK_<ACCOUNT>_CLIENT_ID``, ...).

        Raises :class:`~omnikit.AuthenticationError` naming the variables that are missing
        (never a value).

        >>> env = {"TALKDESK_ACME_EU_CLIENT_ID": "id", "TALKDESK_ACME_EU_CLIENT_SECRET": "s",
        ...        "TALKDESK_ACME_EU_REGION": "eu"}
        >>> Credentials.for_account("acme-eu", env).token_endpoint
        'https://acme-eu.talkdeskid.eu/oauth/token'
        """
        env = os.environ if environ is None else environ
        prefix = account_prefix(account)
        missing = [
            prefix + name for name in ("CLIENT_ID", "CLIENT_SECRET") if not env.get(prefix + name)
        ]
        if missing:
            del env, environ  # the raised error's frames keep no credentials
            raise AuthenticationError(
                f"Talkdesk credentials of account {account!r} missing from {source}: set "
                f"{', '.join(missing)} (and {prefix}REGION=eu or ca outside the US)"
            )
        region = (env.get(prefix + "REGION") or "us").strip().lower()
        if region not in REGIONS:
            raise ParameterError(
                f"{prefix}REGION is {region!r}; use one of {', '.join(sorted(REGIONS))}"
            )
        return cls(
            account=account,
            client_id=env[prefix + "CLIENT_ID"],
            client_secret=Secret(env[prefix + "CLIENT_SECRET"]),
            region=region,
            api_url=env.get(prefix + "API_URL") or None,
            token_url=env.get(prefix + "TOKEN_URL") or None,
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, account: str | None = None) -> Credentials:
        """Read the same ``TALKDESK_*`` names from a file of ``NAME=value`` lines.

        Blank lines, ``#`` comments, a leading ``export`` and quotes around values are allowed
        (a ``.env`` file). Variables set in the environment fill what the file leaves out.
        With ``account``, the variables of that account (see :meth:`for_account`).

        >>> Credentials.from_file("talkdesk.env")  # doctest: +SKIP
        """
        path = Path(path)
        # The error is raised outside the ``except`` blocks and after the text is gone, so
        # neither its ``__context__`` nor its traceback's frames hold a byte of the file.
        problem = None
        try:
            data = path.read_bytes()
        except OSError as error:
            problem = f"cannot read the credentials file {path}: {error.strerror}"
            data = b""
        if problem is None:
            values = _parse_env_file(data)
            del data
            if isinstance(values, str):
                problem = f"{path}, {values}"
        if problem is not None:
            raise AuthenticationError(problem)
        assert not isinstance(values, str)
        if account is not None:
            return cls.for_account(account, _with_environment(values), source=str(path))
        return cls.from_env(_with_environment(values), source=str(path))


def _parse_env_file(data: bytes) -> dict[str, str] | str:
    """The ``NAME=value`` pairs of a credentials file, or where it is broken (never the text)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None:  # the error names neither the byte nor its position: they are the secret's
        return "is not UTF-8 text; save it as UTF-8"
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            return f"line {number}: expected NAME=value"  # never the line: it may hold the secret
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def _with_environment(values: dict[str, str]) -> dict[str, str]:
    """``values`` over the ``TALKDESK_*`` variables of the environment."""
    merged = {k: v for k, v in os.environ.items() if k.startswith("TALKDESK_")}
    merged.update(values)
    values.clear()
    return merged
