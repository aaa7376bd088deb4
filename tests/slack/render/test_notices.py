"""Plain messages: long text cut into sections, problems read as sentences."""

from __future__ import annotations

from bot.slack.messages import (
    NO_REFERENCES,
    NOTHING_FOUND_HELP,
    SOMETHING_WENT_WRONG,
    USAGE,
    describe_error,
    option_problems,
)
from bot.slack.render import render_nothing_found, render_notice
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


NOT_WIX = "this is not a Wix media URL, so it was skipped; paste the URL of a file"


def test_nothing_found_leads_with_the_one_reason_and_points_to_help() -> None:
    message = render_nothing_found(
        [RejectedToken("https://example.com/cat.jpg", NOT_WIX)],
        none_found=NO_REFERENCES,
        help_text=NOTHING_FOUND_HELP,
    )
    assert_within_limits(message)
    lead, hint = message["blocks"]
    assert lead["text"]["text"].startswith("*No links made.* `https://example.com/cat.jpg`: this")
    assert hint["type"] == "context"
    assert "/medialink help" in hint["elements"][0]["text"]
    shown = texts([message])
    assert shown.count("not a Wix media URL") == 1  # said once
    assert len(shown.splitlines()) <= 3  # short: the reason and a pointer, not the usage
    assert message["text"].startswith("No links made.")


def test_nothing_found_lists_several_reasons_or_says_none_was_found() -> None:
    many = render_nothing_found(
        [RejectedToken(f"https://example.com/{n}.jpg", NOT_WIX) for n in range(30)],
        none_found=NO_REFERENCES,
        help_text=NOTHING_FOUND_HELP,
    )
    assert_within_limits(many)
    shown = texts([many])
    assert "https://example.com/0.jpg" in shown
    assert "…and 20 more." in shown
    nothing = render_nothing_found((), none_found=NO_REFERENCES, help_text=NOTHING_FOUND_HELP)
    assert nothing["blocks"][0]["text"]["text"] == f"*No links made.* {NO_REFERENCES}"
