"""Logging set-up: one format, and a last line of defence for secrets.

Our own code never logs tokens or signed download URLs. The filter below
redacts them anyway, in case a library logs a request or a message body
(slack_sdk logs Web API bodies at DEBUG, which would include link buttons).
"""

from __future__ import annotations

import logging
import re
import sys

_REDACTIONS = (
    # Signed Wix download links: the query string is the credential.
    (
        re.compile(r"(https?://[^\s\"'<>|]*wixmp\.com/[^\s\"'<>|?]*)\?[^\s\"'<>|]*"),
        r"\1?[redacted]",
    ),
    (re.compile(r"([?&](?:token|access_token)=)[^\s\"'<>|&]+"), r"\1[redacted]"),
    # Slack tokens (bot, user, app-level, config).
    (re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+"), r"\1-[redacted]"),
    # Wix API keys (IST.…) and bearer headers.
    (re.compile(r"\bIST\.[A-Za-z0-9._-]+"), "IST.[redacted]"),
    (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+)?[^\s'\",}]+"),
        r"\1[redacted]",
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message with secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Keep the exception type and message, drop the traceback text,
            # which could carry request bodies or headers.
            error = record.exc_info[1]
            cleaned = f"{cleaned} ({type(error).__name__}: {redact(str(error))})"
            record.exc_info = None
            record.exc_text = None
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


_HANDLER_NAME = "medialink"


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    # Replace our own handler if configured before; leave others (a host's, pytest's) alone.
    for existing in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # Library debug logs print whole request and response bodies; never below INFO.
    for name in ("slack_sdk", "slack_bolt", "aiohttp", "websockets"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level)))
    # httpx logs every request at INFO; bot.wix.client already logs Wix calls at DEBUG
    # (without query strings), so keep httpx to warnings.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
