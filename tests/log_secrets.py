"""What the suite-wide log check looks for (the autouse fixture in tests/conftest.py).

Every test runs with the root logger at DEBUG and ``bot.logs``' own handler writing
to a buffer. Afterwards the buffer must hold none of the suite's credentials, none
of the response_urls, OAuth codes, bot tokens and refresh tokens the fake Slack handed
out and none of the keys and tokens the fake Wix issued, in plain, URL-encoded
(``quote`` and ``quote_plus``, once or twice) or JSON-escaped form.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

from tests.fakes import slack as fake_slack
from tests.fakes import wix as fake_wix
from tests.slack.conftest import OAUTH_CLIENT_SECRET, OAUTH_STATE_SECRET, SIGNING_SECRET

# MEDIALINK_ENCRYPTION_KEY values the sites tests use (old, new): never to be logged.
SITE_KEYS = (
    "mDOJdh9XWb3MwHzD6N0DwqJcmyr1T7y6lSR2KqSfPWc=",
    "0X6w3DzjY3wX6F8sC1Q2n6gWv0vUe0m7wAfGJt8m7bE=",
)

# The credentials every test uses; `medialink serve` passes its own to configure_logging.
SUITE_SECRETS: Mapping[str, str] = {
    "the signing secret": SIGNING_SECRET,
    "the bot token": fake_slack.BOT_TOKEN,
    "the app-level token": fake_slack.APP_TOKEN,
    "the Wix API key": fake_wix.FakeWix.API_KEY,
    "the Wix app secret": fake_wix.FakeWix.CLIENT_SECRET,
    "the old sites encryption key": SITE_KEYS[0],
    "the new sites encryption key": SITE_KEYS[1],
    "the Slack app's client secret": OAUTH_CLIENT_SECRET,
    "the OAuth state secret": OAUTH_STATE_SECRET,
}


def encoded_forms(value: str) -> set[str]:
    """``value`` as it may appear in a log line: plain, JSON-escaped, URL-encoded."""
    forms = {value, value.replace("/", "\\/"), json.dumps(value)[1:-1]}
    for _ in range(2):
        forms |= {
            encoded
            for form in forms
            for encoded in (quote(form), quote(form, safe=""), quote_plus(form))
        }
    return forms


def forget_issued() -> None:
    """Start a test with empty registries of what the fakes handed out."""
    fake_slack.issued_response_urls.clear()
    fake_slack.issued_secrets.clear()
    fake_wix.issued_secrets.clear()


def watched() -> dict[str, str]:
    """Each text that must not be logged, in every form, with a name for it."""
    values: dict[str, str] = {}
    for what, secret in SUITE_SECRETS.items():
        values |= dict.fromkeys(encoded_forms(secret), what)
    for url in list(fake_slack.issued_response_urls):
        values |= dict.fromkeys(encoded_forms(url), "a response_url")
        # The URL's last segment is what makes it a credential; it reads the same
        # in any encoding, so finding it alone catches forms not listed above.
        values[url.rstrip("/").rsplit("/", 1)[-1]] = "a response_url's ID"
    for secret in list(fake_slack.issued_secrets):
        values |= dict.fromkeys(encoded_forms(secret), "an OAuth code or a token Slack issued")
    for token in list(fake_wix.issued_secrets):
        values |= dict.fromkeys(encoded_forms(token), "a token the fake Wix issued")
    return values


def leaks(output: str, values: Mapping[str, str]) -> list[str]:
    """A line per secret found in ``output``: what it is and the line holding it."""
    found = []
    for value, what in values.items():
        at = output.find(value)
        if at >= 0:
            start = output.rfind("\n", 0, at) + 1
            end = output.find("\n", at)
            found.append(f"{what} in: {output[start : end if end >= 0 else None]}")
    return sorted(set(found))


def describe(found: Iterable[str]) -> str:
    return "secrets reached the log output (at DEBUG, through bot.logs):\n" + "\n".join(
        f"  - {line[:500]}" for line in found
    )
