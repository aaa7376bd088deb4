"""The suite-wide log check (tests/conftest.py) itself: it sees every encoding of
every secret, and bot.logs leaves it nothing to find."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest
from pydantic import SecretStr

from bot.wix.auth import ApiKeyAuth
from bot.wix.client import WixMediaClient
from tests.fakes.slack import FakeSlack
from tests.fakes.wix import FakeWix
from tests.log_secrets import SUITE_SECRETS, encoded_forms, leaks, watched


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeWix]]:
    with FakeSlack() as slack, FakeWix() as wix:
        yield slack, wix


async def _issue(slack: FakeSlack, wix: FakeWix) -> tuple[str, str]:
    """A response_url and a signed link, handed out the way the app gets them."""
    response_url = slack.new_response_url(channel="C0GENERAL", user="U0ALICE01")
    client = WixMediaClient(
        ApiKeyAuth(SecretStr(FakeWix.API_KEY), FakeWix.SITE_ID), base_url=wix.base_url
    )
    try:
        [link] = await client.generate_file_download_url(wix.add_file())
    finally:
        await client.aclose()
    return response_url, link.url


def test_encoded_forms_cover_what_a_log_line_may_hold() -> None:
    url = "http://127.0.0.1:1/response/abc"
    forms = encoded_forms(url)
    assert {
        url,
        quote(url),
        quote(url, safe=""),
        quote_plus(url),
        quote(quote(url, safe=""), safe=""),
        quote_plus(quote_plus(url)),
        "http:\\/\\/127.0.0.1:1\\/response\\/abc",
    } <= forms


async def test_the_check_finds_what_the_fakes_handed_out_in_any_form(
    fakes: tuple[FakeSlack, FakeWix],
) -> None:
    """Unredacted output holding any watched value, in any form, is a leak."""
    response_url, link = await _issue(*fakes)
    for value in (response_url, link, *SUITE_SECRETS.values()):
        for form in (value, quote_plus(quote_plus(value)), json.dumps({"u": value})):
            assert leaks(f"INFO x: body={form}\n", watched()), form
    assert leaks(f"posted to {response_url.rsplit('/', 1)[1]}", watched())  # the ID alone
    assert not leaks("INFO x: nothing secret here\n", watched())


async def test_secrets_logged_on_purpose_are_redacted_before_the_check_sees_them(
    fakes: tuple[FakeSlack, FakeWix], suite_log: io.StringIO
) -> None:
    """Every watched value, in every form, logged by our code and by a library:
    bot.logs' handler redacts all of it (so the suite's check passes here too)."""
    response_url, link = await _issue(*fakes)
    values = [response_url, link, f"Authorization: Bearer {SUITE_SECRETS['the bot token']}"]
    values += SUITE_SECRETS.values()
    for value in values:
        for form in sorted(encoded_forms(value)):
            logging.getLogger("bot.test").debug("sending %s", f"body={form}&next=1")
            logging.getLogger("slack_bolt.RequestVerification").info("body: %s", form)
    written = suite_log.getvalue()
    assert written.count("[redacted]") >= len(values)
    assert not leaks(written, watched())
