"""Checks for values a person gives MediaLink: web addresses and download file names.

Shared by settings, the CLI, the Slack options and the button state, so every
surface accepts the same values. Each check returns a sentence saying what was
wrong (or None), never raises on odd input, and looks at each character once.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

# Wix documents no length for expirationRedirectUrl (docs/wix.md, Generate File Download URL);
# the address also travels in every button's value, which holds 2000 characters.
MAX_URL_LENGTH = 1000
# Wix's downloadFileName holds at most 100 characters (docs/wix.md, Generate File Download URL).
MAX_FILE_NAME_LENGTH = 100

# Control, format (bidi overrides, zero-width), line/paragraph separators,
# private-use and surrogate characters: each can make one name look like another.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs"})
_NAME_FORBIDDEN = '"\\/'


def web_url_problem(
    text: str, *, schemes: Iterable[str] = ("https",), max_length: int = MAX_URL_LENGTH
) -> str | None:
    """What is wrong with ``text`` as a web address, or None if it is fine.

    Refuses what makes an address point somewhere other than it seems:
    ``https://wix.com@evil.example`` (userinfo), backslashes (browsers read
    them as ``/``), percent-escapes in the host, whitespace and hidden characters.
    """
    allowed = tuple(schemes)
    wanted = " or ".join(f"{scheme}://" for scheme in allowed)
    if len(text) > max_length:
        return f"the address is {len(text)} characters; use one of at most {max_length}"
    if any(_hidden(c) or c.isspace() for c in text):
        return "the address has spaces or hidden characters; copy it again from the browser"
    if "\\" in text:
        return "the address has a backslash (\\); write / instead"
    try:
        parts = urlsplit(text)
        _ = parts.port  # reading it checks it: "https://x:99999" raises here
    except ValueError:
        return f"that is not a web address; use a {wanted} address"
    if parts.scheme.lower() not in allowed:
        return f"the address must start with {wanted}"
    if "@" in parts.netloc:
        return (
            "the address names a user before an @ (like https://name@host), which can "
            "hide where it really goes; give the address without it"
        )
    if not parts.hostname or not _is_host(parts.hostname):
        return f"the address has no host name; use a {wanted} address, like {allowed[0]}://example.com/"
    return None


def check_web_url(
    text: str, *, schemes: Iterable[str] = ("https",), max_length: int = MAX_URL_LENGTH
) -> str:
    """``text`` without surrounding whitespace, or ValueError saying what was wrong."""
    value = text.strip()
    problem = web_url_problem(value, schemes=schemes, max_length=max_length)
    if problem is not None:
        raise ValueError(problem)
    return value


def file_name_problem(name: str, *, max_length: int = MAX_FILE_NAME_LENGTH) -> str | None:
    """What is wrong with ``name`` as the name a file downloads as, or None if it is fine.

    ``contract (final).pdf`` and ``Résumé 2024.pdf`` are fine; slashes, quotes,
    hidden characters and names that start or end with a space or dot are not.
    """
    if not name.strip():
        return "the name is empty"
    if len(name) > max_length:
        return f"the name is {len(name)} characters; use at most {max_length}"
    if any(_hidden(c) for c in name):
        return (
            "the name has hidden or control characters (such as right-to-left marks), "
            "which can make it look like another name"
        )
    if any(c in _NAME_FORBIDDEN for c in name):
        return 'the name has a slash, backslash or double quote ("); leave them out'
    if name[0].isspace() or name[-1].isspace() or name[0] == "." or name[-1] == ".":
        return "the name starts or ends with a space or a dot; leave those out"
    return None


def _hidden(character: str) -> bool:
    return unicodedata.category(character) in _HIDDEN_CATEGORIES


def _is_host(host: str) -> bool:
    """A DNS name (any script) or an IP address; not ``%65vil.example`` or ``a b``."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    labels = host.rstrip(".").split(".")
    return all(
        label and all(c.isalnum() or c in "-_" for c in label) and label[0] != "-"
        for label in labels
    )
