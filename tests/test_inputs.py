"""Web addresses and download names: one rule for settings, the CLI, Slack and buttons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import SettingsError, load_settings
from bot.inputs import check_web_url, file_name_problem, web_url_problem
from bot.slack.options import parse_command_text

IMAGE = "https://static.wixstatic.com/media/2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/expired",
        "https://example.com/gone?a=1&b=2#top",
        "https://sub.example.co.uk:8443/x",
        "https://bücher.example/seite",
        "https://192.0.2.7/x",
        "https://[2001:db8::1]/x",
        "https://example.com",
        "HTTPS://EXAMPLE.COM/",
    ],
)
def test_ordinary_https_addresses_are_fine(url: str) -> None:
    assert web_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://wix.com@evil.example/x", "@"),
        ("https://user:pw@example.com/", "@"),
        ("https://@example.com/", "@"),
        ("http://example.com/x", "https://"),
        ("ftp://example.com/x", "https://"),
        ("javascript:alert(1)", "https://"),
        ("example.com/x", "https://"),
        ("https:///x", "host"),
        ("https://", "host"),
        ("https://%65vil.example/", "host"),
        ("https://a b.example/", "spaces"),
        ("https://example.com/a b", "spaces"),
        ("https://example.com/\tx", "spaces"),
        ("https://example.com/\x00", "hidden"),
        ("https://example.com/\x7f", "hidden"),
        ("https://example.com/\u202egpj.exe", "hidden"),
        ("https://exa\u200bmple.com/", "hidden"),
        ("https://evil.example\\.wix.com/", "backslash"),
        ("https://example.com:99999/", "not a web address"),
        ("https://example.com:port/", "not a web address"),
        ("https://[::1/", "not a web address"),
        ("https://example.com/" + "x" * 1000, "characters"),
    ],
)
def test_addresses_that_mislead_or_break_say_what_is_wrong(url: str, words: str) -> None:
    problem = web_url_problem(url)
    assert problem is not None
    assert words in problem


def test_check_web_url_strips_and_raises_with_the_problem() -> None:
    assert check_web_url("  https://example.com/x \n") == "https://example.com/x"
    assert check_web_url("http://127.0.0.1:8080/api/", schemes=("http", "https"))
    with pytest.raises(ValueError, match="@"):
        check_web_url("https://wix.com@evil.example/")


@pytest.mark.parametrize(
    "url",
    ["https://wix.com@evil.example/expired", "https://evil.example\\.wix.com/", "http://x.example"],
)
def test_settings_and_the_slack_option_refuse_the_same_addresses(url: str) -> None:
    with pytest.raises(SettingsError, match="MEDIALINK_EXPIRATION_REDIRECT_URL is not valid"):
        load_settings(env_file=None, medialink_expiration_redirect_url=url)
    parsed = parse_command_text(f"{IMAGE} redirect={url}")
    assert parsed.options.redirect_url is None
    assert any(problem.startswith("redirect:") for problem in parsed.problems)


@pytest.mark.parametrize(
    "name",
    [
        "contract.pdf",
        "contract (final).pdf",
        "Résumé \u2013 2024.pdf",
        "Tom & Jerry's notes.txt",
        "報告書 2024.pdf",
        "my contract.pdf",
        "a",
        "n" * 100,
        "README",
        "photo\u00a0one.jpg",  # a no-break space inside is an ordinary character
    ],
)
def test_ordinary_file_names_are_fine(name: str) -> None:
    assert file_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("n" * 101, "101 characters"),
        ("\u202efdp.exe", "hidden"),  # right-to-left override: shows as "exe.pdf"
        ("invoice\u2066.pdf", "hidden"),  # bidi isolate
        ("report\u200b.pdf", "hidden"),  # zero-width space
        ("a\ufeffb.pdf", "hidden"),  # zero-width no-break space
        ("a\x00b.pdf", "hidden"),
        ("a\x1bb.pdf", "hidden"),
        ("a\x7fb.pdf", "hidden"),  # DEL
        ("a\x85b.pdf", "hidden"),  # a C1 control
        ("a\nb.pdf", "hidden"),
        ("a\u2028b.pdf", "hidden"),  # line separator
        ("a\u2029b.pdf", "hidden"),  # paragraph separator
        ("a\ue000b.pdf", "hidden"),  # private use
        ("a\ud800b.pdf", "hidden"),  # a lone surrogate
        ("a/b.pdf", "slash"),
        ("..\\b.pdf", "backslash"),
        ('say "hi".pdf', "double quote"),
        (" report.pdf", "space or a dot"),
        ("report.pdf ", "space or a dot"),
        (".bashrc", "space or a dot"),
        ("report.", "space or a dot"),
        ("..", "space or a dot"),
    ],
)
def test_names_that_mislead_or_break_say_what_is_wrong(name: str, words: str) -> None:
    problem = file_name_problem(name)
    assert problem is not None
    assert words in problem


@given(st.text(max_size=120))
def test_an_accepted_name_has_no_hidden_or_path_characters(name: str) -> None:
    if file_name_problem(name) is None:
        assert 1 <= len(name) <= 100
        assert name == name.strip(" .")
        assert not set(name) & set('/\\"\u202e\u200b\x00\x7f')
