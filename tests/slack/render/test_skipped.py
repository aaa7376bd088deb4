"""The input a request skipped, listed with reasons."""

from __future__ import annotations

from bot.wix.refs import RejectedToken
from tests.slack.render.conftest import assert_within_limits, ok, reply, texts


def test_rejected_input_is_listed_with_reasons() -> None:
    rejected = [RejectedToken(f"https://example.com/{n}", "not a Wix media URL") for n in range(40)]
    [message] = reply([ok(1)], rejected=rejected)
    text = texts([message])
    assert "Skipped 40 items" in text
    assert "https://example.com/0" in text
    assert "not a Wix media URL" in text
    assert "more." in text
    assert_within_limits(message)
