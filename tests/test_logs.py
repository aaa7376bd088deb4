import io
import json
import logging
import time
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest
from slack_bolt.logger import get_bolt_logger

from bot.logs import (
    MAX_MESSAGE_CHARS,
    RedactingFilter,
    Redactor,
    configure_logging,
    redact,
    truncate,
)

SIGNED = "https://download-files.wixmp.com/media/2acbb8_66ff~mv2.jpg?token=eyJhbGciOi.payload.sig"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"posting {SIGNED} now", "eyJhbGciOi"),
        ("token xoxb-1234-5678-abcdef in use", "1234-5678-abcdef"),
        ("app token xapp-1-A0-123-abc", "A0-123-abc"),
        ("{'Authorization': 'IST.eyJraWQiOi.secret', 'wix-site-id': 's'}", "eyJraWQiOi"),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("https://example.com/cb?access_token=s3cr3t&x=1", "s3cr3t"),
        # An OAuth install's one-time code and state, as Bolt logs them.
        ("GET /slack/oauth_redirect?code=c0de1234abcd&state=n.sig", "c0de1234abcd"),
        ("GET /slack/oauth_redirect?code=c0de1234abcd&state=n0nce.sig99", "n0nce.sig99"),
        ("callback failure (request: {'code': ['c0de1234abcd'], 'state': ['s']})", "c0de1234abcd"),
        ("callback (request: {'code': ['c'], 'state': ['n0nce.sig99']})", "n0nce.sig99"),
        ("data: {'code': 'c0de1234abcd'}, json: {}", "c0de1234abcd"),
        ("Failed to fetch oauth.v2.access result with code: c0de1234abcd - error", "c0de1234abcd"),
    ],
)
def test_redact_removes_credentials(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_redact_keeps_ordinary_text() -> None:
    text = "file 2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg not found (NotFoundError)"
    assert redact(text) == text


def test_filter_redacts_arguments_and_drops_tracebacks() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "sent %s", (SIGNED,), None)
    try:
        raise RuntimeError(f"failed on {SIGNED}")
    except RuntimeError as error:
        record.exc_info = (type(error), error, error.__traceback__)
    assert RedactingFilter().filter(record)
    message = record.getMessage()
    assert "eyJhbGciOi" not in message
    assert "RuntimeError" in message
    assert record.exc_info is None


def test_library_debug_logging_is_capped_at_info() -> None:
    configure_logging("DEBUG")
    try:
        assert logging.getLogger("slack_sdk").getEffectiveLevel() == logging.INFO
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("bot").getEffectiveLevel() == logging.DEBUG
    finally:
        configure_logging("WARNING")


# ---------------------------------------------------------------- every form of a secret

RESPONSE_URL = "https://hooks.slack.com/commands/T0ABC1234/5556667778/qWeRtYuIoPaSdFgHjKl"
WEBHOOK = "https://hooks.slack.com/services/T0ABC1234/B0ABC1234/zXcVbNmQwErTy"
FAKE_RESPONSE_URL = "http://127.0.0.1:40849/response/c2de97284555485389afb324f11035fb"
ACTIONS_URL = "https://hooks.slack-gov.com/actions/T0ABC1234/5556667778/pLmOkNiJbUhY"

# (what a log line may hold, the part that must go)
SECRETS = [
    (RESPONSE_URL, "qWeRtYuIoPaSdFgHjKl"),
    (WEBHOOK, "zXcVbNmQwErTy"),
    (FAKE_RESPONSE_URL, "c2de97284555485389afb324f11035fb"),
    (ACTIONS_URL, "pLmOkNiJbUhY"),
    (SIGNED, "eyJhbGciOi"),
    ("https://download-files.wixmp.com/ugd/36e0da_671c.pdf?token=Zm9vYmFyYmF6cXV4", "Zm9vYmFy"),
    ("https://archive.wixmp.com/archive/wix/7d332530d35c465aa4a0e71d1737909d", "7d332530d35c"),
    ("xoxb-1111-2222-medialinkfake", "1111-2222"),
    ("xapp-1-A0MEDIALNK-3333-medialinkfake", "A0MEDIALNK-3333"),
    ("IST.eyJraWQiOiJQb3pIX2FDMiIsImFsZyI6IlJTMjU2In0.payload.sig", "eyJraWQiOi"),
    ("OAUTH2.fake-abcdefghijklmnopqrstuvwxyz0123", "abcdefghijklmnop"),
    ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
    ('{"client_secret": "fake-app-secret-5a3d"}', "fake-app-secret-5a3d"),
    ("https://example.com/cb?access_token=s3cr3t-v4lue&x=1", "s3cr3t-v4lue"),
    ("https://user:hunter2pass@example.com/x", "hunter2pass"),
]


def _json_escaped(text: str) -> str:
    return text.replace("/", "\\/")


ENCODINGS: dict[str, Callable[[str], str]] = {
    "plain": lambda text: text,
    "quote": quote,
    "quote-all": lambda text: quote(text, safe=""),
    "quote_plus": quote_plus,
    "quote-twice": lambda text: quote(quote(text, safe=""), safe=""),
    "quote_plus-twice": lambda text: quote_plus(quote_plus(text)),
    "json-escaped": _json_escaped,
    "json-escaped-then-quoted": lambda text: quote_plus(_json_escaped(text)),
    "json-in-a-form-field": lambda text: "payload=" + quote(json.dumps({"url": text})),
    "json-in-json": lambda text: json.dumps(json.dumps({"url": _json_escaped(text)})),
}


@pytest.mark.parametrize("encode", ENCODINGS.values(), ids=ENCODINGS.keys())
@pytest.mark.parametrize(("text", "secret"), SECRETS, ids=[s for _, s in SECRETS])
def test_redact_finds_secrets_in_every_encoding(
    text: str, secret: str, encode: Callable[[str], str]
) -> None:
    line = f"body: user_id=U0ALICE01&x={encode(text)}&trigger_id=1.2.3 (signature: v0=abc)"
    cleaned = redact(line)
    assert secret not in cleaned
    assert quote(secret, safe="") not in cleaned
    assert "[redacted]" in cleaned
    assert "U0ALICE01" in cleaned  # what is not a secret stays readable


def test_a_response_url_keeps_its_kind_and_a_signed_link_its_file() -> None:
    assert redact(RESPONSE_URL) == "https://hooks.slack.com/commands/[redacted]"
    assert redact(SIGNED) == (
        "https://download-files.wixmp.com/media/2acbb8_66ff~mv2.jpg?[redacted]"
    )


def test_configured_secrets_are_redacted_in_every_encoding() -> None:
    secret = "8f742231b10e+8888/abcd99fakesecret"
    redactor = Redactor([secret, "short"])
    for encode in ENCODINGS.values():
        cleaned = redactor(f"the secret is {encode(secret)}, or short")
        assert "8888" not in cleaned, cleaned
        assert "short" in cleaned  # too short to be a secret; it would redact words


@pytest.mark.parametrize(
    "text",
    [
        "file 2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg not found (NotFoundError)",
        "POST https://www.wixapis.com/site-media/v1/files/generate-file-download-url -> 200",
        "GET https://static.wixstatic.com/media/2acbb8_66ff~mv2.jpg?w=100 (100% done)",
        "warning at /app/bot/slack/delivery.py:127: response_url answered HTTP 404",
        "wix oauth token -> 200 (request id 1700000000.123)",
        "delivered through chat.postEphemeral after the response_url failed",
        "MediaLink is listening on http://0.0.0.0:3000/slack/events",
    ],
)
def test_redact_keeps_what_holds_no_secret(text: str) -> None:
    assert redact(text) == text


# ---------------------------------------------------------------- linear on any input

# Text built to make a pattern scan ahead from every start position.
ADVERSARIAL = {
    "http-repeated": "http://",
    "wixmp-without-query": "http://x.wixmp.com/",
    "nested-urls": "https://hooks.slack.com/commands/",
    "scheme-separators": "://",
    "encoded-separators": "%3A%2F%2F",
    "percent-signs": "%25",
    "backslashes": "\\",
    "json-escaped": ":\\/\\/",
    "query-tokens": "?token=",
    "slack-tokens": "xoxb-",
    "jwt-starts": "eyJ-",
    "api-key-starts": "IST.",
    "hooks-hosts": "hooks.slack.com/",
    "authorization": "Authorization: ",
    "bearer": "bearer ",
    "credential-keys": "token token=",
    "response-segments": "/response",
    "oauth-query": "?code=&state=",
    "oauth-dict": "'code': ['",
    "oauth-warning": "with code: ",
}
ORDINARY = "POST https://www.wixapis.com/site-media/v1/files?x=1 answered 200, user_id=U0A1 "


def _seconds(text: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        redact(text)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("unit", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_redaction_is_linear_on_text_built_to_backtrack(unit: str) -> None:
    size = 100_000
    adversarial = unit * (size // len(unit))
    ordinary = ORDINARY * (size // len(ORDINARY))
    # Linear: within a small factor of ordinary text of the same size. The quadratic
    # patterns this replaces took seconds here, thousands of times longer.
    assert _seconds(adversarial) < 50 * _seconds(ordinary) + 0.05


def test_redaction_time_grows_linearly() -> None:
    unit = "http://"
    small, large = unit * 20_000, unit * 80_000
    assert _seconds(large) < 10 * _seconds(small) + 0.05  # 4x the text; quadratic is 16x


# ---------------------------------------------------------------- the handler's filter


@pytest.fixture
def log_output() -> io.StringIO:
    """configure_logging as `medialink serve` runs it at DEBUG, writing to a buffer."""
    output = io.StringIO()
    configure_logging("DEBUG", stream=output, secrets=["8f742231b10e8888abcd99fakesecret"])
    return output


def test_a_huge_message_is_cut_where_no_secret_spans(log_output: io.StringIO) -> None:
    token = "xoxb-" + "7" * 300
    body = "k=v " * (MAX_MESSAGE_CHARS // 4 - 10) + token + " tail" * 200_000
    logging.getLogger("bot.test").warning("body: %s", body)
    written = log_output.getvalue()
    assert len(written) < MAX_MESSAGE_CHARS + 200
    assert "777" not in written  # not even a prefix of the token
    assert "more characters not logged" in written


def test_a_truncated_message_is_cut_after_a_delimiter() -> None:
    cut = truncate("abc def " + "x" * 20, limit=12)
    assert cut.startswith("abc def ")
    assert "x" not in cut.split("…")[0]
    assert truncate("short", limit=12) == "short"


def test_library_debug_records_are_dropped_whatever_their_logger_level(
    log_output: io.StringIO,
) -> None:
    # Bolt creates loggers later with the root logger's level: DEBUG here.
    logging.getLogger().setLevel(logging.DEBUG)

    class AsyncApp:  # get_bolt_logger names the logger after the class
        pass

    bolt = get_bolt_logger(AsyncApp)
    assert bolt.isEnabledFor(logging.DEBUG)
    bolt.debug("Responding with status: 200 body: secret body")
    logging.getLogger("medialink").debug("Bolt's app logger: secret body")
    logging.getLogger("slack_sdk.web.async_base_client").debug("Sending a request: secret body")
    logging.getLogger("httpx").info("HTTP Request: GET https://x/?secret body")
    logging.getLogger("bot.wix.client").debug("our own debug line")
    bolt.info("Bolt's info line")
    written = log_output.getvalue()
    assert "secret body" not in written
    assert "our own debug line" in written
    assert "Bolt's info line" in written


def test_loggers_bolt_creates_after_configuration_stay_at_info(log_output: io.StringIO) -> None:
    class AsyncApp:
        pass

    assert not get_bolt_logger(AsyncApp).isEnabledFor(logging.DEBUG)
    assert logging.getLogger("bot.slack").isEnabledFor(logging.DEBUG)


def test_the_handler_redacts_configured_secrets_and_encoded_urls(log_output: io.StringIO) -> None:
    logging.getLogger("slack_bolt.RequestVerification").info(
        "Invalid request signature detected (body: %s)",
        "secret=8f742231b10e8888abcd99fakesecret&response_url=" + quote(FAKE_RESPONSE_URL, safe=""),
    )
    written = log_output.getvalue()
    assert "fakesecret" not in written
    assert "c2de97284555485389afb324f11035fb" not in written
    assert "/response/[redacted]" in written
