"""Plain messages: long text cut into sections, problems read as sentences."""

from __future__ import annotations

from bot.slack.messages import (
    SOMETHING_WENT_WRONG,
    USAGE,
    describe_error,
    option_problems,
)
from bot.slack.render import render_notice
from bot.wix.errors import WixAPIError
from bot.wix.links import LinkOptionsError
from bot.wix.refs import RejectedToken
from tests.slack.render.conftest import assert_within_limits, texts


def test_a_long_notice_is_split_into_sections() -> None:
    message = render_notice(USAGE + "\n" + "word " * 2000)
    assert len(message["blocks"]) > 1
    assert_within_limits(message)
    assert message["text"].startswith("MediaLink makes")


def test_a_notice_with_many_rejected_items_stays_within_limits() -> None:
    rejected = [RejectedToken("<&>" * 100, "because " * 50) for _ in range(300)]
    message = render_notice(USAGE, rejected=rejected)
    assert_within_limits(message)
    assert "Skipped 300 items" in texts([message])


def test_option_problems_and_service_refusals_read_as_sentences() -> None:
    assert describe_error(LinkOptionsError("links can last at most 7 days here")) == (
        "Links can last at most 7 days here."
    )
    assert option_problems(["expires: 'soon' is not a duration"]).startswith(
        "I could not use that command:\n• Expires: 'soon' is not a duration."
    )
    assert "request ID `abc`" in describe_error(WixAPIError("teapot", status=418, request_id="abc"))
    assert describe_error(ValueError("internal detail")) == SOMETHING_WENT_WRONG
