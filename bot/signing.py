"""Slack request signatures, checked on the raw body before anything reads it.

Slack signs every HTTP request it sends: ``X-Slack-Signature`` is ``v0=`` followed by
the hex HMAC-SHA256, keyed with the app's signing secret, of ``v0:{timestamp}:{body}``,
and ``X-Slack-Request-Timestamp`` is the Unix time it was sent. A request more than
five minutes away from our clock is refused, so a captured request cannot be replayed
later (docs/slack.md, Request signing).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping

logger = logging.getLogger("bot.signing")

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
MAX_AGE = 300  # seconds, either way
# How often, at most, a run of bad signatures is reported to the operator.
WARN_EVERY = 60.0  # seconds
_VERSION = "v0"
_MAX_TIMESTAMP_DIGITS = 12  # Unix seconds have 10 digits until the year 2286
_SIGNATURE_LENGTH = len("v0=") + 64


class Verdict(enum.Enum):
    OK = "ok"
    MISSING = "missing signature headers"
    MALFORMED = "malformed signature headers"
    STALE = "timestamp more than five minutes away"
    MISMATCH = "signature does not match"


class SignatureChecker:
    """Checks requests against one signing secret and tells the operator, at most once
    a minute each, about signatures that don't match (a wrong ``SLACK_SIGNING_SECRET``)
    and correct signatures that arrive stale (a wrong clock)."""

    def __init__(
        self,
        signing_secret: str,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not signing_secret:
            raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET")
        self._key = signing_secret.encode()
        self._warned = False  # whether the last check wrote a WARNING
        self._clock = clock
        self._monotonic = monotonic
        self._warnings = {
            Verdict.MISMATCH: _RateLimitedWarning(
                monotonic,
                "%d request(s) had a signature that does not match SLACK_SIGNING_SECRET; if "
                "Slack sent them, copy the Signing Secret from the app's Basic Information",
            ),
            Verdict.STALE: _RateLimitedWarning(
                monotonic,
                "%d request(s) were signed correctly but more than five minutes away from "
                "this server's clock: check the clock (NTP)",
            ),
        }

    def check(self, headers: Mapping[str, str], body: bytes) -> Verdict:
        """The verdict on one request; the body is only hashed, never parsed or logged.

        A refusal costs at most one short log line: the operator's WARNING when one is
        due, else a DEBUG line naming the reason.
        """
        verdict = self._verdict(headers, body)
        if verdict is not Verdict.OK and not self._warned:
            logger.debug("refused a request: %s", verdict.value)
        return verdict

    def _verdict(self, headers: Mapping[str, str], body: bytes) -> Verdict:
        self._warned = False
        timestamp = headers.get(TIMESTAMP_HEADER)
        signature = headers.get(SIGNATURE_HEADER)
        if timestamp is None or signature is None:
            return Verdict.MISSING
        if not _is_timestamp(timestamp) or len(signature) != _SIGNATURE_LENGTH:
            return Verdict.MALFORMED
        expected = self.sign(timestamp, body)
        matches = hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))
        fresh = abs(self._clock() - int(timestamp)) <= MAX_AGE
        if matches and fresh:
            return Verdict.OK
        if matches:  # signed with our secret, at the wrong time: the clock
            self._warned = self._warnings[Verdict.STALE].count()
            return Verdict.STALE
        if fresh:  # on time, signed with another secret: ours is wrong, or a forger
            self._warned = self._warnings[Verdict.MISMATCH].count()
            return Verdict.MISMATCH
        return Verdict.STALE

    def sign(self, timestamp: str, body: bytes) -> str:
        base = b"%s:%s:%s" % (_VERSION.encode(), timestamp.encode(), body)
        return f"{_VERSION}=" + hmac.new(self._key, base, hashlib.sha256).hexdigest()


class _RateLimitedWarning:
    """One WARNING line for a run of events, at most every ``WARN_EVERY`` seconds."""

    def __init__(self, monotonic: Callable[[], float], message: str) -> None:
        self._monotonic = monotonic
        self._message = message
        self._pending = 0
        self._last = -WARN_EVERY

    def count(self) -> bool:
        """Count one event; True when this call wrote the WARNING."""
        self._pending += 1
        now = self._monotonic()
        if now - self._last < WARN_EVERY:
            return False
        logger.warning(self._message, self._pending)
        self._pending = 0
        self._last = now
        return True


def _is_timestamp(text: str) -> bool:
    return 0 < len(text) <= _MAX_TIMESTAMP_DIGITS and text.isascii() and text.isdigit()
