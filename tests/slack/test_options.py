"""Reading options out of ``/medialink`` text: any order, three spellings, problems in words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack.options import parse_asset_keys, parse_command_text
from bot.wix.links import LinkOptions

IMAGE = "https://static.wixstatic.com/media/2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg"
DOCUMENT = "wix:document://v1/ugd/2d321c_8011271dcba949cd84faf9dc8b5431f0.pdf/report.pdf"


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "--help", "-h", f"help {IMAGE}"])
def test_help_or_nothing_asks_for_usage(text: str) -> None:
    assert parse_command_text(text).wants_help


def test_plain_references_pass_through_untouched() -> None:
    parsed = parse_command_text(f"{IMAGE} {DOCUMENT}")
    assert parsed.text == f"{IMAGE} {DOCUMENT}"
    assert parsed.options == LinkOptions()
    assert parsed.problems == ()
    assert not parsed.wants_help


@pytest.mark.parametrize(
    "text",
    [
        f"expires=2h {IMAGE}",
        f"{IMAGE} expires=2h",
        f"--expires 2h {IMAGE}",
        f"{IMAGE} --expires=2h",
        f"{IMAGE} expires 2h",
        f"{IMAGE} EXPIRES=120",
        f"expiry=2h {IMAGE}",
    ],
)
def test_expiry_in_any_spelling_and_position(text: str) -> None:
    parsed = parse_command_text(text)
    assert parsed.problems == ()
    assert parsed.options.expires_in == timedelta(hours=2)
    assert parsed.text == IMAGE


def test_every_option_together_in_any_order() -> None:
    parsed = parse_command_text(
        f"inline {IMAGE} name=contract.pdf assets=src,720p.mp4 "
        f"redirect=https://example.com/expired --expires 1d {DOCUMENT}"
    )
    assert parsed.problems == ()
    assert parsed.options == LinkOptions(
        expires_in=timedelta(days=1),
        asset_keys=("src", "720p.mp4"),
        redirect_url="https://example.com/expired",
        download_file_name="contract.pdf",
        inline=True,
    )
    assert parsed.text == f"{IMAGE} {DOCUMENT}"


def test_quoted_names_may_hold_spaces() -> None:
    for quoted in ('"my contract.pdf"', "“my contract.pdf”", "'my contract.pdf'"):
        parsed = parse_command_text(f"name={quoted} {IMAGE}")
        assert parsed.options.download_file_name == "my contract.pdf"
        assert parsed.text == IMAGE


def test_redirect_in_slack_link_form_is_unwrapped_and_unescaped() -> None:
    parsed = parse_command_text(f"redirect=<https://example.com/gone?a=1&amp;b=2|gone> {IMAGE}")
    assert parsed.problems == ()
    assert parsed.options.redirect_url == "https://example.com/gone?a=1&b=2"


@pytest.mark.parametrize("url", ["http://example.com/x", "ftp://example.com", "example.com"])
def test_redirect_must_be_https(url: str) -> None:
    parsed = parse_command_text(f"redirect={url} {IMAGE}")
    assert parsed.options.redirect_url is None
    assert any("https://" in problem for problem in parsed.problems)


def test_assets_accept_original_as_src_and_drop_repeats() -> None:
    assert parse_asset_keys("original, 720p.mp4,src;1080p.mp4") == (
        ("src", "720p.mp4", "1080p.mp4"),
        None,
    )


@pytest.mark.parametrize(
    "text", ["", ",", "a b/c", "x" * 101, ",".join(f"k{i}" for i in range(21))]
)
def test_bad_assets_are_a_problem_in_words(text: str) -> None:
    keys, problem = parse_asset_keys(text)
    assert keys == ()
    assert problem
    assert "assets" in problem


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"expires=soon {IMAGE}", "expires"),
        (f"expires=2h expires=3h {IMAGE}", "more than once"),
        (f"{IMAGE} --expires", "needs a value"),
        (f"--colour=red {IMAGE}", "don't know the option"),
        (f"name=a/b.pdf {IMAGE}", "name"),
        (f"name={'n' * 101} {IMAGE}", "name"),
        (f"inline=maybe {IMAGE}", "inline"),
    ],
)
def test_problems_are_named_in_plain_words(text: str, words: str) -> None:
    parsed = parse_command_text(text)
    assert any(words in problem for problem in parsed.problems), parsed.problems


def test_all_problems_are_reported_at_once() -> None:
    parsed = parse_command_text(f"expires=soon redirect=http://x --bogus {IMAGE}")
    assert len(parsed.problems) == 3
    assert parsed.text == IMAGE


def test_urls_with_query_strings_and_payload_in_the_path_are_not_options() -> None:
    url = f"{IMAGE}/v1/fill/w_80,h_60/payload.jpg?name=x&expires=1"
    parsed = parse_command_text(url)
    assert parsed.problems == ()
    assert parsed.options == LinkOptions()
    assert parsed.text == url


def test_slack_wrapped_links_with_labels_stay_whole() -> None:
    parsed = parse_command_text(f"<{IMAGE}|the photo of us> expires=45m")
    assert parsed.text == f"<{IMAGE}|the photo of us>"
    assert parsed.options.expires_in == timedelta(minutes=45)


def test_ordinary_words_are_left_for_the_reference_parser() -> None:
    parsed = parse_command_text(f"please send {IMAGE} thanks")
    assert parsed.problems == ()
    assert parsed.text == f"please send {IMAGE} thanks"
