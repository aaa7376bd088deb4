"""The HTTP edge: nothing unverified is parsed, logged, answered with a 5xx, or relayed.

Slack signs every request (docs/slack.md, Request signing): the server checks the timestamp
and the v0 signature on the raw body before anything reads it. A request that fails
gets a 4xx, at most one short log line without its body, and causes no outbound
request at all: no post to the response_url its body names, no Web API call, no Wix
call. A signed request whose body is malformed gets 400, also without side effects.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import time
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest

from bot.server import EVENTS_PATH
from bot.slack.messages import SOMETHING_WENT_WRONG
from tests.fakes.slack import Json
from tests.slack.conftest import (
    CHANNEL_ID,
    SIGNING_SECRET,
    USER_ID,
    MakeMediaLink,
    MediaLink,
    command_form,
    interaction_body,
    message_action_payload,
    shortcut_payload,
    signature_for,
    signed_headers,
    view_submission_payload,
    wix_url,
)

FORM = "application/x-www-form-urlencoded"
OTHER_SECRET = "0123456789abcdef0123456789abcdef"  # a signing secret that is not ours
# A signed Wix download link, as a person might paste one; its token is a credential.
SIGNED_LINK = "https://download-files.wixmp.com/media/2acbb8_ab~mv2.jpg?token=eyJ0eXAi.c2VjcmV0.sIg"
LINK_TOKEN = "eyJ0eXAi.c2VjcmV0.sIg"
# Loggers of the test's own HTTP client, not of the app.
_CLIENT_LOGGERS = ("httpx", "httpcore")


def now() -> str:
    return str(int(time.time()))


def app_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if not record.name.startswith(_CLIENT_LOGGERS)]


def app_text(caplog: pytest.LogCaptureFixture) -> str:
    """What the app logged, formatted as a handler would write it (tracebacks included)."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return "\n".join(formatter.format(record) for record in app_records(caplog))


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{record.name}: {record.getMessage()}"
        for record in app_records(caplog)
        if record.levelno >= logging.ERROR
    ]


def assert_logged_briefly(
    caplog: pytest.LogCaptureFixture, body: bytes, *, requests: int = 1
) -> None:
    """At most one short line per refused request, without the body or any part of it."""
    records = app_records(caplog)
    assert len(records) <= requests, [record.getMessage() for record in records]
    for record in records:
        message = record.getMessage()
        assert len(message) <= 200, message
        assert record.exc_info is None, message
    assert errors_logged(caplog) == []
    text, logged = body.decode(errors="replace"), app_text(caplog)
    # The response_url, the pasted link: every 24-character run of the body (shorter
    # bodies hold nothing distinctive, and their bytes may well appear in a log line).
    for start in range(0, len(text) - 23, 24):
        piece = text[start : start + 24]
        assert piece not in logged, f"part of a refused body reached the logs: {piece!r}"


@pytest.fixture
async def medialink(make_medialink: MakeMediaLink, caplog: pytest.LogCaptureFixture) -> MediaLink:
    """The app, built once every logger is at DEBUG: Bolt's loggers take the root level
    when the app is built, so this way whatever Bolt would log is captured too."""
    caplog.set_level(logging.DEBUG)
    return await make_medialink()


# ------------------------------------------------------------------ bodies an attacker sends


def command_body(medialink: MediaLink) -> tuple[bytes, str]:
    """A slash command naming a live response_url (and a signed link in its text)."""
    url = medialink.slack.new_response_url(channel=CHANNEL_ID, user=USER_ID)
    text = f"{wix_url('2acbb8_ab~mv2.jpg')} {SIGNED_LINK}"
    body = command_form(text, response_url=url, trigger_id=medialink.slack.new_trigger_id())
    return body.encode(), url


def shortcut_body(medialink: MediaLink) -> tuple[bytes, str]:
    """A message shortcut (``payload=`` JSON) naming a live response_url."""
    url = medialink.slack.new_response_url(channel=CHANNEL_ID, user=USER_ID)
    payload = message_action_payload(
        {"text": wix_url("2acbb8_ab~mv2.jpg")},
        response_url=url,
        trigger_id=medialink.slack.new_trigger_id(),
    )
    return interaction_body(payload).encode(), url


def submission_body(medialink: MediaLink) -> tuple[bytes, str]:
    """A modal submission: its response_url sits in ``response_urls``."""
    url = medialink.slack.new_response_url(channel=CHANNEL_ID, user=USER_ID)
    urls: list[Json] = [
        {
            "block_id": "conversation",
            "action_id": "conversation_select",
            "channel_id": CHANNEL_ID,
            "response_url": url,
        }
    ]
    view: Json = {"id": "V0FORGED", "type": "modal", "callback_id": "medialink_form"}
    payload = view_submission_payload(view, {}, response_urls=urls)
    return interaction_body(payload).encode(), url


BODIES = {"command": command_body, "shortcut": shortcut_body, "submission": submission_body}


# ------------------------------------------------------------------ unverified: refused, inert


@pytest.mark.parametrize("kind", sorted(BODIES))
@pytest.mark.parametrize(
    "timestamp",
    ["not-a-number", "", "1e9", "0x10", "NaN", "12.5", "-", "1 2"],
    ids=["word", "empty", "exponent", "hex", "nan", "fraction", "dash", "space"],
)
async def test_a_timestamp_that_is_no_integer_relays_nothing(
    medialink: MediaLink, caplog: pytest.LogCaptureFixture, kind: str, timestamp: str
) -> None:
    """The blind relay: such a header made Bolt's check raise, and the error handler
    then posted an apology to whatever response_url the unverified body named."""
    body, url = BODIES[kind](medialink)
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature_for(body, timestamp, OTHER_SECRET),
    }
    response = await medialink.post_raw(body, headers)
    assert response.status_code in (400, 401), response.text
    await medialink.assert_nothing_went_out()
    assert medialink.slack.posts(url) == []
    assert_logged_briefly(caplog, body)


def _header_faults() -> dict[str, tuple[Callable[[bytes, str], dict[str, str]], set[int]]]:
    """Ways a request can fail verification: (headers for a body and a time, statuses)."""
    malformed = {400, 401}

    def signed_at(offset: int) -> Callable[[bytes, str], dict[str, str]]:
        """Correctly signed, but at a time outside Slack's 5-minute window."""

        def make(body: bytes, now: str) -> dict[str, str]:
            ts = str(int(now) + offset)
            return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature_for(body, ts)}

        return make

    def signature(make: Callable[[bytes, str], str]) -> Callable[[bytes, str], dict[str, str]]:
        return lambda body, now: {
            "X-Slack-Request-Timestamp": now,
            "X-Slack-Signature": make(body, now),
        }

    return {
        "no-headers": (lambda body, now: {}, malformed),
        "no-signature": (lambda body, now: {"X-Slack-Request-Timestamp": now}, malformed),
        "no-timestamp": (
            lambda body, now: {"X-Slack-Signature": signature_for(body, now)},
            malformed,
        ),
        "empty-signature": (signature(lambda body, now: ""), malformed),
        "bare-v0": (signature(lambda body, now: "v0="), malformed),
        "truncated": (signature(lambda body, now: signature_for(body, now)[:-1]), malformed),
        "one-char-too-many": (
            signature(lambda body, now: signature_for(body, now) + "0"),
            malformed,
        ),
        "v1-prefix": (
            signature(lambda body, now: "v1=" + signature_for(body, now)[3:]),
            malformed,
        ),
        "other-secret": (
            signature(lambda body, now: signature_for(body, now, OTHER_SECRET)),
            {401},
        ),
        "tampered-body": (signature(lambda body, now: signature_for(body + b"&x=1", now)), {401}),
        "other-timestamp": (
            signature(lambda body, now: signature_for(body, str(int(now) - 1))),
            {401},
        ),
        "stale": (signed_at(-310), {401}),
        "future": (signed_at(310), {401}),
    }


HEADER_FAULTS = _header_faults()


@pytest.mark.parametrize("fault", sorted(HEADER_FAULTS))
async def test_every_unverified_request_is_refused_and_inert(
    medialink: MediaLink, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    make_headers, statuses = HEADER_FAULTS[fault]
    body, url = shortcut_body(medialink)
    headers = {"Content-Type": FORM} | make_headers(body, now())
    response = await medialink.post_raw(body, headers)
    assert response.status_code in statuses, response.text
    await medialink.assert_nothing_went_out()
    assert medialink.slack.posts(url) == []
    assert_logged_briefly(caplog, body)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Slack-Signature", b"v0=\xe9" + b"0" * 63),
        ("X-Slack-Signature", "v0=caf\u00e9".encode("latin-1")),
        ("X-Slack-Request-Timestamp", b"17\xb2"),
    ],
    ids=["signature-latin-1", "signature-accent", "timestamp-superscript"],
)
async def test_header_bytes_beyond_ascii_are_refused_without_error(
    medialink: MediaLink, caplog: pytest.LogCaptureFixture, header: str, value: bytes
) -> None:
    """A signature compared as text with non-ASCII in it makes hmac.compare_digest raise."""
    body, url = command_body(medialink)
    headers = {k.encode(): v.encode() for k, v in signed_headers(body, secret=OTHER_SECRET).items()}
    headers[header.encode()] = value
    response = await medialink.post_raw(body, headers)
    assert response.status_code in (400, 401), response.text
    await medialink.assert_nothing_went_out()
    assert medialink.slack.posts(url) == []
    assert_logged_briefly(caplog, body)


def _gzip_bomb() -> bytes:
    return gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)


@pytest.mark.parametrize(
    ("encoding", "make_body"),
    [
        ("gzip", lambda: b"not gzip at all"),
        ("deflate", lambda: b"\x00not deflate"),
        ("br", lambda: b"not brotli"),
        ("gzip", _gzip_bomb),
    ],
    ids=["gzip-garbage", "deflate-garbage", "br-garbage", "gzip-64-mib-of-zeros"],
)
async def test_a_compressed_body_is_refused_without_error(
    medialink: MediaLink,
    caplog: pytest.LogCaptureFixture,
    encoding: str,
    make_body: Callable[[], bytes],
) -> None:
    """Slack never compresses what it sends, and the signature covers the bytes as sent:
    a Content-Encoding is refused, never inflated (a small body may hold a huge one)."""
    body = make_body()
    for secret in (OTHER_SECRET, SIGNING_SECRET):
        headers = signed_headers(body, secret=secret) | {"Content-Encoding": encoding}
        response = await medialink.post_raw(body, headers)
        assert 400 <= response.status_code < 500, response.text
    await medialink.assert_nothing_went_out()
    assert errors_logged(caplog) == []


MALFORMED: dict[str, tuple[bytes, str]] = {
    "payload-not-json": (b"payload=x", FORM),
    "payload-empty": (b"payload=", FORM),
    "payload-a-list": (b"payload=" + quote("[1]").encode(), FORM),
    "payload-a-string": (b"payload=" + quote('"text"').encode(), FORM),
    "payload-null": (b"payload=null", FORM),
    "payload-nested-100000-deep": (b"payload=" + b"%5B" * 100_000, FORM),
    "json-a-list": (b"[1, 2]", "application/json"),
    "json-a-number": (b"12", "application/json"),
    "json-broken": (b'{"type": ', "application/json"),
    "json-nested-100000-deep": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "application/json"),
    "brace-but-not-json": (b"{oops", FORM),
    "not-utf-8": (b"token=\xff\xfe&command=%2Fmedialink&text=\xc3\x28", FORM),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
async def test_an_unverified_malformed_body_is_refused_unparsed(
    medialink: MediaLink, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    """Bodies nobody signed are not parsed: no 500, no ERROR line, nothing sent."""
    body, content_type = MALFORMED[name]
    headers = signed_headers(body, secret=OTHER_SECRET, content_type=content_type)
    response = await medialink.post_raw(body, headers)
    assert response.status_code == 401, response.text
    unsigned = await medialink.post_raw(body, {"Content-Type": content_type})
    assert unsigned.status_code in (400, 401), unsigned.text
    await medialink.assert_nothing_went_out()
    assert_logged_briefly(caplog, body, requests=2)


@pytest.mark.parametrize("name", sorted(MALFORMED))
async def test_a_signed_malformed_body_gets_400_and_nothing_else(
    medialink: MediaLink, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    """Slack never sends these; if one comes signed, it is a client error, not ours."""
    body, content_type = MALFORMED[name]
    response = await medialink.post_raw(body, signed_headers(body, content_type=content_type))
    assert response.status_code == 400, response.text
    await medialink.assert_nothing_went_out()
    assert errors_logged(caplog) == []


async def test_a_charset_nobody_knows_is_no_server_error(
    medialink: MediaLink, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack sends UTF-8; an unknown charset is refused unsigned, and never a 5xx signed."""
    body, _ = command_body(medialink)
    content_type = f"{FORM}; charset=bogus-8"
    headers = signed_headers(body, secret=OTHER_SECRET, content_type=content_type)
    refused = await medialink.post_raw(body, headers)
    assert refused.status_code == 401, refused.text
    signed = await medialink.post_raw(body, signed_headers(body, content_type=content_type))
    assert signed.status_code < 500, signed.text
    await medialink.settle()
    assert errors_logged(caplog) == []


# ------------------------------------------------------------------ logs


async def test_a_refused_request_is_logged_in_one_short_line_without_its_body(
    medialink: MediaLink, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt logged every refused body whole (response_url and pasted links included)."""
    body, url = command_body(medialink)
    ts = now()
    signature = signature_for(body, ts, OTHER_SECRET)
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }
    response = await medialink.post_raw(body, headers)
    assert response.status_code == 401
    await medialink.settle()
    records = app_records(caplog)
    assert len(records) <= 1, [record.getMessage() for record in records]
    url_id = url.rsplit("/", 1)[-1]
    secrets = {url_id, signature, signature[3:], LINK_TOKEN, quote(LINK_TOKEN, safe="")}
    secrets |= {quote_plus(SIGNED_LINK), body.decode()}
    for record in records:
        message = record.getMessage()
        assert len(message) <= 200, message
        assert record.exc_info is None
    logged = app_text(caplog)
    for secret in secrets:
        assert secret not in logged, "a refused request's body reached the logs"


async def test_a_wrong_signing_secret_is_reported_once_a_minute(
    medialink: MediaLink, caplog: pytest.LogCaptureFixture
) -> None:
    """Requests signed with another secret (timestamps fine) mean a misconfigured
    SLACK_SIGNING_SECRET (or someone probing): one WARNING says so, not one per request."""
    signatures = []
    for _ in range(3):
        body, _url = command_body(medialink)
        headers = signed_headers(body, secret=OTHER_SECRET)
        signatures.append(headers["X-Slack-Signature"])
        response = await medialink.post_raw(body, headers)
        assert response.status_code == 401
    await medialink.assert_nothing_went_out()
    warnings = [
        record.getMessage() for record in app_records(caplog) if record.levelno == logging.WARNING
    ]
    assert len(warnings) == 1, warnings
    assert "SLACK_SIGNING_SECRET" in warnings[0]
    logged = app_text(caplog)
    assert OTHER_SECRET not in logged
    assert SIGNING_SECRET not in logged
    for signature in signatures:
        assert signature[3:] not in logged


# ------------------------------------------------------------------ size


async def test_a_body_over_1_mib_is_refused_with_413(medialink: MediaLink) -> None:
    body = b"text=" + b"a" * (1024 * 1024)
    response = await medialink.post_raw(body, signed_headers(body))
    assert response.status_code == 413
    await medialink.assert_nothing_went_out()


async def test_a_body_announced_over_1_mib_is_refused_before_it_arrives(
    medialink: MediaLink,
) -> None:
    """Content-Length says 100 MiB; only 1 KiB is sent. The answer comes without the rest."""
    host, port = medialink.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        head = (
            f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: {FORM}\r\nContent-Length: {100 * 1024 * 1024}\r\n"
            f"X-Slack-Request-Timestamp: {now()}\r\nX-Slack-Signature: v0={'0' * 64}\r\n\r\n"
        )
        writer.write(head.encode() + b"a" * 1024)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    assert status_line.startswith(b"HTTP/1.1 413"), status_line
    await medialink.assert_nothing_went_out()


async def test_a_large_unsigned_body_is_refused_while_healthz_answers(
    medialink: MediaLink, caplog: pytest.LogCaptureFixture
) -> None:
    """900 KiB of ``http://`` unsigned: refused at once, /healthz answers meanwhile, and
    nothing of the body is logged (in-process: ``tests/test_edge.py`` runs the served app)."""
    body = b"http://" * (900 * 1024 // 7)
    posted, health = await asyncio.gather(
        medialink.post_raw(body, {"Content-Type": FORM}),
        medialink.http.get("/healthz"),
    )
    assert posted.status_code in (400, 401)
    assert health.status_code == 200
    assert "http://http://" not in app_text(caplog)
    await medialink.assert_nothing_went_out()


# ------------------------------------------------------------------ verified requests


async def test_a_correctly_signed_command_is_answered_as_before(medialink: MediaLink) -> None:
    """The control: the same harness, signed right, gets its 200 and its reply."""
    file_id = medialink.wix.add_file()
    url = medialink.slack.new_response_url(channel=CHANNEL_ID, user=USER_ID)
    body = command_form(
        wix_url(file_id), response_url=url, trigger_id=medialink.slack.new_trigger_id()
    ).encode()
    response = await medialink.post_raw(body, signed_headers(body))
    assert response.status_code == 200
    [post] = await medialink.slack.wait_for_posts(url)
    assert post.accepted
    assert file_id in json.dumps(post.body)


async def test_a_signed_request_whose_listener_fails_still_gets_its_apology(
    medialink: MediaLink, caplog: pytest.LogCaptureFixture
) -> None:
    """Apologies go to verified requests' response_urls only; this one is verified.

    A global shortcut without its ``trigger_id`` makes the listener fail after its ack;
    the payload names a response_url, so the person is told something went wrong.
    """
    url = medialink.slack.new_response_url(channel=CHANNEL_ID, user=USER_ID)
    payload = shortcut_payload(trigger_id="unused")
    del payload["trigger_id"]
    payload["response_url"] = url
    body = interaction_body(payload).encode()
    response = await medialink.post_raw(body, signed_headers(body))
    assert response.status_code == 200
    [post] = await medialink.slack.wait_for_posts(url)
    assert post.accepted
    assert post.body.get("text") == SOMETHING_WENT_WRONG
    assert errors_logged(caplog), "the failure was not logged"
