import logging

import pytest

from bot.logs import RedactingFilter, configure_logging, redact

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
