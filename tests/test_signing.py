"""Slack signatures, checked on raw bytes: the HMAC, the five-minute window either way,
malformed headers, and the operator's once-a-minute reports."""

from __future__ import annotations

import logging

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.signing import (
    MAX_AGE,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WARN_EVERY,
    SignatureChecker,
    Verdict,
)

SECRET = "0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000
BODY = b"token=x&command=%2Fmedialink&text=https%3A%2F%2Fexample.com%2Fa.jpg"


class Clock:
    def __init__(self) -> None:
        self.wall = float(NOW)
        self.mono = 1000.0

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono


def checker(clock: Clock | None = None) -> SignatureChecker:
    clock = clock or Clock()
    return SignatureChecker(SECRET, clock=clock.time, monotonic=clock.monotonic)


def headers(body: bytes, timestamp: int | str = NOW, secret: str = SECRET) -> dict[str, str]:
    signature = SignatureVerifier(secret).generate_signature(
        timestamp=str(timestamp), body=body.decode()
    )
    assert signature is not None
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature}


def test_our_signature_matches_slacks_reference_implementation() -> None:
    assert checker().check(headers(BODY), BODY) is Verdict.OK


@pytest.mark.parametrize("skew", [MAX_AGE, -MAX_AGE])
def test_the_window_is_five_minutes_either_way_inclusive(skew: int) -> None:
    assert checker().check(headers(BODY, NOW + skew), BODY) is Verdict.OK


@pytest.mark.parametrize("skew", [MAX_AGE + 1, -(MAX_AGE + 1), -NOW])
def test_a_request_outside_the_window_is_stale(skew: int) -> None:
    assert checker().check(headers(BODY, NOW + skew), BODY) is Verdict.STALE


def test_one_changed_byte_of_the_body_fails() -> None:
    assert checker().check(headers(BODY), BODY + b" ") is Verdict.MISMATCH


def test_another_secret_fails() -> None:
    assert checker().check(headers(BODY, secret="another"), BODY) is Verdict.MISMATCH


def test_missing_headers() -> None:
    assert checker().check({}, BODY) is Verdict.MISSING
    assert checker().check({TIMESTAMP_HEADER: str(NOW)}, BODY) is Verdict.MISSING


@pytest.mark.parametrize(
    "timestamp",
    ["", "abc", "1.5", "-1", " 1800000000", "1" * 13, "\u0663" * 10, "\uff11" * 10, "1e9"],
)
def test_a_timestamp_that_is_not_plain_unix_seconds_is_malformed(timestamp: str) -> None:
    good = headers(BODY)
    bad = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: good[SIGNATURE_HEADER]}
    assert checker().check(bad, BODY) is Verdict.MALFORMED


@pytest.mark.parametrize("signature", ["", "v0=", "v1=" + "0" * 64, "v0=" + "é" * 64, "x" * 5000])
def test_a_signature_of_the_wrong_shape_is_malformed_or_a_mismatch(signature: str) -> None:
    verdict = checker().check({TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: signature}, BODY)
    assert verdict in {Verdict.MALFORMED, Verdict.MISMATCH}


def test_an_empty_secret_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        SignatureChecker("")


def test_a_wrong_secret_is_reported_once_a_minute_naming_the_setting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    signatures = checker(clock)
    caplog.set_level(logging.DEBUG, logger="bot.signing")
    for _ in range(3):
        assert signatures.check(headers(BODY, secret="rotated"), BODY) is Verdict.MISMATCH
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "SLACK_SIGNING_SECRET" in warnings[0].getMessage()
    clock.mono += WARN_EVERY
    signatures.check(headers(BODY, secret="rotated"), BODY)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert warnings[1].getMessage().startswith("3 request(s)")  # two held back, and this one
    text = caplog.text
    assert BODY.decode() not in text
    assert SECRET not in text


def test_a_correct_signature_from_a_wrong_clock_is_reported_as_the_clock(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.signing")
    assert checker().check(headers(BODY, NOW - 3600), BODY) is Verdict.STALE
    [warning] = caplog.records
    assert "clock" in warning.getMessage()


def test_stale_forgeries_are_not_reported(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.signing")
    assert checker().check(headers(BODY, NOW - 3600, secret="x"), BODY) is Verdict.STALE
    assert caplog.records == []
