"""Fuzzing the HTTP edge with what an attacker controls: every header and every byte.

Against the app served on loopback (``make_medialink``), Hypothesis posts arbitrary
bodies with arbitrary, near-valid and valid-looking signing headers. No request here
is signed with the signing secret for the timestamp it carries, so each must get a
4xx; nothing may reach the fake Slack (response_urls, Web API) or the fake Wix; no
ERROR is logged; and /healthz keeps answering. A second property signs malformed
bodies correctly: each gets 400 and causes nothing else.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlencode

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.slack.conftest import (
    CHANNEL_ID,
    USER_ID,
    MakeMediaLink,
    MediaLink,
    command_form,
    interaction_body,
    message_action_payload,
    signature_for,
    wix_url,
)

OTHER_SECRET = "0123456789abcdef0123456789abcdef"
FUZZ_SETTINGS = settings(
    max_examples=150,
    deadline=None,  # loopback HTTP on a shared machine: time per example varies
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Header text as HTTP carries it: visible latin-1, inner spaces (ends are trimmed).
header_text = st.text(
    st.characters(codec="latin-1", exclude_categories=["Cc"]) | st.sampled_from(" \t"),
    max_size=80,
).map(str.strip)

CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/json",
    "text/plain",
    "multipart/form-data; boundary=xyz",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=bogus",
    "application/json; charset=latin-1",
]


@dataclass(frozen=True)
class Timestamp:
    """A timestamp header: relative to now, or literal text (``{now}`` filled in)."""

    offset: int | None = None
    text: str | None = None

    def value(self, now: int) -> str | None:
        if self.offset is not None:
            return str(now + self.offset)
        return None if self.text is None else self.text.format(now=now)


timestamps = st.one_of(
    st.just(Timestamp()),  # no header
    st.integers(-400, 400).map(lambda offset: Timestamp(offset=offset)),
    st.sampled_from([-1, 1]).flatmap(
        lambda sign: st.integers(310, 10**7).map(lambda age: Timestamp(offset=sign * age))
    ),
    st.sampled_from(
        [
            "",
            "0",
            "-0",
            "+{now}",
            "0{now}",
            "{now}.0",
            "{now}.999",
            "{now}e0",
            "{now}{now}",
            "1e9",
            "NaN",
            "inf",
            "-inf",
            "9" * 40,
            "-" + "9" * 40,
            "0x{now}",
            "{now} {now}",
        ]
    ).map(lambda text: Timestamp(text=text)),
    header_text.map(lambda text: Timestamp(text=text.replace("{", "(").replace("}", ")"))),
)

# How the signature header is made, given the body and the timestamp sent. None of
# these is our secret's signature of exactly what is sent.
Signer = Callable[[bytes, str | None, int], str | None]


def _other_secret(body: bytes, ts: str | None, now: int) -> str:
    return signature_for(body, ts or str(now), OTHER_SECRET)


def _tampered(body: bytes, ts: str | None, now: int) -> str:
    return signature_for(body + b"&user_id=U0MALLORY", ts or str(now))


def _correct_only_when_stale(body: bytes, ts: str | None, now: int) -> str:
    """Our secret's signature of exactly what is sent, but only outside the 5-minute
    window (a replay); inside it, or for a timestamp that is no plain integer, another
    secret's."""
    if ts is not None and ts.isascii() and ts.isdigit() and abs(int(ts) - now) >= 310:
        return signature_for(body, ts)
    return _other_secret(body, ts, now)


def _shifted(shift: int) -> Signer:
    """Right secret and body, another time than the header says (a replayed signature
    with its timestamp header moved into the window)."""

    def sign(body: bytes, ts: str | None, now: int) -> str:
        try:
            sent = int(ts or "")
        except ValueError:
            sent = now
        return signature_for(body, str(sent + shift))

    return sign


def _signers() -> st.SearchStrategy[Signer]:
    fixed: list[Signer] = [
        lambda body, ts, now: None,
        _other_secret,
        _tampered,
        _correct_only_when_stale,
        lambda body, ts, now: "v0=" + "0" * 64,
        lambda body, ts, now: _other_secret(body, ts, now)[:-1],
    ]
    shifted = st.integers(-300, 300).filter(bool).map(_shifted)
    random_hex = st.text("0123456789abcdef", max_size=70).map(
        lambda digits: lambda body, ts, now: "v0=" + digits
    )
    arbitrary = header_text.map(lambda text: lambda body, ts, now: text)
    return st.one_of(st.sampled_from(fixed), shifted, random_hex, arbitrary)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
form_fields = st.lists(
    st.tuples(
        st.sampled_from(["token", "command", "text", "payload", "response_url", "user_id"])
        | st.text(max_size=10),
        st.text(max_size=40) | json_values.map(json.dumps),
    ),
    max_size=6,
)


@st.composite
def bodies(draw: st.DrawFn, medialink: MediaLink) -> bytes:
    """Random bytes, forms, JSON, and real Slack shapes naming a live response_url."""
    kind = draw(st.sampled_from(["bytes", "form", "json", "command", "shortcut", "nested"]))
    if kind == "bytes":
        return draw(st.binary(max_size=600))
    if kind == "form":
        return urlencode(draw(form_fields)).encode()
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "nested":
        depth = draw(st.sampled_from([100, 2_000, 100_000]))
        return draw(st.sampled_from([b"payload=" + b"%5B" * depth, b'{"a":' * depth + b"1"]))
    url = medialink.slack.new_response_url(channel=CHANNEL_ID, user=USER_ID)
    trigger = medialink.slack.new_trigger_id()
    text = draw(st.sampled_from([wix_url("2acbb8_ab~mv2.jpg"), "payload", "help", ""]))
    if kind == "command":
        return command_form(text, response_url=url, trigger_id=trigger).encode()
    payload = message_action_payload({"text": text}, response_url=url, trigger_id=trigger)
    return interaction_body(payload).encode()


@dataclass(frozen=True)
class Seen:
    """What the fakes have received so far; each example checks what it added."""

    posts: int
    calls: int
    wix: int

    @classmethod
    async def now(cls, medialink: MediaLink) -> Seen:
        await medialink.settle()
        slack, wix = medialink.slack, medialink.wix
        return cls(posts=len(slack.posts()), calls=len(slack.calls), wix=len(wix.requests))


async def assert_still_inert_and_healthy(
    medialink: MediaLink, caplog: pytest.LogCaptureFixture, before: Seen, what: str
) -> None:
    after = await Seen.now(medialink)
    assert after == before, f"{what}: something went out ({before} -> {after})"
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], f"{what}: {errors}"
    health = await medialink.http.get("/healthz")
    assert health.status_code == 200, what


@pytest.fixture
async def medialink(make_medialink: MakeMediaLink, caplog: pytest.LogCaptureFixture) -> MediaLink:
    caplog.set_level(logging.INFO)  # before the app is built: Bolt copies the root level
    return await make_medialink()


@FUZZ_SETTINGS
@given(data=st.data())
async def test_no_unverified_request_gets_past_the_edge(
    medialink: MediaLink, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    body = data.draw(bodies(medialink), label="body")
    # Slack's unsigned certificate probe is answered 200 by design; it sends nothing out.
    assume(b"ssl_check" not in body)
    timestamp = data.draw(timestamps, label="timestamp")
    signer = data.draw(_signers(), label="signer")
    content_type = data.draw(st.sampled_from([None, *CONTENT_TYPES]) | header_text)
    encoding = data.draw(st.sampled_from([None, "gzip", "deflate", "br", "identity", "x"]))

    before = await Seen.now(medialink)
    caplog.clear()
    now = int(time.time())
    ts = timestamp.value(now)
    signature = signer(body, ts, now)
    headers: dict[bytes, bytes] = {}
    for name, value in (
        ("Content-Type", content_type),
        ("Content-Encoding", encoding),
        ("X-Slack-Request-Timestamp", ts),
        ("X-Slack-Signature", signature),
    ):
        if value is not None:
            headers[name.encode()] = value.encode("latin-1")
    response = await medialink.post_raw(body, headers)
    what = f"{response.status_code} for headers {headers!r}, body {body[:120]!r}"
    assert 400 <= response.status_code < 500, what
    await assert_still_inert_and_healthy(medialink, caplog, before, what)


def _not_an_object(text: str) -> bool:
    try:
        value: Any = json.loads(text)
    except (ValueError, RecursionError):
        return True
    return not isinstance(value, dict)


@st.composite
def malformed_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """Bodies Slack never sends: not UTF-8, a ``payload`` that is no JSON object, a JSON
    body that is no object. Each with the content type it claims."""
    form = "application/x-www-form-urlencoded"
    kind = draw(st.sampled_from(["not-utf-8", "payload", "payload-bytes", "json", "brace"]))
    if kind == "not-utf-8":
        raw = draw(st.binary(min_size=1, max_size=300))
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw, form
        return raw + b"\xff", form
    if kind in ("payload", "payload-bytes"):
        if kind == "payload":
            text = draw(st.text(max_size=200) | json_values.map(json.dumps))
            value = quote(text)
        else:
            raw = draw(st.binary(max_size=200))
            text, value = raw.decode("utf-8", errors="replace"), quote_from_bytes(raw)
        assume(_not_an_object(text))
        others = draw(st.lists(st.tuples(st.sampled_from(["token", "team_id"]), st.text())))
        return (
            urlencode(others) + "&" if others else ""
        ).encode() + b"payload=" + value.encode(), form
    if kind == "json":
        text = draw(json_values.map(json.dumps) | st.text(min_size=1, max_size=200))
        assume(text.strip() and _not_an_object(text))
        return text.encode(), "application/json"
    text = "{" + draw(st.text(max_size=200))
    assume(_not_an_object(text))
    return text.encode(), form


@settings(FUZZ_SETTINGS, max_examples=100)
@given(malformed=malformed_bodies())
async def test_a_signed_malformed_body_gets_400_and_nothing_else(
    medialink: MediaLink, caplog: pytest.LogCaptureFixture, malformed: tuple[bytes, str]
) -> None:
    body, content_type = malformed
    before = await Seen.now(medialink)
    caplog.clear()
    ts = str(int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature_for(body, ts),
    }
    response = await medialink.post_raw(body, headers)
    what = f"{response.status_code} for {content_type} body {body[:120]!r}"
    assert response.status_code == 400, what
    await assert_still_inert_and_healthy(medialink, caplog, before, what)
