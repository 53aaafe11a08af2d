"""No error omnikit raises keeps a credential: not in its message, its cause or context chain,
nor in the locals of any frame of any traceback in that chain.

Each error is provoked over real HTTP against the stand-in (or with real files), then walked:
``__cause__`` and ``__context__``, every traceback frame's locals, and, recursively, the
containers, httpx requests/responses/headers and omnikit/httpx objects they hold. The client
secret may live only inside a :class:`~omnikit.explore.Secret` (which the walk does not open:
it is the one holder allowed, and it never prints itself).
"""

from __future__ import annotations

import base64
import contextlib
import types
from pathlib import Path
from typing import Any

import httpx
import pytest

import omnikit as ok
from omnikit.explore import Credentials, ExploreClient, Secret
from omnikit.testing import Faults, TalkdeskStandIn

SECRET = "SENTINEL-Secret-5e2f9a"
TESTS = Path(__file__).parent
FRAME = ok.synth_frame(300, seed=4, start="2024-09-01", days=20, timezone="UTC")
START, END = "2024-09-02", "2024-09-08"


def _children(root: Any) -> list[tuple[str, Any]]:
    """What the walk looks into from ``root``, with a label for each."""
    if isinstance(root, BaseException):
        return [
            ("args", root.args),
            ("__dict__", root.__dict__),
            ("__cause__", root.__cause__),
            ("__context__", root.__context__),
            ("__traceback__", root.__traceback__),
        ]
    if isinstance(root, types.TracebackType):
        out = []
        tb: types.TracebackType | None = root
        while tb is not None:
            # The test's own frames hold the stand-in (and its tokens): they are the caller's.
            if not tb.tb_frame.f_code.co_filename.startswith(str(TESTS)):
                out.append((f"<frame {tb.tb_frame.f_code.co_name}>", tb.tb_frame))
            tb = tb.tb_next
        return out
    if isinstance(root, types.FrameType):
        return [(f".{k}", v) for k, v in dict(root.f_locals).items()]
    if isinstance(root, types.GeneratorType):
        return [("gi_frame", root.gi_frame)] if root.gi_frame is not None else []
    if isinstance(root, dict):
        return [(f"[{k!r}]", v) for k, v in list(root.items())] + [("<key>", k) for k in root]
    if isinstance(root, (list, tuple, set, frozenset)):
        return [(f"[{i}]", v) for i, v in enumerate(list(root))]
    if isinstance(root, httpx.Headers):
        return [("raw", list(root.raw))]
    if isinstance(root, (httpx.Request, httpx.Response)):
        out = [("headers", root.headers)]
        if isinstance(root, httpx.Request):
            out.append(("url", str(root.url)))
        else:
            out += [("history", root.history), ("request", root._request)]
        with contextlib.suppress(httpx.ResponseNotRead, httpx.RequestNotRead, httpx.StreamError):
            out.append(("content", root.content))
        return out
    module = type(root).__module__ or ""
    if module.startswith(("omnikit", "httpx", "httpcore")) and not isinstance(root, Secret):
        out = [
            (f".{n}", getattr(root, n))
            for n in getattr(type(root), "__slots__", ())
            if hasattr(root, n)
        ]
        if hasattr(root, "__dict__"):
            out.append(("__dict__", vars(root)))
        return out
    return []


def leaks(error: BaseException, needles: list[str]) -> list[str]:
    """Where in ``error`` (its chain, frames and what they hold) any needle appears."""
    needles = [n for n in needles if n]
    found: list[str] = []
    seen: set[int] = set()
    stack: list[tuple[Any, str, int]] = [(error, "error", 0)]
    while stack:
        root, path, depth = stack.pop()
        if id(root) in seen or depth > 14:
            continue
        seen.add(id(root))
        if isinstance(root, (str, bytes, bytearray)):
            text = root.decode("latin-1") if not isinstance(root, str) else root
            found += [f"{path}: {text[:60]!r}" for n in needles if n in text]
            continue
        stack += [(child, path + label, depth + 1) for label, child in _children(root)]
    return found


def needles_for(talkdesk: TalkdeskStandIn) -> list[str]:
    basic = base64.b64encode(f"{talkdesk.client_id}:{talkdesk.client_secret}".encode()).decode()
    return [SECRET, basic, *talkdesk.issued_tokens]


@pytest.fixture
def talkdesk():
    with TalkdeskStandIn(FRAME, client_secret=SECRET, job_seconds=0.05) as standin:
        yield standin


def client(talkdesk: TalkdeskStandIn, **options: Any) -> ExploreClient:
    options = {"poll_interval": 0.02, "backoff": 0.01, "retries": 1, "timeout": 20, **options}
    return ExploreClient(Credentials.from_env(talkdesk.environ()), **options)


def raised(talkdesk, tmp_path, **options: Any) -> BaseException:
    with client(talkdesk, **options) as c, pytest.raises(ok.OmnikitError) as info:
        ok.fetch(START, END, store=tmp_path / "store", client=c)
    assert talkdesk.issued_tokens or "refused" in str(info.value)
    return info.value


LEAKY = """
def keeps(request):
    raise ExploreError("boom")

def chains(request):
    try:
        raise httpx.ConnectError("refused", request=request)
    except httpx.ConnectError:
        raise ExploreError("refused") from None
"""


def test_the_walk_can_fail(talkdesk):
    # Code (compiled outside tests/, as omnikit's is) that keeps a request with a credential
    # in a frame, or in __context__ despite `from None`: the walk finds both.
    namespace: dict[str, Any] = {"httpx": httpx, "ExploreError": ok.ExploreError}
    exec(compile(LEAKY, "<leaky omnikit code>", "exec"), namespace)
    talkdesk._issue_token()
    token = talkdesk.issued_tokens[-1]
    for function in ("keeps", "chains"):
        request = httpx.Request("GET", "http://x", headers={"Authorization": f"Bearer {token}"})
        with pytest.raises(ok.ExploreError) as info:
            namespace[function](request)
        del request
        assert leaks(info.value, [token]), function


FAULTS = {
    "job failed for good": lambda: Faults(fail_jobs=10),
    "503 for good": lambda: Faults(burst_503=1000),
    "download dropped for good": lambda: Faults(drop_downloads=1000),
    "presigned URL expired for good": lambda: Faults(expired_urls=1000),
    "job queue full until the timeout": lambda: Faults(max_jobs=0),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_errors_after_a_token_was_issued_hold_no_credential(talkdesk, tmp_path, name):
    talkdesk.faults = FAULTS[name]()
    error = raised(talkdesk, tmp_path, timeout=0.5 if "timeout" in name else 20)
    assert leaks(error, needles_for(talkdesk)) == []


def test_a_timeout_holds_no_credential(talkdesk, tmp_path):
    talkdesk.job_seconds = 30
    error = raised(talkdesk, tmp_path, timeout=0.4)
    assert isinstance(error, ok.ExploreTimeoutError)
    assert leaks(error, needles_for(talkdesk)) == []


def test_an_unreachable_api_after_the_token_holds_no_credential(talkdesk, tmp_path):
    # The token endpoint answers; the API is a closed port: httpx's ConnectError carries the
    # request that had the bearer token on it.
    creds = Credentials(
        "standin",
        talkdesk.client_id,
        Secret(SECRET),
        token_url=talkdesk.token_url,
        api_url="http://127.0.0.1:9",
    )
    with (
        ExploreClient(creds, backoff=0.01, retries=1) as c,
        pytest.raises(ok.ExploreError, match="cannot reach") as info,
    ):
        ok.fetch(START, END, store=tmp_path / "store", client=c)
    assert talkdesk.issued_tokens
    assert info.value.__context__ is None
    assert leaks(info.value, needles_for(talkdesk)) == []


def test_refused_credentials_hold_no_secret(talkdesk, tmp_path, monkeypatch):
    for key, value in talkdesk.environ().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TALKDESK_CLIENT_SECRET", SECRET + "-wrong")
    with pytest.raises(ok.AuthenticationError) as info:
        ok.fetch(START, END, store=tmp_path / "store")
    wrong = base64.b64encode(f"{talkdesk.client_id}:{SECRET}-wrong".encode()).decode()
    assert leaks(info.value, [SECRET, wrong]) == []


def test_missing_variables_hold_no_secret(monkeypatch):
    monkeypatch.setenv("TALKDESK_CLIENT_SECRET", SECRET)
    monkeypatch.delenv("TALKDESK_CLIENT_ID", raising=False)
    with pytest.raises(ok.AuthenticationError, match="TALKDESK_CLIENT_ID") as info:
        Credentials.from_env()
    assert leaks(info.value, [SECRET]) == []


def test_a_credentials_file_that_is_not_utf8_is_named_not_quoted(tmp_path, monkeypatch):
    monkeypatch.delenv("TALKDESK_CLIENT_SECRET", raising=False)
    path = tmp_path / "talkdesk.env"
    secret = "s3cr\xe9t-" + SECRET
    path.write_bytes(
        b"TALKDESK_ACCOUNT=acme\nTALKDESK_CLIENT_ID=cid\nTALKDESK_CLIENT_SECRET="
        + secret.encode("latin-1")
        + b"\n"
    )
    with pytest.raises(ok.AuthenticationError) as info:
        Credentials.from_file(path)
    message = str(info.value)
    assert message == f"{path}, is not UTF-8 text; save it as UTF-8"
    assert "0xe9" not in message and "position" not in message
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert leaks(info.value, [SECRET, "s3cr"]) == []


def test_a_broken_credentials_line_is_named_not_quoted(tmp_path, monkeypatch):
    path = tmp_path / "talkdesk.env"
    path.write_text(f"TALKDESK_CLIENT_ID=cid\n{SECRET}\n")
    with pytest.raises(ok.AuthenticationError, match=r"line 2: expected NAME=value") as info:
        Credentials.from_file(path)
    assert leaks(info.value, [SECRET]) == []
